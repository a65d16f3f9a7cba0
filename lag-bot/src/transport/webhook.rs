//! The webhook receiver: verifies, decodes, deduplicates and queues Lag's POSTed events.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};

use super::signature::{self, Rejection, Screened, SignedHeaders, WebhookSecret};
use super::{Admission, Delivery, Intake, Offer};
use crate::events::Envelope;
use crate::metrics::{Metrics, Outcome};
use crate::{BoxError, Error, Result};

pub(crate) const TRANSPORT: &str = "webhook";

/// How long Lag waits for an answer before it counts the attempt as failed.
const LAG_DEADLINE: Duration = Duration::from_secs(15);

/// Where the webhook receiver listens.
#[derive(Clone)]
pub(crate) enum Listen {
    Addr(SocketAddr),
    Bound(Arc<Mutex<Option<std::net::TcpListener>>>),
    Mounted,
}

/// When the receiver answers Lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ack {
    /// As soon as the event is safely in the robot's queue (the default). Handlers run after the
    /// answer, so a slow handler never makes Lag time out and redeliver.
    Queued,
    /// After the event's handlers finished, or after `within`, whichever comes first (the
    /// delivery still succeeds then; handlers keep running). Keep `within` under Lag's 15 s
    /// deadline.
    Handled {
        /// The longest the answer waits for the handlers.
        within: Duration,
    },
}

/// Settings of the webhook transport: signing secrets, where to listen, limits, and when to
/// acknowledge.
///
/// The receiver faces the internet, so every resource a client can hold is bounded:
///
/// | limit | default | what happens past it |
/// |---|---|---|
/// | [`max_body_bytes`](Self::max_body_bytes) | 1 MiB | 413, refused from `Content-Length` before reading, or as soon as a streamed body passes it |
/// | [`body_timeout`](Self::body_timeout) | 10 s | 408 and the connection is closed |
/// | [`header_timeout`](Self::header_timeout) | 10 s | the connection is closed; it also bounds how long a kept-alive connection may sit idle |
/// | [`max_connections`](Self::max_connections) | 512 | the oldest connection that is not mid-request is closed to make room; when every one is mid-request, the new one is answered 503 (`Retry-After: 5`) and closed |
/// | [`max_requests_per_connection`](Self::max_requests_per_connection) | 1,000 | the last answer carries `Connection: close` |
///
/// A request's head (request line and headers) may take at most 64 KiB. A flood of idle or
/// half-sent connections therefore never locks Lag out: a new connection takes the place of
/// the oldest idle one, and a delivery sent at once is answered well within Lag's 15 s. With
/// [`mounted`](Self::mounted), only the body limits apply; the application's server owns its
/// connections.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::transport::{Ack, WebhookConfig, WebhookSecret};
///
/// let config = WebhookConfig::new(WebhookSecret::parse_list("whsec_b2xk,whsec_bmV3")?)
///     .listen("0.0.0.0:8080".parse().unwrap())
///     .path("/lag/events")
///     .max_body_bytes(256 * 1024)
///     .ack(Ack::Handled { within: Duration::from_secs(10) });
/// assert_eq!(config.path_str(), "/lag/events");
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Clone)]
pub struct WebhookConfig {
    pub(crate) secrets: Vec<WebhookSecret>,
    pub(crate) listen: Listen,
    pub(crate) path: String,
    pub(crate) max_body: usize,
    pub(crate) tolerance: Duration,
    pub(crate) ack: Ack,
    pub(crate) metrics_path: Option<String>,
    pub(crate) body_timeout: Duration,
    pub(crate) connections: ConnectionLimits,
}

/// The limits of the listener's connections, read by the server that owns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) max_requests: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: WebhookConfig::DEFAULT_HEADER_TIMEOUT,
            max_connections: WebhookConfig::DEFAULT_MAX_CONNECTIONS,
            max_requests: WebhookConfig::DEFAULT_MAX_REQUESTS_PER_CONNECTION,
        }
    }
}

