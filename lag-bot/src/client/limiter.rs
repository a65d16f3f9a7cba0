//! Pacing under Lag's rate limits: the [`RateLimiter`] trait and its in-memory default, an
//! exact sliding-window log per limit.
//!
//! Lag counts requests in sliding windows (100 per 60 s over every robot endpoint, 10 message
//! sends per 10 s). A token bucket with a burst cannot promise "never 429" against a sliding
//! window without giving up most of the burst, so each window here keeps the times of the
//! calls inside it and a new call waits until the oldest one leaves. A call's time is taken
//! when its response arrives (the latest moment Lag can have counted it), and a call still in
//! flight holds its place until then, so the client's window never runs ahead of Lag's.

use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::Result;

/// One limit: at most `limit` calls in any `period`.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::client::Window;
/// let window = Window::new(10, Duration::from_secs(10));
/// assert_eq!(window.limit, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// How many calls fit in one period.
    pub limit: u32,
    /// The length of the sliding window.
    pub period: Duration,
}

impl Window {
    /// At most `limit` calls in any `period`.
    pub const fn new(limit: u32, period: Duration) -> Self {
        Self { limit, period }
    }
}

/// The limits the client paces its calls under.
///
/// The default is Lag's: 100 requests per 60 s over all robot endpoints (event endpoints
/// included) and 10 message sends per 10 s. Against a time-scaled local Lag, scale the windows
/// the same way with [`time_scale`](Self::time_scale).
///
/// ```
/// use std::time::Duration;
/// use lag_bot::client::{RateLimits, Window};
/// let lag = RateLimits::default();
/// assert_eq!(lag.requests, Some(Window::new(100, Duration::from_secs(60))));
/// assert_eq!(lag.messages, Some(Window::new(10, Duration::from_secs(10))));
///
/// // A local Lag running 100x faster than real time:
/// let fast = RateLimits::lag().time_scale(100.0);
/// assert_eq!(fast.messages.unwrap().period, Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// The limit on every request, or `None` for no limit.
    pub requests: Option<Window>,
    /// The extra limit on message sends, or `None` for no limit.
    pub messages: Option<Window>,
}

impl RateLimits {
    /// Lag's published limits.
    pub const fn lag() -> Self {
        Self {
            requests: Some(Window::new(100, Duration::from_secs(60))),
            messages: Some(Window::new(10, Duration::from_secs(10))),
        }
    }

    /// No pacing at all; Lag's 429 answers are still honoured.
    pub const fn unlimited() -> Self {
        Self {
            requests: None,
            messages: None,
        }
    }

    /// Replaces the limit on every request.
    pub fn requests(mut self, window: Option<Window>) -> Self {
        self.requests = window;
        self
    }

    /// Replaces the limit on message sends.
    pub fn messages(mut self, window: Option<Window>) -> Self {
        self.messages = window;
        self
    }

    /// Divides every period by `scale`: `time_scale(100.0)` paces for a Lag whose clock runs
    /// 100 times faster. Scales that are not finite and positive leave the limits unchanged.
    pub fn time_scale(mut self, scale: f64) -> Self {
        if scale.is_finite() && scale > 0.0 {
            let scaled = |w: Window| Window::new(w.limit, w.period.div_f64(scale));
            self.requests = self.requests.map(scaled);
            self.messages = self.messages.map(scaled);
        }
        self
    }

    /// The least time `sends` message sends take under these limits when nothing else is
    /// being called, counting from the first send: whole windows filled back to back.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lag_bot::client::RateLimits;
    /// // 50 sends: 10 now, then 10 more at 10 s, 20 s, 30 s and 40 s.
    /// assert_eq!(RateLimits::lag().min_time_for_sends(50), Duration::from_secs(40));
    /// assert_eq!(RateLimits::lag().min_time_for_sends(10), Duration::ZERO);
    /// ```
    pub fn min_time_for_sends(&self, sends: u32) -> Duration {
        [self.messages, self.requests]
            .into_iter()
            .flatten()
            .filter(|w| w.limit > 0)
            .map(|w| w.period * (sends.saturating_sub(1) / w.limit))
            .max()
            .unwrap_or_default()
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::lag()
    }
}

/// Which of Lag's limits a call counts against.
///
/// More classes may come; a [`RateLimiter`] that does not know one should count it as a
/// [`Request`](Self::Request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallClass {
    /// Any robot endpoint: counts against the request limit.
    Request,
    /// A message send (`POST .../messages`): counts against the message limit and the request
    /// limit.
    Message,
}

