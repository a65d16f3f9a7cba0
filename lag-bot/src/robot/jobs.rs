//! Running the robot's scheduled jobs: one task per job, sleeping on the robot's clock.

use std::collections::HashSet;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::Rng as _;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::Shared;
use crate::clock::Clock;
use crate::ctx::Ctx;
use crate::events::Envelope;
use crate::job::{JOB_EVENT_TYPE, Job, JobStore, Missed};
use crate::reply::Run;
use crate::{Error, ErrorKind, Result};

/// Checks the jobs before the robot starts: valid schedules, one name each.
pub(super) fn check<S>(jobs: &[Job<S>]) -> Result<()> {
    let mut names = HashSet::new();
    for job in jobs {
        job.schedule
            .check()
            .map_err(|err| Error::config(format!("job `{}`: {err}", job.name)))?;
        if !names.insert(job.name.as_ref()) {
            return Err(Error::config(format!(
                "two jobs are named `{}`: rename one with `.named(..)`",
                job.name
            )));
        }
    }
    Ok(())
}

/// What every job task needs.
pub(super) struct Scheduler<S> {
    pub(super) shared: Arc<Shared<S>>,
    pub(super) clock: Clock,
    pub(super) store: Arc<dyn JobStore>,
    /// Cancelled when the robot stops: no run starts after it.
    pub(super) stop: CancellationToken,
}

impl<S: Send + Sync + 'static> Scheduler<S> {
    /// Spawns one task per job on `tracker`.
    pub(super) fn spawn(self, jobs: Vec<Job<S>>, tracker: &TaskTracker) {
        let scheduler = Arc::new(self);
        for job in jobs {
            tracker.spawn(Arc::clone(&scheduler).run(job));
        }
    }

    /// Runs `job` at each of its times until the robot stops.
    async fn run(self: Arc<Self>, job: Job<S>) {
        let started = self.clock.now_wall();
        let mut last = self.last_run(&job).await;
        let mut due = job.schedule.next_after(last.unwrap_or(started));
        if let (Some(missed), Some(_)) = (due.filter(|at| *at <= started), last) {
            match job.missed {
                Missed::Skip => {
                    tracing::info!(job = %job.name, missed = %shown(missed), "skipping runs missed while the robot was down");
                    due = job.schedule.next_after(started);
                }
                Missed::CatchUpOnce => {
                    tracing::info!(job = %job.name, "catching up once on runs missed while the robot was down");
                    due = Some(started);
                }
            }
        }
        tracing::debug!(job = %job.name, schedule = %job.schedule, "job scheduled");
        while let Some(at) = due {
            let wait = at
                .duration_since(self.clock.now_wall())
                .unwrap_or(Duration::ZERO)
                .saturating_add(jitter(job.jitter));
            tokio::select! {
                biased;
                () = self.stop.cancelled() => return,
                () = self.clock.sleep(wait) => {}
            }
            #[cfg(feature = "testing")]
            let _running = self.shared.probe.as_ref().map(|probe| probe.job_run());
            let claimed = match self.store.claim_run(&job.name, last, at).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(job = %job.name, %error, "cannot claim the job's run in its store; running it");
                    true
                }
            };
            if !claimed {
                // Another replica ran it: follow the schedule from the run it recorded.
                last = self.last_run(&job).await;
                tracing::debug!(job = %job.name, "the run was claimed by another replica");
                due = job
                    .schedule
                    .next_after(last.unwrap_or_else(|| self.clock.now_wall()));
                continue;
            }
            last = Some(at);
            if !self.run_once(&job).await {
                return;
            }
            let ended = self.clock.now_wall();
            due = job
                .schedule
                .next_after(at)
                .filter(|next| *next > ended)
                .or_else(|| job.schedule.next_after(ended));
        }
        tracing::info!(job = %job.name, "the job's schedule has no more times");
    }

    /// When `job` last ran, as its store says; `None` when the store cannot tell.
    async fn last_run(&self, job: &Job<S>) -> Option<SystemTime> {
        self.store.last_run(&job.name).await.unwrap_or_else(|error| {
            tracing::warn!(job = %job.name, %error, "cannot read the job's last run; treating it as never run");
            None
        })
    }

    /// One run, under the job's timeout and the robot's shutdown; `false` once the robot is
    /// stopping.
    async fn run_once(&self, job: &Job<S>) -> bool {
        let ctx = self.ctx(&job.name);
        let run = Run::new(job.name.clone(), (job.handler)(ctx.clone()));
        let mut running = pin!(self.shared.run(&ctx, run));
        let timeout = async {
            match job.timeout {
                Some(timeout) => self.clock.sleep(timeout).await,
                None => std::future::pending().await,
            }
        };
        let going_on = tokio::select! {
            _ = &mut running => true,
            () = timeout => {
                let limit = crate::command::format_duration(job.timeout.unwrap_or_default());
                let error = Error::new(ErrorKind::Handler, format!("job `{}` took longer than its timeout of {limit} and was stopped", job.name));
                self.shared.report(job.name.clone(), error, false, &ctx).await;
                true
            }
            () = self.stop.cancelled() => {
                tokio::select! {
                    _ = &mut running => {}
                    () = self.clock.sleep(job.grace) => {
                        let grace = crate::command::format_duration(job.grace);
                        let error = Error::new(ErrorKind::Handler, format!("job `{}` was stopped: the robot stopped and the job's grace of {grace} ran out", job.name));
                        self.shared.report(job.name.clone(), error, false, &ctx).await;
                    }
                }
                false
            }
        };
        going_on
    }

    /// The context a run of job `name` gets: no room, an event of type `lag_bot.job`.
    fn ctx(&self, name: &str) -> Ctx<S> {
        let shared = &self.shared;
        let envelope = Envelope::new(
            None,
            JOB_EVENT_TYPE,
            Some(shared.me.server_id.clone()),
            None,
            json!({ "job": name }),
        )
        .expect("an event of a type lag-bot does not know always decodes");
        Ctx::new(
            Arc::clone(&shared.state),
            shared.client.clone(),
            Arc::clone(&shared.me),
            Arc::new(envelope),
            shared.kv.clone(),
        )
    }
}

/// A random delay up to `jitter`.
fn jitter(jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return Duration::ZERO;
    }
    let millis = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

/// The time `at` as shown in logs.
fn shown(at: SystemTime) -> String {
    jiff::Timestamp::try_from(at).map_or_else(|_| "?".to_owned(), |t| t.to_string())
}
