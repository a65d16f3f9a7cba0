//! Run with: `cargo run --example notify` (with no key it runs against a local Lag and prints a `curl` line to try)
//!
//! A notification robot: it brings outside services into a room. Besides receiving Lag's
//! events, the robot serves HTTP routes of its own (`Robot::routes`), on the same listener as
//! its webhook receiver, or on `LAG_LISTEN` for an SSE or long-poll robot:
//!
//! - `POST /notify`: `{"room": "general", "text": "Deploy finished"}` with
//!   `Authorization: Bearer $NOTIFY_TOKEN`, from any script (`room` by name or id; the
//!   configured room when left out; an `Idempotency-Key` header names a delivery);
//! - `POST /notify/github`: GitHub webhooks (`push`, `pull_request`, `workflow_run`), verified
//!   by their `X-Hub-Signature-256` HMAC with `GITHUB_WEBHOOK_SECRET`;
//! - `POST /notify/alertmanager`: Prometheus Alertmanager webhooks, firing and resolved alerts
//!   of a group in one message, with the same bearer token (`http_config.authorization`).
//!
//! Each becomes a short message in `NOTIFY_ROOM` (default `general`). A bad token or signature
//! is answered 401, a payload it does not understand 400, and a delivery it has already taken
//! (the same `X-GitHub-Delivery`, `Idempotency-Key` or, without one, the same body within
//! `NOTIFY_DEDUP_SECS`, default 600) 200 without posting it twice. Notifications are queued
//! (202) and posted paced under Lag's message limit: during a burst, the ones that pile up go
//! out grouped in as few messages as fit, never dropped; a full queue answers 503 so that the
//! sender retries. An endpoint whose secret is not set answers 404.
//!
//! It is configured like any `lag-bot` robot, from `LAG_ROBOT_API_KEY`, `LAG_API_BASE`,
//! `LAG_TRANSPORT`, `LAG_WEBHOOK_SECRET` and `LAG_LISTEN`. With no `LAG_ROBOT_API_KEY` set,
//! lag-bot's `dev` feature runs it against a local Lag in this process, with the token
//! `dev-token` and the GitHub secret `dev-secret` unless set: run the printed `curl` line in
//! another terminal and watch the message arrive in the chat. Stop it with Ctrl-C: it posts
//! what it has queued, then exits.

mod outbox;
mod render;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, Mac};
use lag_bot::{Client, Error, ErrorKind, Robot, RobotBuilder, RouteCtx};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::OnceCell;

use outbox::{Note, Outbox, Refused, Seen};
use render::Rendered;

/// How the robot is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The room notifications go to unless a generic one names another (`NOTIFY_ROOM`).
    pub room: String,
    /// The bearer token of `/notify` and `/notify/alertmanager` (`NOTIFY_TOKEN`).
    pub token: Option<String>,
    /// The secret GitHub signs its deliveries with (`GITHUB_WEBHOOK_SECRET`).
    pub github_secret: Option<String>,
    /// How long a delivery id is remembered (`NOTIFY_DEDUP_SECS`).
    pub dedup_window: Duration,
}

impl Settings {
    /// Reads the settings from the environment; in dev mode (no `LAG_ROBOT_API_KEY`) the
    /// token and the secret have defaults.
    ///
    /// # Errors
    ///
    /// A configuration error naming a malformed variable.
    pub fn from_env() -> lag_bot::Result<Self> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let dev = var("LAG_ROBOT_API_KEY").is_none();
        let dedup_window = match var("NOTIFY_DEDUP_SECS") {
            None => Duration::from_secs(600),
            Some(secs) => Duration::from_secs(secs.parse().map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    format!("NOTIFY_DEDUP_SECS={secs:?} is not a number of seconds"),
                )
            })?),
        };
        Ok(Self {
            room: var("NOTIFY_ROOM").unwrap_or_else(|| "general".to_owned()),
            token: var("NOTIFY_TOKEN").or_else(|| dev.then(|| "dev-token".to_owned())),
            github_secret: var("GITHUB_WEBHOOK_SECRET")
                .or_else(|| dev.then(|| "dev-secret".to_owned())),
            dedup_window,
        })
    }
}

/// The robot's state: its settings, the deliveries it has taken, and its outbox.
#[derive(Debug)]
pub struct Notify {
    settings: Settings,
    seen: Seen,
    outbox: OnceCell<Outbox>,
    /// Room ids by name and id, filled when a room is asked for; one look-up at a time, so
    /// that a burst of deliveries costs Lag one call.
    rooms: tokio::sync::Mutex<HashMap<String, String>>,
}

