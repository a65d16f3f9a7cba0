//! The one error type of the framework.

use std::fmt;
use std::time::Duration;

/// A boxed error from user code or a lower layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarse enough to branch on.
///
/// New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the API key is missing, malformed or revoked.
    Unauthorized,
    /// 403: the robot lacks a permission, the server is not its own, the message is not its own,
    /// or the robot is disabled.
    Forbidden,
    /// 404: the room or message does not exist.
    NotFound,
    /// 409: the request conflicts with the robot's configuration (e.g. the wrong event transport).
    Conflict,
    /// 429: Lag asked the robot to slow down.
    RateLimited {
        /// How long Lag asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// 5xx: Lag failed to handle the request.
    Server,
    /// Any other non-success HTTP status.
    Api,
    /// The network failed or timed out before a response arrived.
    Connection,
    /// The input was rejected before anything was sent (e.g. empty or too long content).
    InvalidInput,
    /// A response or event could not be decoded.
    Decode,
    /// The robot's configuration is incomplete or contradictory.
    Config,
    /// A handler returned an error or panicked.
    Handler,
    /// Serving or receiving events failed (e.g. the listen address is taken).
    Transport,
    /// A shared store the robot keeps its state in (Redis) failed or could not be reached.
    Store,
    /// A conversation ([`Ctx::ask`](crate::Ctx::ask)) ended without an answer. Let `?` carry
    /// it out of the handler: the robot answers in the room with the
    /// [`Texts`](crate::command::Texts) for how it ended, and does not call the error hook.
    ConversationEnded(ConversationEnd),
}

/// How a conversation ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConversationEnd {
    /// The member typed the cancel word (`!cancel`).
    Cancelled,
    /// No answer came within the conversation's timeout.
    TimedOut,
    /// Every answer was refused, as many times as allowed.
    TooManyAttempts,
    /// The robot is stopping.
    Stopped,
}

/// The error type of every fallible call in `lag-bot`.
///
/// It carries a [`ErrorKind`], a human-readable message, the HTTP status and Lag's
/// `x-request-id` when the error came from an API response, and the underlying cause.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    request_id: Option<String>,
    source: Option<BoxError>,
}

impl Error {
    /// Creates an error of `kind` with a message.
    ///
    /// ```
    /// use lag_bot::{Error, ErrorKind};
    /// let err = Error::new(ErrorKind::InvalidInput, "content is empty");
    /// assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    /// assert_eq!(err.to_string(), "invalid input: content is empty");
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                status: None,
                request_id: None,
                source: None,
            }),
        }
    }

    /// Wraps an error raised by user code (a handler, a check, a state store).
    pub fn handler(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        Self::new(ErrorKind::Handler, source.to_string()).with_source(source)
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Attaches the HTTP status of the response that caused this error.
    pub fn with_status(mut self, status: u16) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Attaches Lag's `x-request-id` of the response that caused this error.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.inner.request_id = Some(request_id.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The human-readable message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The HTTP status, when the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// Lag's `x-request-id`, when the response carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// How long Lag asked to wait, for [`ErrorKind::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self.inner.kind {
            ErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::RateLimited { .. } | ErrorKind::Server | ErrorKind::Connection
        )
    }
}

impl ErrorKind {
    fn label(&self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited { .. } => "rate limited",
            ErrorKind::Server => "server error",
            ErrorKind::Api => "api error",
            ErrorKind::Connection => "connection error",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Decode => "decode error",
            ErrorKind::Config => "configuration error",
            ErrorKind::Handler => "handler error",
            ErrorKind::Transport => "transport error",
            ErrorKind::Store => "store error",
            ErrorKind::ConversationEnded(_) => "conversation ended",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind.label(), self.inner.message)?;
        if let Some(status) = self.inner.status {
            write!(f, " (HTTP {status}")?;
            if let Some(id) = &self.inner.request_id {
                write!(f, ", request {id}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(status) = self.inner.status {
            d.field("status", &status);
        }
        if let Some(id) = &self.inner.request_id {
            d.field("request_id", id);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Error {
    /// An [`ErrorKind::Decode`] error for input that could not be understood.
    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// An [`ErrorKind::InvalidInput`] error for input rejected before sending.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// An [`ErrorKind::ConversationEnded`] error.
    pub(crate) fn conversation_ended(end: ConversationEnd) -> Self {
        let why = match end {
            ConversationEnd::Cancelled => "the member cancelled it",
            ConversationEnd::TimedOut => "no answer came in time",
            ConversationEnd::TooManyAttempts => "every answer was refused",
            ConversationEnd::Stopped => "the robot is stopping",
        };
        Self::new(ErrorKind::ConversationEnded(end), why)
    }

    /// How the conversation ended, for an [`ErrorKind::ConversationEnded`] error.
    pub fn conversation_end(&self) -> Option<ConversationEnd> {
        match self.inner.kind {
            ErrorKind::ConversationEnded(end) => Some(end),
            _ => None,
        }
    }

    /// An [`ErrorKind::Config`] error for a builder given unusable settings.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Puts `context` in front of the message, keeping kind, status and source.
    pub(crate) fn context(mut self, context: &str) -> Self {
        self.inner.message = format!("{context}: {}", self.inner.message);
        self
    }

    /// An [`ErrorKind::Decode`] error for JSON that did not match the expected shape.
    pub(crate) fn json(what: &str, err: serde_json::Error) -> Self {
        Self::decode(format!("{what}: {err}")).with_source(err)
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::new(ErrorKind::Transport, err.to_string()).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_status_and_request_id() {
        let err = Error::new(ErrorKind::NotFound, "no such room")
            .with_status(404)
            .with_request_id("req_1");
        assert_eq!(
            err.to_string(),
            "not found: no such room (HTTP 404, request req_1)"
        );
        assert_eq!(err.status(), Some(404));
        assert!(!err.is_transient());
    }

    #[test]
    fn rate_limited_exposes_retry_after() {
        let err = Error::new(
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
            },
            "slow down",
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert!(err.is_transient());
    }

    #[test]
    fn handler_keeps_the_source() {
        let io = std::io::Error::other("disk full");
        let err = Error::handler(io);
        assert_eq!(err.kind(), &ErrorKind::Handler);
        assert!(std::error::Error::source(&err).is_some());
    }
}
