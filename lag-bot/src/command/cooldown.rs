//! Per-user, per-room or global cooldowns on a command.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

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

    /// The cooldown's own reply to an attempt `remaining` too early (`Some("")` to stay
    /// silent), or `None` when the robot's texts should word it.
    pub(crate) fn own_refusal(&self, trigger: &str, remaining: Duration) -> Option<String> {
        let message = self.message.as_ref()?;
        Some(
            message
                .replace("{remaining}", &format_duration(remaining))
                .replace("{command}", trigger),
        )
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

/// `1h 2m`, `1m 5s`, `45s`: the two largest units of a duration in whole seconds, rounded up so
/// `0s` is never shown. What the default cooldown text says.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::command::format_duration;
/// assert_eq!(format_duration(Duration::from_millis(65_200)), "1m 6s");
/// assert_eq!(format_duration(Duration::from_secs(90_061)), "1d 1h");
/// ```
pub fn format_duration(remaining: Duration) -> String {
    let mut secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    secs = secs.max(1);
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")];
    let mut out = String::new();
    for (value, unit) in parts.into_iter().filter(|(v, _)| *v > 0).take(2) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{value}{unit}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_own_message_fills_in_the_command_and_the_time_left() {
        let plain = Cooldown::per_room(Duration::from_secs(60));
        assert_eq!(plain.own_refusal("!roll", Duration::from_secs(1)), None);
        let custom = Cooldown::per_user(Duration::from_secs(60)).message("{command}: {remaining}");
        assert_eq!(
            custom
                .own_refusal("!roll", Duration::from_secs(3_700))
                .as_deref(),
            Some("!roll: 1h 1m")
        );
    }

    #[test]
    fn durations_are_rounded_up() {
        assert_eq!(format_duration(Duration::from_millis(1)), "1s");
        assert_eq!(format_duration(Duration::ZERO), "1s");
        assert_eq!(format_duration(Duration::from_secs(90_061)), "1d 1h");
        assert_eq!(format_duration(Duration::from_millis(65_200)), "1m 6s");
    }
}
