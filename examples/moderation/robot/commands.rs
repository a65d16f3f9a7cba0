//! The moderators' commands: `!strikes`, `!pardon`, `!rules` and `!modlog`.
//!
//! Only the server's owner and admins may use them: each command carries lag-bot's role check
//! ([`Command::only_roles`]), so anyone else gets the framework's denied reply and the handler
//! never runs.

use lag_bot::command::{Command, MemberMention};
use lag_bot::model::ServerRole;
use lag_bot::{Ctx, command};

use super::Moderation;
use super::clock::unix_seconds;

/// The most audit entries `!modlog` shows.
const MODLOG_MAX: u32 = 25;

/// The moderators' commands, with their role check.
pub fn all() -> Vec<Command<Moderation>> {
    [strikes(), pardon(), rules(), modlog()]
        .into_iter()
        .map(|command| command.only_roles([ServerRole::Owner, ServerRole::Admin]))
        .collect()
}

/// Lists a member's active strikes: `!strikes @member`.
#[command("!strikes")]
async fn strikes(ctx: Ctx<Moderation>, member: MemberMention) -> lag_bot::Result<String> {
    let state = ctx.state();
    let now = state.clock.now();
    let strikes = state.store.strikes(&member.id, now).await?;
    if strikes.is_empty() {
        return Ok(format!("{} has no active strikes.", member.name));
    }
    let total: u32 = strikes.iter().map(|s| s.weight).sum();
    let mut out = format!("{} has {total} active strike(s):", member.name);
    let now = unix_seconds(now);
    for strike in strikes.iter().take(10) {
        let left =
            std::time::Duration::from_secs(u64::try_from(strike.expires_at - now).unwrap_or(0));
        out.push_str(&format!(
            "\n- {} x `{}`, expires in {}",
            strike.weight,
            strike.rule,
            lag_bot::command::format_duration(left)
        ));
    }
    if strikes.len() > 10 {
        out.push_str(&format!("\n- and {} more", strikes.len() - 10));
    }
    Ok(out)
}

/// Lifts a member's strikes: `!pardon @member` for all of them, `!pardon @member 2` for two.
#[command("!pardon")]
async fn pardon(
    ctx: Ctx<Moderation>,
    member: MemberMention,
    count: Option<u32>,
) -> lag_bot::Result<String> {
    let state = ctx.state();
    let now = state.clock.now();
    let pardoned = state.store.pardon(&member.id, count, now).await?;
    let left: u32 = state
        .store
        .strikes(&member.id, now)
        .await?
        .iter()
        .map(|s| s.weight)
        .sum();
    Ok(match pardoned {
        0 => format!("{} has no active strikes to pardon.", member.name),
        n => format!("Pardoned {n} strike(s) of {}; {left} left.", member.name),
    })
}

/// Shows the moderation rules in force.
#[command("!rules")]
async fn rules(ctx: Ctx<Moderation>) -> String {
    ctx.state().rules.describe()
}

/// Shows the latest entries of the audit log: `!modlog` for 10, `!modlog 25` for more.
#[command("!modlog")]
async fn modlog(ctx: Ctx<Moderation>, count: Option<u32>) -> lag_bot::Result<String> {
    let count = count.unwrap_or(10).clamp(1, MODLOG_MAX);
    let store = &ctx.state().store;
    let entries = store.audit(count).await?;
    if entries.is_empty() {
        return Ok("The audit log is empty.".to_owned());
    }
    let total = store.audit_count(None).await?;
    let mut out = format!(
        "The latest {} of {total} audit entries, newest first:",
        entries.len()
    );
    for entry in entries {
        let accepted = match entry.accepted {
            Some(true) => "Lag accepted",
            Some(false) => "Lag refused",
            None => "nothing asked of Lag",
        };
        out.push_str(&format!(
            "\n#{} {} `{}`: {} ({accepted}) \"{}\"",
            entry.id, entry.member_name, entry.rule, entry.action, entry.excerpt
        ));
    }
    Ok(out)
}
