//! The one place where simulated durations become real ones.
//!
//! Every timer in the emulator (webhook retry delays, rate-limit windows, SSE keepalives, long-poll
//! holds, secret-rotation overlaps, event retention) goes through [`Clock`], so a single
//! `time_scale` makes a whole test run faster. Reported timestamps stay wall-clock time: a scale
//! changes how long the emulator waits, not what time it says it is.
//!
//! With a [`ManualClock`], the world's time (rate-limit windows, webhook retry delays, secret
//! overlaps, retention, voice durations) moves only when the clock is advanced, while the
//! connection timers (keepalives, long-poll holds, the webhook timeout) keep running in real time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Scales simulated durations to real ones, or follows a [`ManualClock`].
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    scale: f64,
    manual: Option<ManualClock>,
}

impl Clock {
    pub(crate) fn new(scale: f64, manual: Option<ManualClock>) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Self { scale, manual }
    }

    /// The real duration that stands for `simulated`, for the connection timers (keepalives,
    /// long-poll holds), which always run in real time.
    pub(crate) fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// The world's time now: what rate-limit windows, overlaps and retention are measured
    /// against, with [`span`](Self::span).
    pub(crate) fn now(&self) -> Instant {
        self.manual
            .as_ref()
            .map_or_else(Instant::now, ManualClock::now)
    }

    /// How far [`now`](Self::now) moves while `simulated` passes in the world.
    pub(crate) fn span(&self, simulated: Duration) -> Duration {
        match self.manual {
            Some(_) => simulated,
            None => self.real(simulated),
        }
    }

    /// Waits until `simulated` has passed in the world.
    pub(crate) async fn sleep(&self, simulated: Duration) {
        match &self.manual {
            Some(manual) => manual.sleep(simulated).await,
            None => tokio::time::sleep(self.real(simulated)).await,
        }
    }
}

/// Simulated time that moves only when it is told to: share one between lag-sim and the code
/// under test, and a ten-minute wait takes no time at all.
///
/// Give it to [`SimConfig::clock`](crate::SimConfig::clock), and the world's time follows it:
/// rate-limit windows and their `Retry-After`, webhook retry delays, secret-rotation overlaps,
/// event retention and voice durations. Connection timers (SSE keepalives, long-poll holds, the
/// webhook timeout) and reported timestamps stay real. Cloning gives another handle on the same
/// time.
///
/// Time moves with [`advance`](Self::advance), by any amount at once, or with
/// [`advance_to_next`](Self::advance_to_next), to the moment the earliest sleeper waits for.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use lag_sim::ManualClock;
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// let sleeper = tokio::spawn({
///     let clock = clock.clone();
///     async move { clock.sleep(Duration::from_secs(600)).await }
/// });
/// while clock.sleepers() == 0 {
///     tokio::task::yield_now().await;
/// }
/// assert_eq!(clock.until_next(), Some(Duration::from_secs(600)));
/// assert_eq!(clock.advance_to_next(), Some(Duration::from_secs(600)));
/// sleeper.await.unwrap();
/// assert_eq!(clock.now() - start, Duration::from_secs(600));
/// # }
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    origin: Instant,
    /// The wall-clock time at `origin`.
    wall_origin: SystemTime,
    state: Mutex<ManualState>,
    /// Carries the elapsed time; sleepers wake on each change.
    ticks: watch::Sender<Duration>,
}

