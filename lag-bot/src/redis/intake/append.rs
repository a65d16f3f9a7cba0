//! The front of the intake: every transport's deliveries appended to the partition streams,
//! deduplicated in the same atomic step.

use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;

use super::keys::{FIELD, Keys};
use super::record::Record;
use crate::transport::{Admission, Backoff, Delivery, Intake, Offer, dedup_keys};
use crate::{Error, ErrorKind};

/// Appends an event unless one of its dedup ids was appended before; advances the SSE resume
/// point either way. One script, so a crash can never leave an id marked without its event.
///
/// KEYS: the partition stream, the SSE resume key, then the dedup markers.
/// ARGV: the entry, the markers' lifetime in seconds, the SSE id to resume from (or "").
const APPEND: &str = r"
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3]) end
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
for i = 3, #KEYS do
  redis.call('SET', KEYS[i], '1', 'EX', ARGV[2])
end
redis.call('XADD', KEYS[1], '*', 'event', ARGV[1])
return 1
";

/// How long an event already taken from Lag (SSE, poll) waits for Redis to come back.
const WAIT_FOR_REDIS: Duration = Duration::from_secs(60);

/// How long an appended id is remembered: longer than Lag retries a webhook (about 36 h).
pub(super) const SEEN_FOR: Duration = Duration::from_secs(48 * 3600);

/// The intake the transports hand their deliveries to when the robot runs on Redis: a
/// delivery is accepted once it is in its partition's stream.
pub(crate) struct Appender {
    conn: ConnectionManager,
    keys: Keys,
    script: Script,
}

impl Appender {
    pub(super) fn new(conn: ConnectionManager, keys: Keys) -> Self {
        debug_assert!(APPEND.contains(FIELD));
        Self {
            conn,
            keys,
            script: Script::new(APPEND),
        }
    }

    /// Appends one delivery: `Ok(true)` when appended, `Ok(false)` for a duplicate.
    pub(super) async fn append(&self, delivery: &Delivery) -> crate::Result<bool> {
        let envelope = &delivery.envelope;
        let entry = Record::encode(delivery.transport, envelope)?;
        let resume = match (delivery.transport, envelope.id()) {
            (crate::transport::sse::TRANSPORT, Some(id)) => id,
            _ => "",
        };
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.keys.stream(self.keys.partition_of(envelope)))
            .key(self.keys.sse_resume());
        for key in dedup_keys(envelope) {
            invocation.key(self.keys.seen(&key));
        }
        invocation.arg(entry).arg(SEEN_FOR.as_secs()).arg(resume);
        let mut conn = self.conn.clone();
        let appended: i64 = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|err| unavailable("append an event to", &err))?;
        Ok(appended == 1)
    }
}

impl Intake for Appender {
    fn offer(
        &self,
        delivery: Delivery,
        admission: Admission,
        _want_done: bool,
    ) -> BoxFuture<'_, Offer> {
        Box::pin(async move {
            // A webhook delivery is refused at once (Lag redelivers); an SSE or poll event was
            // already taken from Lag, so the append is retried for a while before giving up.
            let give_up = tokio::time::Instant::now() + WAIT_FOR_REDIS;
            let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
            loop {
                match self.append(&delivery).await {
                    Ok(true) => return Offer::Accepted(None),
                    Ok(false) => return Offer::Duplicate,
                    Err(err)
                        if admission == Admission::Now
                            || tokio::time::Instant::now() >= give_up =>
                    {
                        return Offer::Failed(err);
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "retrying the append of an event taken from Lag");
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                }
            }
        })
    }
}

/// A Redis failure as the robot's error: the intake's storage is unavailable.
pub(super) fn unavailable(doing: &str, err: &redis::RedisError) -> Error {
    Error::new(
        ErrorKind::Store,
        format!("could not {doing} the durable intake in Redis: {err}"),
    )
}
