//! Acting on a violation: record it, remove the message or fall back, warn, strike, escalate.
//!
//! The order matters under a flood. The violation is written to the audit log first, before
//! anything is asked of Lag, so every one is recorded however slowly Lag lets the robot act.
//! Then the robot spends as few of Lag's requests as it can (100 a minute, 10 messages per 10
//! seconds): a member is warned once per warning window, the mod-log room gets summaries (see
//! [`report`](super::report)), and after Lag refuses a deletion the robot stops asking for a
//! while. Everything it posts goes through lag-bot's paced client, so it never gets a 429.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use lag_bot::model::{Member, ServerRole};
use lag_bot::{Client, ErrorKind, SendMessage};

use super::Moderation;
use super::detect::{Incoming, Violation};
use super::report::{Report, quote};
use super::store::NewEntry;

/// How long the member list is trusted before it is asked for again.
const ROSTER_TTL: Duration = Duration::from_secs(60);
/// Members whose warning time is remembered at most.
const MAX_WARNED: usize = 10_000;

/// The server's members, asked of Lag at most once per [`ROSTER_TTL`].
#[derive(Debug, Default)]
pub struct Roster {
    cached: tokio::sync::Mutex<Option<(SystemTime, Arc<Vec<Member>>)>>,
}

impl Roster {
    /// The member list, from the cache while it is fresh.
    pub async fn members(
        &self,
        client: &Client,
        now: SystemTime,
    ) -> lag_bot::Result<Arc<Vec<Member>>> {
        let mut cached = self.cached.lock().await;
        if let Some((at, members)) = cached.as_ref()
            && now.duration_since(*at).is_ok_and(|age| age < ROSTER_TTL)
        {
            return Ok(Arc::clone(members));
        }
        let members = Arc::new(client.members().await?);
        *cached = Some((now, Arc::clone(&members)));
        Ok(members)
    }
}

/// When each member was last warned, for "at most one warning per member per window".
#[derive(Debug, Default)]
pub struct Warnings {
    last: Mutex<HashMap<String, SystemTime>>,
}

impl Warnings {
    /// Whether `member_id` may be warned at `now`; if so, the warning is counted as given.
    fn claim(&self, member_id: &str, now: SystemTime, window: Duration) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let recent = |at: &SystemTime| now.duration_since(*at).map_or(true, |age| age < window);
        if last.get(member_id).is_some_and(recent) {
            return false;
        }
        if last.len() >= MAX_WARNED {
            last.retain(|_, at| recent(at));
        }
        last.insert(member_id.to_owned(), now);
        true
    }
}

/// Whether Lag lets the robot delete others' messages, as far as the robot knows.
#[derive(Debug, Default)]
pub struct Deletion {
    refused_until: Mutex<Option<SystemTime>>,
}

impl Deletion {
    fn refused_at(&self, now: SystemTime) -> bool {
        let until = self
            .refused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.is_some_and(|until| now < until)
    }

    fn refused(&self, now: SystemTime, for_how_long: Duration) {
        *self
            .refused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now + for_how_long);
    }
}

/// What became of the attempt to remove a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removal {
    /// The rule only warns.
    NotAsked,
    /// Lag deleted it (or it was already gone).
    Removed,
    /// Lag answered 403: on Lag a robot may delete only its own messages.
    Refused,
    /// Lag refused a moment ago, so the robot did not ask again.
    KnownRefused,
    /// Something else went wrong.
    Failed,
}

/// Whether `member_id` has one of the exempt roles.
pub async fn exempt(state: &Moderation, client: &Client, member_id: &str) -> lag_bot::Result<bool> {
    let exempt = &state.rules.settings.exempt_roles;
    if exempt.is_empty() {
        return Ok(false);
    }
    let members = state.roster.members(client, state.clock.now()).await?;
    Ok(members
        .iter()
        .any(|m| m.user_id == member_id && exempt.contains(&m.role)))
}

