//! [`MemoryLimiter`], the in-memory default: an exact sliding-window log per limit.

use std::fmt;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{CallClass, Permit, RateLimiter, RateLimits, Settlement, Window};
use crate::Result;
use crate::clock::Clock;

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
    clock: Clock,
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
        Self::with_clock(limits, Clock::default())
    }

    /// A limiter whose windows run on `clock`.
    pub(crate) fn with_clock(limits: RateLimits, clock: Clock) -> Self {
        Self {
            shared: Arc::new(Shared {
                limits,
                clock,
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
        let now = self.clock.now();
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
            let turn = self.clock.idle(self.message_gate.lock()).await;
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
        let _turn = self.clock.idle(self.gate.lock()).await;
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
                wait(&mut state, self.clock.now())
            };
            match needed {
                Some(d) if d.is_zero() => return,
                Some(d) => {
                    tokio::select! {
                        () = self.clock.sleep(d) => {}
                        () = self.clock.idle(changed) => {}
                    }
                }
                None => self.clock.idle(changed).await,
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
        let now = self.clock.now();
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
}
