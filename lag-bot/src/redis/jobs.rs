//! [`RedisJobStore`]: the jobs' last runs, claimed once across replicas.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::Redis;
use crate::job::JobStore;
use crate::{Error, Result};

/// Records `ARGV[2]` as the last run when the stored one is still `ARGV[1]` (empty: none).
static CLAIM: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then
            return 0
        end
        redis.call('SET', KEYS[1], ARGV[2])
        return 1
        ",
    )
});

/// A [`JobStore`] in Redis, shared by every replica of a robot: each job's last run is a key
/// `{prefix}:job:{name}` holding microseconds since the Unix epoch, and a run is
/// [claimed](JobStore::claim_run) with an atomic compare-and-set, so each run of a job
/// happens on one replica only.
///
/// The last runs stay until deleted, so a restarted robot knows what it missed (see
/// [`Missed`](crate::job::Missed)); that needs a Redis with persistence (see
/// [durability](super#durability)).
///
/// ```no_run
/// use std::time::SystemTime;
/// use lag_bot::job::JobStore;
/// use lag_bot::redis::{Redis, RedisConfig, RedisJobStore};
///
/// # async fn run() -> lag_bot::Result<()> {
/// let redis = Redis::open(RedisConfig::new("redis://127.0.0.1/")?.prefix("lag-bot:demo"))?;
/// let store = RedisJobStore::new(redis);
/// let last = store.last_run("digest").await?;
/// if store.claim_run("digest", last, SystemTime::now()).await? {
///     // This replica runs it; the others' claims on `last` now fail.
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisJobStore {
    redis: Redis,
}

impl RedisJobStore {
    /// A store on `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, job: &str) -> String {
        self.redis.key(&format!("job:{job}"))
    }
}

#[async_trait]
impl JobStore for RedisJobStore {
    async fn last_run(&self, job: &str) -> Result<Option<SystemTime>> {
        let mut connection = self.redis.connection().await?;
        let stored: Option<String> = ::redis::cmd("GET")
            .arg(self.key(job))
            .query_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("job last run", err))?;
        stored
            .map(|text| {
                text.parse::<u64>()
                    .map(|micros| SystemTime::UNIX_EPOCH + Duration::from_micros(micros))
                    .map_err(|_| {
                        Error::decode(format!(
                            "the last run of job `{job}` in Redis is not a time: {text:?}"
                        ))
                    })
            })
            .transpose()
    }

    async fn record_run(&self, job: &str, at: SystemTime) -> Result<()> {
        let mut connection = self.redis.connection().await?;
        ::redis::cmd("SET")
            .arg(self.key(job))
            .arg(micros(at))
            .query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.redis.error("job record run", err))
    }

    async fn claim_run(
        &self,
        job: &str,
        previous: Option<SystemTime>,
        at: SystemTime,
    ) -> Result<bool> {
        let mut connection = self.redis.connection().await?;
        let claimed: i64 = CLAIM
            .key(self.key(job))
            .arg(
                previous
                    .map(micros)
                    .map_or_else(String::new, |m| m.to_string()),
            )
            .arg(micros(at))
            .invoke_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("job claim", err))?;
        Ok(claimed == 1)
    }
}

/// `at` in whole microseconds since the Unix epoch (0 before it): what the store keeps, so
/// that a time read back compares equal to the one a replica claims with.
fn micros(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
        })
}
