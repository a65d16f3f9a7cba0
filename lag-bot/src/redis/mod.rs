//! Replicas of one robot sharing one Redis (the `redis` feature).
//!
//! A robot is one process by default, and everything it remembers lives in that process. Run
//! two replicas behind a load balancer and each would keep its own: a redelivered event would
//! run twice, a cooldown would hold only on the replica that started it, and together they
//! would spend twice Lag's rate limits and meet 429s. Configured with Redis, the replicas of a
//! robot share:
//!
//! | what | store | Redis |
//! |---|---|---|
//! | the delivery ids already seen | [`RedisDedup`] | `SET NX PX`, one key per id, expiring after the redelivery window |
//! | the outgoing rate-limit budget | [`RedisLimiter`] | one sorted set per sliding window, admitted by an atomic Lua script |
//! | running cooldowns | [`RedisCooldowns`] | `SET NX PX`, the time left read with `PTTL` in the same script |
//! | the jobs' last runs | [`RedisJobStore`] | one key per job, claimed by compare-and-set so each run happens once |
//! | the key-value store of [`Ctx::kv`](crate::Ctx::kv) | [`RedisKv`] | plain keys, `INCRBY` for counters |
//!
//! # Running replicated
//!
//! Set `LAG_REDIS_URL` (e.g. `redis://127.0.0.1:6379/`) for a robot built from the environment,
//! or give the builder a [`RedisConfig`]:
//!
//! ```no_run
//! use lag_bot::Robot;
//! use lag_bot::redis::RedisConfig;
//!
//! # async fn run() -> lag_bot::Result<()> {
//! Robot::builder()
//!     .redis(RedisConfig::new("redis://127.0.0.1:6379/")?)
//!     .build_from_env()?
//!     .run()
//!     .await
//! # }
//! ```
//!
//! Every store above is then the Redis one; each can still be replaced on its own
//! ([`Robot::dedup_store`](crate::Robot::dedup_store),
//! [`RobotBuilder::rate_limiter`](crate::RobotBuilder::rate_limiter),
//! [`Robot::cooldown_store`](crate::Robot::cooldown_store),
//! [`Robot::job_store`](crate::Robot::job_store), [`Robot::kv_store`](crate::Robot::kv_store)).
//! The same program runs alone without `LAG_REDIS_URL`, on the in-memory stores, and needs no
//! Redis then. A robot built from the environment with `LAG_REDIS_URL` set but without this
//! feature fails at start-up with an error naming the feature.
//!
//! Every key starts with the connection's prefix, `lag-bot:{robot}` by default, where `robot`
//! is the public part of the robot's API key (`abcd1234` in `lag_robot_abcd1234_...`), so
//! robots sharing one Redis never mix. Replicas must use the same prefix: set one with
//! [`RedisConfig::prefix`] or `LAG_REDIS_PREFIX` when they use different keys for one robot
//! (during a key rotation), and keep it when the key is regenerated, or the robot starts
//! with empty stores.
//!
//! The replicas must also agree on the rate limits they pace under: the budget's windows are
//! shared, and each admission checks them against the limits of the replica asking.
//!
//! # Durability
//!
//! Everything here is short-lived coordination (ids for a redelivery window, cooldowns,
//! windows of a minute) except the jobs' last runs and the key-value store. Redis keeps its
//! data in memory; for those to survive a Redis restart, run it with persistence: the
//! append-only file (`appendonly yes`, with `appendfsync everysec` losing at most a second of
//! writes) or snapshots (`save`, losing what changed since the last one). Without persistence a
//! Redis restart forgets the seen ids (a redelivery just after it may run twice), the running
//! cooldowns, the last runs (a job then follows its [`Missed`](crate::job::Missed) policy as
//! after a first start) and the stored values.
//!
//! When Redis cannot be reached, each store fails the way its trait says: a webhook delivery
//! is refused (Lag redelivers it), an SSE or long-poll event waits for Redis (see
//! [`intake`](crate::redis::intake#when-redis-is-away)), an outgoing call
//! fails with [`ErrorKind::Store`], a command with a cooldown fails with it and goes to the
//! error hook, a key-value call returns it, and a job runs (it cannot be claimed, and running
//! beats missing it). The connection reconnects by itself.

mod cooldown;
mod dedup;
mod jobs;
mod kv;
mod limiter;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

pub use cooldown::RedisCooldowns;
pub use dedup::RedisDedup;
pub use jobs::RedisJobStore;
pub use kv::RedisKv;
pub use limiter::RedisLimiter;

use crate::{Error, ErrorKind, Result};

pub mod intake;

pub(crate) use intake::DurableIntake;
pub use intake::IntakeConfig;

/// Where a robot's Redis is and the prefix of every key it writes there.
///
/// ```
/// use lag_bot::redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://:secret@127.0.0.1:6379/0")?.prefix("lag-bot:staging");
/// assert_eq!(config.key_prefix(), Some("lag-bot:staging"));
/// assert!(!format!("{config:?}").contains("secret"), "the password is not shown");
///
/// // TLS is not built in: a `rediss://` URL is refused with a clear error.
/// assert!(RedisConfig::new("rediss://cache.example:6380/").is_err());
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    url: String,
    prefix: Option<String>,
}

