//! The crate's parsers of outside input that are not public, for the fuzz targets in `fuzz/`.
//! Not a public API: it changes whenever the parsers do.

use std::time::{Duration, SystemTime};

use crate::client;
use crate::transport::{self, WebhookSecret};

/// Verifies a webhook delivery's signing headers and body against `secrets` at `now`, with the
/// default tolerance; the delivery id when it verifies.
pub fn verify_webhook(
    secrets: &[WebhookSecret],
    id: Option<&str>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> Option<String> {
    transport::verify_signature(secrets, [id, timestamp, signature], body, now)
}

/// Reads a `Retry-After` value as the client does.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    client::parse_retry_after(value, now)
}

/// The human part of one of Lag's error bodies, as the client reports it.
pub fn error_detail(body: &[u8]) -> Option<String> {
    client::error_detail(body)
}