/// How a call's attempt ended, as far as the limits are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settlement {
    /// The request left and Lag may have counted it: it keeps its place in the windows, timed
    /// from now (its answer arrived, the latest moment Lag can have counted it).
    Sent,
    /// The request certainly never reached Lag (no connection was made): its place is given
    /// back.
    Unsent,
}

/// Paces a client's calls under Lag's rate limits.
///
/// Before each attempt the client [acquires](Self::acquire) a [`Permit`] for the call's
/// [`CallClass`], waiting as long as the limiter says, and [settles](Permit::settle) it when
/// the attempt is over. After a 429 answer it [pauses](Self::pause) the limiter for the
/// `Retry-After` time, so every call waits it out.
///
/// The default, [`MemoryLimiter`], paces the clones of one client in one process. Lag counts
/// its limits per robot key, so replicas of one robot should share a limiter backed by a
/// shared store (e.g. Redis sorted sets holding each window's calls); supply it with
/// [`ClientBuilder::rate_limiter`](crate::client::ClientBuilder::rate_limiter).
///
/// Implement it with the [`async-trait`](https://docs.rs/async-trait) crate, so that the
/// methods are plain `async fn`s and the limiter can be used as `Arc<dyn RateLimiter>`. This
/// one paces like the default and counts the message sends that left:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::time::Duration;
///
/// use async_trait::async_trait;
/// use lag_bot::client::{CallClass, Client, MemoryLimiter, Permit, RateLimiter, Settlement};
///
/// #[derive(Debug, Default)]
/// struct Counting {
///     pacing: MemoryLimiter,
///     sends: Arc<AtomicUsize>,
/// }
///
/// #[async_trait]
/// impl RateLimiter for Counting {
///     async fn acquire(&self, class: CallClass) -> lag_bot::Result<Permit> {
///         let place = self.pacing.acquire(class).await?;
///         let sends = Arc::clone(&self.sends);
///         Ok(Permit::new(move |settlement| {
///             if class == CallClass::Message && settlement == Settlement::Sent {
///                 sends.fetch_add(1, Ordering::Relaxed);
///             }
///             place.settle(settlement);
///         }))
///     }
///
///     async fn pause(&self, wait: Duration) -> lag_bot::Result<()> {
///         self.pacing.pause(wait).await
///     }
/// }
///
/// # tokio_test_block(async {
/// let limiter = Arc::new(Counting::default());
/// let client = Client::builder("lag_robot_abcd1234_secret")
///     .rate_limiter(limiter.clone())
///     .build()?;
/// limiter.acquire(CallClass::Message).await?.settle(Settlement::Sent);
/// limiter.acquire(CallClass::Message).await?.settle(Settlement::Unsent);
/// assert_eq!(limiter.sends.load(Ordering::Relaxed), 1);
/// # Ok::<(), lag_bot::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Waits until a call of `class` fits under every limit and takes its place there. Until
    /// its permit is settled the call is in flight: Lag may count it at any moment, so it
    /// holds its place.
    ///
    /// # Errors
    ///
    /// The call fails with the error, unsent. A limiter that would rather let calls through
    /// when its store is unreachable answers with a permit instead.
    async fn acquire(&self, class: CallClass) -> Result<Permit>;

    /// Holds every call back until `wait` from now (Lag answered 429 with `Retry-After`). A
    /// shorter pause than one already running changes nothing.
    ///
    /// # Errors
    ///
    /// The client logs the error and carries on.
    async fn pause(&self, wait: Duration) -> Result<()>;
}

/// A call's place under the limits, from [`RateLimiter::acquire`] until its attempt is over.
///
/// Settle it with [`settle`](Self::settle); dropping an unsettled permit settles it as
/// [`Settlement::Sent`], the safe guess for an attempt cut short.
///
/// A [`RateLimiter`] makes one with [`Permit::new`], giving the function that records the
/// settlement. It runs once, synchronously and perhaps inside `drop`, so a limiter backed by
/// a network store should hand the write to a task (`tokio::spawn`) rather than block.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use lag_bot::client::{Permit, Settlement};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let record = Arc::clone(&seen);
/// let permit = Permit::new(move |settlement| record.lock().unwrap().push(settlement));
/// permit.settle(Settlement::Unsent);
/// let record = Arc::clone(&seen);
/// drop(Permit::new(move |settlement| record.lock().unwrap().push(settlement)));
/// assert_eq!(*seen.lock().unwrap(), [Settlement::Unsent, Settlement::Sent]);
/// ```
pub struct Permit {
    settle: Option<Box<dyn FnOnce(Settlement) + Send>>,
}

