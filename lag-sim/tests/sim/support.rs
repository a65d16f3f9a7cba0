//! Helpers shared by the integration tests: an HTTP client acting as a robot, an SSE reader, a
//! webhook receiver and an independent Standard Webhooks verifier.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use lag_sim::{Demo, RobotSpec, Sim, SimConfig};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Notify;

/// Generous bound that only exists so a broken test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub async fn sim() -> Sim {
    Sim::start(SimConfig::default()).await.expect("sim starts")
}

pub async fn sim_with(config: SimConfig) -> Sim {
    Sim::start(config).await.expect("sim starts")
}

/// The default configuration at a time scale (simulated seconds per real second).
pub fn scaled(time_scale: f64) -> SimConfig {
    SimConfig {
        time_scale,
        ..SimConfig::default()
    }
}

/// The default configuration with long-polls held for `millis` instead of Lag's 30 s, so that a
/// poll of an empty queue comes back soon.
pub fn short_polls(millis: u64) -> SimConfig {
    SimConfig {
        poll_timeout: Duration::from_millis(millis),
        ..SimConfig::default()
    }
}

/// A default emulator with the demo world, and a client calling as its robot "Helper".
pub async fn demo() -> (Sim, Demo, Api) {
    demo_with(SimConfig::default(), RobotSpec::new("Helper")).await
}

/// An emulator running `config` with the demo world around `robot`, and a client calling as
/// that robot.
pub async fn demo_with(config: SimConfig, robot: RobotSpec) -> (Sim, Demo, Api) {
    let sim = sim_with(config).await;
    let demo = sim.seed_demo_with(robot).expect("the demo world is built");
    let api = Api::robot(&sim, &demo.robot.key);
    (sim, demo, api)
}

/// Waits until `count` SSE streams or long-polls are open on `sim`.
pub async fn streams_open(sim: &Sim, count: usize) {
    let deadline = Instant::now() + PATIENCE;
    while sim.open_streams() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} streams opened",
            sim.open_streams()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One HTTP response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts Lag's error envelope with this status, and returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        let body = self.json();
        let object = body.as_object().expect("envelope is an object");
        assert_eq!(object.len(), 3, "envelope has exactly three keys: {body}");
        assert_eq!(body["statusCode"], status, "statusCode mirrors the status");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
        let message = body["message"].as_str().expect("message is a string");
        assert!(!message.is_empty());
        assert!(
            self.header("x-request-id").is_some(),
            "x-request-id on errors too"
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "errors are JSON"
        );
        message.to_owned()
    }
}

/// A raw HTTP client speaking to one emulator.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Option<String>,
}

impl Api {
    pub fn anonymous(sim: &Sim) -> Self {
        Self::at(&sim.base_url(), None)
    }

    pub fn robot(sim: &Sim, key: &str) -> Self {
        Self::at(&sim.base_url(), Some(key))
    }

    /// A client for the emulator at `base`, such as one running as a separate program; with a
    /// key it calls as that robot.
    pub fn at(base: &str, key: Option<&str>) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .timeout(PATIENCE)
                .build()
                .expect("client"),
            auth: key.map(|key| format!("Robot {key}")),
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        request
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request completes");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body reads");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(reqwest::Method::PATCH, path).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(reqwest::Method::PUT, path).json(body))
            .await
    }

    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        self.send(
            self.request(method, path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// One long-poll round trip; returns the array of events.
    pub async fn poll(&self) -> Vec<Value> {
        let reply = self.get("/robots/@me/events/poll").await;
        assert_eq!(reply.status, 200, "poll failed: {}", reply.text);
        reply
            .json()
            .as_array()
            .cloned()
            .expect("poll returns an array")
    }

    /// Polls until `count` events arrived (or panics after [`PATIENCE`]).
    pub async fn poll_until(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        let mut events = Vec::new();
        while events.len() < count {
            assert!(
                Instant::now() < deadline,
                "only {} of {count} events arrived: {events:#?}",
                events.len()
            );
            events.extend(self.poll().await);
        }
        events
    }
}

/// One parsed SSE frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub comment: Option<String>,
}

impl Frame {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.data.as_deref().expect("frame has data")).expect("data is JSON")
    }
}

/// Reads an SSE response frame by frame, parsing the wire format independently.
pub struct SseReader {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<Bytes>>,
    buffer: String,
    frames: VecDeque<Frame>,
    pub headers: reqwest::header::HeaderMap,
}

