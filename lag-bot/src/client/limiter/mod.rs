//! Pacing under Lag's rate limits: the [`RateLimiter`] trait and its in-memory default, an
//! exact sliding-window log per limit.
//!
//! Lag counts requests in sliding windows (100 per 60 s over every robot endpoint, 10 message
//! sends per 10 s). A token bucket with a burst cannot promise "never 429" against a sliding
//! window without giving up most of the burst, so each window here keeps the times of the
//! calls inside it and a new call waits until the oldest one leaves. A call's time is taken
//! when its response arrives (the latest moment Lag can have counted it), and a call still in
//! flight holds its place until then, so the client's window never runs ahead of Lag's.

mod memory;
#[cfg(test)]
mod props;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use memory::MemoryLimiter;

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

#[cfg(test)]
mod tests {
    use super::*;

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
