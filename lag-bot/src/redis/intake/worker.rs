//! The workers: each replica takes a fair share of the partitions (a lease per partition), reads
//! them in the consumer group, hands each entry to the robot's dispatcher in stream order and
//! acknowledges it after its handlers finished; it claims the unfinished entries of a partition
//! it takes over, and gives up an entry after too many attempts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamReadReply};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::IntakeConfig;
use super::append::unavailable;
use super::keys::{GROUP, Keys};
use super::lease::Leases;
use crate::Result;
use crate::metrics::Metrics;
use crate::transport::{Backoff, Intake, Ready};

/// The longest a stopping worker goes on handing over the entries left in its partitions.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// How many entries one read takes from the partitions.
const BATCH: usize = 128;

/// What a worker needs: its connections, the keys, its leases and the dispatcher.
pub(super) struct Worker {
    pub(super) conn: ConnectionManager,
    /// A connection of its own for blocking reads, which would hold up other commands.
    pub(super) reader: ConnectionManager,
    pub(super) keys: Keys,
    pub(super) leases: Leases,
    pub(super) config: IntakeConfig,
    pub(super) dispatcher: Arc<dyn Intake>,
    pub(super) metrics: Metrics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Just taken: the previous holder's unfinished entries are claimed first.
    Claiming,
    Reading,
    /// Past this replica's share: read no more, give it up once its entries finished.
    Draining,
}

struct Part {
    phase: Phase,
    /// Entries handed to the dispatcher and not yet acknowledged or dead-lettered, plus one
    /// while a read that includes the partition is being handed over.
    busy: Arc<AtomicUsize>,
}

type Owned = Arc<Mutex<BTreeMap<u16, Part>>>;

