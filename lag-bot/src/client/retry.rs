//! When and how long to wait before trying a failed call again.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// How the client retries calls that failed for a reason that may pass: a 429, a 5xx, or a
/// connection failure.
///
/// The wait before retry `n` (1, 2, ...) is `min(max_delay, base_delay * 2^(n-1))` plus a random
/// jitter below `jitter`; after a 429 it is what Lag's `Retry-After` asked instead (when that
/// is at most `max_retry_after`). Whatever the policy, a message send is only repeated when the
/// first attempt certainly did not reach Lag.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::client::RetryPolicy;
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_retries, 2);
/// let patient = RetryPolicy::default().max_retries(5).base_delay(Duration::from_secs(1));
/// assert_eq!(patient.max_retries, 5);
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `2` means at most 3 attempts).
    pub max_retries: u32,
    /// The wait before the first retry.
    pub base_delay: Duration,
    /// The longest wait between attempts, before jitter.
    pub max_delay: Duration,
    /// Up to this much random time is added to each wait, so many robots do not retry in step.
    pub jitter: Duration,
    /// A 429 asking to wait longer than this is returned as an error instead of retried, and
    /// holds the client's other calls for at most this long.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries after the first attempt.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the wait before the first retry.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the longest wait between attempts.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the random jitter bound.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the longest `Retry-After` the client waits out by itself.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// The wait before retry number `retry` (starting at 1), without a `Retry-After`.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let delay = doubling(self.base_delay, self.max_delay, retry.saturating_sub(1));
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.jitter.mul_f64(rand::rng().random::<f64>())
        };
        delay.saturating_add(jitter)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            jitter: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// `base` doubled `times` times, capped at `max`: the step of every backoff here.
pub(crate) fn doubling(base: Duration, max: Duration, times: u32) -> Duration {
    base.saturating_mul(1u32 << times.min(31)).min(max)
}

/// Reads a `Retry-After` value: seconds (whole or not), or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default().jitter(Duration::ZERO);
        let waits: Vec<_> = (1..=7).map(|n| policy.backoff(n)).collect();
        assert_eq!(
            waits,
            [250, 500, 1000, 2000, 4000, 8000, 8000].map(Duration::from_millis)
        );
        assert_eq!(policy.backoff(1000), Duration::from_secs(8));
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let policy = RetryPolicy::default();
        for _ in 0..200 {
            let wait = policy.backoff(1);
            assert!(wait >= Duration::from_millis(250) && wait < Duration::from_millis(500));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
