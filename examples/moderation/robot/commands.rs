//! The moderators' commands, one group: `!mod strikes`, `!mod pardon`, `!mod pardon-all`,
//! `!mod rules` and `!mod modlog`.
//!
//! Only the server's owner and admins may use them: the group carries lag-bot's role check
//! ([`Command::only_roles`]), which guards every subcommand, so anyone else gets the
//! framework's denied reply and no handler runs. `!mod pardon-all` asks for a confirmation
//! before it lifts anything.

use lag_bot::command::{Command, MemberMention};
use lag_bot::model::ServerRole;
use lag_bot::{Ctx, command};

use super::Moderation;
use super::clock::unix_seconds;

/// The most audit entries `!mod modlog` shows.
const MODLOG_MAX: u32 = 25;

/// The moderators' `!mod` group, with its role check.
pub fn group() -> Command<Moderation> {
    moderation().only_roles([ServerRole::Owner, ServerRole::Admin])
}

/// Moderation tools for the server's owner and admins.
#[command(
    "!mod",
    subcommands(strikes, pardon, pardon_all, rules, modlog),
    category = "Moderation"
)]
async fn moderation(_ctx: Ctx<Moderation>) {}

/// Lists a member's active strikes: `!mod strikes @member`.
#[command("strikes")]
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

/// Lifts some of a member's strikes, newest first: `!mod pardon @member 2` for two.
#[command("pardon")]
async fn pardon(
    ctx: Ctx<Moderation>,
    member: MemberMention,
    count: u32,
) -> lag_bot::Result<String> {
    if count == 0 {
        return Ok("Pardon at least one strike (`!mod pardon-all` for all of them).".to_owned());
    }
    let state = ctx.state();
    let now = state.clock.now();
    let pardoned = state.store.pardon(&member.id, Some(count), now).await?;
    let left = active_strikes(state, &member).await?;
    Ok(match pardoned {
        0 => format!("{} has no active strikes to pardon.", member.name),
        n => format!("Pardoned {n} strike(s) of {}; {left} left.", member.name),
    })
}

/// Lifts all of a member's strikes, once you confirm: `!mod pardon-all @member`.
#[command("pardon-all")]
async fn pardon_all(ctx: Ctx<Moderation>, member: MemberMention) -> lag_bot::Result<String> {
    let state = ctx.state();
    let total = active_strikes(state, &member).await?;
    if total == 0 {
        return Ok(format!("{} has no active strikes to pardon.", member.name));
    }
    let confirmed: bool = ctx
        .ask_for(format!(
            "Pardon all {total} strike(s) of @{}? (yes/no)",
            member.name
        ))
        .await?;
    if !confirmed {
        return Ok(format!(
            "Nothing pardoned; {} keeps {total} strike(s).",
            member.name
        ));
    }
    // Read the time after the answer: strikes may have expired while the question waited.
    let pardoned = state
        .store
        .pardon(&member.id, None, state.clock.now())
        .await?;
    Ok(format!(
        "Pardoned all {pardoned} strike(s) of {}.",
        member.name
    ))
}

/// The member's active strike total.
async fn active_strikes(state: &Moderation, member: &MemberMention) -> lag_bot::Result<u32> {
    let strikes = state.store.strikes(&member.id, state.clock.now()).await?;
    Ok(strikes.iter().map(|s| s.weight).sum())
}

/// Shows the moderation rules in force.
#[command("rules")]
async fn rules(ctx: Ctx<Moderation>) -> String {
    ctx.state().rules.describe()
}

/// Shows the latest entries of the audit log: `!mod modlog` for 10, `!mod modlog 25` for more.
#[command("modlog")]
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