impl SseReader {
    pub async fn connect(api: &Api, last_event_id: Option<&str>) -> Self {
        Self::open(api, "/robots/@me/events/sse", last_event_id).await
    }

    /// Follows any SSE endpoint of the emulator, such as the admin API's `/_sim/feed`.
    pub async fn open(api: &Api, path: &str, last_event_id: Option<&str>) -> Self {
        let mut request = api.request(reqwest::Method::GET, path);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let client = reqwest::Client::new();
        let request = request.build().expect("request builds");
        let response = client.execute(request).await.expect("sse connects");
        assert_eq!(response.status(), 200, "sse status");
        let headers = response.headers().clone();
        Self {
            stream: response.bytes_stream().boxed(),
            buffer: String::new(),
            frames: VecDeque::new(),
            headers,
        }
    }

    /// The next frame (including comment-only frames), or `None` when the stream ends or fails.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = self.frames.pop_front() {
                return Some(frame);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("an SSE frame arrives in time")?;
            let chunk = chunk.ok()?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in block.lines() {
                    if let Some(rest) = line.strip_prefix(':') {
                        frame.comment = Some(rest.trim().to_owned());
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match field {
                            "id" => frame.id = Some(value),
                            "event" => frame.event = Some(value),
                            "data" => frame.data = Some(value),
                            other => panic!("unexpected SSE field {other:?}"),
                        }
                    }
                }
                self.frames.push_back(frame);
            }
        }
    }

    /// The next frame that carries an event, skipping keepalive comments.
    pub async fn next_event(&mut self) -> Option<Frame> {
        loop {
            let frame = self.next_frame().await?;
            if frame.data.is_some() {
                return Some(frame);
            }
        }
    }
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Hook {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("webhook request lacks {name}"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

#[derive(Default)]
struct ReceiverState {
    hooks: Mutex<Vec<Hook>>,
    script: Mutex<VecDeque<(u16, Duration)>>,
    notify: Notify,
}

/// A webhook endpoint on loopback that records every request and answers from a script
/// (status and delay per request; 200 at once when the script runs out).
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("receiver binds");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Self {
            url: format!("http://{addr}/hook"),
            state,
            task,
        }
    }

    /// Answers the next requests with these statuses, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = u16>) {
        self.script_with_delay(replies.into_iter().map(|s| (s, Duration::ZERO)));
    }

    pub fn script_with_delay(&self, replies: impl IntoIterator<Item = (u16, Duration)>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.state.hooks.lock().unwrap().clone()
    }

    /// Waits until at least `count` requests arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Hook> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let notified = self.state.notify.notified();
            let hooks = self.hooks();
            if hooks.len() >= count {
                return hooks;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {count} webhook requests arrived",
                hooks.len()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (status, delay) = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, Duration::ZERO));
    state.hooks.lock().unwrap().push(Hook {
        headers,
        body,
        at: Instant::now(),
    });
    state.notify.notify_waiters();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).expect("valid status")
}

/// Standard Webhooks verification, written independently of the emulator: returns the secrets
/// (`whsec_...`) whose signature appears in the header.
pub fn verify(hook: &Hook, secrets: &[String]) -> Vec<String> {
    let id = hook.header("webhook-id");
    let timestamp = hook.header("webhook-timestamp");
    let signatures: Vec<&str> = hook.header("webhook-signature").split(' ').collect();
    let mut signed = Vec::new();
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(&hook.body);
    secrets
        .iter()
        .filter(|secret| {
            let key = BASE64
                .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
                .expect("secret is base64");
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key size");
            mac.update(&signed);
            let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
            signatures.contains(&expected.as_str())
        })
        .cloned()
        .collect()
}

/// The robot API path of a room's messages.
pub fn messages_path(server_id: &str, room_id: &str) -> String {
    format!("/robots/@me/servers/{server_id}/rooms/{room_id}/messages")
}

/// A robot, "Hooked", that receives webhooks at `receiver`.
pub fn webhook_robot(receiver: &Receiver) -> RobotSpec {
    RobotSpec::new("Hooked").transport(lag_sim::Transport::Webhook {
        url: receiver.url.clone(),
    })
}

/// Waits until the robot's delivery log has at least `count` entries.
pub async fn log_len(sim: &Sim, robot_id: &str, count: usize) -> Vec<lag_sim::DeliveryRecord> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let log = sim.deliveries(robot_id);
        if log.len() >= count {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} log entries: {log:#?}",
            log.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
