//! Replicas as real processes: the `lag-bot-replica` program started against one lag-sim and
//! one Redis, a round-robin balancer in front of their webhook receivers, and the test's own
//! view of Redis. Shared by the replicated tests and the replica benchmark.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use redis::Commands as _;
use redis::aio::ConnectionManager;

/// The variable naming the Redis the replicated tests use.
pub const REDIS_VAR: &str = "LAG_TEST_REDIS_URL";

/// The test's Redis: its URL, a connection, and a random key prefix of the test's own.
pub struct TestRedis {
    pub url: String,
    pub conn: ConnectionManager,
    pub prefix: String,
}

impl TestRedis {
    /// Connects to `LAG_TEST_REDIS_URL`, failing at once with a clear message when it is unset
    /// or does not answer.
    pub async fn connect() -> Self {
        let url = std::env::var(REDIS_VAR).unwrap_or_else(|_| {
            panic!("{REDIS_VAR} is not set: point it at a Redis, e.g. redis://127.0.0.1:6379/ (see README, Testing)")
        });
        let client = redis::Client::open(url.as_str())
            .unwrap_or_else(|err| panic!("{REDIS_VAR}={url:?} is not a Redis URL: {err}"));
        let connect = tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager());
        let mut conn = match connect.await {
            Ok(Ok(conn)) => conn,
            Ok(Err(err)) => panic!("the Redis at {REDIS_VAR}={url:?} does not answer: {err}"),
            Err(_) => panic!("the Redis at {REDIS_VAR}={url:?} does not answer within 5 s"),
        };
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|err| {
                panic!("the Redis at {REDIS_VAR}={url:?} does not answer: {err}")
            });
        let prefix = format!("lag-bot-test:{:016x}", rand::random::<u64>());
        Self { url, conn, prefix }
    }

    /// The prefix the replicas' records go under.
    pub fn record(&self) -> String {
        format!("{}:record", self.prefix)
    }

    /// A room's recorded contents, in the order they were handled.
    pub async fn handled(&self, room_id: &str) -> Vec<String> {
        let mut conn = self.conn.clone();
        redis::cmd("LRANGE")
            .arg(format!("{}:room:{room_id}", self.record()))
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .expect("Redis answers")
    }

    /// How many handler runs recorded something (a run again after a crash counts again).
    pub async fn runs(&self) -> u64 {
        self.get_u64(&format!("{}:runs", self.record())).await
    }

    pub async fn get_u64(&self, key: &str) -> u64 {
        let mut conn = self.conn.clone();
        let value: Option<u64> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("Redis answers");
        value.unwrap_or(0)
    }

    pub async fn set(&self, key: &str, value: &str) {
        let mut conn = self.conn.clone();
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query_async(&mut conn)
            .await
            .expect("Redis answers");
    }

    /// How many intake entries each consumer has read and not yet acknowledged, over the
    /// robot's partitions (`partitions` of them), by consumer name.
    pub async fn pending_by_consumer(&self, partitions: u16) -> Vec<(String, u64)> {
        let mut conn = self.conn.clone();
        let mut counts: Vec<(String, u64)> = Vec::new();
        for p in 0..partitions {
            let summary: redis::Value = redis::cmd("XPENDING")
                .arg(format!("{}:intake:p{p}", self.prefix))
                .arg("workers")
                .query_async(&mut conn)
                .await
                .expect("Redis answers");
            let redis::Value::Array(fields) = summary else {
                continue;
            };
            let Some(redis::Value::Array(consumers)) = fields.get(3) else {
                continue;
            };
            for consumer in consumers {
                let redis::Value::Array(pair) = consumer else {
                    continue;
                };
                let (Some(redis::Value::BulkString(name)), Some(redis::Value::BulkString(n))) =
                    (pair.first(), pair.get(1))
                else {
                    continue;
                };
                let name = String::from_utf8_lossy(name).into_owned();
                let n: u64 = String::from_utf8_lossy(n).parse().unwrap_or(0);
                match counts.iter_mut().find(|(c, _)| *c == name) {
                    Some((_, total)) => *total += n,
                    None => counts.push((name, n)),
                }
            }
        }
        counts
    }
}

/// Every key under the test's prefix is deleted when the test ends, passed or failed.
impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let pattern = format!("{}:*", self.prefix);
        let keys: Vec<String> = match conn.scan_match(&pattern) {
            Ok(keys) => keys.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(chunk).query(&mut conn);
        }
    }
}

/// What every replica of one robot is started with.
#[derive(Clone)]
pub struct ReplicaSetup {
    pub key: String,
    pub base_url: String,
    pub secret: String,
    pub redis_url: String,
    pub redis_prefix: String,
    pub record: String,
    pub time_scale: f64,
    /// `webhook`, `sse` or `poll`.
    pub transport: &'static str,
    /// Whether the robot itself uses Redis (`LAG_REDIS_URL`); without, it runs in memory and
    /// only records there.
    pub replicated: bool,
    /// Extra variables (`REPLICA_LEASE_MS`, `REPLICA_ATTEMPTS`, ...).
    pub extra: Vec<(String, String)>,
}