impl Notify {
    /// The state for `settings`; its outbox starts with the robot.
    pub fn new(settings: Settings) -> Self {
        Self {
            seen: Seen::new(settings.dedup_window, 10_000),
            settings,
            outbox: OnceCell::new(),
            rooms: tokio::sync::Mutex::default(),
        }
    }

    /// Waits until every queued notification is posted, once the robot has stopped.
    pub async fn drained(&self) {
        if let Some(outbox) = self.outbox.get() {
            outbox.drained().await;
        }
    }

    /// The id of room `room` (a name, with or without `#`, or an id).
    async fn room_id(&self, client: &Client, room: &str) -> Result<String, Answer> {
        let name = room.strip_prefix('#').unwrap_or(room);
        let mut cache = self.rooms.lock().await;
        if let Some(id) = cache.get(name) {
            return Ok(id.clone());
        }
        let rooms = client.rooms().await.map_err(Answer::lag)?;
        for listed in &rooms {
            if let Some(listed_name) = &listed.name {
                cache.insert(listed_name.clone(), listed.id.clone());
            }
            cache.insert(listed.id.clone(), listed.id.clone());
        }
        cache.get(name).cloned().ok_or_else(|| {
            Answer::error(
                StatusCode::BAD_REQUEST,
                format!("the server has no room {room:?}"),
            )
        })
    }

    /// Takes a rendered delivery with id `id`: queues its message for `room`, once.
    async fn take(
        &self,
        robot: &RouteCtx<Notify>,
        id: String,
        room: &str,
        rendered: Rendered,
    ) -> Answer {
        let text = match rendered {
            Rendered::Ignore(reason) => return Answer::ok("ignored", json!({ "reason": reason })),
            Rendered::Post(text) => text,
        };
        let room_id = match self.room_id(robot.client(), room).await {
            Ok(room_id) => room_id,
            Err(answer) => return answer,
        };
        if !self.seen.claim(&id) {
            return Answer::ok("duplicate", json!({ "id": id }));
        }
        let Some(outbox) = self.outbox.get() else {
            self.seen.release(&id);
            return Answer::unavailable("the robot is starting");
        };
        match outbox.push(Note { room_id, text }) {
            Ok(()) => Answer::new(
                StatusCode::ACCEPTED,
                json!({ "status": "queued", "id": id }),
            ),
            Err(refused) => {
                self.seen.release(&id);
                Answer::unavailable(match refused {
                    Refused::Full => "too many notifications are waiting",
                    Refused::Closed => "the robot is stopping",
                })
            }
        }
    }
}

/// An HTTP answer: a status and a JSON body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: serde_json::Value,
}

impl Answer {
    fn new(status: StatusCode, body: serde_json::Value) -> Self {
        Self { status, body }
    }

    fn ok(status: &str, mut extra: serde_json::Value) -> Self {
        extra["status"] = json!(status);
        Self::new(StatusCode::OK, extra)
    }

    fn error(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, json!({ "error": message.into() }))
    }

    fn unauthorized(message: &str) -> Self {
        Self::error(StatusCode::UNAUTHORIZED, message)
    }

    fn unavailable(message: &str) -> Self {
        Self::error(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    fn lag(error: Error) -> Self {
        tracing::warn!(%error, "Lag did not answer a room look-up");
        Self::error(StatusCode::BAD_GATEWAY, format!("Lag: {}", error.message()))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let retry = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("10"));
        }
        response
    }
}

/// Checks `Authorization: Bearer <token>` in constant time.
fn bearer(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

/// Checks GitHub's `X-Hub-Signature-256: sha256=<hex>` over the raw body, in constant time.
fn github_signed(headers: &HeaderMap, secret: &str, body: &[u8]) -> bool {
    let Some(signature) = headers
        .get("x-hub-signature-256")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("sha256="))
        .and_then(|hex| hex::decode(hex).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// A delivery id from the body, for senders that give none.
fn body_id(source: &str, body: &[u8]) -> String {
    format!("{source}:{}", hex::encode(Sha256::digest(body)))
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn not_configured(variable: &str) -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        format!("this endpoint is off: set {variable} to turn it on"),
    )
}

/// `POST /notify`: a generic notification.
async fn generic(State(robot): State<RouteCtx<Notify>>, headers: HeaderMap, body: Bytes) -> Answer {
    let notify = robot.state();
    let Some(token) = &notify.settings.token else {
        return not_configured("NOTIFY_TOKEN");
    };
    if !bearer(&headers, token) {
        return Answer::unauthorized("a bearer token is required (Authorization: Bearer ...)");
    }
    let note: render::Generic = match serde_json::from_slice(&body) {
        Ok(note) => note,
        Err(error) => {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"room\": \"...\", \"text\": \"...\"}}: {error}"),
            );
        }
    };
    let text = note.text.trim();
    let length = text.chars().count();
    if length == 0 || length > lag_bot::model::MAX_CONTENT_CHARS {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            format!(
                "text has {length} characters; a message holds 1 to {}",
                lag_bot::model::MAX_CONTENT_CHARS
            ),
        );
    }
    let id = match header_text(&headers, "idempotency-key") {
        Some(key) => format!("notify:{key}"),
        None => body_id("notify", &body),
    };
    let room = note.room.as_deref().unwrap_or(&notify.settings.room);
    notify
        .take(&robot, id, room, Rendered::Post(text.to_owned()))
        .await
}

