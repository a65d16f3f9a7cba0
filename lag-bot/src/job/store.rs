//! [`JobStore`]: where the last run of each job is kept, for the missed-run policy.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::Result;

/// Where a robot keeps when each of its jobs last ran, so that after a restart a job knows
/// whether it missed a run (see [`Missed`](super::Missed)).
///
/// The default [`MemoryJobStore`] forgets everything when the process ends, so with it a
/// restarted robot never sees a missed run; a store on disk or in a shared database makes the
/// policy useful.
///
/// Replicas of one robot sharing a store run each of a job's runs once between them: before
/// a run, a replica [claims](Self::claim_run) it, and only the replica whose claim succeeds
/// runs it; the others follow the schedule from the run it recorded. A store shared by
/// replicas must make `claim_run` atomic (the Redis one does); the default method suits a
/// store used by one process. Implement it with [`async-trait`](https://docs.rs/async-trait):
///
/// ```
/// use std::time::SystemTime;
/// use lag_bot::async_trait;
/// use lag_bot::job::JobStore;
///
/// /// Keeps the last runs in a file of `name seconds` lines.
/// struct FileStore(std::path::PathBuf);
///
/// #[async_trait]
/// impl JobStore for FileStore {
///     async fn last_run(&self, job: &str) -> lag_bot::Result<Option<SystemTime>> {
///         let text = tokio::fs::read_to_string(&self.0).await.unwrap_or_default();
///         Ok(text.lines().rev().find_map(|line| {
///             let (name, secs) = line.split_once(' ')?;
///             let secs = secs.parse().ok()?;
///             (name == job).then(|| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs))
///         }))
///     }
///
///     async fn record_run(&self, job: &str, at: SystemTime) -> lag_bot::Result<()> {
///         use tokio::io::AsyncWriteExt as _;
///         let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
///         let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.0).await?;
///         file.write_all(format!("{job} {secs}\n").as_bytes()).await?;
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// When job `job` last started a run, if it ever did.
    async fn last_run(&self, job: &str) -> Result<Option<SystemTime>>;

    /// Records that job `job` started a run at `at` (the moment it was due).
    async fn record_run(&self, job: &str, at: SystemTime) -> Result<()>;

    /// Claims the run of job `job` due at `at`: records `at` as its last run and answers
    /// `true`, unless its last run is no longer `previous` (what this replica read before;
    /// another replica claimed a run since), in which case it changes nothing and answers
    /// `false`. The scheduler runs the job only when the claim succeeds.
    ///
    /// The default reads and then records, which is right for one process; a store shared by
    /// replicas overrides it with one atomic compare-and-set.
    async fn claim_run(
        &self,
        job: &str,
        previous: Option<SystemTime>,
        at: SystemTime,
    ) -> Result<bool> {
        if self.last_run(job).await? != previous {
            return Ok(false);
        }
        self.record_run(job, at).await?;
        Ok(true)
    }
}

/// A [`JobStore`] in memory, for one process: the default.
#[derive(Debug, Default)]
pub struct MemoryJobStore {
    runs: Mutex<HashMap<String, SystemTime>>,
}

impl MemoryJobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl JobStore for MemoryJobStore {
    async fn last_run(&self, job: &str) -> Result<Option<SystemTime>> {
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(runs.get(job).copied())
    }

    async fn record_run(&self, job: &str, at: SystemTime) -> Result<()> {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.insert(job.to_owned(), at);
        Ok(())
    }

    async fn claim_run(
        &self,
        job: &str,
        previous: Option<SystemTime>,
        at: SystemTime,
    ) -> Result<bool> {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if runs.get(job).copied() != previous {
            return Ok(false);
        }
        runs.insert(job.to_owned(), at);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_claim_succeeds_once_for_what_was_read() {
        let store = MemoryJobStore::new();
        let t1 = SystemTime::UNIX_EPOCH + Duration::from_secs(60);
        let t2 = t1 + Duration::from_secs(60);
        assert!(store.claim_run("tick", None, t1).await.unwrap());
        assert!(
            !store.claim_run("tick", None, t1).await.unwrap(),
            "a second replica that read the same"
        );
        assert!(
            !store.claim_run("tick", None, t2).await.unwrap(),
            "a replica whose schedule is off"
        );
        assert!(store.claim_run("tick", Some(t1), t2).await.unwrap());
        assert_eq!(store.last_run("tick").await.unwrap(), Some(t2));
    }
}
