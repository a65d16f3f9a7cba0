//! The durable intake of replicated robots: events kept in Redis Streams from the moment Lag hands them over until
//! their handlers finished, so that a crash loses nothing that was acknowledged, and any number
//! of replicas share the work.
//!
//! # How an event travels
//!
//! 1. **Append.** Every transport hands its events to the intake instead of the in-process
//!    queue. One Lua script checks the event's dedup ids (the delivery id, and the id derived
//!    from its data), marks them, and `XADD`s the event to its partition's stream, all at once.
//!    The webhook receiver answers 2xx only after that script succeeded; when Redis cannot be
//!    reached it answers 503, so Lag delivers again later. A redelivery finds its ids marked
//!    and is answered 200 without a second entry. (`Ack::Handled` makes no difference here:
//!    the answer never waits for handlers, which may run on another replica.)
//! 2. **Partitions.** There is a fixed number of partition streams (16 by default); an event
//!    goes to the partition of a stable hash (FNV-1a) of its ordering lane: its room, else the
//!    member of a server-level event, else the server. A room's events therefore share one
//!    stream, in the order they were appended.
//! 3. **Workers.** Every replica runs a worker. Each partition is read by one replica at a
//!    time, the holder of the partition's lease (a key with an expiry, renewed every third of
//!    it). Replicas keep a heartbeat in a sorted set; each takes a fair share
//!    (`ceil(partitions / live replicas)`) and gives up partitions past it once their entries
//!    finished, so a new replica gets work and a dead one's partitions are taken over when
//!    its leases run out. The holder reads its partitions in the consumer group
//!    (`XREADGROUP`), hands the entries to the robot's dispatcher in stream order (which runs a
//!    room's events one after another, as in one process), and acknowledges an entry (`XACK`,
//!    then `XDEL`) after its handlers finished.
//!    On a graceful stop a worker goes on reading its partitions until they are empty (at
//!    most 10 s), as a robot in memory finishes what it accepted, waits for those handlers,
//!    and only then gives its partitions up.
//! 4. **Take-over.** A replica that takes a partition first claims every entry left
//!    unacknowledged by the previous holder (`XAUTOCLAIM`, idle time 0: the lease's expiry is
//!    the timeout, and only the lease holder reads the partition) and runs them, in order,
//!    before reading anything new.
//! 5. **Poison.** Each run of an entry counts an attempt (a hash in Redis, so crashes count
//!    too). A handler that fails (an error or a panic) makes the entry run again; an entry
//!    whose attempts reach the limit (5 by default), for instance one that crashes its worker
//!    every time, is not run again: it is moved to the dead-letter stream with the reason,
//!    logged at error level, counted in `lag_bot_intake_dead_lettered_total`, and
//!    acknowledged.
//!
//! SSE and long-poll have one connection per robot: a feed lease names the replica that holds
//! it; the others stand by and take over when the lease runs out. The SSE resume point (the id
//! of the last event appended) is kept in Redis by the append script, so the new holder opens
//! the stream with `Last-Event-ID` where the old one stopped, and Lag's replay of the events
//! after it is deduplicated. Long-poll has no cursor on Lag's side: events a poll returned are
//! consumed, so only a crash between a poll's answer and the append loses them.
//!
//! # What is guaranteed
//!
//! - **Nothing acknowledged is lost.** A webhook delivery Lag saw answered 2xx, and an SSE or
//!   poll event taken from Lag and appended, is in Redis until its handlers finished (or it
//!   is dead-lettered), whatever process dies.
//! - **Each event is appended once.** Redeliveries and SSE replays are deduplicated by id, in
//!   the same atomic step as the append; ids are remembered for 48 hours (longer than Lag
//!   retries).
//! - **Handlers complete once; they may start more than once.** An entry is acknowledged after
//!   its handlers finished, so a worker that dies mid-handler leaves it to the partition's next
//!   holder, which runs it again from the start. What a handler did before the crash (a message
//!   sent, a row written) may therefore happen twice: handling is at-least-once, and
//!   exactly-once for effects that are idempotent by the event's id
//!   ([`Ctx::envelope`](crate::Ctx::envelope) carries it). The same holds when a worker dies
//!   after its handlers finished but before the acknowledgement reached Redis, and when a
//!   replica cut off from Redis for longer than the lease keeps running a partition another
//!   replica has taken.
//! - **Order within a room** is the order of the appends, as in one process. A failed event
//!   that runs again runs after the room's events that were already handed over.
//!
//! # When Redis is away
//!
//! The webhook receiver answers 503 while an append fails, and Lag delivers again later. An SSE
//! or long-poll event already taken from Lag waits for Redis, retrying the append for up to a
//! minute; past that the robot stops with the error (restart it under a supervisor: SSE then
//! resumes from the last event appended). Workers retry their reads and leave unacknowledged
//! entries for later. `/readyz` answers 503 while Redis does not answer.
//!
//! Every key is under the robot's prefix (`{prefix}:intake:...`): the partition streams and
//! their leases, the dead letters, the attempts, the replicas' heartbeats, the feed lease, the
//! SSE resume point and the dedup markers.

