//! Leases: a key naming the replica that holds something (a partition, the event connection),
//! with an expiry the holder keeps pushing back while it lives. A dead holder's lease runs out
//! and another replica takes it.

use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;

use super::append::unavailable;
use crate::Result;

/// Pushes the expiry back only if the lease is still ours.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// Deletes the lease only if it is still ours.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The lease operations of one replica, named by its id.
#[derive(Clone)]
pub(super) struct Leases {
    conn: ConnectionManager,
    holder: String,
    ttl: Duration,
    renew: Script,
    release: Script,
}

impl Leases {
    pub(super) fn new(conn: ConnectionManager, holder: String, ttl: Duration) -> Self {
        Self {
            conn,
            holder,
            ttl,
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
        }
    }

    /// This replica's id, the value of the leases it holds.
    pub(super) fn holder(&self) -> &str {
        &self.holder
    }

    /// How long a lease lasts without renewal.
    pub(super) fn ttl(&self) -> Duration {
        self.ttl
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Takes `key` if nobody holds it; `true` when taken.
    pub(super) async fn try_take(&self, key: &str) -> Result<bool> {
        let mut conn = self.conn.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(&self.holder)
            .arg("NX")
            .arg("PX")
            .arg(self.ttl_ms())
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable("take a lease in", &err))?;
        Ok(taken.is_some())
    }

    /// Renews `key`; `false` when it is no longer ours (it ran out, or another took it).
    pub(super) async fn renew(&self, key: &str) -> Result<bool> {
        let mut conn = self.conn.clone();
        let renewed: i64 = self
            .renew
            .key(key)
            .arg(&self.holder)
            .arg(self.ttl_ms())
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable("renew a lease in", &err))?;
        Ok(renewed == 1)
    }

    /// Gives `key` up, if it is still ours.
    pub(super) async fn release(&self, key: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .release
            .key(key)
            .arg(&self.holder)
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable("release a lease in", &err))?;
        Ok(())
    }
}
