//! The REST client: every robot endpoint, paced under Lag's rate limits, retried where it is
//! safe, with typed results and errors.
//!
//! One [`Client`] serves a whole robot. Clones are cheap and share one connection pool, one
//! rate limiter and the cached robot identity, so pacing holds across every task that uses it.
//!
//! ```no_run
//! use lag_bot::client::Client;
//! # async fn run() -> lag_bot::Result<()> {
//! let client = Client::builder("lag_robot_abcd1234_secret").build()?;
//! let me = client.me().await?;
//! for room in client.rooms().await? {
//!     if room.name.as_deref() == Some("general") {
//!         client.send(&room.id, format!("{} is online", me.name)).await?;
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod content;
mod limiter;
mod retry;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use tokio::time::Instant;

pub use content::{check_content, split_content};
pub use limiter::{CallClass, MemoryLimiter, Permit, RateLimiter, RateLimits, Settlement, Window};
pub use retry::RetryPolicy;
pub(crate) use retry::doubling;

use crate::events::{self, Envelope};
use crate::metrics::Metrics;
use crate::model::{
    EditedMessage, HistoryPage, HistoryQuery, MAX_HISTORY_PAGE, Member, Message, RobotInfo, Room,
    SendMessage, decode_history, decode_list,
};
use crate::{Error, ErrorKind, Result};

/// Lag's API host, the default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.trylag.com";

/// How long a long-poll request may be held open by Lag, on top of the request timeout.
const POLL_HOLD: Duration = Duration::from_secs(30);

/// A stream of raw body chunks (the SSE event stream).
pub(crate) type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A handle on Lag's REST API for one robot.
///
/// Cheap to clone; every clone shares the rate limiter, so a robot never exceeds Lag's limits
/// however many tasks call it. See the [module docs](self) for an example.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    rate_limits: RateLimits,
    limiter: Arc<dyn RateLimiter>,
    metrics: Option<Metrics>,
    me: tokio::sync::Mutex<Option<RobotInfo>>,
}

/// Configures a [`Client`]. Made by [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use lag_bot::client::{Client, RateLimits};
/// let client = Client::builder("lag_robot_abcd1234_secret")
///     .base_url("http://127.0.0.1:4000")
///     .timeout(Duration::from_secs(10))
///     .user_agent("my-robot/1.0")
///     .rate_limits(RateLimits::lag())
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:4000/");
/// assert!(!format!("{client:?}").contains("secret"));
/// # Ok::<(), lag_bot::Error>(())
/// ```
pub struct ClientBuilder {
    key: String,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    rate_limits: RateLimits,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    retry: RetryPolicy,
    metrics: Option<Metrics>,
}