impl WebhookConfig {
    /// The default listen address, `127.0.0.1:3000`.
    pub const DEFAULT_LISTEN: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3000);
    /// The default path, `/webhook`.
    pub const DEFAULT_PATH: &'static str = "/webhook";
    /// The default body limit, 1 MiB (an event is a few kilobytes at most).
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
    /// The default time a client has to send a request's head, 10 seconds (Lag sends it at
    /// once).
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default time a client has to send a request's body, 10 seconds.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default cap on open connections, 512 (under the usual limit of 1,024 open files).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
    /// The default number of requests one kept-alive connection serves, 1,000.
    pub const DEFAULT_MAX_REQUESTS_PER_CONNECTION: usize = 1000;

    /// A receiver accepting deliveries signed with any of `secrets` (several during a
    /// rotation), listening on `127.0.0.1:3000` at `/webhook`.
    pub fn new(secrets: impl IntoIterator<Item = WebhookSecret>) -> Self {
        Self {
            secrets: secrets.into_iter().collect(),
            listen: Listen::Addr(Self::DEFAULT_LISTEN),
            path: Self::DEFAULT_PATH.to_owned(),
            max_body: Self::DEFAULT_MAX_BODY,
            tolerance: signature::DEFAULT_TOLERANCE,
            ack: Ack::Queued,
            metrics_path: Some("/metrics".to_owned()),
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            connections: ConnectionLimits::default(),
        }
    }

    /// Listens on `addr` (port 0 picks a free port; the running robot reports it).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Listen::Addr(addr);
        self
    }

    /// Serves on an already bound listener (socket activation, or a port reserved in a test).
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listen = Listen::Bound(Arc::new(Mutex::new(Some(listener))));
        self
    }

    /// Binds nothing: the application mounts the robot's `WebhookService` in its own server.
    pub fn mounted(mut self) -> Self {
        self.listen = Listen::Mounted;
        self
    }

    /// The path deliveries are POSTed to (default `/webhook`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        self
    }

    /// The configured path.
    pub fn path_str(&self) -> &str {
        &self.path
    }

    /// Larger bodies are answered 413 without being read (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body = limit;
        self
    }

    /// How long a client may take to send a request's body once its head is in (default 10 s);
    /// past it the answer is 408 and the connection is closed. Applies to a mounted service too.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How long a client may take to send a request's head, counted from the connection's
    /// opening or from the previous answer on a kept-alive connection (default 10 s); past it
    /// the connection is closed without an answer. This is also the longest a kept-alive
    /// connection stays open with nothing to do.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.connections.header_timeout = timeout;
        self
    }

    /// How many connections the receiver keeps open at once (default 512). A connection past
    /// the cap takes the place of the oldest one that is not in the middle of a request; when
    /// all of them are, it is answered `503 Service Unavailable` with `Retry-After: 5` and
    /// closed without being read (a client that already sent its request may see the
    /// connection reset instead). Keep it under the process's limit of open files.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.connections.max_connections = max;
        self
    }

    /// How many requests one kept-alive connection serves before the receiver closes it after
    /// its answer (default 1,000).
    pub fn max_requests_per_connection(mut self, max: usize) -> Self {
        self.connections.max_requests = max;
        self
    }

    /// How far `webhook-timestamp` may be from the local clock (default 5 minutes).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// When to answer Lag (default [`Ack::Queued`]).
    pub fn ack(mut self, ack: Ack) -> Self {
        self.ack = ack;
        self
    }

    /// Where the receiver serves Prometheus metrics (default `/metrics`); `None` serves none.
    pub fn metrics_path(mut self, path: Option<&str>) -> Self {
        self.metrics_path = path.map(str::to_owned);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.secrets.is_empty() {
            return Err(Error::config(
                "the webhook transport needs at least one signing secret (`whsec_...`)",
            ));
        }
        if let Ack::Handled { within } = self.ack
            && within >= LAG_DEADLINE
        {
            return Err(Error::config(format!(
                "`Ack::Handled` must answer within Lag's {LAG_DEADLINE:?} deadline (got {within:?})"
            )));
        }
        let limits = &self.connections;
        if limits.header_timeout.is_zero() || self.body_timeout.is_zero() {
            return Err(Error::config(
                "the webhook's header and body timeouts must be longer than zero",
            ));
        }
        if limits.max_connections == 0 || limits.max_requests == 0 {
            return Err(Error::config(
                "the webhook must allow at least one connection and one request on it",
            ));
        }
        if self.metrics_path.as_deref() == Some(self.path.as_str()) {
            return Err(Error::config(
                "the webhook path and the metrics path must differ",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listen: &dyn fmt::Debug = match &self.listen {
            Listen::Addr(addr) => addr,
            Listen::Bound(_) => &"<bound listener>",
            Listen::Mounted => &"<mounted>",
        };
        f.debug_struct("WebhookConfig")
            .field("secrets", &self.secrets.len())
            .field("listen", listen)
            .field("path", &self.path)
            .field("max_body", &self.max_body)
            .field("tolerance", &self.tolerance)
            .field("ack", &self.ack)
            .field("metrics_path", &self.metrics_path)
            .field("body_timeout", &self.body_timeout)
            .field("header_timeout", &self.connections.header_timeout)
            .field("max_connections", &self.connections.max_connections)
            .field(
                "max_requests_per_connection",
                &self.connections.max_requests,
            )
            .finish()
    }
}

/// The robot's webhook endpoint as a plain HTTP service, to mount in an application's own server.
///
/// It implements `tower_service::Service<http::Request<B>>` for any `http_body::Body`, so it
/// mounts in axum (`Router::route_service`), hyper, or any tower-based server. It answers:
///
/// | status | when |
/// |---|---|
/// | 200 | accepted (or a duplicate of an accepted delivery) |
/// | 400 | verified, but not an event (malformed JSON) |
/// | 401 | missing, stale or wrong signature; nothing is dispatched |
/// | 405 | not a POST |
/// | 408 | the body took longer than the body timeout to arrive |
/// | 410 | only after the robot was retired on purpose (Lag then disables it) |
/// | 413 | body over the limit |
/// | 503 | queue full, or shutting down: Lag redelivers later |
///
/// Get it from a running robot with `RobotHandle::webhook_service`:
///
/// ```no_run
/// use lag_bot::Robot;
/// use lag_bot::transport::{WebhookConfig, WebhookSecret};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let secrets = WebhookSecret::parse_list(&std::env::var("LAG_WEBHOOK_SECRET")?)?;
/// let robot = Robot::builder()
///     .key(std::env::var("LAG_ROBOT_API_KEY")?)
///     .transport(WebhookConfig::new(secrets).mounted())
///     .build()?
///     .start()
///     .await?;
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "my app" }))
///     .route_service("/lag/events", robot.webhook_service().expect("a webhook robot"));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, app).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct WebhookService {
    core: Arc<Core>,
}

