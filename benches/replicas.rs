//! Run with: `LAG_TEST_REDIS_URL=redis://127.0.0.1:6379/ cargo bench -p lag-bot-project --bench replicas`
//!
//! Replicas and the durable intake: the `lag-bot-replica` program (a robot that records each
//! message it handles in Redis) in child processes on 127.0.0.1, in four set-ups one after the
//! other: one replica in memory (no `LAG_REDIS_URL`), then one, two and three replicas on the
//! durable intake in Redis. This process is the local Lag the replicas start against and the
//! load client: it fires distinct, correctly signed `room.message` deliveries over 64 rooms
//! straight at the replicas' receivers (round robin, 32 in flight) and reports
//!
//! - throughput: accepted deliveries per second from the first one fired until the last one
//!   was handled (recorded by a handler), and the deliveries refused (503: the in-memory queue
//!   was full; Lag would deliver them again later), and
//! - latency, one delivery at a time: the acknowledgement (POST until Lag's answer) and the
//!   handling (POST until the handler's record, stamped by the replica with the wall clock).
//!
//! Options after `--`: `--events N` (default 5000), `--samples N` (latency samples, default 300).

#[allow(dead_code)]
#[path = "../tests/e2e/replicas/harness.rs"]
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use lag_sim::{RobotSpec, Sim, SimConfig};
use sha2::Sha256;

use harness::{Replica, ReplicaSetup, TestRedis};

const ROOMS: usize = 64;
const IN_FLIGHT: usize = 32;

struct Options {
    events: usize,
    samples: usize,
}

impl Options {
    fn parse() -> Self {
        let mut options = Options {
            events: 5000,
            samples: 300,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || -> usize {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{arg} needs a number"))
            };
            match arg.as_str() {
                "--events" => options.events = value(),
                "--samples" => options.samples = value(),
                "--bench" => {}
                other => panic!("unknown option {other}: use --events N, --samples N"),
            }
        }
        options
    }
}

/// Fires signed deliveries at the replicas.
struct Lag {
    http: reqwest::Client,
    secret: String,
    server_id: String,
    next: AtomicUsize,
}

impl Lag {
    /// Posts one delivery to `url`; the answer's status and how long it took.
    async fn deliver(&self, url: &str, label: &str) -> (u16, Duration, String) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("evt_{label}_{n}");
        let body = serde_json::to_vec(&serde_json::json!({
            "type": "room.message",
            "serverId": self.server_id,
            "timestamp": "2026-11-29T00:00:00.000Z",
            "data": {
                "roomId": format!("room_bench_{}", n % ROOMS),
                "messageId": format!("msg_{label}_{n}"),
                "senderId": "user_bench",
                "senderName": "bench",
                "content": format!("message {n}"),
                "createdAt": "2026-11-29T00:00:00.000Z",
                "isBot": false,
                "robotId": null,
                "mentions": [],
                "replyToId": null
            }
        }))
        .expect("a JSON body");
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let signature = sign(&self.secret, &id, timestamp, &body);
        let started = Instant::now();
        let status = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_or(0, |answer| answer.status().as_u16());
        (status, started.elapsed(), id)
    }
}

fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .expect("the secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn micros_now() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_micros(),
    )
    .expect("in range")
}

struct Row {
    setup: String,
    per_second: f64,
    refused: usize,
    ack: (Duration, Duration),
    handled: (Duration, Duration),
}

