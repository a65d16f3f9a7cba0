//! One partition's entries in a worker: counted, handed to the dispatcher in order,
//! acknowledged after their handlers finished, run again after a failure, or moved to the dead
//! letters past their attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use redis::streams::StreamId;
use tokio_util::task::TaskTracker;

use super::append::unavailable;
use super::keys::{FIELD, GROUP};
use super::record::Record;
use super::worker::Worker;
use crate::Result;
use crate::transport::{Admission, Delivery, Handled, Offer};

impl Worker {
    /// Hands entries to the dispatcher in order, each after counting its attempt; an entry
    /// past the attempts goes to the dead letters instead.
    pub(super) async fn hand_over(
        self: &Arc<Self>,
        p: u16,
        busy: &Arc<AtomicUsize>,
        entries: Vec<StreamId>,
        acks: &TaskTracker,
    ) {
        if entries.is_empty() {
            return;
        }
        let attempts = match self.count_attempts(p, &entries).await {
            Ok(attempts) => attempts,
            Err(err) => {
                // Left unacknowledged: the partition's next holder claims them again.
                tracing::warn!(error = %err, partition = p, "could not count attempts; entries left for later");
                return;
            }
        };
        for (entry, attempt) in entries.into_iter().zip(attempts) {
            busy.fetch_add(1, Ordering::SeqCst);
            let this = Arc::clone(self);
            let busy = Arc::clone(busy);
            match this.start(p, &entry, attempt).await {
                Started::Running(done) => {
                    acks.spawn(async move {
                        this.finish(p, entry, done).await;
                        busy.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                Started::Over => {
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
    }

    async fn count_attempts(&self, p: u16, entries: &[StreamId]) -> Result<Vec<u64>> {
        let mut pipe = redis::pipe();
        for entry in entries {
            pipe.cmd("HINCRBY")
                .arg(self.keys.attempts())
                .arg(attempt_field(p, &entry.id))
                .arg(1);
        }
        let mut conn = self.conn.clone();
        pipe.query_async(&mut conn)
            .await
            .map_err(|err| unavailable("count attempts in", &err))
    }

    /// Offers an entry to the dispatcher (in order), unless it is past its attempts.
    async fn start(&self, p: u16, entry: &StreamId, attempt: u64) -> Started {
        if attempt > u64::from(self.config.max_attempts) {
            let reason = format!("failed {} attempts", self.config.max_attempts);
            self.give_up(p, entry, attempt - 1, &reason).await;
            return Started::Over;
        }
        let text: Option<String> = entry.get(FIELD);
        let decoded = text
            .as_deref()
            .ok_or_else(|| crate::Error::decode("an intake entry without an event"))
            .and_then(Record::decode);
        let (transport, envelope) = match decoded {
            Ok(decoded) => decoded,
            Err(err) => {
                self.give_up(p, entry, attempt, &err.to_string()).await;
                return Started::Over;
            }
        };
        let delivery = Delivery {
            transport,
            envelope,
        };
        match self.dispatcher.offer(delivery, Admission::Wait, true).await {
            Offer::Accepted(Some(done)) => Started::Running(done),
            Offer::Accepted(None) | Offer::Duplicate => {
                self.acknowledge(p, &entry.id).await;
                Started::Over
            }
            refused => {
                // The robot is stopping: left unacknowledged for the next holder.
                tracing::debug!(?refused, entry = entry.id, "entry left for later");
                Started::Over
            }
        }
    }

    /// Waits for an entry's handlers; acknowledges it, or runs it again after a failure.
    async fn finish(
        &self,
        p: u16,
        entry: StreamId,
        mut done: tokio::sync::oneshot::Receiver<Handled>,
    ) {
        loop {
            let failed = match done.await {
                Ok(handled) => handled.failed,
                Err(_) => return,
            };
            if !failed {
                self.acknowledge(p, &entry.id).await;
                return;
            }
            let attempt = match self.count_attempts(p, std::slice::from_ref(&entry)).await {
                Ok(counts) => counts.first().copied().unwrap_or(u64::MAX),
                Err(err) => {
                    tracing::warn!(error = %err, entry = entry.id, "could not count an attempt; entry left for later");
                    return;
                }
            };
            if attempt <= u64::from(self.config.max_attempts) {
                tracing::warn!(
                    entry = entry.id,
                    attempt,
                    "an event's handler failed; running it again"
                );
                tokio::time::sleep(retry_delay(attempt)).await;
            }
            match self.start(p, &entry, attempt).await {
                Started::Running(next) => done = next,
                Started::Over => return,
            }
        }
    }

    /// Acknowledges and deletes a finished entry, and forgets its attempts.
    async fn acknowledge(&self, p: u16, id: &str) {
        let mut conn = self.conn.clone();
        let done: redis::RedisResult<()> = redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(self.keys.stream(p))
            .arg(GROUP)
            .arg(id)
            .ignore()
            .cmd("XDEL")
            .arg(self.keys.stream(p))
            .arg(id)
            .ignore()
            .cmd("HDEL")
            .arg(self.keys.attempts())
            .arg(attempt_field(p, id))
            .ignore()
            .query_async(&mut conn)
            .await;
        if let Err(err) = done {
            // Unacknowledged entries are claimed and run again by the partition's next holder.
            tracing::warn!(error = %unavailable("acknowledge an entry in", &err), entry = id, "entry may run again");
        }
    }

    /// Moves an entry to the dead letters, reports it, and acknowledges it.
    async fn give_up(&self, p: u16, entry: &StreamId, attempts: u64, reason: &str) {
        let text: String = entry.get(FIELD).unwrap_or_default();
        let mut conn = self.conn.clone();
        let moved: redis::RedisResult<()> = redis::cmd("XADD")
            .arg(self.keys.dead())
            .arg("MAXLEN")
            .arg("~")
            .arg(DEAD_LETTERS_KEPT)
            .arg("*")
            .arg("partition")
            .arg(p)
            .arg("entry")
            .arg(&entry.id)
            .arg("attempts")
            .arg(attempts)
            .arg("reason")
            .arg(reason)
            .arg(FIELD)
            .arg(text)
            .query_async(&mut conn)
            .await;
        if let Err(err) = moved {
            tracing::warn!(error = %unavailable("dead-letter an entry in", &err), entry = entry.id, "entry left for later");
            return;
        }
        tracing::error!(
            partition = p,
            entry = entry.id,
            attempts,
            reason,
            "an event was given up and moved to the dead letters"
        );
        self.metrics.intake_dead_lettered();
        self.acknowledge(p, &entry.id).await;
    }
}

/// The most dead letters kept (about; Redis trims whole blocks).
const DEAD_LETTERS_KEPT: u64 = 10_000;

enum Started {
    Running(tokio::sync::oneshot::Receiver<Handled>),
    Over,
}

/// The pause before running a failed entry again: 100 ms after the first failure, doubling,
/// at most 5 s.
fn retry_delay(attempt: u64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(2))
        .unwrap_or(u32::MAX)
        .min(6);
    (Duration::from_millis(100) * 2u32.pow(doublings)).min(Duration::from_secs(5))
}

fn attempt_field(p: u16, id: &str) -> String {
    format!("{p}:{id}")
}
