//! The emulator's error type: one kind per HTTP status it answers with.

use std::fmt;
use std::time::Duration;

/// `Result` with the emulator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, one variant per status code the emulator answers with.
///
/// New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the input is malformed or breaks a documented rule.
    BadRequest,
    /// 401: the API key is missing, malformed or unknown.
    Unauthorized,
    /// 403: the caller is not allowed to do this.
    Forbidden,
    /// 404: the thing (or route) does not exist.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the request conflicts with the current state (duplicate name, robot limit, wrong transport).
    Conflict,
    /// 413: the request body is larger than the emulator accepts.
    PayloadTooLarge,
    /// 429: a rate limit was exceeded.
    RateLimited {
        /// How long the caller must wait (real time) before the request would be accepted.
        retry_after: Duration,
    },
    /// 500: the emulator itself failed (I/O while binding, for example).
    Internal,
}

/// An error from the emulator, as a library call result or as an HTTP error envelope.
///
/// ```
/// use lag_sim::{Error, ErrorKind};
/// let err = Error::new(ErrorKind::NotFound, "unknown room room_1");
/// assert_eq!(err.status(), 404);
/// assert_eq!(err.to_string(), "Not Found: unknown room room_1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Creates an error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The human-readable message (the envelope's `message`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status code this error is answered with.
    pub fn status(&self) -> u16 {
        match self.kind {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::RateLimited { .. } => 429,
            ErrorKind::Internal => 500,
        }
    }

    /// The HTTP reason phrase for [`status`](Self::status) (the envelope's `error`).
    pub fn reason(&self) -> &'static str {
        match self.kind {
            ErrorKind::BadRequest => "Bad Request",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "Not Found",
            ErrorKind::MethodNotAllowed => "Method Not Allowed",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::PayloadTooLarge => "Payload Too Large",
            ErrorKind::RateLimited { .. } => "Too Many Requests",
            ErrorKind::Internal => "Internal Server Error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason(), self.message)
    }
}

impl std::error::Error for Error {}
