//! Per-user, per-room or global cooldowns on a command.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::texts::{Texts, format_duration};

/// Who shares a cooldown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CooldownScope {
    /// Each member waits for their own cooldown.
    User,
    /// Everyone in a room shares one cooldown.
    Room,
    /// One cooldown for the whole server.
    Global,
}

/// How often a command may run: once per `period`, per user, room, or server-wide.
///
/// A command on cooldown is not run; the author gets a friendly reply saying when to try again
/// (see [`Cooldown::message`]). The cooldown starts when the command is accepted: after its
/// arguments parsed and its checks passed.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::command::{Cooldown, CooldownScope};
///
/// let cooldown = Cooldown::per_user(Duration::from_secs(30))
///     .message("Easy! You can roll again in {remaining}.");
/// assert_eq!(cooldown.scope(), CooldownScope::User);
/// assert_eq!(cooldown.period(), Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct Cooldown {
    scope: CooldownScope,
    period: Duration,
    message: Option<String>,
    last_used: Arc<Mutex<Uses>>,
}

/// When each key may use the command again.
#[derive(Default)]
struct Uses {
    until: HashMap<String, Instant>,
    /// Expired entries are swept once this many are kept, then again at twice what remained,
    /// so sweeping costs O(1) per use however many keys are cooling down.
    sweep_at: usize,
}

/// The fewest entries kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

impl Cooldown {
    /// A cooldown of `period` shared as `scope` says.
    pub fn new(scope: CooldownScope, period: Duration) -> Self {
        Self {
            scope,
            period,
            message: None,
            last_used: Arc::default(),
        }
    }

    /// Each member may run the command once per `period`.
    pub fn per_user(period: Duration) -> Self {
        Self::new(CooldownScope::User, period)
    }

    /// The command runs at most once per `period` in each room.
    pub fn per_room(period: Duration) -> Self {
        Self::new(CooldownScope::Room, period)
    }

    /// The command runs at most once per `period` on the whole server.
    pub fn global(period: Duration) -> Self {
        Self::new(CooldownScope::Global, period)
    }

    /// Replaces the reply sent while the command is on cooldown. `{remaining}` is replaced by
    /// the time left (e.g. `1m 5s`) and `{command}` by the command's trigger. An empty message
    /// makes the robot ignore the attempt silently.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Who shares the cooldown.
    pub fn scope(&self) -> CooldownScope {
        self.scope
    }

    /// How long the command rests after each use.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Starts the cooldown for `key`, or says how long is left when it is already running.
    pub(crate) fn try_start(&self, user_id: &str, room_id: &str) -> Result<(), Duration> {
        let key = match self.scope {
            CooldownScope::User => user_id,
            CooldownScope::Room => room_id,
            CooldownScope::Global => "",
        };
        let now = Instant::now();
        let mut uses = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = uses.until.get(key)
            && *until > now
        {
            return Err(*until - now);
        }
        if uses.until.len() >= uses.sweep_at.max(SWEEP_AT) {
            uses.until.retain(|_, until| *until > now);
            uses.sweep_at = uses.until.len() * 2;
        }
        uses.until.insert(key.to_owned(), now + self.period);
        Ok(())
    }

    /// The reply for an attempt `remaining` too early, or `None` to stay silent: the
    /// cooldown's own message, else the robot's [`Texts::cooldown`].
    pub(crate) fn refusal(
        &self,
        trigger: &str,
        remaining: Duration,
        texts: &dyn Texts,
    ) -> Option<String> {
        let text = match &self.message {
            Some(message) => message
                .replace("{remaining}", &format_duration(remaining))
                .replace("{command}", trigger),
            None => texts.cooldown(trigger, self.scope, remaining),
        };
        (!text.trim().is_empty()).then_some(text)
    }
}

impl fmt::Debug for Cooldown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cooldown")
            .field("scope", &self.scope)
            .field("period", &self.period)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::texts::English;

    #[test]
    fn user_scope_is_per_user() {
        let cooldown = Cooldown::per_user(Duration::from_secs(3_600));
        cooldown.try_start("alice", "room_1").unwrap();
        let left = cooldown.try_start("alice", "room_2").unwrap_err();
        assert!(left <= Duration::from_secs(3_600) && !left.is_zero());
        cooldown.try_start("bob", "room_1").unwrap();
    }

    #[test]
    fn an_elapsed_cooldown_allows_the_next_use() {
        let cooldown = Cooldown::per_user(Duration::ZERO);
        cooldown.try_start("alice", "room_1").unwrap();
        cooldown.try_start("alice", "room_1").unwrap();
    }

    #[test]
    fn room_and_global_scopes() {
        let room = Cooldown::per_room(Duration::from_secs(3_600));
        room.try_start("alice", "room_1").unwrap();
        room.try_start("bob", "room_1").unwrap_err();
        room.try_start("bob", "room_2").unwrap();
        let global = Cooldown::global(Duration::from_secs(3_600));
        global.try_start("alice", "room_1").unwrap();
        global.try_start("bob", "room_2").unwrap_err();
    }

    #[test]
    fn clones_share_state() {
        let cooldown = Cooldown::per_user(Duration::from_secs(3_600));
        let clone = cooldown.clone();
        cooldown.try_start("alice", "r").unwrap();
        clone.try_start("alice", "r").unwrap_err();
    }

    #[test]
    fn expired_entries_are_swept() {
        let cooldown = Cooldown::per_user(Duration::ZERO);
        for i in 0..SWEEP_AT {
            cooldown.try_start(&format!("user{i}"), "r").unwrap();
        }
        cooldown.try_start("late", "r").unwrap();
        assert_eq!(cooldown.last_used.lock().unwrap().until.len(), 1);
    }

    #[test]
    fn many_cooling_keys_are_not_swept_on_every_use() {
        let cooldown = Cooldown::per_user(Duration::from_secs(3_600));
        for i in 0..=SWEEP_AT {
            cooldown.try_start(&format!("user{i}"), "r").unwrap();
        }
        let uses = cooldown.last_used.lock().unwrap();
        assert_eq!(uses.until.len(), SWEEP_AT + 1);
        assert_eq!(
            uses.sweep_at,
            SWEEP_AT * 2,
            "the next sweep waits for twice as many"
        );
    }

    #[test]
    fn refusal_messages_are_friendly_and_customisable() {
        let cooldown = Cooldown::per_room(Duration::from_secs(60));
        assert_eq!(
            cooldown
                .refusal("!roll", Duration::from_millis(65_200), &English)
                .unwrap(),
            "Slow down! `!roll` can be used again in this room in 1m 6s."
        );
        let custom = Cooldown::per_user(Duration::from_secs(60)).message("{command}: {remaining}");
        assert_eq!(
            custom
                .refusal("!roll", Duration::from_secs(3_700), &English)
                .unwrap(),
            "!roll: 1h 1m"
        );
        let silent = Cooldown::global(Duration::from_secs(1)).message("");
        assert_eq!(
            silent.refusal("!roll", Duration::from_secs(1), &English),
            None
        );
    }
}
