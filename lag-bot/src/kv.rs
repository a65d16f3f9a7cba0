//! A small key-value store for a robot's own state: counters, settings, what a member chose,
//! reached from every handler with [`Ctx::kv`](crate::Ctx::kv).
//!
//! The robot's user state ([`Ctx::state`](crate::Ctx::state)) lives in its process; what is
//! kept here lives in the robot's [`KvStore`]: in memory by default ([`MemoryKv`]), in Redis
//! for a robot configured with it (`lag_bot::redis`, the `redis` feature), where every replica
//! sees the same values and they survive a restart. [`Kv`] is the typed handle handlers use:
//! values go in and out as JSON through serde, with an expiry when wanted, and counters
//! increment atomically.
//!
//! ```
//! use std::time::Duration;
//! use lag_bot::kv::{Kv, MemoryKv};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Settings { greeting: String, quiet: bool }
//!
//! # tokio_test_block(async {
//! let kv = Kv::new(std::sync::Arc::new(MemoryKv::new()));
//! let settings = Settings { greeting: "Hi!".into(), quiet: false };
//! kv.set("settings", &settings).await?;
//! assert_eq!(kv.get::<Settings>("settings").await?, Some(settings));
//!
//! assert_eq!(kv.increment("joins", 1).await?, 1);
//! assert_eq!(kv.increment("joins", 2).await?, 3);
//! assert_eq!(kv.get::<i64>("joins").await?, Some(3), "a counter reads as a number");
//!
//! kv.set_for("shout", &"HELLO", Duration::from_secs(60)).await?;
//! assert!(kv.delete("shout").await?);
//! assert_eq!(kv.get::<String>("shout").await?, None);
//! # Ok::<(), lag_bot::Error>(())
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::{Error, ErrorKind, Result};

/// Where a robot keeps the values of its [`Kv`]: bytes under text keys, with an optional
/// expiry, and integer counters.
///
/// Treat keys as opaque text; a shared store may prefix its own namespace. A counter is kept
/// as its decimal text (as Redis keeps it), so it reads back as a JSON number through
/// [`Kv::get`]. Implement it with [`async-trait`](https://docs.rs/async-trait) to keep state
/// elsewhere, and give it to the robot with [`Robot::kv_store`](crate::Robot::kv_store).
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// The value under `key`, unless there is none or it expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Stores `value` under `key`, replacing what was there; with `ttl`, the value expires
    /// that long from now, else it stays until deleted.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<()>;

    /// Deletes the value under `key`; answers whether there was one.
    async fn delete(&self, key: &str) -> Result<bool>;

    /// Adds `by` to the counter under `key` (a missing key counts as 0) and answers the new
    /// value, atomically: of concurrent increments, none is lost. An expiry the key has is
    /// kept.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when the value under `key` is not an integer, or the sum
    /// does not fit in an `i64`.
    async fn increment(&self, key: &str, by: i64) -> Result<i64>;
}

/// The typed handle on a robot's [`KvStore`]: values are stored as JSON. Clones share the
/// store. Reached in handlers with [`Ctx::kv`](crate::Ctx::kv); see the [module docs](self).
#[derive(Clone)]
pub struct Kv {
    store: Arc<dyn KvStore>,
}

impl Kv {
    /// A handle on `store`.
    pub fn new(store: Arc<dyn KvStore>) -> Self {
        Self { store }
    }

    /// The value under `key`, decoded from JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`] when the stored value is not a `T`, and the store's errors.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let Some(bytes) = self.store.get(key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|err| {
            Error::decode(format!(
                "the value under `{key}` is not a {}: {err}",
                std::any::type_name::<T>()
            ))
        })
    }

    /// Stores `value` under `key` as JSON, until it is deleted.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when `value` cannot be written as JSON (a map with
    /// non-text keys), and the store's errors.
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        self.store.set(key, &encode(key, value)?, None).await
    }

    /// Stores `value` under `key` as JSON for `ttl`; then it is gone.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub async fn set_for<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<()> {
        self.store.set(key, &encode(key, value)?, Some(ttl)).await
    }

    /// The raw bytes under `key`, for values that are not JSON.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.store.get(key).await
    }

    /// Stores raw bytes under `key`, with an optional expiry.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn set_bytes(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<()> {
        self.store.set(key, value, ttl).await
    }

    /// Deletes the value under `key`; answers whether there was one.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.store.delete(key).await
    }

    /// Adds `by` (negative to subtract) to the counter under `key` and answers the new value;
    /// see [`KvStore::increment`].
    ///
    /// # Errors
    ///
    /// As [`KvStore::increment`].
    pub async fn increment(&self, key: &str, by: i64) -> Result<i64> {
        self.store.increment(key, by).await
    }
}

impl fmt::Debug for Kv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kv").finish_non_exhaustive()
    }
}

fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|err| {
        Error::invalid_input(format!(
            "the value for `{key}` cannot be stored as JSON: {err}"
        ))
    })
}