pub(crate) struct Core {
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
    max_body: usize,
    body_timeout: Duration,
    connections: ConnectionLimits,
    ack: Ack,
    intake: Arc<dyn Intake>,
    metrics: Metrics,
    gone: AtomicBool,
    last_rejection_warning: Mutex<Option<Instant>>,
    quiet_rejections: AtomicU64,
}

/// The shortest time between two warnings about rejected deliveries.
const REJECTION_LOG_EVERY: Duration = Duration::from_secs(10);

/// At most `max` bytes of `text`, cut at a character boundary: an id as sent by anyone.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl WebhookService {
    pub(crate) fn new(config: &WebhookConfig, intake: Arc<dyn Intake>, metrics: Metrics) -> Self {
        Self {
            core: Arc::new(Core {
                secrets: config.secrets.clone(),
                tolerance: config.tolerance,
                max_body: config.max_body,
                body_timeout: config.body_timeout,
                connections: config.connections,
                ack: config.ack,
                intake,
                metrics,
                gone: AtomicBool::new(false),
                last_rejection_warning: Mutex::new(None),
                quiet_rejections: AtomicU64::new(0),
            }),
        }
    }

    /// The limits of the connections of a listener serving this service.
    pub(crate) fn connection_limits(&self) -> ConnectionLimits {
        self.core.connections
    }

    /// The metrics the service counts into.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.core.metrics
    }

    /// From now on answers every verified delivery with 410 Gone, which makes Lag disable the
    /// robot. Only for retiring a robot for good: re-enabling takes the owner's action.
    pub(crate) fn retire(&self) {
        self.core.gone.store(true, Ordering::SeqCst);
    }

    /// Checks the signing headers before the body is read (the cheap part of verification).
    fn screen<'h>(&self, headers: &'h HeaderMap) -> std::result::Result<Screened<'h>, Answer> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let signed = SignedHeaders {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
        };
        signature::screen(signed, SystemTime::now(), self.core.tolerance)
            .map_err(|rejection| self.core.rejected(signed.id, rejection))
    }

    /// Verifies the body against screened headers, then decodes and queues the event: the core
    /// of the service.
    async fn handle_screened(&self, screened: &Screened<'_>, body: &[u8]) -> Answer {
        let core = &self.core;
        let id = match screened.verify(&core.secrets, body) {
            Ok(id) => id,
            Err(rejection) => return core.rejected(Some(screened.id()), rejection),
        };
        let span = tracing::info_span!("webhook", webhook_id = id);
        let _entered = span.enter();
        if core.gone.load(Ordering::SeqCst) {
            return core.answer(Outcome::Gone);
        }
        let envelope = match Envelope::from_webhook(Some(id), body) {
            Ok(envelope) => envelope,
            Err(err) => {
                tracing::warn!(error = %err, "webhook body is not an event");
                return core.answer(Outcome::Malformed);
            }
        };
        drop(_entered);
        let want_done = matches!(core.ack, Ack::Handled { .. });
        let delivery = Delivery {
            transport: TRANSPORT,
            envelope,
        };
        match core.intake.offer(delivery, Admission::Now, want_done).await {
            Offer::Accepted(done) => {
                let accepted = core.answer(Outcome::Accepted);
                let (Ack::Handled { within }, Some(done)) = (core.ack, done) else {
                    return accepted;
                };
                match tokio::time::timeout(within, done).await {
                    Ok(_) => Answer::new(StatusCode::OK, "handled"),
                    Err(_) => Answer::new(StatusCode::ACCEPTED, "accepted, still running"),
                }
            }
            Offer::Duplicate => core.answer(Outcome::Duplicate),
            Offer::Full => core.answer(Outcome::QueueFull),
            Offer::Closed => core.answer(Outcome::ShuttingDown),
            Offer::Failed(err) => {
                tracing::error!(error = %err, "could not record the delivery; asking Lag to retry");
                Answer::new(StatusCode::SERVICE_UNAVAILABLE, "try again later")
            }
        }
    }
}

