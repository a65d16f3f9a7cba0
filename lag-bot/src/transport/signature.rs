//! Standard Webhooks signatures: HMAC-SHA256 over `id.timestamp.body`, checked on the raw bytes.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// How far a delivery's `webhook-timestamp` may be from the local clock, either way.
pub(crate) const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A webhook signing secret, as Lag shows it: `whsec_` followed by base64.
///
/// During a rotation a robot accepts deliveries signed with any of several secrets, so the
/// webhook configuration takes a list. The secret itself never appears in `Debug` output.
///
/// ```
/// use lag_bot::transport::WebhookSecret;
///
/// let secret: WebhookSecret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=".parse()?;
/// let signature = secret.sign("evt_1", 1_700_000_000, br#"{"type":"room.message"}"#);
/// assert!(signature.starts_with("v1,"));
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// Parses a secret, with or without the `whsec_` prefix.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the rest is not base64 or is empty.
    pub fn new(secret: &str) -> Result<Self> {
        let trimmed = secret.trim();
        let encoded = trimmed.strip_prefix("whsec_").unwrap_or(trimmed);
        // The decoder's error names the offending character: a piece of the secret.
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| Error::config("webhook secret is not base64 after the `whsec_` prefix"))?;
        if key.is_empty() {
            return Err(Error::config("webhook secret is empty"));
        }
        Ok(Self { key })
    }

    /// Parses a comma-separated list of secrets, the form `LAG_WEBHOOK_SECRET` takes during a
    /// rotation. Empty entries are skipped; at least one secret is required.
    ///
    /// ```
    /// use lag_bot::transport::WebhookSecret;
    ///
    /// let secrets = WebhookSecret::parse_list("whsec_b2xk, whsec_bmV3")?;
    /// assert_eq!(secrets.len(), 2);
    /// # Ok::<(), lag_bot::Error>(())
    /// ```
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        let secrets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Self::new)
            .collect::<Result<Vec<_>>>()?;
        if secrets.is_empty() {
            return Err(Error::config(
                "no webhook secret given (expected one or more `whsec_...`, comma-separated)",
            ));
        }
        Ok(secrets)
    }

    /// Signs a delivery the way Lag does and returns the `webhook-signature` entry (`v1,<base64>`).
    ///
    /// Useful to test a receiver, or to relay a delivery to another robot.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(id, timestamp.to_string().as_bytes(), body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    fn mac(&self, id: &str, timestamp: &[u8], body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp);
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl FromStr for WebhookSecret {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Why a delivery failed verification. Every variant is answered with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    MissingHeader(&'static str),
    BadTimestamp,
    Stale,
    BadSignature,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::MissingHeader(name) => write!(f, "missing `{name}` header"),
            Rejection::BadTimestamp => f.write_str("`webhook-timestamp` is not a Unix time"),
            Rejection::Stale => f.write_str("`webhook-timestamp` is outside the tolerance window"),
            Rejection::BadSignature => f.write_str("no signature matches any configured secret"),
        }
    }
}

/// The three signing headers of a delivery, as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedHeaders<'a> {
    pub(crate) id: Option<&'a str>,
    pub(crate) timestamp: Option<&'a str>,
    pub(crate) signature: Option<&'a str>,
}

/// At most this many `webhook-signature` entries are looked at (Lag sends two during a
/// rotation), so that a forged header cannot make a delivery cost more than a few comparisons.
const MAX_ENTRIES: usize = 8;

/// The length of an HMAC-SHA256 signature.
const SIGNATURE_LEN: usize = 32;

/// What the headers alone say about a delivery, before its body is read.
#[derive(Debug)]
pub(crate) struct Screened<'a> {
    id: &'a str,
    timestamp: &'a str,
    candidates: Vec<[u8; SIGNATURE_LEN]>,
}

/// Checks what can be checked without the body: headers present, timestamp within `tolerance`
/// of `now`, and at least one well-formed `v1,` entry among the first few. A delivery that
/// fails here costs no body read and no HMAC.
pub(crate) fn screen<'a>(
    headers: SignedHeaders<'a>,
    now: SystemTime,
    tolerance: Duration,
) -> std::result::Result<Screened<'a>, Rejection> {
    let id = headers
        .id
        .filter(|v| !v.is_empty())
        .ok_or(Rejection::MissingHeader("webhook-id"))?;
    let timestamp = headers
        .timestamp
        .ok_or(Rejection::MissingHeader("webhook-timestamp"))?
        .trim();
    let signature = headers
        .signature
        .ok_or(Rejection::MissingHeader("webhook-signature"))?;

    let sent: i64 = timestamp.parse().map_err(|_| Rejection::BadTimestamp)?;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(sent) > tolerance.unsigned_abs() {
        return Err(Rejection::Stale);
    }

    let candidates: Vec<[u8; SIGNATURE_LEN]> = signature
        .split_whitespace()
        .take(MAX_ENTRIES)
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter(|b64| b64.len() <= 2 * SIGNATURE_LEN)
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .filter_map(|bytes| <[u8; SIGNATURE_LEN]>::try_from(bytes).ok())
        .collect();
    if candidates.is_empty() {
        return Err(Rejection::BadSignature);
    }
    Ok(Screened {
        id,
        timestamp,
        candidates,
    })
}

