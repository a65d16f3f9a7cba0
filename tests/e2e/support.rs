//! What the end-to-end tests share: lag-sim worlds and the robots and clients wired to them,
//! recording listeners, webhook signing, reading the robot's metrics, and ways to wait for a
//! condition without timing assertions.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use lag_bot::client::{Client, ClientBuilder, RateLimits};
use lag_bot::events::RoomMessage;
use lag_bot::metrics::Metrics;
use lag_bot::transport::{Transport, WebhookSecret};
use lag_bot::{Ctx, Listener, Robot, RobotBuilder, RobotHandle};
use lag_sim::{Demo, RobotSpec, Sim, SimConfig};
use sha2::Sha256;
use tokio::sync::Semaphore;

/// Lag's clock runs this much faster in these tests (webhook retries after 50 ms, SSE
/// keepalives every 300 ms, long-poll holds of 300 ms); the robot's pacing is scaled to match.
pub const SCALE: f64 = 100.0;

/// How long any wait may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct World {
    pub sim: Sim,
    pub demo: Demo,
}

/// A sim with the demo world (rooms general/welcome/mod-log, alice/bob/carol) and the robot
/// `Helper` set up for `transport`.
pub async fn world(transport: lag_sim::Transport) -> World {
    world_with(scaled(SCALE), transport).await
}

/// Like [`world`], with the sim configured by `config` as given (time scale included).
pub async fn world_with(config: SimConfig, transport: lag_sim::Transport) -> World {
    let sim = Sim::start(config).await.expect("lag-sim starts");
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(transport))
        .expect("demo world");
    World { sim, demo }
}

impl World {
    /// A robot for the demo robot's key, paced like Lag under the sim's time scale.
    pub fn robot(&self, transport: impl Into<Transport>) -> Robot {
        self.builder(transport).build().expect("robot builds")
    }

    /// The builder of [`World::robot`], for a robot with state.
    pub fn builder(&self, transport: impl Into<Transport>) -> RobotBuilder {
        Robot::builder()
            .key(&self.demo.robot.key)
            .base_url(self.sim.base_url())
            .rate_limits(RateLimits::lag().time_scale(self.sim.config().time_scale))
            .transport(transport)
    }

    /// Alice posts `content` in `general`.
    pub fn post(&self, content: &str) -> lag_sim::RoomMessage {
        self.sim
            .post(&self.demo.alice, &self.demo.general, content)
            .expect("alice posts")
    }

    /// Alice posts each of `contents` in `general`, in order.
    pub fn post_all<S: AsRef<str>>(&self, contents: impl IntoIterator<Item = S>) {
        for content in contents {
            self.post(content.as_ref());
        }
    }

    /// Alice's message `content` in `general`, with id `message_id`, as Lag delivers it to a
    /// webhook: the body of a delivery posted by hand.
    pub fn message_body(&self, message_id: &str, content: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": "room.message",
            "serverId": self.demo.server_id,
            "timestamp": "2026-01-01T00:00:00.000Z",
            "data": {
                "roomId": self.demo.general,
                "messageId": message_id,
                "senderId": self.demo.alice,
                "senderName": "alice",
                "content": content,
                "createdAt": "2026-01-01T00:00:00.000Z",
                "isBot": false,
                "robotId": null,
                "mentions": [],
                "replyToId": null
            }
        }))
        .unwrap()
    }

    /// The contents of a room's messages, oldest first.
    pub fn contents(&self, room_id: &str) -> Vec<String> {
        contents(&self.sim, room_id)
    }

    /// The robot's messages in a room, oldest first.
    pub fn robot_messages(&self, room_id: &str) -> Vec<lag_sim::RoomMessage> {
        let mut messages: Vec<_> = self
            .sim
            .messages(room_id)
            .into_iter()
            .filter(|m| m.robot_id.as_deref() == Some(self.demo.robot.id.as_str()))
            .collect();
        messages.reverse();
        messages
    }
}

/// A sim configuration whose clock runs `time_scale` times faster than Lag's.
pub fn scaled(time_scale: f64) -> SimConfig {
    SimConfig {
        time_scale,
        ..SimConfig::default()
    }
}

/// The [`world`] of a long-poll robot as a pair, for tests that drive a client or the sim by
/// hand instead of running a robot.
pub async fn demo() -> (Sim, Demo) {
    demo_with(scaled(SCALE)).await
}