impl RedisConfig {
    /// The variable a robot built from the environment reads the URL from.
    pub const URL_VAR: &'static str = "LAG_REDIS_URL";
    /// The variable a robot built from the environment reads the key prefix from (optional).
    pub const PREFIX_VAR: &'static str = "LAG_REDIS_PREFIX";

    /// The Redis at `url`: `redis://[user:password@]host[:port][/db]`, or
    /// `redis+unix:///path/to/socket`. Nothing is connected yet.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for a URL Redis would not accept, and for `rediss://` (TLS),
    /// which lag-bot is built without: reach a TLS Redis through a local tunnel.
    pub fn new(url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        let url = url.trim().to_owned();
        if url.to_ascii_lowercase().starts_with("rediss://") {
            return Err(Error::config(format!(
                "the Redis URL {} asks for TLS (`rediss://`), which lag-bot is built without: \
                 use `redis://`, through a local TLS tunnel when the server needs TLS",
                redacted(&url)
            )));
        }
        ::redis::Client::open(url.as_str()).map_err(|err| {
            Error::config(format!("{} is not a Redis URL: {err}", redacted(&url)))
        })?;
        Ok(Self { url, prefix: None })
    }

    /// Starts every key with `prefix` instead of the default `lag-bot:{robot}`. Replicas of
    /// one robot use the same prefix, and different robots different ones.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix: String = prefix.into();
        self.prefix = Some(prefix.trim_end_matches(':').to_owned());
        self
    }

    /// The prefix set with [`prefix`](Self::prefix), if any.
    pub fn key_prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// Sets the default prefix for the robot whose API key is `key`, unless a prefix was set:
    /// `lag-bot:{robot}`, where `robot` is the key's public part (`abcd1234` in
    /// `lag_robot_abcd1234_...`), or a digest of the whole key when it has no such part.
    ///
    /// ```
    /// use lag_bot::redis::RedisConfig;
    ///
    /// let config = RedisConfig::new("redis://127.0.0.1/")?.default_prefix_for("lag_robot_abcd1234_secret");
    /// assert_eq!(config.key_prefix(), Some("lag-bot:abcd1234"));
    /// # Ok::<(), lag_bot::Error>(())
    /// ```
    pub fn default_prefix_for(mut self, key: &str) -> Self {
        if self.prefix.is_none() {
            self.prefix = Some(format!("lag-bot:{}", robot_part(key)));
        }
        self
    }

    /// Reads `LAG_REDIS_URL` and `LAG_REDIS_PREFIX` through `var`; `None` when no URL is set.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(url) = get(Self::URL_VAR) else {
            return Ok(None);
        };
        let mut config = Self::new(url)
            .map_err(|err| Error::config(format!("{}: {}", Self::URL_VAR, err.message())))?;
        if let Some(prefix) = get(Self::PREFIX_VAR) {
            config = config.prefix(prefix);
        }
        Ok(Some(config))
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redacted(&self.url))
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A connection to a robot's Redis, with the prefix of its keys: what every Redis store
/// works through. Clones share one connection.
///
/// It connects on first use and reconnects by itself after the connection drops; a command
/// that meets a dropped connection fails with [`ErrorKind::Store`], and the next one tries
/// again. Each command waits at most a few seconds for its answer.
///
/// ```no_run
/// use lag_bot::redis::{Redis, RedisConfig, RedisDedup};
/// use lag_bot::transport::DedupStore;
///
/// # async fn run() -> lag_bot::Result<()> {
/// let redis = Redis::open(RedisConfig::new("redis://127.0.0.1:6379/")?.prefix("lag-bot:demo"))?;
/// redis.ping().await?;
/// let dedup = RedisDedup::new(redis.clone());
/// assert!(dedup.claim("evt_1").await?);
/// assert_eq!(redis.key("dedup"), "lag-bot:demo:dedup");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    client: ::redis::Client,
    prefix: String,
    shown_url: String,
    connection: OnceCell<ConnectionManager>,
}

/// How long connecting, and each command's answer, may take.
const TIMEOUT: Duration = Duration::from_secs(5);

