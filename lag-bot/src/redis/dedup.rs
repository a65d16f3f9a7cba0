//! [`RedisDedup`]: the delivery ids seen by any replica.

use std::time::Duration;

use async_trait::async_trait;

use super::Redis;
use crate::Result;
use crate::transport::DedupStore;

/// A [`DedupStore`] in Redis, shared by every replica of a robot: a claim is
/// `SET {prefix}:dedup:{id} 1 NX PX {window}`, so of two replicas receiving one delivery,
/// exactly one runs it.
///
/// Each id expires after the redelivery window (two days by default: Lag retries a delivery
/// for up to about a day and a half), so Redis holds the ids of that window and no more.
///
/// ```no_run
/// use std::time::Duration;
/// use lag_bot::redis::{Redis, RedisConfig, RedisDedup};
/// use lag_bot::transport::DedupStore;
///
/// # async fn run() -> lag_bot::Result<()> {
/// let redis = Redis::open(RedisConfig::new("redis://127.0.0.1/")?.prefix("lag-bot:demo"))?;
/// let dedup = RedisDedup::new(redis).window(Duration::from_secs(6 * 3600));
/// assert!(dedup.claim("evt_1").await?);
/// assert!(!dedup.claim("evt_1").await?, "a second claim, from any replica, is a duplicate");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisDedup {
    redis: Redis,
    window: Duration,
}

impl RedisDedup {
    /// How long an id is remembered by default.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(2 * 24 * 60 * 60);

    /// A store on `redis`, remembering ids for [`DEFAULT_WINDOW`](Self::DEFAULT_WINDOW).
    pub fn new(redis: Redis) -> Self {
        Self {
            redis,
            window: Self::DEFAULT_WINDOW,
        }
    }

    /// Remembers each id for `window` (at least a millisecond) instead.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(1));
        self
    }

    fn key(&self, id: &str) -> String {
        self.redis.key(&format!("dedup:{id}"))
    }
}

#[async_trait]
impl DedupStore for RedisDedup {
    async fn claim(&self, id: &str) -> Result<bool> {
        let mut connection = self.redis.connection().await?;
        let set: Option<String> = ::redis::cmd("SET")
            .arg(self.key(id))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(millis(self.window))
            .query_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("dedup claim", err))?;
        Ok(set.is_some())
    }

    async fn release(&self, id: &str) -> Result<()> {
        let mut connection = self.redis.connection().await?;
        ::redis::cmd("DEL")
            .arg(self.key(id))
            .query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.redis.error("dedup release", err))
    }
}

/// `duration` in whole milliseconds, at least one (Redis refuses a zero expiry).
pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