impl<'a> Screened<'a> {
    /// The delivery's `webhook-id`, not verified yet.
    pub(crate) fn id(&self) -> &'a str {
        self.id
    }

    /// Checks the body against the screened headers: at least one entry matches at least one
    /// secret. Comparison is constant time (`verify_slice`).
    pub(crate) fn verify(
        &self,
        secrets: &[WebhookSecret],
        body: &[u8],
    ) -> std::result::Result<&'a str, Rejection> {
        for secret in secrets {
            let mac = secret.mac(self.id, self.timestamp.as_bytes(), body);
            if self
                .candidates
                .iter()
                .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
            {
                return Ok(self.id);
            }
        }
        Err(Rejection::BadSignature)
    }
}

/// Checks a delivery: [`screen`] then [`Screened::verify`].
pub(crate) fn verify<'a>(
    secrets: &[WebhookSecret],
    headers: SignedHeaders<'a>,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> std::result::Result<&'a str, Rejection> {
    screen(headers, now, tolerance)?.verify(secrets, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn secret(s: &str) -> WebhookSecret {
        WebhookSecret::new(&format!("whsec_{}", STANDARD.encode(s))).unwrap()
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> SignedHeaders<'a> {
        SignedHeaders {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn matches_the_standard_webhooks_test_vector() {
        // The example in the Standard Webhooks specification.
        let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn accepts_any_entry_and_any_secret() {
        let old = secret("old");
        let new = secret("new");
        let body = b"{}";
        let ts = NOW.to_string();
        let by_new = new.sign("evt_1", NOW as i64, body);
        let header = format!("v1,AAAA {by_new}");
        let got = verify(
            &[old.clone(), new],
            headers("evt_1", &ts, &header),
            body,
            at(NOW),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(got, Ok("evt_1"));
        let got = verify(
            &[old],
            headers("evt_1", &ts, &header),
            body,
            at(NOW),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(got, Err(Rejection::BadSignature));
    }

    #[test]
    fn rejects_a_changed_body_or_id() {
        let s = secret("k");
        let ts = NOW.to_string();
        let sig = s.sign("evt_1", NOW as i64, b"{\"a\":1}");
        let check = |id, body: &[u8]| {
            verify(
                std::slice::from_ref(&s),
                headers(id, &ts, &sig),
                body,
                at(NOW),
                DEFAULT_TOLERANCE,
            )
        };
        assert!(check("evt_1", b"{\"a\":1}").is_ok());
        assert_eq!(check("evt_1", b"{\"a\": 1}"), Err(Rejection::BadSignature));
        assert_eq!(check("evt_2", b"{\"a\":1}"), Err(Rejection::BadSignature));
    }

    #[test]
    fn enforces_the_timestamp_window_both_ways() {
        let s = secret("k");
        for (sent, ok) in [
            (NOW - 300, true),
            (NOW + 300, true),
            (NOW - 301, false),
            (NOW + 301, false),
        ] {
            let ts = sent.to_string();
            let sig = s.sign("evt_1", sent as i64, b"{}");
            let got = verify(
                std::slice::from_ref(&s),
                headers("evt_1", &ts, &sig),
                b"{}",
                at(NOW),
                DEFAULT_TOLERANCE,
            );
            assert_eq!(got.is_ok(), ok, "sent at {sent}");
            if !ok {
                assert_eq!(got, Err(Rejection::Stale));
            }
        }
    }

    #[test]
    fn reports_missing_and_malformed_headers() {
        let s = secret("k");
        let none = SignedHeaders {
            id: None,
            timestamp: Some("1"),
            signature: Some("v1,x"),
        };
        let got = verify(
            std::slice::from_ref(&s),
            none,
            b"",
            at(NOW),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(got, Err(Rejection::MissingHeader("webhook-id")));
        let got = verify(
            std::slice::from_ref(&s),
            headers("evt_1", "yesterday", "v1,x"),
            b"",
            at(NOW),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(got, Err(Rejection::BadTimestamp));
        let ts = NOW.to_string();
        let got = verify(
            std::slice::from_ref(&s),
            headers("evt_1", &ts, "v2,abc not-base64 v1,%%%"),
            b"",
            at(NOW),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(got, Err(Rejection::BadSignature));
    }

    #[test]
    fn only_the_first_entries_count_and_garbage_costs_no_hmac() {
        let s = secret("k");
        let ts = NOW.to_string();
        let good = s.sign("evt_1", NOW as i64, b"{}");
        let check = |header: &str| {
            verify(
                std::slice::from_ref(&s),
                headers("evt_1", &ts, header),
                b"{}",
                at(NOW),
                DEFAULT_TOLERANCE,
            )
            .map(str::to_owned)
        };
        let padded = format!("{}{good}", "v1,AAAA ".repeat(MAX_ENTRIES - 1));
        assert_eq!(check(&padded), Ok("evt_1".to_owned()));
        let buried = format!("{}{good}", "v1,AAAA ".repeat(MAX_ENTRIES));
        assert_eq!(check(&buried), Err(Rejection::BadSignature));
        let screened = screen(
            headers("evt_1", &ts, "v1,AAAA v1,!!"),
            at(NOW),
            DEFAULT_TOLERANCE,
        );
        assert_eq!(
            screened.map(|_| ()),
            Err(Rejection::BadSignature),
            "nothing of the right shape to compare"
        );
    }

    #[test]
    fn secrets_parse_from_a_list_and_hide_in_debug() {
        assert!(WebhookSecret::parse_list(" , ").is_err());
        let bad = WebhookSecret::new("whsec_c2Vj*mV0").unwrap_err();
        let shown = format!("{bad} {bad:?} {:?}", std::error::Error::source(&bad));
        assert!(!shown.contains('*') && !shown.contains("c2Vj"), "{shown}");
        let list = WebhookSecret::parse_list("whsec_a2V5,a2V5Mg==").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(format!("{:?}", list[0]), "WebhookSecret(<redacted>)");
    }
}
