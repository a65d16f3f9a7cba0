//! The time lag-bot's own timers read: cooldowns, the outgoing pacing and its retry waits.
//!
//! It is Tokio's clock, so `tokio::time::pause` drives it in unit tests; under the test kit
//! ([`crate::testing`]) it is the kit's simulated time, shared with the local Lag, so that a
//! ten-minute cooldown or a paced burst takes no real time.

use std::future::Future;
#[cfg(feature = "testing")]
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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

    /// The wall-clock time now, which cron schedules read.
    pub(crate) fn now_wall(&self) -> SystemTime {
        #[cfg(feature = "testing")]
        if let Some(manual) = &self.manual {
            return manual.now_system();
        }
        SystemTime::now()
    }

    /// Waits until `duration` has passed on this clock. Inside a handler or job run, the run
    /// counts as idle meanwhile (see [`idle`](Self::idle)).
    pub(crate) async fn sleep(&self, duration: Duration) {
        self.idle(self.sleep_unmarked(duration)).await;
    }

    /// Waits like [`sleep`](Self::sleep) without marking the run idle: for a wait whose
    /// idleness an [`IdleMark`] already covers.
    pub(crate) async fn sleep_unmarked(&self, duration: Duration) {
        #[cfg(feature = "testing")]
        if let Some(manual) = &self.manual {
            return manual.sleep(duration).await;
        }
        tokio::time::sleep(duration).await;
    }

    /// Marks the handler or job run this is called in as idle until the mark is dropped: for
    /// a wait that something outside the run ends (a member's answer), so that whoever ends
    /// it can make the run busy again at once, before the run wakes.
    pub(crate) fn mark_idle(&self) -> IdleMark {
        IdleMark {
            #[cfg(feature = "testing")]
            _idle: RUN.try_with(RunState::idle).ok(),
        }
    }

    /// Awaits `future`, a wait that only time can end (a sleep, or a turn behind a sleeping
    /// call). Under the test kit, the handler or job run this happens in counts as idle
    /// meanwhile, which is when the kit may move simulated time.
    pub(crate) async fn idle<F: Future>(&self, future: F) -> F::Output {
        #[cfg(feature = "testing")]
        if let Ok(_idle) = RUN.try_with(RunState::idle) {
            return future.await;
        }
        future.await
    }
}

/// A run marked idle by [`Clock::mark_idle`]; busy again once this is dropped.
#[derive(Debug)]
pub(crate) struct IdleMark {
    #[cfg(feature = "testing")]
    _idle: Option<Idle>,
}

#[cfg(feature = "testing")]
tokio::task_local! {
    /// The run being polled, set by [`Activity::run`].
    static RUN: RunState;
}

/// One run: its activity, and how many of its waits are under way (a run may wait on a sleep
/// and a notification at once; it is idle once, from the first to the last).
#[cfg(feature = "testing")]
struct RunState {
    activity: Arc<Activity>,
    waits: Arc<std::sync::atomic::AtomicU32>,
}

#[cfg(feature = "testing")]
impl RunState {
    fn idle(&self) -> Idle {
        use std::sync::atomic::Ordering;
        if self.waits.fetch_add(1, Ordering::SeqCst) == 0 {
            self.activity.counts.fetch_add(1, Ordering::SeqCst);
        }
        Idle {
            activity: Arc::clone(&self.activity),
            waits: Arc::clone(&self.waits),
        }
    }
}

/// A wait under way; the run is busy again when its last wait ends.
#[cfg(feature = "testing")]
#[derive(Debug)]
struct Idle {
    activity: Arc<Activity>,
    waits: Arc<std::sync::atomic::AtomicU32>,
}

#[cfg(feature = "testing")]
impl Drop for Idle {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        if self.waits.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.activity.counts.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// How many handler and job runs are under way, and how many of them wait only on time:
/// when all of them do, the test kit may move simulated time.
#[cfg(feature = "testing")]
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Runs in the high 32 bits, idle runs in the low 32, read together.
    counts: std::sync::atomic::AtomicU64,
}

#[cfg(feature = "testing")]
const ONE_RUN: u64 = 1 << 32;

#[cfg(feature = "testing")]
impl Activity {
    /// Runs `future` as one run: counted while it runs, and idle while it awaits
    /// [`Clock::idle`].
    pub(crate) async fn run<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        use std::sync::atomic::Ordering;
        self.counts.fetch_add(ONE_RUN, Ordering::SeqCst);
        let _ended = Ended(Arc::clone(self));
        let run = RunState {
            activity: Arc::clone(self),
            waits: Arc::default(),
        };
        RUN.scope(run, future).await
    }

    /// Whether every run under way (if any) is idle.
    pub(crate) fn all_idle(&self) -> bool {
        let counts = self.counts.load(std::sync::atomic::Ordering::SeqCst);
        counts >> 32 == counts & u64::from(u32::MAX)
    }

    /// How many runs are under way.
    pub(crate) fn runs(&self) -> u64 {
        self.counts.load(std::sync::atomic::Ordering::SeqCst) >> 32
    }
}

/// Takes back a run when dropped, however the run ends.
#[cfg(feature = "testing")]
struct Ended(Arc<Activity>);

#[cfg(feature = "testing")]
impl Drop for Ended {
    fn drop(&mut self) {
        self.0
            .counts
            .fetch_sub(ONE_RUN, std::sync::atomic::Ordering::SeqCst);
    }
}
