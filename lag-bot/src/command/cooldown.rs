//! Per-user, per-room or global cooldowns on a command, and the store that keeps them.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::Result;
use crate::clock::Clock;

/// Where a robot keeps the cooldowns that are running.
///
/// One store serves all of a robot's commands: each key names the command and who shares the
/// cooldown, like `roll user u_42`, `roll room r_7` or `roll global`. Treat keys as opaque
/// text; a shared store may prefix its own namespace. The in-memory [`MemoryCooldowns`]
/// serves a single process; a shared store (e.g. Redis `SET key NX PX period`, reading the
/// time left with `PTTL` when the key exists) lets several replicas of one robot keep one set
/// of cooldowns.
///
/// Implement it with the [`async-trait`](https://docs.rs/async-trait) crate, so that the method
/// is a plain `async fn` and the store can be used as `Arc<dyn CooldownStore>`:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
///
/// use async_trait::async_trait;
/// use lag_bot::command::CooldownStore;
///
/// /// Keeps every key it ever saw (fine for a short test).
/// #[derive(Default)]
/// struct Simple(Mutex<HashMap<String, Instant>>);
///
/// #[async_trait]
/// impl CooldownStore for Simple {
///     async fn try_start(&self, key: &str, period: Duration) -> lag_bot::Result<Option<Duration>> {
///         let now = Instant::now();
///         let mut until = self.0.lock().unwrap();
///         if let Some(until) = until.get(key).filter(|until| **until > now) {
///             return Ok(Some(*until - now));
///         }
///         until.insert(key.to_owned(), now + period);
///         Ok(None)
///     }
/// }
///
/// # tokio_test_block(async {
/// let store = Simple::default();
/// let hour = Duration::from_secs(3_600);
/// assert_eq!(store.try_start("roll user u_42", hour).await?, None, "started");
/// let left = store.try_start("roll user u_42", hour).await?;
/// assert!(left.is_some_and(|left| left <= hour), "still cooling");
/// assert_eq!(store.try_start("roll user u_7", hour).await?, None, "another key");
/// # Ok::<(), lag_bot::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait CooldownStore: Send + Sync + 'static {
    /// Starts a cooldown of `period` on `key` unless one is running there. Answers `None` when
    /// it started, or the time left on the running one (not zero).
    ///
    /// Must be atomic per key: of two concurrent calls for a key that is not cooling, exactly
    /// one starts it. A zero `period` never leaves the key cooling.
    async fn try_start(&self, key: &str, period: Duration) -> Result<Option<Duration>>;
}

/// An in-memory [`CooldownStore`] for one process.
///
/// Expired keys are swept now and then as new ones arrive, so memory follows the number of
/// cooldowns running, not the number of members who ever used a command.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::command::{CooldownStore, MemoryCooldowns};
///
/// # tokio_test_block(async {
/// let store = MemoryCooldowns::new();
/// let period = Duration::from_secs(30);
/// assert_eq!(store.try_start("roll global", period).await?, None);
/// assert!(store.try_start("roll global", period).await?.is_some());
/// # Ok::<(), lag_bot::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Default)]
pub struct MemoryCooldowns {
    uses: Mutex<Uses>,
    clock: Clock,
}

/// When each key may be used again.
#[derive(Default)]
struct Uses {
    until: HashMap<String, Instant>,
    /// Expired entries are swept once this many are kept, then again at twice what remained,
    /// so sweeping costs O(1) per use however many keys are cooling down.
    sweep_at: usize,
}

/// The fewest entries kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

impl MemoryCooldowns {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose cooldowns run on `clock`.
    pub(crate) fn with_clock(clock: Clock) -> Self {
        Self {
            uses: Mutex::default(),
            clock,
        }
    }

    fn uses(&self) -> MutexGuard<'_, Uses> {
        self.uses.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn try_start_now(&self, key: &str, period: Duration) -> Option<Duration> {
        let now = self.clock.now();
        let mut uses = self.uses();
        if let Some(until) = uses.until.get(key)
            && *until > now
        {
            return Some(*until - now);
        }
        if uses.until.len() >= uses.sweep_at.max(SWEEP_AT) {
            uses.until.retain(|_, until| *until > now);
            uses.sweep_at = uses.until.len() * 2;
        }
        uses.until.insert(key.to_owned(), now + period);
        None
    }
}

#[async_trait]
impl CooldownStore for MemoryCooldowns {
    async fn try_start(&self, key: &str, period: Duration) -> Result<Option<Duration>> {
        Ok(self.try_start_now(key, period))
    }
}

