//! Per-robot sliding-window rate limits.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::config::RateLimits;

#[derive(Debug)]
struct Window {
    limit: usize,
    length: Duration,
    hits: VecDeque<Instant>,
}

impl Window {
    fn new(limit: usize, length: Duration) -> Self {
        Self {
            limit,
            length,
            hits: VecDeque::new(),
        }
    }

    /// How long until one more hit fits, or `None` if it fits now.
    fn wait(&mut self, now: Instant) -> Option<Duration> {
        while let Some(&oldest) = self.hits.front() {
            if now.duration_since(oldest) >= self.length {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        if self.hits.len() < self.limit {
            return None;
        }
        let index = self.hits.len() - self.limit;
        let blocking = self.hits[index];
        Some(self.length.saturating_sub(now.duration_since(blocking)))
    }
}

/// The two windows of one robot. Rejected requests are not counted, so a robot that backs off
/// for the advertised `Retry-After` always gets through.
#[derive(Debug)]
pub(crate) struct Limiter {
    requests: Window,
    messages: Window,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits, clock: &Clock) -> Self {
        Self {
            requests: Window::new(limits.requests, clock.span(limits.request_window)),
            messages: Window::new(limits.messages, clock.span(limits.message_window)),
        }
    }

    /// Counts one request (and one message when `is_message`), or says how long to wait.
    pub(crate) fn hit(&mut self, now: Instant, is_message: bool) -> Result<(), Duration> {
        let mut wait = self.requests.wait(now);
        if is_message {
            wait = wait.max(self.messages.wait(now));
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        self.requests.hits.push_back(now);
        if is_message {
            self.messages.hits.push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_admits_after_oldest_expires() {
        let limits = RateLimits {
            requests: 3,
            request_window: Duration::from_secs(10),
            messages: 2,
            message_window: Duration::from_secs(5),
        };
        let mut limiter = Limiter::new(limits, &Clock::new(1.0, None));
        let t0 = Instant::now();
        assert!(limiter.hit(t0, true).is_ok());
        assert!(limiter.hit(t0 + Duration::from_secs(1), true).is_ok());
        let wait = limiter.hit(t0 + Duration::from_secs(2), true).unwrap_err();
        assert_eq!(wait, Duration::from_secs(3));
        assert!(limiter.hit(t0 + Duration::from_secs(2), false).is_ok());
        let wait = limiter.hit(t0 + Duration::from_secs(3), false).unwrap_err();
        assert_eq!(wait, Duration::from_secs(7));
        assert!(limiter.hit(t0 + Duration::from_secs(10), false).is_ok());
    }
}
