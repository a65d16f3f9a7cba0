//! The time lag-bot's own timers read: cooldowns, the outgoing pacing and its retry waits.
//!
//! It is Tokio's clock, so `tokio::time::pause` drives it in unit tests; under the test kit
//! ([`crate::testing`]) it is the kit's simulated time, shared with the local Lag, so that a
//! ten-minute cooldown or a paced burst takes no real time.

use std::time::Duration;

use tokio::time::Instant;

/// Where lag-bot's time-dependent parts read the time and wait.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    #[cfg(feature = "testing")]
    manual: Option<lag_sim::ManualClock>,
}

impl Clock {
    /// Simulated time that moves only when the test kit advances it.
    #[cfg(feature = "testing")]
    pub(crate) fn manual(clock: lag_sim::ManualClock) -> Self {
        Self {
            manual: Some(clock),
        }
    }

    /// The time now.
    pub(crate) fn now(&self) -> Instant {
        #[cfg(feature = "testing")]
        if let Some(manual) = &self.manual {
            return Instant::from_std(manual.now());
        }
        Instant::now()
    }

    /// Waits until `duration` has passed on this clock.
    pub(crate) async fn sleep(&self, duration: Duration) {
        #[cfg(feature = "testing")]
        if let Some(manual) = &self.manual {
            return manual.sleep(duration).await;
        }
        tokio::time::sleep(duration).await;
    }
}