impl Permit {
    /// A permit that calls `settle` with the settlement once it is settled or dropped.
    pub fn new(settle: impl FnOnce(Settlement) + Send + 'static) -> Self {
        Self {
            settle: Some(Box::new(settle)),
        }
    }

    /// Records how the attempt ended.
    pub fn settle(mut self, settlement: Settlement) {
        self.settle_once(settlement);
    }

    pub(crate) fn sent(self) {
        self.settle(Settlement::Sent);
    }

    pub(crate) fn unsent(self) {
        self.settle(Settlement::Unsent);
    }

    fn settle_once(&mut self, settlement: Settlement) {
        if let Some(settle) = self.settle.take() {
            settle(settlement);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.settle_once(Settlement::Sent);
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("settled", &self.settle.is_none())
            .finish()
    }
}

/// The in-memory [`RateLimiter`], the client's default: an exact sliding-window log per
/// limit.
///
/// Each window keeps the times of the calls inside it and a new call waits until the oldest
/// one leaves. Waiting calls are served in arrival order, and a message send waiting for the
/// message window does not hold up other calls. Clones share one set of windows.
///
/// ```
/// use lag_bot::client::{CallClass, MemoryLimiter, RateLimiter, RateLimits, Settlement};
///
/// # tokio_test_block(async {
/// let limiter = MemoryLimiter::new(RateLimits::lag());
/// let permit = limiter.acquire(CallClass::Message).await?;
/// // ... send the message, then:
/// permit.settle(Settlement::Sent);
/// assert_eq!(limiter.limits(), &RateLimits::lag());
/// # Ok::<(), lag_bot::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryLimiter {
    shared: Arc<Shared>,
}

/// The windows of a [`MemoryLimiter`] and its clones.
struct Shared {
    limits: RateLimits,
    state: Mutex<State>,
    /// Hands out the request window in arrival order.
    gate: tokio::sync::Mutex<()>,
    /// Hands out the message window in arrival order, so a send waiting for message budget
    /// does not hold up other calls.
    message_gate: tokio::sync::Mutex<()>,
    /// Woken when a call finishes or is withdrawn, which can free a place early.
    changed: Notify,
}

struct State {
    requests: Log,
    messages: Log,
    paused_until: Option<Instant>,
    next_id: u64,
}

#[derive(Default)]
struct Log {
    entries: Vec<Entry>,
}

struct Entry {
    id: u64,
    /// When the response arrived; `None` while the call is in flight.
    done: Option<Instant>,
}

impl Log {
    fn prune(&mut self, now: Instant, period: Duration) {
        self.entries
            .retain(|e| e.done.is_none_or(|done| done + period > now));
    }

    /// How long until a new call fits: `Some(ZERO)` now, `None` when only a call in flight
    /// finishing can make room.
    fn wait(&mut self, now: Instant, window: Window) -> Option<Duration> {
        self.prune(now, window.period);
        let used = self.entries.len();
        let limit = window.limit as usize;
        if used < limit {
            return Some(Duration::ZERO);
        }
        let mut expiries: Vec<Instant> = self
            .entries
            .iter()
            .filter_map(|e| e.done.map(|done| done + window.period))
            .collect();
        expiries.sort_unstable();
        let must_leave = used + 1 - limit;
        expiries
            .get(must_leave.checked_sub(1)?)
            .map(|at| at.saturating_duration_since(now))
    }

    fn finish(&mut self, id: u64, at: Instant) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.done = Some(at);
        }
    }

    fn withdraw(&mut self, id: u64) {
        self.entries.retain(|e| e.id != id);
    }
}

impl MemoryLimiter {
    /// A limiter pacing under `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            shared: Arc::new(Shared {
                limits,
                state: Mutex::new(State {
                    requests: Log::default(),
                    messages: Log::default(),
                    paused_until: None,
                    next_id: 0,
                }),
                gate: tokio::sync::Mutex::new(()),
                message_gate: tokio::sync::Mutex::new(()),
                changed: Notify::new(),
            }),
        }
    }

    /// The limits calls are paced under.
    pub fn limits(&self) -> &RateLimits {
        &self.shared.limits
    }
}