/// One replica process; killed when dropped, so a failing test leaves none behind.
pub struct Replica {
    child: Child,
    pub port: u16,
    http: reqwest::Client,
}

impl Replica {
    /// Starts a replica: a webhook one receiving on a free loopback port, or an SSE or
    /// long-poll one serving its metrics and probes there.
    pub fn spawn(setup: &ReplicaSetup) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_lag-bot-replica"));
        command
            .env("LAG_ROBOT_API_KEY", &setup.key)
            .env("LAG_API_BASE", &setup.base_url)
            .env("LAG_TRANSPORT", setup.transport)
            .env("REPLICA_REDIS_URL", &setup.redis_url)
            .env("REPLICA_RECORD", &setup.record)
            .env("REPLICA_TIME_SCALE", setup.time_scale.to_string())
            .env(
                "RUST_LOG",
                std::env::var("REPLICA_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if setup.transport == "webhook" {
            command
                .env("LAG_WEBHOOK_SECRET", &setup.secret)
                .env("LAG_LISTEN", format!("127.0.0.1:{port}"));
        } else {
            // The probes and metrics of an SSE or long-poll robot are on a listener of their own.
            command.env("LAG_METRICS_LISTEN", format!("127.0.0.1:{port}"));
        }
        if setup.replicated {
            command
                .env("LAG_REDIS_URL", &setup.redis_url)
                .env("LAG_REDIS_PREFIX", &setup.redis_prefix);
        }
        for (name, value) in &setup.extra {
            command.env(name, value);
        }
        let child = command.spawn().expect("the replica program starts");
        Self {
            child,
            port,
            http: reqwest::Client::new(),
        }
    }

    /// The process id, which starts the replica's consumer name in the intake.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where Lag (or the balancer) delivers to this replica.
    pub fn webhook_url(&self) -> String {
        format!("http://127.0.0.1:{}/webhook", self.port)
    }

    /// Waits until `/readyz` answers 200 (the transport is up and Redis answers).
    pub async fn ready(&mut self, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        let url = format!("http://127.0.0.1:{}/readyz", self.port);
        loop {
            if let Ok(answer) = self.http.get(&url).send().await
                && answer.status() == StatusCode::OK
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("a replica exited before it was ready: {status}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "a replica was not ready within {patience:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A series of the replica's `/metrics` (0 when absent).
    pub async fn metric(&self, series: &str) -> f64 {
        let url = format!("http://127.0.0.1:{}/metrics", self.port);
        let text = self
            .http
            .get(&url)
            .send()
            .await
            .expect("the replica serves its metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|line| {
                line.strip_prefix(series)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0.0)
    }

    /// Kills the process at once (SIGKILL): no drain, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the process gracefully (SIGTERM) and waits for it, failing when it does not
    /// stop cleanly in time.
    pub async fn stop(mut self, patience: Duration) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").arg("-TERM").arg(&pid).status();
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "a replica stopped with {status}");
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "a replica did not stop within {patience:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A round-robin balancer in front of the replicas' receivers, as a load balancer would be:
/// a delivery goes to the next replica, and to the one after when a replica does not answer.
pub struct Balancer {
    pub url: String,
    urls: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Targets {
    urls: Arc<Mutex<Vec<String>>>,
    next: Arc<AtomicUsize>,
    http: reqwest::Client,
}

impl Balancer {
    /// A balancer with no replicas behind it yet (see [`Balancer::serve`]).
    pub async fn start() -> Self {
        let targets = Targets {
            urls: Arc::default(),
            next: Arc::default(),
            http: reqwest::Client::new(),
        };
        let urls = Arc::clone(&targets.urls);
        let app = axum::Router::new()
            .route("/webhook", axum::routing::post(forward))
            .with_state(targets);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the balancer binds");
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, urls, task }
    }

    /// Sends deliveries to these replicas from now on.
    pub fn serve(&self, replicas: &[Replica]) {
        *self.urls.lock().unwrap() = replicas.iter().map(Replica::webhook_url).collect();
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    State(targets): State<Targets>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let urls = targets.urls.lock().unwrap().clone();
    let first = targets.next.fetch_add(1, Ordering::Relaxed);
    for i in 0..urls.len() {
        let url = &urls[(first + i) % urls.len()];
        let mut request = targets.http.post(url).body(body.clone());
        for name in [
            "content-type",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        ] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value.as_bytes());
            }
        }
        if let Ok(answer) = request.send().await {
            let status =
                StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, answer.bytes().await.unwrap_or_default()).into_response();
        }
    }
    (StatusCode::BAD_GATEWAY, "no replica answered").into_response()
}