/// The error for incrementing a value that is no counter.
pub(crate) fn not_a_counter(key: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("the value under `{key}` is not an integer counter"),
    )
}

/// The error for a counter that would leave `i64`.
pub(crate) fn counter_overflow(key: &str, by: i64) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("adding {by} to the counter `{key}` overflows"),
    )
}

/// The in-memory [`KvStore`], the default: for one process, gone when it ends.
///
/// Expired values are swept now and then as new ones arrive, so memory follows the values
/// alive, not every value ever stored.
#[derive(Default)]
pub struct MemoryKv {
    values: Mutex<Values>,
    clock: Clock,
}

#[derive(Default)]
struct Values {
    map: HashMap<String, (Vec<u8>, Option<Instant>)>,
    /// Expired entries are swept once this many are kept, then at twice what remained.
    sweep_at: usize,
}

/// The fewest entries kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

impl MemoryKv {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store whose expiries run on `clock`.
    pub(crate) fn with_clock(clock: Clock) -> Self {
        Self {
            values: Mutex::default(),
            clock,
        }
    }

    fn values(&self) -> MutexGuard<'_, Values> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live entry under `key`, with expired ones removed first.
    fn live<'a>(
        values: &'a mut Values,
        key: &str,
        now: Instant,
    ) -> Option<&'a mut (Vec<u8>, Option<Instant>)> {
        if values
            .map
            .get(key)
            .is_some_and(|(_, until)| until.is_some_and(|until| until <= now))
        {
            values.map.remove(key);
        }
        values.map.get_mut(key)
    }

    fn insert(&self, values: &mut Values, key: &str, entry: (Vec<u8>, Option<Instant>)) {
        let now = self.clock.now();
        if values.map.len() >= values.sweep_at.max(SWEEP_AT) {
            values
                .map
                .retain(|_, (_, until)| until.is_none_or(|until| until > now));
            values.sweep_at = values.map.len() * 2;
        }
        values.map.insert(key.to_owned(), entry);
    }
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let now = self.clock.now();
        let mut values = self.values();
        Ok(Self::live(&mut values, key, now).map(|(value, _)| value.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<()> {
        let until = ttl.map(|ttl| {
            let now = self.clock.now();
            now.checked_add(ttl).unwrap_or(now + FOREVER)
        });
        let mut values = self.values();
        self.insert(&mut values, key, (value.to_vec(), until));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let now = self.clock.now();
        let mut values = self.values();
        let live = Self::live(&mut values, key, now).is_some();
        values.map.remove(key);
        Ok(live)
    }

    async fn increment(&self, key: &str, by: i64) -> Result<i64> {
        let now = self.clock.now();
        let mut values = self.values();
        let (current, until) = match Self::live(&mut values, key, now) {
            Some((value, until)) => {
                let current = std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.parse::<i64>().ok())
                    .ok_or_else(|| not_a_counter(key))?;
                (current, *until)
            }
            None => (0, None),
        };
        let next = current
            .checked_add(by)
            .ok_or_else(|| counter_overflow(key, by))?;
        self.insert(&mut values, key, (next.to_string().into_bytes(), until));
        Ok(next)
    }
}

/// Stands in for an expiry too far away to represent.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

impl fmt::Debug for MemoryKv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKv")
            .field("keys", &self.values().map.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn values_expire_and_counters_keep_their_expiry() {
        let store = MemoryKv::new();
        store
            .set("a", b"1", Some(Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(store.increment("a", 4).await.unwrap(), 5);
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(store.get("a").await.unwrap().as_deref(), Some(&b"5"[..]));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(store.get("a").await.unwrap(), None);
        assert!(!store.delete("a").await.unwrap());
        assert_eq!(
            store.increment("a", 1).await.unwrap(),
            1,
            "an expired counter starts again"
        );
    }

    #[tokio::test]
    async fn bad_counters_and_values_are_clear_errors() {
        let kv = Kv::new(Arc::new(MemoryKv::new()));
        kv.set("name", "Ada").await.unwrap();
        let err = kv.increment("name", 1).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
        assert!(err.message().contains("`name`"), "{err}");
        let err = kv.get::<u32>("name").await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Decode);
        kv.increment("n", i64::MAX).await.unwrap();
        let err = kv.increment("n", 1).await.unwrap_err();
        assert!(err.message().contains("overflows"), "{err}");
        assert_eq!(kv.get::<i64>("n").await.unwrap(), Some(i64::MAX));
    }

    #[tokio::test]
    async fn expired_values_are_swept_as_new_ones_arrive() {
        let store = MemoryKv::new();
        for i in 0..3 * SWEEP_AT {
            store
                .set(&format!("k{i}"), b"v", Some(Duration::ZERO))
                .await
                .unwrap();
        }
        assert!(store.values().map.len() <= SWEEP_AT + 1);
    }
}