impl ClientBuilder {
    /// Sets the API base URL (default [`DEFAULT_BASE_URL`]); point it at a local Lag in tests.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets how long one request may take, from sending to the last byte of the answer
    /// (default 30 s). A long-poll request gets 30 s more, since Lag holds it open.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header (default `lag-bot/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the limits calls are paced under (default Lag's, [`RateLimits::lag`]). A limiter
    /// supplied with [`rate_limiter`](Self::rate_limiter) paces by its own limits instead.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Paces calls with `limiter` instead of a fresh [`MemoryLimiter`] under the
    /// [rate limits](Self::rate_limits): for several clients of one robot key, in one process
    /// or (with a limiter backed by a shared store) in several, since Lag counts its limits
    /// per key.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lag_bot::client::{Client, MemoryLimiter, RateLimits};
    ///
    /// let limiter = Arc::new(MemoryLimiter::new(RateLimits::lag()));
    /// let events = Client::builder("lag_robot_abcd1234_secret")
    ///     .rate_limiter(limiter.clone())
    ///     .build()?;
    /// let reports = Client::builder("lag_robot_abcd1234_secret")
    ///     .rate_limiter(limiter)
    ///     .build()?;
    /// # let _ = (events, reports);
    /// # Ok::<(), lag_bot::Error>(())
    /// ```
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Sets the retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Records rate-limiter waits and 429 answers in `metrics`.
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds the client.
    ///
    /// Fails with [`ErrorKind::Config`] when the key is empty or not a valid header value, or
    /// the base URL is not an `http`/`https` URL.
    pub fn build(self) -> Result<Client> {
        let key = self.key.trim();
        if key.is_empty() {
            return Err(Error::config("the robot API key is empty"));
        }
        let mut auth = HeaderValue::from_str(&format!("Robot {key}")).map_err(|_| {
            Error::config("the robot API key holds characters a header cannot carry")
        })?;
        auth.set_sensitive(true);
        let mut base = Url::parse(self.base_url.trim())
            .map_err(|err| Error::config(format!("invalid base URL: {err}")).with_source(err))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::config(format!(
                "the base URL must be an http or https URL, not `{}`",
                self.base_url
            )));
        }
        base.set_query(None);
        base.set_fragment(None);
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::config("the user agent is not a valid header value"))?;
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| Error::config(format!("cannot build the HTTP client: {err}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                timeout: self.timeout,
                retry: self.retry,
                limiter: self
                    .rate_limiter
                    .unwrap_or_else(|| Arc::new(MemoryLimiter::new(self.rate_limits))),
                rate_limits: self.rate_limits,
                metrics: self.metrics,
                me: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("key", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("rate_limits", &self.rate_limits)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("key", &"[redacted]")
            .field("base_url", &self.inner.base.as_str())
            .field("rate_limits", &self.inner.rate_limits)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Whether a failed call may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Repeating it does no harm (reads, edits, deletes).
    Always,
    /// Only when the first attempt certainly did not reach Lag (message sends).
    IfUnsent,
    /// Never: the caller has its own loop (event endpoints). A 429 still pauses the limiter.
    Never,
}

/// One REST call, described before it is made.
struct Call {
    method: Method,
    path: Vec<String>,
    query: Vec<(&'static str, String)>,
    body: Option<Bytes>,
    class: CallClass,
    retry: Retry,
    timeout: Option<Duration>,
    /// The body is a stream read for as long as it lasts: only the headers are timed.
    streams: bool,
    headers: Vec<(&'static str, String)>,
    what: &'static str,
}

impl Call {
    fn new(method: Method, what: &'static str, path: Vec<String>) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            class: CallClass::Request,
            retry: Retry::Always,
            timeout: None,
            streams: false,
            headers: Vec::new(),
            what,
        }
    }
}

impl Client {
    /// Starts configuring a client for the robot with API key `key` (`lag_robot_...`).
    pub fn builder(key: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            key: key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("lag-bot/", env!("CARGO_PKG_VERSION")).to_owned(),
            rate_limits: RateLimits::lag(),
            rate_limiter: None,
            retry: RetryPolicy::default(),
            metrics: None,
        }
    }

    /// A client for Lag's API with every default.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        Self::builder(key).build()
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The limits given to the builder ([`ClientBuilder::rate_limits`], Lag's by default). A
    /// limiter supplied with [`ClientBuilder::rate_limiter`] paces by its own limits instead.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    /// The robot's identity (`GET /robots/@me/info`), fetched on first use and cached.
    pub async fn me(&self) -> Result<RobotInfo> {
        self.with_me(RobotInfo::clone).await
    }

    /// Reads the cached identity through `read`, fetching it first when there is none yet.
    /// The lock is held across the fetch so concurrent first calls make one request.
    async fn with_me<R>(&self, read: impl FnOnce(&RobotInfo) -> R) -> Result<R> {
        let mut cached = self.inner.me.lock().await;
        if let Some(me) = cached.as_ref() {
            return Ok(read(me));
        }
        let me = cached.insert(self.request_me().await?);
        Ok(read(me))
    }

    /// Fetches the robot's identity afresh (permissions or name may have changed) and updates
    /// the cache.
    pub async fn refresh_me(&self) -> Result<RobotInfo> {
        let me = self.request_me().await?;
        *self.inner.me.lock().await = Some(me.clone());
        Ok(me)
    }

    async fn request_me(&self) -> Result<RobotInfo> {
        let call = Call::new(Method::GET, "robot info", robot_path(&["info"]));
        let body = self.run(call).await?;
        decode_json(&body, "robot info")
    }

    /// The id of the robot's server (from [`me`](Self::me), cached).
    pub async fn server_id(&self) -> Result<String> {
        self.with_me(|me| me.server_id.clone()).await
    }

    /// Lists the rooms of the robot's server (needs `read_rooms`).
    pub async fn rooms(&self) -> Result<Vec<Room>> {
        let server = self.server_id().await?;
        let call = Call::new(Method::GET, "list rooms", server_path(&server, &["rooms"]));
        let body = self.run(call).await?;
        decode_list("rooms", "rooms", decode_json(&body, "rooms")?)
    }

    /// Lists the members of the robot's server (needs `read_members`).
    pub async fn members(&self) -> Result<Vec<Member>> {
        let server = self.server_id().await?;
        let call = Call::new(
            Method::GET,
            "list members",
            server_path(&server, &["members"]),
        );
        let body = self.run(call).await?;
        decode_list("members", "members", decode_json(&body, "members")?)
    }

    /// Fetches one page of a room's history, newest first (needs `read_messages`).
    ///
    /// Pass the page's `next_cursor` to [`HistoryQuery::before`] for the next, older page,
    /// or use [`history`](Self::history) to walk them all.
    pub async fn history_page(&self, room_id: &str, query: &HistoryQuery) -> Result<HistoryPage> {
        if let Some(limit) = query.limit
            && !(1..=MAX_HISTORY_PAGE).contains(&limit)
        {
            return Err(Error::invalid_input(format!(
                "history page size {limit} is outside 1 to {MAX_HISTORY_PAGE}"
            )));
        }
        let server = self.server_id().await?;
        let mut call = Call::new(
            Method::GET,
            "history",
            server_path(&server, &["rooms", room_id, "messages"]),
        );
        if let Some(limit) = query.limit {
            call.query.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &query.cursor {
            call.query.push(("cursor", cursor.clone()));
        }
        let body = self.run(call).await?;
        decode_history(decode_json(&body, "history page")?)
    }

    /// Every message of a room, newest first, fetched page by page (100 a page) as the
    /// stream is read.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// # async fn run(client: lag_bot::client::Client) -> lag_bot::Result<()> {
    /// let all: Vec<_> = client.history("room_1").try_collect().await?;
    /// println!("{} messages", all.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn history(
        &self,
        room_id: impl Into<String>,
    ) -> impl Stream<Item = Result<Message>> + Send + Unpin + 'static {
        self.history_from(room_id, HistoryQuery::new().limit(MAX_HISTORY_PAGE))
    }

    /// Like [`history`](Self::history), starting at `query` (its page size and cursor).
    pub fn history_from(
        &self,
        room_id: impl Into<String>,
        query: HistoryQuery,
    ) -> impl Stream<Item = Result<Message>> + Send + Unpin + 'static {
        let client = self.clone();
        let room_id: Arc<str> = Arc::from(room_id.into());
        stream::try_unfold(Some(query), move |next| {
            let client = client.clone();
            let room_id = Arc::clone(&room_id);
            async move {
                let Some(query) = next else {
                    return Ok(None);
                };
                let page = client.history_page(&room_id, &query).await?;
                let next = match page.next_cursor.filter(|_| page.has_more) {
                    Some(cursor) if query.cursor.as_deref() == Some(cursor.as_str()) => {
                        return Err(Error::decode(format!(
                            "history of room {room_id}: the cursor {cursor} did not advance"
                        )));
                    }
                    Some(cursor) => Some(HistoryQuery {
                        cursor: Some(cursor),
                        ..query
                    }),
                    None => None,
                };
                let messages = stream::iter(page.messages.into_iter().map(Ok));
                Ok(Some((messages, next)))
            }
        })
        .try_flatten()
        .boxed()
    }

    /// Sends `content` to a room (needs `send_messages`).
    ///
    /// The content must be 1 to 2000 characters ([`split_content`] cuts longer text).
    pub async fn send(&self, room_id: &str, content: impl Into<String>) -> Result<Message> {
        self.send_message(room_id, SendMessage::new(content)).await
    }

    /// Sends a message, optionally as a reply (needs `send_messages`).
    ///
    /// Sends are paced under both of Lag's limits. A send is retried only when the earlier
    /// attempt certainly did not reach Lag (the connection could not be opened, or Lag
    /// answered 429 or 503); after a timeout the error is returned instead, since the message
    /// may have been posted and a duplicate is worse than a reported error.
    ///
    /// ```no_run
    /// use lag_bot::SendMessage;
    /// # async fn run(client: lag_bot::client::Client) -> lag_bot::Result<()> {
    /// client.send_message("room_1", SendMessage::new("pong").reply_to("msg_1")).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_message(
        &self,
        room_id: &str,
        message: impl Into<SendMessage>,
    ) -> Result<Message> {
        let message = message.into();
        check_content(&message.content)?;
        let server = self.server_id().await?;
        let mut call = Call::new(
            Method::POST,
            "send message",
            server_path(&server, &["rooms", room_id, "messages"]),
        );
        call.body = Some(
            serde_json::to_vec(&message)
                .map_err(|e| Error::json("message", e))?
                .into(),
        );
        call.class = CallClass::Message;
        call.retry = Retry::IfUnsent;
        let body = self.run(call).await?;
        decode_json(&body, "sent message")
    }

    /// Sends text of any length as consecutive messages cut by [`split_content`], in order.
    /// Stops at the first failure.
    pub async fn send_split(&self, room_id: &str, text: &str) -> Result<Vec<Message>> {
        let pieces = split_content(text);
        if pieces.is_empty() {
            check_content(text)?;
        }
        let mut sent = Vec::with_capacity(pieces.len());
        for piece in pieces {
            sent.push(self.send(room_id, piece).await?);
        }
        Ok(sent)
    }

    /// Replaces the content of one of the robot's own messages (needs `send_messages`).
    pub async fn edit(
        &self,
        room_id: &str,
        message_id: &str,
        content: impl Into<String>,
    ) -> Result<EditedMessage> {
        let content = content.into();
        check_content(&content)?;
        let server = self.server_id().await?;
        let mut call = Call::new(
            Method::PATCH,
            "edit message",
            server_path(&server, &["rooms", room_id, "messages", message_id]),
        );
        call.body = Some(
            serde_json::to_vec(&serde_json::json!({ "content": content }))
                .map_err(|e| Error::json("edit", e))?
                .into(),
        );
        let body = self.run(call).await?;
        EditedMessage::from_json(decode_json(&body, "edited message")?)
    }

    /// Deletes one of the robot's own messages (needs `send_messages`). Deletion is permanent.
    pub async fn delete(&self, room_id: &str, message_id: &str) -> Result<()> {
        let server = self.server_id().await?;
        let call = Call::new(
            Method::DELETE,
            "delete message",
            server_path(&server, &["rooms", room_id, "messages", message_id]),
        );
        match self.run(call).await {
            Ok(_) => Ok(()),
            Err(failed) if failed.repeated && failed.error.kind() == &ErrorKind::NotFound => Ok(()),
            Err(failed) => Err(failed.error),
        }
    }

    /// Takes the robot's queued events (`GET /robots/@me/events/poll`), waiting while Lag
    /// holds the request open. For long-poll robots; others get a [`ErrorKind::Conflict`].
    ///
    /// Each item decodes on its own: one malformed event does not lose the rest.
    pub async fn poll_events(&self) -> Result<Vec<Result<Envelope>>> {
        let body = self.poll_raw().await?;
        events::decode_poll(&body)
    }

    /// One long-poll request, its raw body. Paced like every call; not retried.
    pub(crate) async fn poll_raw(&self) -> Result<Bytes> {
        let mut call = Call::new(Method::GET, "poll events", robot_path(&["events", "poll"]));
        call.retry = Retry::Never;
        call.timeout = Some(self.inner.timeout + POLL_HOLD);
        Ok(self.run(call).await?)
    }

    /// Opens the SSE event stream, resuming after `last_event_id` when given. Paced like every
    /// call; not retried. The stream ends when Lag closes it.
    pub(crate) async fn sse_raw(&self, last_event_id: Option<&str>) -> Result<ByteStream> {
        let mut call = Call::new(Method::GET, "event stream", robot_path(&["events", "sse"]));
        call.retry = Retry::Never;
        call.streams = true;
        call.headers
            .push(("accept", "text/event-stream".to_owned()));
        if let Some(id) = last_event_id {
            call.headers.push(("last-event-id", id.to_owned()));
        }
        let response = self.attempt_loop(call).await?.0;
        Ok(response
            .bytes_stream()
            .map_err(|err| {
                Error::new(ErrorKind::Connection, format!("event stream broke: {err}"))
                    .with_source(err)
            })
            .boxed())
    }

    fn url(&self, call: &Call) -> Result<Url> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::config("the base URL cannot carry a path"))?
            .pop_if_empty()
            .extend(&call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        Ok(url)
    }

    /// Runs `call` to the end: pacing, retries, and the whole body.
    async fn run(&self, call: Call) -> Result<Bytes, Failed> {
        let what = call.what;
        let retry = call.retry;
        let (response, _) = self.attempt_loop(call).await?;
        let request_id = request_id(response.headers());
        match response.bytes().await {
            Ok(body) => Ok(body),
            Err(err) => {
                let mut error = Error::new(
                    ErrorKind::Connection,
                    format!("{what}: the answer broke off: {err}"),
                )
                .with_source(err);
                if let Some(id) = request_id {
                    error = error.with_request_id(id);
                }
                if retry == Retry::IfUnsent {
                    error = error.context("the request reached Lag, so it was not repeated");
                }
                Err(Failed {
                    error,
                    repeated: true,
                })
            }
        }
    }

    /// Attempts `call` until it gets a success status or must give up. Returns the response
    /// (body unread) and whether an earlier attempt may already have done the work.
    async fn attempt_loop(&self, call: Call) -> Result<(reqwest::Response, bool), Failed> {
        let url = self.url(&call).map_err(|error| Failed {
            error,
            repeated: false,
        })?;
        let policy = self.inner.retry;
        let mut retries = 0;
        let mut repeated = false;
        loop {
            let waited_from = Instant::now();
            let acquired = self.inner.limiter.acquire(call.class).await;
            if let Some(metrics) = &self.inner.metrics {
                metrics.limiter_waited(waited_from.elapsed());
            }
            let permit = acquired.map_err(|error| Failed {
                error: error.context(&format!("{}: the rate limiter", call.what)),
                repeated,
            })?;
            let (error, may_retry, wait) = match self.attempt(&call, &url).await {
                Ok(response) if response.status().is_success() => {
                    permit.sent();
                    return Ok((response, repeated));
                }
                Ok(response) => {
                    permit.sent();
                    let status = response.status();
                    let error = error_from_response(call.what, response).await;
                    let too_many = status == StatusCode::TOO_MANY_REQUESTS;
                    let wait = if too_many {
                        self.rate_limited(&error, retries + 1).await
                    } else {
                        None
                    };
                    let unapplied = too_many || status == StatusCode::SERVICE_UNAVAILABLE;
                    let may_retry = match call.retry {
                        Retry::Never => false,
                        Retry::IfUnsent => unapplied,
                        Retry::Always => unapplied || status.is_server_error(),
                    } && !(too_many && wait.is_none());
                    repeated |= !unapplied && status.is_server_error();
                    (error, may_retry, wait)
                }
                Err(failure) => {
                    if failure.unsent {
                        permit.unsent();
                    } else {
                        permit.sent();
                        repeated = true;
                    }
                    let may_retry = match call.retry {
                        Retry::Never => false,
                        Retry::IfUnsent => failure.unsent,
                        Retry::Always => true,
                    };
                    let mut error = failure.error;
                    if !failure.unsent && call.retry == Retry::IfUnsent {
                        error = error.context(
                            "it may have reached Lag, so it was not repeated (a duplicate \
                             message is worse than an error)",
                        );
                    }
                    (error, may_retry, None)
                }
            };
            if !may_retry || retries >= policy.max_retries {
                return Err(Failed { error, repeated });
            }
            retries += 1;
            let wait = wait.unwrap_or_else(|| policy.backoff(retries));
            tracing::debug!(
                call = call.what,
                retry = retries,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Handles a 429: pauses the limiter (so every call waits out `Retry-After`, up to the
    /// policy's `max_retry_after`) and says whether to retry: `None` when Lag asked for longer
    /// than the policy waits out.
    async fn rate_limited(&self, error: &Error, retry: u32) -> Option<Duration> {
        if let Some(metrics) = &self.inner.metrics {
            metrics.rate_limited();
        }
        let wait = error
            .retry_after()
            .unwrap_or_else(|| self.inner.retry.backoff(retry));
        let pause = wait.min(self.inner.retry.max_retry_after);
        if let Err(err) = self.inner.limiter.pause(pause).await {
            tracing::warn!(error = %err, "could not pause the rate limiter after a 429");
        }
        tracing::warn!(
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            request_id = error.request_id(),
            "Lag answered 429 Too Many Requests; pausing every call"
        );
        (wait <= self.inner.retry.max_retry_after).then_some(Duration::ZERO)
    }

    /// One attempt, up to the response headers.
    async fn attempt(&self, call: &Call, url: &Url) -> Result<reqwest::Response, AttemptFailed> {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url.clone())
            .header(header::AUTHORIZATION, self.inner.auth.clone());
        let timeout = call.timeout.unwrap_or(self.inner.timeout);
        if !call.streams {
            request = request.timeout(timeout);
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let sent = match tokio::time::timeout(timeout, request.send()).await {
            Ok(sent) => sent,
            Err(_) => {
                return Err(AttemptFailed {
                    error: Error::new(
                        ErrorKind::Connection,
                        format!("{}: no answer within {timeout:?}", call.what),
                    ),
                    unsent: false,
                });
            }
        };
        sent.map_err(|err| {
            let unsent = err.is_connect();
            let message = if err.is_timeout() {
                format!("{}: no answer within {timeout:?}", call.what)
            } else if unsent {
                format!("{}: cannot connect to Lag: {err}", call.what)
            } else {
                format!("{}: the connection failed: {err}", call.what)
            };
            AttemptFailed {
                error: Error::new(ErrorKind::Connection, message).with_source(err),
                unsent,
            }
        })
    }
}

/// A failed attempt, and whether the request certainly never left.
struct AttemptFailed {
    error: Error,
    unsent: bool,
}

/// A failed call, and whether an earlier attempt may already have done its work.
struct Failed {
    error: Error,
    repeated: bool,
}

impl From<Failed> for Error {
    fn from(failed: Failed) -> Self {
        failed.error
    }
}

/// The path segments of a robot endpoint: `/robots/@me/<rest>`.
fn robot_path(rest: &[&str]) -> Vec<String> {
    ["robots", "@me"]
        .iter()
        .chain(rest)
        .map(|s| (*s).to_owned())
        .collect()
}

/// The path segments of an endpoint in the robot's server: `/robots/@me/servers/<id>/<rest>`.
fn server_path(server_id: &str, rest: &[&str]) -> Vec<String> {
    let mut path = robot_path(&["servers", server_id]);
    path.extend(rest.iter().map(|s| (*s).to_owned()));
    path
}

fn decode_json<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|err| Error::json(what, err))
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Turns an error answer into an [`Error`]: kind from the status, message from Lag's error
/// envelope (or the start of the body), plus status, request id and `Retry-After`.
async fn error_from_response(what: &str, response: reqwest::Response) -> Error {
    let status = response.status();
    let request_id = request_id(response.headers());
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
    let body = response.bytes().await.unwrap_or_default();
    let detail = error_detail(&body).unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("no reason given")
            .to_owned()
    });
    let kind = match status.as_u16() {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited { retry_after },
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Api,
    };
    let mut error = Error::new(kind, format!("{what}: {detail}")).with_status(status.as_u16());
    if let Some(id) = request_id {
        error = error.with_request_id(id);
    }
    error
}