/// `POST /notify/github`: a GitHub webhook delivery.
async fn github(State(robot): State<RouteCtx<Notify>>, headers: HeaderMap, body: Bytes) -> Answer {
    let notify = robot.state();
    let Some(secret) = &notify.settings.github_secret else {
        return not_configured("GITHUB_WEBHOOK_SECRET");
    };
    if !github_signed(&headers, secret, &body) {
        return Answer::unauthorized("X-Hub-Signature-256 does not match the body");
    }
    let Some(event) = header_text(&headers, "x-github-event") else {
        return Answer::error(StatusCode::BAD_REQUEST, "X-GitHub-Event is missing");
    };
    let rendered = match render::github(event, &body) {
        Ok(rendered) => rendered,
        Err(message) => return Answer::error(StatusCode::BAD_REQUEST, message),
    };
    let id = match header_text(&headers, "x-github-delivery") {
        Some(delivery) => format!("github:{delivery}"),
        None => body_id("github", &body),
    };
    let room = notify.settings.room.clone();
    notify.take(&robot, id, &room, rendered).await
}

/// `POST /notify/alertmanager`: an Alertmanager webhook delivery.
async fn alertmanager(
    State(robot): State<RouteCtx<Notify>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let notify = robot.state();
    let Some(token) = &notify.settings.token else {
        return not_configured("NOTIFY_TOKEN");
    };
    if !bearer(&headers, token) {
        return Answer::unauthorized("a bearer token is required (Authorization: Bearer ...)");
    }
    let rendered = match render::alertmanager(&body) {
        Ok(rendered) => rendered,
        Err(message) => return Answer::error(StatusCode::BAD_REQUEST, message),
    };
    let room = notify.settings.room.clone();
    notify
        .take(&robot, body_id("alertmanager", &body), &room, rendered)
        .await
}

/// The robot, as `main` and the tests build it: `lag` is pointed at Lag (or the test kit's
/// local Lag), `notify` is its state.
///
/// # Errors
///
/// As `RobotBuilder::build_from_env`.
pub fn robot(lag: RobotBuilder, notify: Arc<Notify>) -> lag_bot::Result<Robot<Notify>> {
    let robot = lag.with_state(Arc::clone(&notify)).build_from_env()?;
    let outbox = Outbox::start(robot.client().clone(), robot.shutdown_handle());
    notify
        .outbox
        .set(outbox)
        .map_err(|_| Error::new(ErrorKind::Config, "this state already serves a robot"))?;
    let routes = Router::new()
        .route("/notify", post(generic))
        .route("/notify/github", post(github))
        .route("/notify/alertmanager", post(alertmanager));
    Ok(robot.routes(routes))
}

#[tokio::main]
async fn main() -> lag_bot::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let settings = Settings::from_env()?;
    if settings.token.is_none() {
        tracing::warn!("NOTIFY_TOKEN is not set: /notify and /notify/alertmanager are off");
    }
    if settings.github_secret.is_none() {
        tracing::warn!("GITHUB_WEBHOOK_SECRET is not set: /notify/github is off");
    }
    let notify = Arc::new(Notify::new(settings));
    let robot = robot(Robot::builder(), Arc::clone(&notify))?;
    // Look the room up now, so that a missing one stops the robot before it starts.
    if let Err(error) = robot.client().room_named(&notify.settings.room).await {
        return Err(Error::new(
            ErrorKind::Config,
            format!("{}; set NOTIFY_ROOM to one of them", error.message()),
        ));
    }
    let handle = robot.start().await?;
    if let (Some(addr), Some(token)) = (handle.routes_addr(), &notify.settings.token) {
        let room = &notify.settings.room;
        println!(
            "Try it from another terminal:\n  curl -i http://{addr}/notify \
             -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \
             -d '{{\"room\": \"{room}\", \"text\": \"Deploy finished\"}}'\n"
        );
    }
    let stopped = handle.run().await;
    notify.drained().await;
    stopped
}