impl fmt::Debug for MemoryCooldowns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCooldowns")
            .field("keys", &self.uses().until.len())
            .finish()
    }
}

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
/// arguments parsed and its checks passed. Running cooldowns are kept in the robot's
/// [`CooldownStore`] under the command's name, so every clone of the command shares them.
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
}

impl Cooldown {
    /// A cooldown of `period` shared as `scope` says.
    pub fn new(scope: CooldownScope, period: Duration) -> Self {
        Self {
            scope,
            period,
            message: None,
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

    /// Starts the cooldown of `command` (its name, e.g. `roll`) for whoever shares it here, or
    /// says how long is left when it is already running.
    pub(crate) async fn try_start(
        &self,
        store: &dyn CooldownStore,
        command: &str,
        user_id: &str,
        room_id: &str,
    ) -> Result<Option<Duration>> {
        store
            .try_start(&self.key(command, user_id, room_id), self.period)
            .await
    }

    /// The store key: the command, then who shares the cooldown. Command names hold no
    /// whitespace, so no two commands or scopes share a key.
    fn key(&self, command: &str, user_id: &str, room_id: &str) -> String {
        match self.scope {
            CooldownScope::User => format!("{command} user {user_id}"),
            CooldownScope::Room => format!("{command} room {room_id}"),
            CooldownScope::Global => format!("{command} global"),
        }
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
            .finish()
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

    const HOUR: Duration = Duration::from_secs(3_600);

    async fn start(
        cooldown: &Cooldown,
        store: &MemoryCooldowns,
        user_id: &str,
        room_id: &str,
    ) -> Option<Duration> {
        cooldown
            .try_start(store, "roll", user_id, room_id)
            .await
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn user_scope_is_per_user() {
        let store = MemoryCooldowns::new();
        let cooldown = Cooldown::per_user(HOUR);
        assert_eq!(start(&cooldown, &store, "alice", "room_1").await, None);
        tokio::time::advance(Duration::from_secs(600)).await;
        let left = start(&cooldown, &store, "alice", "room_2").await;
        assert_eq!(left, Some(Duration::from_secs(3_000)));
        assert_eq!(start(&cooldown, &store, "bob", "room_1").await, None);
        tokio::time::advance(Duration::from_secs(3_000)).await;
        assert_eq!(start(&cooldown, &store, "alice", "room_1").await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_elapsed_cooldown_allows_the_next_use() {
        let store = MemoryCooldowns::new();
        let cooldown = Cooldown::per_user(Duration::ZERO);
        assert_eq!(start(&cooldown, &store, "alice", "room_1").await, None);
        assert_eq!(start(&cooldown, &store, "alice", "room_1").await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn room_and_global_scopes() {
        let store = MemoryCooldowns::new();
        let room = Cooldown::per_room(HOUR);
        assert_eq!(start(&room, &store, "alice", "room_1").await, None);
        assert!(start(&room, &store, "bob", "room_1").await.is_some());
        assert_eq!(start(&room, &store, "bob", "room_2").await, None);
        let store = MemoryCooldowns::new();
        let global = Cooldown::global(HOUR);
        assert_eq!(start(&global, &store, "alice", "room_1").await, None);
        assert!(start(&global, &store, "bob", "room_2").await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn one_store_serves_clones_and_keeps_commands_apart() {
        let store = MemoryCooldowns::new();
        let cooldown = Cooldown::per_user(HOUR);
        let clone = cooldown.clone();
        assert_eq!(start(&cooldown, &store, "alice", "r").await, None);
        assert!(start(&clone, &store, "alice", "r").await.is_some());
        let flip = clone.try_start(&store, "flip", "alice", "r").await.unwrap();
        assert_eq!(flip, None, "another command cools down on its own");
    }

    #[test]
    fn keys_name_the_command_and_the_scope() {
        let key = |cooldown: Cooldown| cooldown.key("roll", "u_1", "r_1");
        assert_eq!(key(Cooldown::per_user(HOUR)), "roll user u_1");
        assert_eq!(key(Cooldown::per_room(HOUR)), "roll room r_1");
        assert_eq!(key(Cooldown::global(HOUR)), "roll global");
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_swept() {
        let store = MemoryCooldowns::new();
        for i in 0..SWEEP_AT {
            assert_eq!(
                store.try_start_now(&format!("user{i}"), Duration::ZERO),
                None
            );
        }
        assert_eq!(store.try_start_now("late", Duration::ZERO), None);
        assert_eq!(store.uses().until.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn many_cooling_keys_are_not_swept_on_every_use() {
        let store = MemoryCooldowns::new();
        for i in 0..=SWEEP_AT {
            assert_eq!(store.try_start_now(&format!("user{i}"), HOUR), None);
        }
        let uses = store.uses();
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