/// The human part of an error body: the envelope's `message`, else a short plain-text body.
fn error_detail(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope {
        message: String,
    }
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        return Some(envelope.message);
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.starts_with('{') || text.starts_with('<') {
        return None;
    }
    Some(text.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_rejects_unusable_settings() {
        for key in ["", "   ", "lag_robot_a\nb"] {
            let err = Client::new(key).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Config, "{key:?}");
        }
        for url in ["not a url", "ftp://example.com", "mailto:x@y"] {
            let err = Client::builder("k").base_url(url).build().unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Config, "{url}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let builder = Client::builder("lag_robot_abcd1234_topsecret");
        assert!(!format!("{builder:?}").contains("topsecret"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("topsecret"));
        assert!(format!("{client:?}").contains("api.trylag.com"));
    }

    #[test]
    fn urls_encode_ids_and_keep_a_base_path() {
        let client = Client::builder("k")
            .base_url("http://127.0.0.1:9/prefix/")
            .build()
            .unwrap();
        let mut call = Call::new(
            Method::GET,
            "t",
            server_path("srv 1", &["rooms", "a/b", "messages"]),
        );
        call.query
            .push(("cursor", "2026-01-01T00:00:00+01:00".into()));
        assert_eq!(
            client.url(&call).unwrap().as_str(),
            "http://127.0.0.1:9/prefix/robots/@me/servers/srv%201/rooms/a%2Fb/messages\
             ?cursor=2026-01-01T00%3A00%3A00%2B01%3A00"
        );
    }

    /// Records the settlements of its permits; refuses every call once `refuse` is set.
    #[derive(Debug, Default)]
    struct Recording {
        refuse: bool,
        settled: Arc<std::sync::Mutex<Vec<(CallClass, Settlement)>>>,
    }

    #[async_trait::async_trait]
    impl RateLimiter for Recording {
        async fn acquire(&self, class: CallClass) -> Result<Permit> {
            if self.refuse {
                return Err(Error::new(ErrorKind::Connection, "store down"));
            }
            let settled = Arc::clone(&self.settled);
            Ok(Permit::new(move |settlement| {
                settled.lock().unwrap().push((class, settlement));
            }))
        }

        async fn pause(&self, _wait: Duration) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_supplied_limiter_paces_the_calls() {
        let limiter = Arc::new(Recording::default());
        let client = Client::builder("k")
            .base_url("http://127.0.0.1:9")
            .retry(RetryPolicy::none())
            .rate_limiter(limiter.clone())
            .build()
            .unwrap();
        let err = client.me().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Connection);
        let settled = limiter.settled.lock().unwrap().clone();
        assert_eq!(
            settled,
            [(CallClass::Request, Settlement::Unsent)],
            "the call never connected"
        );
    }

    #[tokio::test]
    async fn a_limiter_error_fails_the_call_unsent() {
        let limiter = Recording {
            refuse: true,
            ..Recording::default()
        };
        let client = Client::builder("k")
            .rate_limiter(Arc::new(limiter))
            .build()
            .unwrap();
        let err = client.me().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Connection);
        assert_eq!(err.message(), "robot info: the rate limiter: store down");
    }

    #[test]
    fn error_detail_reads_the_envelope_or_short_text() {
        let envelope = br#"{"error":"Not Found","message":"Room not found","statusCode":404}"#;
        assert_eq!(error_detail(envelope).as_deref(), Some("Room not found"));
        assert_eq!(
            error_detail(b"502 Bad Gateway").as_deref(),
            Some("502 Bad Gateway")
        );
        assert_eq!(error_detail(b"<html>oops</html>"), None);
        assert_eq!(error_detail(br#"{"error":"x"}"#), None);
        assert_eq!(error_detail(b""), None);
    }
}