mod append;
mod entries;
mod feed;
mod keys;
mod lease;
mod record;
mod worker;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::transport::{Intake, Ready};
use crate::{Error, Result};

pub(crate) use append::Appender;

/// Settings of the durable intake: partitions, attempts and leases.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::redis::IntakeConfig;
///
/// let config = IntakeConfig::new()
///     .partitions(32)
///     .max_attempts(3)
///     .lease(Duration::from_secs(5));
/// assert_eq!(config.partition_count(), 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeConfig {
    pub(crate) partitions: u16,
    pub(crate) max_attempts: u32,
    pub(crate) lease: Duration,
}

impl IntakeConfig {
    /// The default number of partition streams.
    pub const DEFAULT_PARTITIONS: u16 = 16;
    /// The default number of attempts before an event is dead-lettered.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    /// The default lease: how long a dead replica's partitions and connection wait for it.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

    /// 16 partitions, 5 attempts, 10-second leases.
    pub fn new() -> Self {
        Self {
            partitions: Self::DEFAULT_PARTITIONS,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            lease: Self::DEFAULT_LEASE,
        }
    }

    /// How many partition streams the events are spread over (at least 1). It bounds how many
    /// replicas can share the work. All replicas of a robot must use the same number, and
    /// changing it moves rooms to other partitions: change it only with the queue empty.
    pub fn partitions(mut self, partitions: u16) -> Self {
        self.partitions = partitions;
        self
    }

    /// The configured number of partitions.
    pub fn partition_count(&self) -> u16 {
        self.partitions
    }

    /// How many times an event is run before it is moved to the dead letters (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// How long a lease lasts without renewal (at least 300 ms; renewed every third of it).
    /// It is how long a dead replica's partitions and event connection wait before another
    /// replica takes them over.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.partitions == 0 || self.max_attempts == 0 {
            return Err(Error::config(
                "the durable intake needs at least one partition and one attempt",
            ));
        }
        if self.lease < Duration::from_millis(300) {
            return Err(Error::config(format!(
                "the durable intake's lease must be at least 300 ms (got {:?})",
                self.lease
            )));
        }
        Ok(())
    }
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// The durable intake of one replica: the appender the transports use, and the worker and
/// feed holder the robot runs.
pub(crate) struct DurableIntake {
    conn: ConnectionManager,
    reader: ConnectionManager,
    keys: keys::Keys,
    leases: lease::Leases,
    config: IntakeConfig,
    metrics: Metrics,
}

impl DurableIntake {
    /// An intake on `conn` (and `reader`, a connection of its own for blocking reads), with
    /// every key under `prefix`.
    pub(crate) fn new(
        conn: ConnectionManager,
        reader: ConnectionManager,
        prefix: &str,
        config: IntakeConfig,
        metrics: Metrics,
    ) -> Self {
        let keys = keys::Keys::new(prefix, config.partitions);
        let replica = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        let leases = lease::Leases::new(conn.clone(), replica, config.lease);
        Self {
            conn,
            reader,
            keys,
            leases,
            config,
            metrics,
        }
    }

    /// Where the transports hand their deliveries.
    pub(crate) fn appender(&self) -> Arc<dyn Intake> {
        Arc::new(Appender::new(self.conn.clone(), self.keys.clone()))
    }

    /// The worker: reads this replica's partitions into `dispatcher` until `stop`, then
    /// finishes what it handed over and gives its partitions up.
    pub(crate) fn work(
        &self,
        dispatcher: Arc<dyn Intake>,
        ready: Ready,
        stop: CancellationToken,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let worker = worker::Worker {
            conn: self.conn.clone(),
            reader: self.reader.clone(),
            keys: self.keys.clone(),
            leases: self.leases.clone(),
            config: self.config,
            dispatcher,
            metrics: self.metrics.clone(),
        };
        worker.run(ready, stop)
    }

    /// Runs `consume` (the SSE or long-poll consumer) while this replica holds the event
    /// connection's lease; see the module docs.
    pub(crate) fn hold_feed<F, Fut>(
        &self,
        ready: Ready,
        stop: CancellationToken,
        consume: F,
    ) -> impl Future<Output = Result<()>> + Send + 'static
    where
        F: FnMut(Option<String>, Ready, CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        feed::hold(
            self.leases.clone(),
            self.conn.clone(),
            self.keys.clone(),
            ready,
            stop,
            consume,
        )
    }

    /// Whether Redis answers, for the readiness check.
    pub(crate) async fn ping(&self) -> bool {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .is_ok()
    }
}