impl Redis {
    /// A handle on the Redis `config` names; it connects on first use.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when `config` has no prefix: set one with
    /// [`RedisConfig::prefix`] or [`RedisConfig::default_prefix_for`].
    pub fn open(config: RedisConfig) -> Result<Self> {
        let prefix = config.prefix.clone().ok_or_else(|| {
            Error::config(
                "a Redis connection needs a key prefix: set one with `RedisConfig::prefix` \
                 (a robot built with a key uses `lag-bot:{robot}` by default)",
            )
        })?;
        if prefix.is_empty() {
            return Err(Error::config("the Redis key prefix is empty"));
        }
        let client = ::redis::Client::open(config.url.as_str())
            .map_err(|err| Error::config(format!("not a Redis URL: {err}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                prefix,
                shown_url: redacted(&config.url),
                connection: OnceCell::new(),
            }),
        })
    }

    /// The prefix every key starts with.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The full key of `name`: `{prefix}:{name}`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.inner.prefix)
    }

    /// Checks that Redis answers.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Store`] naming the server when it cannot be reached or does not answer.
    pub async fn ping(&self) -> Result<()> {
        let mut connection = self.connection().await?;
        ::redis::cmd("PING")
            .query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.error("PING", err))
    }

    /// The shared connection, connecting on first use.
    pub(crate) async fn connection(&self) -> Result<ConnectionManager> {
        let connection = self
            .inner
            .connection
            .get_or_try_init(|| async {
                // Few retries per attempt: a robot starting against a Redis that is down fails
                // within a second, and a command meeting a dropped connection starts another
                // attempt anyway.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_secs(1));
                ConnectionManager::new_with_config(self.inner.client.clone(), config).await
            })
            .await
            .map_err(|err| self.error("connecting", err))?;
        Ok(connection.clone())
    }

    /// A connection of its own (not the shared one), for a consumer whose blocking reads would
    /// hold up every other command on a shared connection.
    pub(crate) async fn dedicated_connection(&self) -> Result<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        ConnectionManager::new_with_config(self.inner.client.clone(), config)
            .await
            .map_err(|err| self.error("connecting", err))
    }

    /// A [`ErrorKind::Store`] error for a failed Redis command.
    pub(crate) fn error(&self, what: &str, err: ::redis::RedisError) -> Error {
        Error::new(
            ErrorKind::Store,
            format!("Redis at {} failed ({what}): {err}", self.inner.shown_url),
        )
        .with_source(err)
    }
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("url", &self.inner.shown_url)
            .field("prefix", &self.inner.prefix)
            .field("connected", &self.inner.connection.initialized())
            .finish()
    }
}

/// `url` with its password, if any, hidden.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The part of an API key that names the robot: `abcd1234` in `lag_robot_abcd1234_secret`,
/// else a digest of the key (never the key itself, which must not end up in key names).
fn robot_part(key: &str) -> String {
    let public = key
        .strip_prefix("lag_robot_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(public, _)| public)
        .filter(|public| {
            !public.is_empty()
                && public.len() <= 32
                && public.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    match public {
        Some(public) => public.to_owned(),
        None => {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(key.as_bytes());
            format!("k{}", hex_prefix(&digest))
        }
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_prefix_names_the_robot_not_the_secret() {
        assert_eq!(robot_part("lag_robot_abcd1234_s3cr3t"), "abcd1234");
        let odd = robot_part("some-other-key");
        assert!(odd.starts_with('k') && odd.len() == 17, "{odd}");
        assert!(!odd.contains("other"));
        assert_eq!(odd, robot_part("some-other-key"), "stable across replicas");
        let config = RedisConfig::new("redis://127.0.0.1/")
            .unwrap()
            .prefix("mine:")
            .default_prefix_for("lag_robot_abcd1234_x");
        assert_eq!(config.key_prefix(), Some("mine"), "a set prefix wins");
    }

    #[test]
    fn urls_are_checked_and_passwords_hidden() {
        assert!(RedisConfig::new("redis://127.0.0.1:6379/").is_ok());
        let tls = RedisConfig::new("REDISS://h:6380/").unwrap_err();
        assert_eq!(tls.kind(), &ErrorKind::Config);
        assert!(tls.message().contains("rediss://"), "{tls}");
        let bad = RedisConfig::new("http://127.0.0.1/").unwrap_err();
        assert_eq!(bad.kind(), &ErrorKind::Config);
        assert_eq!(redacted("redis://u:pw@h:1/0"), "redis://***@h:1/0");
        assert_eq!(redacted("redis://h:1/0"), "redis://h:1/0");
    }

    #[test]
    fn the_environment_names_the_variable_at_fault() {
        let none = RedisConfig::from_vars(|_| None).unwrap();
        assert!(none.is_none());
        let err = RedisConfig::from_vars(|name| {
            (name == RedisConfig::URL_VAR).then(|| "rediss://h/".to_owned())
        })
        .unwrap_err();
        assert!(err.message().starts_with("LAG_REDIS_URL"), "{err}");
        let config = RedisConfig::from_vars(|name| match name {
            "LAG_REDIS_URL" => Some("redis://127.0.0.1/".to_owned()),
            "LAG_REDIS_PREFIX" => Some("team:bot".to_owned()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(config.key_prefix(), Some("team:bot"));
    }

    #[test]
    fn a_connection_needs_a_prefix() {
        let err = Redis::open(RedisConfig::new("redis://127.0.0.1/").unwrap()).unwrap_err();
        assert!(err.message().contains("prefix"), "{err}");
        let redis =
            Redis::open(RedisConfig::new("redis://127.0.0.1/").unwrap().prefix("p")).unwrap();
        assert_eq!(redis.key("dedup:id:e"), "p:dedup:id:e");
    }
}