/// Like [`demo`], with the sim configured by `config` as given (time scale included).
pub async fn demo_with(config: SimConfig) -> (Sim, Demo) {
    let World { sim, demo } = world_with(config, lag_sim::Transport::LongPoll).await;
    (sim, demo)
}

/// A client for `key` against `sim`, paced like Lag under the sim's time scale.
pub fn paced_client(sim: &Sim, key: &str) -> ClientBuilder {
    Client::builder(key)
        .base_url(sim.base_url())
        .rate_limits(RateLimits::lag().time_scale(sim.config().time_scale))
}

/// The contents of a room's messages in `sim`, oldest first.
pub fn contents(sim: &Sim, room_id: &str) -> Vec<String> {
    let mut contents: Vec<String> = sim
        .messages(room_id)
        .into_iter()
        .map(|m| m.content)
        .collect();
    contents.reverse();
    contents
}

/// lag-sim's SSE keepalive interval under [`SCALE`].
pub fn keepalive() -> Duration {
    Duration::from_secs(30).div_f64(SCALE)
}

/// A free loopback port for a webhook robot, and the URL lag-sim should deliver to.
pub fn reserve() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    (listener, url)
}

/// Webhook signing secrets (`whsec_...`), as a robot is configured with them.
pub fn secrets(list: &[String]) -> Vec<WebhookSecret> {
    list.iter()
        .map(|s| WebhookSecret::new(s).unwrap())
        .collect()
}

/// Polls `check` until it gives a value; fails the test after [`PATIENCE`].
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Awaits `future`, failing the test after [`PATIENCE`] instead of hanging.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what}"))
}

/// Stops the robot gracefully and the sim, checking the robot stopped cleanly.
pub async fn stop(handle: RobotHandle, world: World) {
    within("the robot to stop", handle.shutdown())
        .await
        .expect("the robot stops cleanly");
    world.sim.shutdown().await;
}

/// A handler log shared between the test and the robot.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    pub fn push(&self, item: impl Into<String>) {
        self.0.lock().unwrap().push(item.into());
    }

    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A listener logging the content of every room message to `seen`.
pub fn recorder(seen: &Seen) -> Listener {
    let seen = seen.clone();
    Listener::new(move |_ctx: Ctx, msg: RoomMessage| {
        let seen = seen.clone();
        async move { seen.push(msg.content) }
    })
}

/// Like [`recorder`], but each message first waits for a permit of `gate`, so a test decides
/// when handlers finish.
pub fn gated_recorder(seen: &Seen, gate: &Arc<Semaphore>) -> Listener {
    let (seen, gate) = (seen.clone(), Arc::clone(gate));
    Listener::new(move |_ctx: Ctx, msg: RoomMessage| {
        let (seen, gate) = (seen.clone(), Arc::clone(&gate));
        async move {
            gate.acquire().await.expect("the gate stays open").forget();
            seen.push(msg.content);
        }
    })
}

/// Like [`recorder`], and each message is answered with `echo: <content>` as a reply to it.
pub fn replying_recorder(seen: &Seen) -> Listener {
    let seen = seen.clone();
    Listener::new(move |ctx: Ctx, msg: RoomMessage| {
        let seen = seen.clone();
        async move {
            seen.push(msg.content.clone());
            ctx.reply(format!("echo: {}", msg.content)).await.map(drop)
        }
    })
}

/// A listener logging `start <content>` for each message, then waiting for a permit of `gate`,
/// then logging `end <content>`: a test sees which handlers are in flight.
pub fn start_end_recorder(seen: &Seen, gate: &Arc<Semaphore>) -> Listener {
    let (seen, gate) = (seen.clone(), Arc::clone(gate));
    Listener::new(move |_ctx: Ctx, msg: RoomMessage| {
        let (seen, gate) = (seen.clone(), Arc::clone(&gate));
        async move {
            seen.push(format!("start {}", msg.content));
            gate.acquire().await.expect("the gate stays open").forget();
            seen.push(format!("end {}", msg.content));
        }
    })
}

/// The value of one series (exact name and labels) in the robot's metrics text, 0 when the
/// series is not there.
pub fn metric(metrics: &Metrics, series: &str) -> f64 {
    exported(metrics, series).unwrap_or(0.0)
}

/// Like [`metric`], but `None` when the series is not exported at all.
pub fn exported(metrics: &Metrics, series: &str) -> Option<f64> {
    metrics.encode().lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// Signs a webhook body as Lag does (Standard Webhooks), for posting deliveries by hand.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