/// Acts on `violation` of `message`: see the [module docs](self).
///
/// # Errors
///
/// A database failure. Lag's refusals and failures are not errors: they are recorded in the
/// audit log and reported.
pub async fn enforce(
    state: &Moderation,
    client: &Client,
    message: &Incoming,
    violation: &Violation,
) -> lag_bot::Result<()> {
    let Some(rule) = state.rules.rules.get(violation.rule) else {
        return Ok(());
    };
    let settings = &state.rules.settings;
    let now = message.at;
    let action = rule.action;
    let strike = (action.strikes() > 0).then_some((action.strikes(), settings.strike_expiry));
    let (entry, totals) = state
        .store
        .record(
            NewEntry {
                at: now,
                rule: rule.name.clone(),
                member_id: message.member_id.clone(),
                member_name: message.member_name.clone(),
                room_id: message.room_id.clone(),
                message_id: message.message_id.clone(),
                excerpt: quote(&message.text),
                edited: message.edited,
            },
            format!("{action} (in progress)"),
            strike,
        )
        .await?;

    let removal = if !action.removes() {
        Removal::NotAsked
    } else if state.deletion.refused_at(now) {
        Removal::KnownRefused
    } else {
        match client.delete(&message.room_id, &message.message_id).await {
            Ok(()) => Removal::Removed,
            Err(error) if error.kind() == &ErrorKind::NotFound => Removal::Removed,
            Err(error) if error.kind() == &ErrorKind::Forbidden => {
                state.deletion.refused(now, settings.retry_delete_after);
                Removal::Refused
            }
            Err(error) => {
                tracing::warn!(%error, message = message.message_id, "could not delete a message");
                Removal::Failed
            }
        }
    };

    let mention = format!("@{}", message.member_name);
    let strikes = match totals {
        Some(totals) => format!(" You have {} active strike(s).", totals.after),
        None => String::new(),
    };
    let warning = match removal {
        Removal::Removed => SendMessage::new(format!(
            "{mention}, I removed your message: it broke the rule `{}` ({}).{strikes}",
            rule.name, violation.evidence
        )),
        Removal::NotAsked => SendMessage::new(format!(
            "{mention}, please stop: this breaks the rule `{}` ({}).{strikes}",
            rule.name, violation.evidence
        ))
        .reply_to(message.message_id.clone()),
        Removal::Refused | Removal::KnownRefused | Removal::Failed => SendMessage::new(format!(
            "{mention}, this message breaks the rule `{}` ({}). I can't remove it, so the \
             moderators have been told.{strikes}",
            rule.name, violation.evidence
        ))
        .reply_to(message.message_id.clone()),
    };
    let warned = if state
        .warnings
        .claim(&message.member_id, now, settings.warning_window)
    {
        match client.send_message(&message.room_id, warning).await {
            Ok(_) => Some(true),
            Err(error) => {
                tracing::warn!(%error, "could not post a warning");
                Some(false)
            }
        }
    } else {
        None
    };

    let (done, accepted) = match removal {
        Removal::Removed => ("removed".to_owned(), Some(true)),
        Removal::Refused => ("could not remove: Lag refused".to_owned(), Some(false)),
        Removal::KnownRefused => (
            "not removed: Lag refused a deletion moments ago".to_owned(),
            None,
        ),
        Removal::Failed => ("could not remove: Lag failed".to_owned(), Some(false)),
        Removal::NotAsked => ("warn".to_owned(), warned),
    };
    let warned_text = match warned {
        Some(true) => "warned",
        Some(false) => "warning failed",
        None => "already warned in this window",
    };
    let mut outcome = format!("{done}; {warned_text}");
    if let Some(totals) = totals {
        outcome.push_str(&format!("; strikes {} -> {}", totals.before, totals.after));
    }
    state.store.settle(entry, outcome.clone(), accepted).await?;

    if action.removes() {
        let room = state.room_name(client, &message.room_id).await;
        state.reporter.report(
            client,
            Report {
                member: message.member_name.clone(),
                rule: rule.name.clone(),
                room,
                text: message.text.clone(),
                outcome,
            },
        );
    }
    if let Some(totals) = totals {
        for &threshold in &settings.escalate_at {
            if totals.before < threshold && threshold <= totals.after {
                escalate(state, client, message, threshold).await;
            }
        }
    }
    Ok(())
}

/// Tells the admins, by mention, that a member reached `threshold` active strikes.
async fn escalate(state: &Moderation, client: &Client, message: &Incoming, threshold: u32) {
    let admins = match state.roster.members(client, state.clock.now()).await {
        Ok(members) => members
            .iter()
            .filter(|m| matches!(m.role, ServerRole::Owner | ServerRole::Admin))
            .map(|m| format!("@{}", m.username))
            .collect::<Vec<_>>()
            .join(" "),
        Err(error) => {
            tracing::warn!(%error, "could not list the admins to mention");
            "admins".to_owned()
        }
    };
    state.reporter.escalate(
        client,
        format!(
            "{admins}: {} has reached {threshold} active strikes (`!mod strikes @{}` for the \
             list, `!mod pardon-all @{}` to lift them).",
            message.member_name, message.member_name, message.member_name
        ),
    );
}