impl Core {
    /// Counts and answers a delivery that failed verification. The first rejection is logged
    /// as a warning, then at most one every [`REJECTION_LOG_EVERY`] with how many were not;
    /// the rest go to the debug level, so that a storm of forged deliveries does not become a
    /// storm of log lines.
    fn rejected(&self, id: Option<&str>, rejection: Rejection) -> Answer {
        let id = id.map(|id| truncated(id, 64));
        let now = Instant::now();
        let mut last = self
            .last_rejection_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| now.duration_since(at) >= REJECTION_LOG_EVERY) {
            *last = Some(now);
            drop(last);
            let quiet = self.quiet_rejections.swap(0, Ordering::Relaxed);
            tracing::warn!(
                webhook_id = ?id,
                %rejection,
                not_logged_since_last = quiet,
                "webhook delivery rejected"
            );
        } else {
            drop(last);
            self.quiet_rejections.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(webhook_id = ?id, %rejection, "webhook delivery rejected");
        }
        self.answer(Outcome::Unauthorized)
    }

    fn answer(&self, outcome: Outcome) -> Answer {
        self.metrics.delivery(TRANSPORT, outcome);
        match outcome {
            Outcome::Accepted => Answer::new(StatusCode::OK, "accepted"),
            Outcome::Duplicate => Answer::new(StatusCode::OK, "duplicate"),
            Outcome::Unauthorized => Answer::new(StatusCode::UNAUTHORIZED, "invalid signature"),
            Outcome::Malformed => Answer::new(StatusCode::BAD_REQUEST, "malformed event"),
            Outcome::TooLarge => Answer::new(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
            Outcome::BodyTimeout => Answer::new(StatusCode::REQUEST_TIMEOUT, "body too slow"),
            Outcome::QueueFull => Answer::new(StatusCode::SERVICE_UNAVAILABLE, "queue full"),
            Outcome::ShuttingDown => Answer::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
            Outcome::Gone => Answer::new(StatusCode::GONE, "robot retired"),
        }
    }
}