/// The median and the 99th percentile.
fn spread(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

async fn measure(
    lag: &Arc<Lag>,
    redis: &TestRedis,
    setup: &ReplicaSetup,
    count: usize,
    options: &Options,
) -> Row {
    let label = format!(
        "{}x{count}",
        if setup.replicated { "redis" } else { "memory" }
    );
    let mut replicas: Vec<Replica> = (0..count).map(|_| Replica::spawn(setup)).collect();
    for replica in &mut replicas {
        replica.ready(Duration::from_secs(30)).await;
    }
    let urls: Arc<Vec<String>> = Arc::new(replicas.iter().map(Replica::webhook_url).collect());
    let runs_key = format!("{}:runs", setup.record);
    let handled = |target: u64| {
        let key = runs_key.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while redis.get_u64(&key).await < target {
                assert!(
                    Instant::now() < deadline,
                    "the replicas fell behind for a minute"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    };

    // Warm-up: connections, partitions taken, code paths run once.
    for _ in 0..50 {
        lag.deliver(&urls[0], &label).await;
    }
    handled(50).await;

    let refused = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(AtomicUsize::new(options.events));
    let started = Instant::now();
    let senders: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let (lag, urls, refused, left, label) = (
                Arc::clone(lag),
                Arc::clone(&urls),
                Arc::clone(&refused),
                Arc::clone(&left),
                label.clone(),
            );
            tokio::spawn(async move {
                let mut k = i;
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let (status, _, _) = lag.deliver(&urls[k % urls.len()], &label).await;
                    if !(200..300).contains(&status) {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    k += 1;
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("a sender finishes");
    }
    let accepted = options.events - refused.load(Ordering::Relaxed);
    handled(50 + accepted as u64).await;
    let per_second = accepted as f64 / started.elapsed().as_secs_f64();

    let mut acks = Vec::with_capacity(options.samples);
    let mut handled_in = Vec::with_capacity(options.samples);
    let finished_key = format!("{}:finished", setup.record);
    for i in 0..options.samples {
        let sent = micros_now();
        let (_, ack, id) = lag.deliver(&urls[i % urls.len()], &label).await;
        acks.push(ack);
        let deadline = Instant::now() + Duration::from_secs(10);
        let done = loop {
            let mut conn = redis.conn.clone();
            let stamp: Option<u64> = redis::cmd("HGET")
                .arg(&finished_key)
                .arg(&id)
                .query_async(&mut conn)
                .await
                .expect("Redis answers");
            if let Some(stamp) = stamp {
                break stamp;
            }
            assert!(
                Instant::now() < deadline,
                "a delivery was not handled in 10 s"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        handled_in.push(Duration::from_micros(done.saturating_sub(sent)));
    }
    for replica in replicas {
        replica.stop(Duration::from_secs(20)).await;
    }
    Row {
        setup: format!(
            "{count} replica{} {}",
            if count == 1 { "" } else { "s" },
            if setup.replicated {
                "on Redis"
            } else {
                "in memory"
            }
        ),
        per_second,
        refused: refused.load(Ordering::Relaxed),
        ack: spread(acks),
        handled: spread(handled_in),
    }
}

#[tokio::main]
async fn main() {
    let options = Options::parse();
    let redis = TestRedis::connect().await;
    let sim = Sim::start(SimConfig::default())
        .await
        .expect("lag-sim starts");
    let demo = sim
        .seed_demo_with(
            RobotSpec::new("Helper").transport(lag_sim::Transport::Webhook {
                url: "http://127.0.0.1:9/webhook".to_owned(),
            }),
        )
        .expect("demo world");
    let secret = demo.robot.secrets.first().cloned().expect("a secret");
    let lag = Arc::new(Lag {
        http: reqwest::Client::new(),
        secret: secret.clone(),
        server_id: demo.server_id.clone(),
        next: AtomicUsize::new(0),
    });
    let began = Instant::now();
    let mut rows = Vec::new();
    for (count, replicated) in [(1, false), (1, true), (2, true), (3, true)] {
        let name = format!("{}{count}", if replicated { "redis" } else { "memory" });
        let setup = ReplicaSetup {
            key: demo.robot.key.clone(),
            base_url: sim.base_url(),
            secret: secret.clone(),
            redis_url: redis.url.clone(),
            redis_prefix: format!("{}:{name}", redis.prefix),
            record: format!("{}:{name}:record", redis.prefix),
            time_scale: 1.0,
            transport: "webhook",
            replicated,
            extra: Vec::new(),
        };
        rows.push(measure(&lag, &redis, &setup, count, &options).await);
    }
    sim.shutdown().await;

    println!(
        "{} events over {ROOMS} rooms, {IN_FLIGHT} in flight; {} latency samples; {:.0} s in all",
        options.events,
        options.samples,
        began.elapsed().as_secs_f64()
    );
    println!("| set-up | handled/s | refused | ack p50 | ack p99 | handled p50 | handled p99 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        println!(
            "| {} | {:.0} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            row.setup,
            row.per_second,
            row.refused,
            row.ack.0.as_secs_f64() * 1e3,
            row.ack.1.as_secs_f64() * 1e3,
            row.handled.0.as_secs_f64() * 1e3,
            row.handled.1.as_secs_f64() * 1e3,
        );
    }
}
