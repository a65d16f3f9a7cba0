//! Lag's answers: JSON bodies, request ids, and error answers turned into [`Error`]s.

use std::time::SystemTime;

use reqwest::header::{self, HeaderMap};
use serde::Deserialize;

use super::retry;
use crate::{Error, ErrorKind, Result};

pub(super) fn decode_json<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|err| Error::json(what, err))
}

pub(super) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Turns an error answer into an [`Error`]: kind from the status, message from Lag's error
/// envelope (or the start of the body), plus status, request id and `Retry-After`.
pub(super) async fn error_from_response(what: &str, response: reqwest::Response) -> Error {
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
pub(crate) fn error_detail(body: &[u8]) -> Option<String> {
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
