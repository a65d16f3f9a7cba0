//! Scheduled jobs: work a robot does on a timer rather than in answer to an event.
//!
//! A job runs with the same [`Ctx`] as a handler (the client, the robot's state, its identity),
//! under the robot's error hook, metrics, shutdown and tests. Write one with `#[every]` or
//! `#[cron]`, or build one with [`Job::new`]:
//!
//! ```
//! use lag_bot::{Ctx, Reply, cron, every};
//!
//! struct Stats { room: String }
//!
//! /// Polls the game server for finished matches.
//! #[every("5m")]
//! async fn poll(ctx: Ctx<Stats>) -> lag_bot::Result<()> {
//!     let _room = &ctx.state().room;
//!     Ok(())
//! }
//!
//! /// Says good morning on weekdays.
//! #[cron("0 9 * * 1-5", tz = "Europe/Paris")]
//! async fn morning(ctx: Ctx<Stats>) -> Reply {
//!     Reply::say("Good morning!").in_room(ctx.state().room.clone())
//! }
//!
//! # fn build(robot: lag_bot::Robot<Stats>) -> lag_bot::Robot<Stats> {
//! robot.job(poll()).job(morning().timeout(std::time::Duration::from_secs(30)))
//! # }
//! ```
//!
//! A job has no event: [`Ctx::event`] is an [`Event::Unknown`](crate::events::Event::Unknown)
//! of type `lag_bot.job`, and [`Ctx::room_id`] is `None`, so a job posts with
//! [`Reply::in_room`](crate::Reply::in_room) or through [`Ctx::client`]. What it returns takes
//! the same path as a handler's reply.
//!
//! # How jobs run
//!
//! - **Never overlapping.** A job's next run is scheduled when its run ends: an `every` job that
//!   overran its period runs again one period after it ended, and cron times that passed during
//!   a run are skipped, not queued.
//! - **Timeouts.** With [`Job::timeout`], a run that takes longer is stopped and reported to the
//!   error hook.
//! - **Jitter.** [`Job::jitter`] delays each run by a random amount up to the given one, so that
//!   many robots on one schedule do not all call out at once.
//! - **Errors** (an `Err`, a panic, a timeout) go to the robot's error hook with the job's name
//!   as the handler's, and to the handler metrics; the job runs again at its next time.
//! - **Shutdown.** When the robot stops, no new run starts; a running one gets its grace period
//!   ([`Job::grace`], 10 s by default) to finish, and is stopped after it.
//! - **Missed runs.** When the robot starts, each job asks the robot's [`JobStore`] when it last
//!   ran. If a run fell due while the robot was down, [`Missed`] decides: skip it (the default)
//!   or catch up once, at start, however many runs were missed. The default store keeps the
//!   times in memory, so only a persistent store (see [`JobStore`]) remembers across restarts.
//! - **Replicas.** Replicas of one robot sharing a job store (Redis, with the `redis` feature)
//!   run each run once between them: before a run, a replica claims it in the store
//!   ([`JobStore::claim_run`]), and the others, whose claim fails, follow the schedule from the
//!   run that was claimed, so every replica keeps one schedule whenever it started. Runs do not
//!   overlap on one replica; a run that lasts longer than its period may overlap the next one,
//!   started on another replica.
//!
//! Time is the robot's clock: real time in production, and the test kit's simulated time under
//! `lag_bot::testing`, where a daily job runs as soon as a test waits for its message.

mod schedule;
mod store;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use schedule::Schedule;
pub use store::{JobStore, MemoryJobStore};

use crate::ctx::Ctx;
use crate::reply::{IntoReply, ReplyFuture, boxed};

/// The wire type of the event a job's context carries.
pub const JOB_EVENT_TYPE: &str = "lag_bot.job";

/// What a job does when the robot starts and finds it missed a run while it was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Missed {
    /// Skip what was missed; run at the next time on the schedule (the default).
    #[default]
    Skip,
    /// Run once as soon as the robot starts, however many runs were missed, then follow the
    /// schedule.
    CatchUpOnce,
}

type JobHandler<S> = Arc<dyn Fn(Ctx<S>) -> ReplyFuture + Send + Sync>;

/// A scheduled job: a name, a [`Schedule`] and a handler. See the [module docs](self).
pub struct Job<S = ()> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) schedule: Schedule,
    pub(crate) handler: JobHandler<S>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) jitter: Duration,
    pub(crate) grace: Duration,
    pub(crate) missed: Missed,
}

impl<S: Send + Sync + 'static> Job<S> {
    /// A job named `name` that runs `handler` on `schedule`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lag_bot::Ctx;
    /// use lag_bot::job::{Job, Missed, Schedule};
    ///
    /// let cleanup = Job::new("cleanup", Schedule::every(Duration::from_secs(3_600)), |ctx: Ctx| async move {
    ///     let _ = ctx.client();
    /// })
    /// .missed(Missed::CatchUpOnce);
    /// assert_eq!(cleanup.name(), "cleanup");
    /// ```
    pub fn new<F, Fut>(name: impl Into<Cow<'static, str>>, schedule: Schedule, handler: F) -> Self
    where
        F: Fn(Ctx<S>) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReply,
    {
        Self {
            name: name.into(),
            schedule,
            handler: Arc::new(move |ctx| boxed(handler(ctx))),
            timeout: None,
            jitter: Duration::ZERO,
            grace: Self::DEFAULT_GRACE,
            missed: Missed::Skip,
        }
    }
}

impl<S> Job<S> {
    /// How long a running job may go on once the robot is stopping.
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

    /// The job's name: the handler name in logs, metrics and the error hook.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the job runs.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Stops a run that takes longer than `timeout`, and reports it to the error hook.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Delays each run by a random amount up to `jitter`.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// How long a running job may go on once the robot is stopping (default 10 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// What to do about runs missed while the robot was down (default [`Missed::Skip`]).
    pub fn missed(mut self, missed: Missed) -> Self {
        self.missed = missed;
        self
    }

    /// Renames the job (the macros name it after the function).
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S> fmt::Debug for Job<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("schedule", &self.schedule)
            .field("timeout", &self.timeout)
            .field("jitter", &self.jitter)
            .field("grace", &self.grace)
            .field("missed", &self.missed)
            .finish_non_exhaustive()
    }
}