impl Default for MemoryLimiter {
    /// A limiter pacing under Lag's limits.
    fn default() -> Self {
        Self::new(RateLimits::lag())
    }
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn acquire(&self, class: CallClass) -> Result<Permit> {
        let (request, message) = self.shared.acquire(class).await;
        let shared = Arc::clone(&self.shared);
        Ok(Permit::new(move |settlement| {
            shared.settle(request, message, settlement);
        }))
    }

    async fn pause(&self, wait: Duration) -> Result<()> {
        self.shared.pause(wait);
        Ok(())
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops every call from starting before `now + wait` (after a 429).
    fn pause(&self, wait: Duration) {
        let now = Instant::now();
        let until = now.checked_add(wait).unwrap_or(now + FOREVER);
        let mut state = self.state();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// Waits until a call of `class` fits in every window, and takes its places: the ids of
    /// its entries in the request and message logs.
    async fn acquire(&self, class: CallClass) -> (Option<u64>, Option<u64>) {
        let counts_as_message = class == CallClass::Message && self.limits.messages.is_some();
        let _message_turn = if counts_as_message {
            let turn = self.message_gate.lock().await;
            self.wait_for(|state, now| {
                let mut wait = pause_left(state, now);
                if let Some(window) = self.limits.messages {
                    wait = longest(wait, state.messages.wait(now, window));
                }
                wait
            })
            .await;
            Some(turn)
        } else {
            None
        };
        let _turn = self.gate.lock().await;
        let ids = self
            .wait_and_take(counts_as_message, |state, now| {
                let mut wait = pause_left(state, now);
                if let Some(window) = self.limits.requests {
                    wait = longest(wait, state.requests.wait(now, window));
                }
                if counts_as_message && let Some(window) = self.limits.messages {
                    wait = longest(wait, state.messages.wait(now, window));
                }
                wait
            })
            .await;
        (
            self.limits.requests.map(|_| ids),
            counts_as_message.then_some(ids),
        )
    }

    async fn wait_for(&self, mut wait: impl FnMut(&mut State, Instant) -> Option<Duration>) {
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let needed = {
                let mut state = self.state();
                wait(&mut state, Instant::now())
            };
            match needed {
                Some(d) if d.is_zero() => return,
                Some(d) => {
                    tokio::select! {
                        () = tokio::time::sleep(d) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Like [`wait_for`](Self::wait_for), then takes a place in every window under the same
    /// lock that saw there was room.
    async fn wait_and_take(
        &self,
        message: bool,
        mut wait: impl FnMut(&mut State, Instant) -> Option<Duration>,
    ) -> u64 {
        let mut taken = 0;
        self.wait_for(|state, now| {
            let needed = wait(state, now);
            if needed == Some(Duration::ZERO) {
                taken = state.next_id;
                state.next_id += 1;
                if self.limits.requests.is_some() {
                    state.requests.entries.push(Entry {
                        id: taken,
                        done: None,
                    });
                }
                if message {
                    state.messages.entries.push(Entry {
                        id: taken,
                        done: None,
                    });
                }
            }
            needed
        })
        .await;
        taken
    }

    fn settle(&self, request: Option<u64>, message: Option<u64>, settlement: Settlement) {
        let now = Instant::now();
        {
            let mut state = self.state();
            let State {
                requests, messages, ..
            } = &mut *state;
            for (log, id) in [(requests, request), (messages, message)] {
                if let Some(id) = id {
                    match settlement {
                        Settlement::Sent => log.finish(id, now),
                        Settlement::Unsent => log.withdraw(id),
                    }
                }
            }
        }
        self.changed.notify_waiters();
    }
}

/// Stands in for a pause too long to represent (a huge `Retry-After` under a policy that
/// waits out anything).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

fn pause_left(state: &State, now: Instant) -> Option<Duration> {
    Some(
        state
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now)),
    )
}

fn longest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    Some(a?.max(b?))
}

impl fmt::Debug for MemoryLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLimiter")
            .field("limits", self.limits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: u32, messages: u32) -> RateLimits {
        RateLimits::lag()
            .requests(Some(Window::new(requests, Duration::from_secs(60))))
            .messages(Some(Window::new(messages, Duration::from_secs(10))))
    }

    /// Asserts that no window of `period` holds more than `limit` of `times`.
    fn assert_within(times: &[Instant], window: Window) {
        for (i, start) in times.iter().enumerate() {
            let inside = times[i..]
                .iter()
                .filter(|t| t.duration_since(*start) < window.period)
                .count();
            assert!(
                inside <= window.limit as usize,
                "{inside} calls in one window"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_sends_fills_whole_windows_back_to_back() {
        let limiter = MemoryLimiter::new(RateLimits::lag());
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..50 {
            let permit = limiter.acquire(CallClass::Message).await.unwrap();
            times.push(Instant::now());
            permit.sent();
        }
        assert_within(&times, RateLimits::lag().messages.unwrap());
        assert_eq!(times[9] - start, Duration::ZERO);
        assert_eq!(times[10] - start, Duration::from_secs(10));
        assert_eq!(times[49] - start, RateLimits::lag().min_time_for_sends(50));
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_window_holds_every_call() {
        let limiter = MemoryLimiter::new(limits(5, 100));
        let start = Instant::now();
        let mut times = Vec::new();
        for i in 0..12 {
            let class = if i % 2 == 0 {
                CallClass::Message
            } else {
                CallClass::Request
            };
            limiter.acquire(class).await.unwrap().sent();
            times.push(Instant::now());
        }
        assert_within(&times, limiter.limits().requests.unwrap());
        assert_eq!(times[11] - start, Duration::from_secs(120));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_in_flight_holds_its_place_until_it_finishes() {
        let limiter = MemoryLimiter::new(limits(1, 10));
        let first = limiter.acquire(CallClass::Request).await.unwrap();
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter.acquire(CallClass::Request).await.unwrap().sent();
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert!(!waiter.is_finished(), "a place in flight never expires");
        let finished = Instant::now();
        first.sent();
        let second = waiter.await.unwrap();
        assert_eq!(second - finished, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unsent_call_gives_its_place_back() {
        let limiter = MemoryLimiter::new(limits(1, 10));
        limiter.acquire(CallClass::Request).await.unwrap().unsent();
        let start = Instant::now();
        limiter.acquire(CallClass::Request).await.unwrap().sent();
        assert_eq!(Instant::now(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_permit_counts_as_sent() {
        let limiter = MemoryLimiter::new(limits(1, 10));
        drop(limiter.acquire(CallClass::Request).await.unwrap());
        let start = Instant::now();
        limiter.acquire(CallClass::Request).await.unwrap().sent();
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_call() {
        let limiter = MemoryLimiter::new(RateLimits::lag());
        limiter.pause(Duration::from_secs(3)).await.unwrap();
        let start = Instant::now();
        limiter.acquire(CallClass::Request).await.unwrap().sent();
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_too_long_to_represent_still_holds_calls() {
        let limiter = MemoryLimiter::new(RateLimits::lag());
        limiter.pause(Duration::MAX).await.unwrap();
        let waiting = tokio::time::timeout(
            Duration::from_secs(365 * 24 * 60 * 60),
            limiter.acquire(CallClass::Request),
        );
        assert!(
            waiting.await.is_err(),
            "the call is still held a year later"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_waiting_for_message_budget_does_not_block_other_calls() {
        let limiter = MemoryLimiter::new(limits(100, 1));
        limiter.acquire(CallClass::Message).await.unwrap().sent();
        let blocked_send = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(CallClass::Message).await.unwrap().sent() })
        };
        tokio::task::yield_now().await;
        let start = Instant::now();
        limiter.acquire(CallClass::Request).await.unwrap().sent();
        assert_eq!(Instant::now(), start);
        assert!(!blocked_send.is_finished());
        blocked_send.await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_arrival_order() {
        let limiter = MemoryLimiter::new(limits(100, 1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let limiter = limiter.clone();
            let order = Arc::clone(&order);
            tasks.push(tokio::spawn(async move {
                limiter.acquire(CallClass::Message).await.unwrap().sent();
                order.lock().unwrap().push(i);
            }));
            tokio::task::yield_now().await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let limiter = MemoryLimiter::new(RateLimits::unlimited());
        let start = Instant::now();
        for _ in 0..1000 {
            limiter.acquire(CallClass::Message).await.unwrap().sent();
        }
        assert_eq!(Instant::now(), start);
    }

    #[test]
    fn time_scale_ignores_nonsense() {
        assert_eq!(RateLimits::lag().time_scale(0.0), RateLimits::lag());
        assert_eq!(RateLimits::lag().time_scale(f64::NAN), RateLimits::lag());
        assert_eq!(
            RateLimits::lag().time_scale(2.0).requests.unwrap().period,
            Duration::from_secs(30)
        );
    }
}