/// A status and a short plain-text body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) text: &'static str,
}

impl Answer {
    fn new(status: StatusCode, text: &'static str) -> Self {
        Self { status, text }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from_static(self.text.as_bytes())));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            // The rest of the body was never read: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl<B> tower_service::Service<Request<B>> for WebhookService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<'static, std::result::Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.clone();
        Box::pin(async move {
            if request.method() != Method::POST {
                let mut response =
                    Answer::new(StatusCode::METHOD_NOT_ALLOWED, "use POST").into_response();
                response
                    .headers_mut()
                    .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
                return Ok(response);
            }
            let limit = service.core.max_body;
            let declared = request
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > limit as u64) {
                return Ok(service.core.answer(Outcome::TooLarge).into_response());
            }
            let (parts, body) = request.into_parts();
            let screened = match service.screen(&parts.headers) {
                Ok(screened) => screened,
                Err(refused) => return Ok(refused.into_response()),
            };
            let read = Limited::new(body, limit).collect();
            let body = match tokio::time::timeout(service.core.body_timeout, read).await {
                Err(_) => return Ok(service.core.answer(Outcome::BodyTimeout).into_response()),
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(err)) if err.is::<LengthLimitError>() => {
                    return Ok(service.core.answer(Outcome::TooLarge).into_response());
                }
                Ok(Err(err)) => {
                    tracing::debug!(error = %err, "webhook body could not be read");
                    return Ok(
                        Answer::new(StatusCode::BAD_REQUEST, "unreadable body").into_response()
                    );
                }
            };
            Ok(service
                .handle_screened(&screened, &body)
                .await
                .into_response())
        })
    }
}

impl fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookService")
            .field("secrets", &self.core.secrets.len())
            .field("max_body", &self.core.max_body)
            .field("ack", &self.core.ack)
            .field("retired", &self.core.gone.load(Ordering::SeqCst))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WebhookConfig {
        WebhookConfig::new([WebhookSecret::new("whsec_c2VjcmV0").unwrap()])
    }

    #[test]
    fn validation_catches_unusable_settings() {
        assert!(config().validate().is_ok());
        assert!(WebhookConfig::new([]).validate().is_err(), "no secret");
        let slow = config().ack(Ack::Handled {
            within: Duration::from_secs(15),
        });
        assert_eq!(
            slow.validate().unwrap_err().kind(),
            &crate::ErrorKind::Config
        );
        let fine = config().ack(Ack::Handled {
            within: Duration::from_secs(10),
        });
        assert!(fine.validate().is_ok());
        let clash = config().path("/metrics");
        assert!(clash.validate().is_err(), "webhook and metrics on one path");
        assert!(
            config()
                .path("/metrics")
                .metrics_path(None)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn paths_get_a_leading_slash() {
        assert_eq!(config().path("hooks/lag").path_str(), "/hooks/lag");
        assert_eq!(config().path_str(), "/webhook");
    }
}
