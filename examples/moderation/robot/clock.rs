//! The time the moderation robot reads: when strikes were given and expire, which warnings and
//! reports fall in the same window, and how long the mod-log summaries wait.
//!
//! lag-bot's own timers (cooldowns, pacing) follow the test kit's simulated time, but a robot's
//! own code reads whatever clock it chooses. This robot reads a [`Clock`] kept in its state:
//! [`SystemClock`] in production, and in the tests one that follows the kit's simulated time, so
//! that "strikes expire after 30 days" is tested by advancing 30 simulated days.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A future that completes when a [`Clock`]'s wait is over.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the robot reads the time and waits on it.
pub trait Clock: Send + Sync + 'static {
    /// The wall-clock time now: stored with strikes and audit entries, so it must survive a
    /// restart (a monotonic instant would not).
    fn now(&self) -> SystemTime;

    /// Completes once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The system's clock and Tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Seconds since the Unix epoch, as the database stores times (0 for a time before it).
pub fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}