fn lock(owned: &Owned) -> std::sync::MutexGuard<'_, BTreeMap<u16, Part>> {
    owned.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    /// Runs until `stop`, then finishes the entries it handed over and gives its partitions up.
    pub(super) async fn run(self, mut ready: Ready, stop: CancellationToken) -> Result<()> {
        let this = Arc::new(self);
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        while let Err(err) = this.create_groups().await {
            tracing::warn!(error = %err, "could not set up the intake's streams; retrying");
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
        ready.connected();
        let owned: Owned = Arc::default();
        let acks = TaskTracker::new();
        // The leases are kept until the last entry handed over was acknowledged.
        let holding = CancellationToken::new();
        let coordinator = tokio::spawn(Arc::clone(&this).coordinate(
            Arc::clone(&owned),
            stop.clone(),
            holding.clone(),
        ));
        Arc::clone(&this)
            .read(Arc::clone(&owned), &acks, stop.clone())
            .await;
        this.drain(&owned, &acks).await;
        acks.close();
        acks.wait().await;
        holding.cancel();
        let _ = coordinator.await;
        let held: Vec<u16> = lock(&owned).keys().copied().collect();
        for p in held {
            if let Err(err) = this.leases.release(&this.keys.owner(p)).await {
                tracing::warn!(error = %err, partition = p, "could not release a partition");
            }
        }
        let mut conn = this.conn.clone();
        let _: redis::RedisResult<i64> = redis::cmd("ZREM")
            .arg(this.keys.replicas())
            .arg(this.leases.holder())
            .query_async(&mut conn)
            .await;
        Ok(())
    }

    async fn create_groups(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        for p in 0..self.keys.partitions() {
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(self.keys.stream(p))
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut conn)
                .await;
            match created {
                Err(err) if err.code() != Some("BUSYGROUP") => {
                    return Err(unavailable("create the consumer group of", &err));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Keeps this replica's share of partitions: heartbeat, renewals, takes and give-ups, and
    /// the queue's gauges. Once `stop` fired it only renews what it holds, until `holding`
    /// fires.
    async fn coordinate(
        self: Arc<Self>,
        owned: Owned,
        stop: CancellationToken,
        holding: CancellationToken,
    ) {
        let tick = self.leases.ttl() / 3;
        loop {
            let kept = if stop.is_cancelled() {
                self.renew_all(&owned).await
            } else {
                self.balance(&owned).await
            };
            if let Err(err) = kept {
                tracing::warn!(error = %err, "could not keep the intake's partitions");
            }
            if let Err(err) = self.measure().await {
                tracing::debug!(error = %err, "could not measure the intake's queue");
            }
            tokio::select! {
                () = holding.cancelled() => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    }

    /// Renews every lease held, while a stopping worker finishes its entries.
    async fn renew_all(&self, owned: &Owned) -> Result<()> {
        let held: Vec<u16> = lock(owned).keys().copied().collect();
        for p in held {
            if !self.leases.renew(&self.keys.owner(p)).await? {
                lock(owned).remove(&p);
            }
        }
        Ok(())
    }

    /// On stop: hands over what is left in the partitions held (the events appended before the
    /// robot stopped, as a robot in memory finishes what it accepted), for at most
    /// [`DRAIN_LIMIT`]; what is appended later waits for another replica.
    async fn drain(self: &Arc<Self>, owned: &Owned, acks: &TaskTracker) {
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        let parts: Vec<(u16, Phase, Arc<AtomicUsize>)> = lock(owned)
            .iter()
            .map(|(p, part)| (*p, part.phase, Arc::clone(&part.busy)))
            .collect();
        for (p, phase, busy) in &parts {
            if *phase == Phase::Claiming {
                busy.fetch_add(1, Ordering::SeqCst);
                if let Err(err) = self.claim(*p, busy, acks).await {
                    tracing::warn!(error = %err, partition = p, "could not claim a partition's entries");
                }
                busy.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let streams: Vec<(u16, Arc<AtomicUsize>)> =
            parts.into_iter().map(|(p, _, busy)| (p, busy)).collect();
        while !streams.is_empty() && tokio::time::Instant::now() < deadline {
            let reply = match self.read_once(&streams, None).await {
                Ok(reply) => reply,
                Err(err) => {
                    tracing::warn!(error = %err, "could not finish reading the intake");
                    return;
                }
            };
            if reply.keys.iter().all(|key| key.ids.is_empty()) {
                return;
            }
            for key in reply.keys {
                if let Some((p, busy)) = streams
                    .iter()
                    .find(|(p, _)| self.keys.stream(*p) == key.key)
                {
                    self.hand_over(*p, busy, key.ids, acks).await;
                }
            }
        }
    }

    async fn balance(&self, owned: &Owned) -> Result<()> {
        let mut conn = self.conn.clone();
        let now = now_ms();
        let ttl = u64::try_from(self.leases.ttl().as_millis()).unwrap_or(u64::MAX);
        let (_, _, live): (i64, i64, u64) = redis::pipe()
            .cmd("ZADD")
            .arg(self.keys.replicas())
            .arg(now.saturating_add(ttl))
            .arg(self.leases.holder())
            .cmd("ZREMRANGEBYSCORE")
            .arg(self.keys.replicas())
            .arg("-inf")
            .arg(now)
            .cmd("ZCARD")
            .arg(self.keys.replicas())
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable("keep the heartbeat in", &err))?;
        let partitions = u64::from(self.keys.partitions());
        let share = usize::try_from(partitions.div_ceil(live.max(1))).unwrap_or(usize::MAX);

        let held: Vec<(u16, Phase, usize)> = lock(owned)
            .iter()
            .map(|(p, part)| (*p, part.phase, part.busy.load(Ordering::SeqCst)))
            .collect();
        for (p, phase, busy) in &held {
            if *phase == Phase::Draining && *busy == 0 {
                lock(owned).remove(p);
                self.leases.release(&self.keys.owner(*p)).await?;
                tracing::debug!(partition = p, "partition given up");
                continue;
            }
            if !self.leases.renew(&self.keys.owner(*p)).await? {
                tracing::warn!(partition = p, "lost a partition's lease");
                lock(owned).remove(p);
            }
        }
        let keeping = lock(owned)
            .values()
            .filter(|part| part.phase != Phase::Draining)
            .count();
        if keeping > share {
            let mut map = lock(owned);
            let extra: Vec<u16> = map
                .iter()
                .filter(|(_, part)| part.phase != Phase::Draining)
                .map(|(p, _)| *p)
                .rev()
                .take(keeping - share)
                .collect();
            for p in extra {
                if let Some(part) = map.get_mut(&p) {
                    part.phase = Phase::Draining;
                }
            }
        } else if keeping < share {
            let mut wanted = share - keeping;
            let start = start_offset(self.leases.holder(), self.keys.partitions());
            for i in 0..self.keys.partitions() {
                if wanted == 0 {
                    break;
                }
                let p = (start + i) % self.keys.partitions();
                if lock(owned).contains_key(&p) {
                    continue;
                }
                if self.leases.try_take(&self.keys.owner(p)).await? {
                    tracing::debug!(partition = p, "partition taken");
                    lock(owned).insert(
                        p,
                        Part {
                            phase: Phase::Claiming,
                            busy: Arc::default(),
                        },
                    );
                    wanted -= 1;
                }
            }
        }
        Ok(())
    }

    /// Sets the gauges: entries not yet finished (appended, not acknowledged) and entries
    /// handed to a worker and not yet acknowledged, over all partitions.
    async fn measure(&self) -> Result<()> {
        let mut pipe = redis::pipe();
        for p in 0..self.keys.partitions() {
            pipe.cmd("XLEN").arg(self.keys.stream(p));
            pipe.cmd("XPENDING").arg(self.keys.stream(p)).arg(GROUP);
        }
        let mut conn = self.conn.clone();
        let answers: Vec<redis::Value> = pipe
            .query_async(&mut conn)
            .await
            .map_err(|err| unavailable("measure", &err))?;
        let (mut waiting, mut pending) = (0i64, 0i64);
        for pair in answers.chunks(2) {
            if let [length, summary] = pair {
                waiting += integer(length);
                if let redis::Value::Array(fields) = summary {
                    pending += fields.first().map_or(0, integer);
                }
            }
        }
        self.metrics.intake_measured(waiting, pending);
        Ok(())
    }

    /// Reads the partitions this replica holds until `reading` fires.
    async fn read(self: Arc<Self>, owned: Owned, acks: &TaskTracker, reading: CancellationToken) {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        let block =
            (self.leases.ttl() / 6).clamp(Duration::from_millis(50), Duration::from_millis(400));
        loop {
            if reading.is_cancelled() {
                return;
            }
            let claiming: Vec<(u16, Arc<AtomicUsize>)> = lock(&owned)
                .iter()
                .filter(|(_, part)| part.phase == Phase::Claiming)
                .map(|(p, part)| (*p, Arc::clone(&part.busy)))
                .collect();
            for (p, busy) in claiming {
                busy.fetch_add(1, Ordering::SeqCst);
                let claimed = self.claim(p, &busy, acks).await;
                busy.fetch_sub(1, Ordering::SeqCst);
                match claimed {
                    Ok(()) => {
                        if let Some(part) = lock(&owned).get_mut(&p)
                            && part.phase == Phase::Claiming
                        {
                            part.phase = Phase::Reading;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, partition = p, "could not claim a partition's entries")
                    }
                }
            }
            let streams: Vec<(u16, Arc<AtomicUsize>)> = lock(&owned)
                .iter()
                .filter(|(_, part)| part.phase == Phase::Reading)
                .map(|(p, part)| (*p, Arc::clone(&part.busy)))
                .collect();
            if streams.is_empty() {
                tokio::select! {
                    () = reading.cancelled() => return,
                    () = tokio::time::sleep(block) => continue,
                }
            }
            for (_, busy) in &streams {
                busy.fetch_add(1, Ordering::SeqCst);
            }
            let read = self.read_once(&streams, Some(block)).await;
            let outcome = match read {
                Ok(reply) => {
                    backoff.reset();
                    for key in reply.keys {
                        let Some((p, busy)) = streams
                            .iter()
                            .find(|(p, _)| self.keys.stream(*p) == key.key)
                        else {
                            continue;
                        };
                        self.hand_over(*p, busy, key.ids, acks).await;
                    }
                    Ok(())
                }
                Err(err) => Err(err),
            };
            for (_, busy) in &streams {
                busy.fetch_sub(1, Ordering::SeqCst);
            }
            if let Err(err) = outcome {
                tracing::warn!(error = %err, "could not read the intake");
                tokio::select! {
                    () = reading.cancelled() => return,
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                }
            }
        }
    }

    /// One read of `streams`, waiting up to `block` for an entry (not at all with `None`).
    async fn read_once(
        &self,
        streams: &[(u16, Arc<AtomicUsize>)],
        block: Option<Duration>,
    ) -> Result<StreamReadReply> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(self.leases.holder())
            .arg("COUNT")
            .arg(BATCH);
        if let Some(block) = block {
            cmd.arg("BLOCK")
                .arg(u64::try_from(block.as_millis()).unwrap_or(1000).max(1));
        }
        cmd.arg("STREAMS");
        for (p, _) in streams {
            cmd.arg(self.keys.stream(*p));
        }
        for _ in streams {
            cmd.arg(">");
        }
        let mut reader = self.reader.clone();
        let reply: Option<StreamReadReply> = cmd
            .query_async(&mut reader)
            .await
            .map_err(|err| unavailable("read", &err))?;
        Ok(reply.unwrap_or_default())
    }

    /// Claims every unfinished entry of partition `p` (its previous holder's) and hands them
    /// over in order, before anything new is read from it.
    async fn claim(
        self: &Arc<Self>,
        p: u16,
        busy: &Arc<AtomicUsize>,
        acks: &TaskTracker,
    ) -> Result<()> {
        let mut cursor = "0-0".to_owned();
        loop {
            let mut conn = self.conn.clone();
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(self.keys.stream(p))
                .arg(GROUP)
                .arg(self.leases.holder())
                .arg(0)
                .arg(&cursor)
                .arg("COUNT")
                .arg(BATCH)
                .query_async(&mut conn)
                .await
                .map_err(|err| unavailable("claim entries in", &err))?;
            if !reply.claimed.is_empty() {
                tracing::info!(
                    partition = p,
                    entries = reply.claimed.len(),
                    "claimed the unfinished entries of a previous holder"
                );
                self.metrics.intake_claimed(reply.claimed.len());
            }
            self.hand_over(p, busy, reply.claimed, acks).await;
            if reply.next_stream_id == "0-0" {
                return Ok(());
            }
            cursor = reply.next_stream_id;
        }
    }
}

fn integer(value: &redis::Value) -> i64 {
    match value {
        redis::Value::Int(n) => *n,
        _ => 0,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Where a replica starts looking for free partitions, so replicas starting together do not
/// all race for the same ones.
fn start_offset(holder: &str, partitions: u16) -> u16 {
    let sum = holder.bytes().fold(0u32, |sum, byte| {
        sum.wrapping_mul(31).wrapping_add(u32::from(byte))
    });
    u16::try_from(sum % u32::from(partitions.max(1))).unwrap_or(0)
}
