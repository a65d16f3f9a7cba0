//! [`RedisKv`]: the key-value store of every replica.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;

use super::Redis;
use super::dedup::millis;
use crate::Result;
use crate::kv::{KvStore, counter_overflow, not_a_counter};

/// Adds to a counter, keeping its expiry, and tells a value that is not an integer (`nil`)
/// and an overflow (`false`) apart from Redis's own errors.
static INCREMENT: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        local current = redis.call('GET', KEYS[1])
        if current and not string.match(current, '^%-?%d+$') then
            return {'not_a_counter', false}
        end
        local ok, value = pcall(redis.call, 'INCRBY', KEYS[1], ARGV[1])
        if not ok then
            return {'overflow', false}
        end
        return {'ok', value}
        ",
    )
});

/// A [`KvStore`] in Redis, shared by every replica of a robot: each value is a key
/// `{prefix}:kv:{key}`, set with `PX` for an expiry; counters use `INCRBY`.
///
/// ```no_run
/// use lag_bot::kv::Kv;
/// use lag_bot::redis::{Redis, RedisConfig, RedisKv};
///
/// # async fn run() -> lag_bot::Result<()> {
/// let redis = Redis::open(RedisConfig::new("redis://127.0.0.1/")?.prefix("lag-bot:demo"))?;
/// let kv = Kv::new(std::sync::Arc::new(RedisKv::new(redis)));
/// kv.set("motd", "Be kind.").await?;
/// assert_eq!(kv.get::<String>("motd").await?.as_deref(), Some("Be kind."));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisKv {
    redis: Redis,
}

impl RedisKv {
    /// A store on `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&format!("kv:{key}"))
    }
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut connection = self.redis.connection().await?;
        ::redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("kv get", err))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<()> {
        let mut connection = self.redis.connection().await?;
        let mut set = ::redis::cmd("SET");
        set.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            set.arg("PX").arg(millis(ttl));
        }
        set.query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.redis.error("kv set", err))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let mut connection = self.redis.connection().await?;
        let deleted: i64 = ::redis::cmd("DEL")
            .arg(self.key(key))
            .query_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("kv delete", err))?;
        Ok(deleted > 0)
    }

    async fn increment(&self, key: &str, by: i64) -> Result<i64> {
        let mut connection = self.redis.connection().await?;
        let (outcome, value): (String, Option<i64>) = INCREMENT
            .key(self.key(key))
            .arg(by)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("kv increment", err))?;
        match (outcome.as_str(), value) {
            ("ok", Some(value)) => Ok(value),
            ("overflow", _) => Err(counter_overflow(key, by)),
            _ => Err(not_a_counter(key)),
        }
    }
}