#[derive(Default)]
struct ManualState {
    elapsed: Duration,
    /// Deadlines (as elapsed time) of the sleepers waiting now, with a number per sleeper.
    sleepers: BTreeMap<(Duration, u64), ()>,
    next_sleeper: u64,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock that starts at the real time now and stands still until advanced.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A clock whose wall-clock time ([`now_system`](Self::now_system)) starts at `wall`: for
    /// tests of what happens at a given date, such as a daylight-saving change.
    pub fn starting_at(wall: SystemTime) -> Self {
        Self {
            inner: Arc::new(ManualInner {
                origin: Instant::now(),
                wall_origin: wall,
                state: Mutex::new(ManualState::default()),
                ticks: watch::Sender::new(Duration::ZERO),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, ManualState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The simulated time now.
    pub fn now(&self) -> Instant {
        self.inner.origin + self.elapsed()
    }

    /// The simulated wall-clock time now: the time the clock started at, plus
    /// [`elapsed`](Self::elapsed).
    pub fn now_system(&self) -> SystemTime {
        self.inner.wall_origin + self.elapsed()
    }

    /// How much simulated time has passed since the clock was made.
    pub fn elapsed(&self) -> Duration {
        self.state().elapsed
    }

    /// Moves time forward by `by` at once, waking every sleeper whose moment has come.
    pub fn advance(&self, by: Duration) {
        let elapsed = {
            let mut state = self.state();
            state.elapsed = state.elapsed.saturating_add(by);
            state.elapsed
        };
        self.inner.ticks.send_replace(elapsed);
    }

    /// How long until the earliest sleeper's moment (zero when it has come), or `None` when
    /// nothing sleeps on this clock.
    pub fn until_next(&self) -> Option<Duration> {
        let state = self.state();
        let (deadline, _) = state.sleepers.keys().next()?;
        Some(deadline.saturating_sub(state.elapsed))
    }

    /// Moves time to the earliest sleeper's moment, and says how far it moved; `None` (and no
    /// move) when nothing sleeps.
    pub fn advance_to_next(&self) -> Option<Duration> {
        let by = self.until_next()?;
        self.advance(by);
        Some(by)
    }

    /// How many sleepers are waiting on this clock.
    pub fn sleepers(&self) -> usize {
        self.state().sleepers.len()
    }

    /// Waits until `duration` of simulated time has passed.
    pub async fn sleep(&self, duration: Duration) {
        let deadline = self.elapsed().saturating_add(duration);
        self.sleep_until_elapsed(deadline).await;
    }

    /// Waits until the simulated time is `deadline` (at once if it has passed).
    pub async fn sleep_until(&self, deadline: Instant) {
        let deadline = deadline.saturating_duration_since(self.inner.origin);
        self.sleep_until_elapsed(deadline).await;
    }

    async fn sleep_until_elapsed(&self, deadline: Duration) {
        let mut ticks = self.inner.ticks.subscribe();
        if *ticks.borrow_and_update() >= deadline {
            return;
        }
        let _registered = Sleeper::register(self, deadline);
        loop {
            if *ticks.borrow_and_update() >= deadline {
                return;
            }
            if ticks.changed().await.is_err() {
                return;
            }
        }
    }
}

/// A sleeper's place in [`ManualState::sleepers`], given up when the sleep ends or is dropped.
struct Sleeper<'a> {
    clock: &'a ManualClock,
    key: (Duration, u64),
}

impl<'a> Sleeper<'a> {
    fn register(clock: &'a ManualClock, deadline: Duration) -> Self {
        let mut state = clock.state();
        let key = (deadline, state.next_sleeper);
        state.next_sleeper += 1;
        state.sleepers.insert(key, ());
        Self { clock, key }
    }
}

impl Drop for Sleeper<'_> {
    fn drop(&mut self) {
        self.clock.state().sleepers.remove(&self.key);
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("ManualClock")
            .field("elapsed", &state.elapsed)
            .field("sleepers", &state.sleepers.len())
            .finish()
    }
}

/// A duration in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix_seconds() -> i64 {
    now_millis() / 1000
}

/// Formats epoch milliseconds as `2024-01-15T12:30:00.000Z`.
pub(crate) fn format_millis(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// The current wall-clock time as an ISO 8601 string with milliseconds.
pub(crate) fn now_iso() -> String {
    format_millis(now_millis())
}

/// Parses an RFC 3339 timestamp into epoch milliseconds, rounding sub-millisecond parts up so that
/// `createdAt < cursor` keeps its meaning for cursors finer than a millisecond.
pub(crate) fn parse_iso_millis(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let nanos = at.unix_timestamp_nanos();
    let millis = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) != 0);
    i64::try_from(millis).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let text = format_millis(1_705_321_800_123);
        assert_eq!(text, "2024-01-15T12:30:00.123Z");
        assert_eq!(parse_iso_millis(&text), Some(1_705_321_800_123));
        assert_eq!(
            parse_iso_millis("2024-01-15T12:30:00Z"),
            Some(1_705_321_800_000)
        );
        assert_eq!(
            parse_iso_millis("2024-01-15T12:30:00.0001Z"),
            Some(1_705_321_800_001)
        );
        assert_eq!(parse_iso_millis("yesterday"), None);
    }

    #[test]
    fn scales_durations() {
        let clock = Clock::new(100.0, None);
        assert_eq!(
            clock.real(Duration::from_secs(5)),
            Duration::from_millis(50)
        );
        assert_eq!(
            clock.span(Duration::from_secs(5)),
            Duration::from_millis(50)
        );
        let broken = Clock::new(0.0, None);
        assert_eq!(broken.real(Duration::from_secs(5)), Duration::from_secs(5));
    }

    #[test]
    fn a_manual_clock_keeps_world_spans_whole_and_connection_timers_scaled() {
        let manual = ManualClock::new();
        let clock = Clock::new(10.0, Some(manual.clone()));
        assert_eq!(clock.span(Duration::from_secs(5)), Duration::from_secs(5));
        assert_eq!(
            clock.real(Duration::from_secs(5)),
            Duration::from_millis(500)
        );
        let before = clock.now();
        manual.advance(Duration::from_secs(60));
        assert_eq!(clock.now() - before, Duration::from_secs(60));
    }

    #[tokio::test]
    async fn sleepers_wake_in_order_and_leave_when_dropped() {
        let clock = ManualClock::new();
        let woke = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for secs in [30, 10, 20] {
            let (clock, woke) = (clock.clone(), Arc::clone(&woke));
            tasks.push(tokio::spawn(async move {
                clock.sleep(Duration::from_secs(secs)).await;
                woke.lock().unwrap().push(secs);
            }));
        }
        let abandoned = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(5)).await }
        });
        while clock.sleepers() < 4 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        assert_eq!(
            clock.sleepers(),
            3,
            "an abandoned sleep leaves no sleeper behind"
        );
        for expected in [10, 20, 30] {
            assert_eq!(clock.advance_to_next(), Some(Duration::from_secs(10)));
            while woke.lock().unwrap().len() < expected / 10 {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!(*woke.lock().unwrap(), [10, 20, 30]);
        assert_eq!(clock.advance_to_next(), None);
        assert_eq!(clock.elapsed(), Duration::from_secs(30));
        for task in tasks {
            task.await.unwrap();
        }
    }
}
