//! Webhook signing headers and verification: arbitrary `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` and body never panic, and a delivery signed with the secret verifies
//! while the same delivery with a changed body does not.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use lag_bot::__fuzz::verify_webhook;
use lag_bot::transport::WebhookSecret;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000;

fn field(part: Option<&[u8]>) -> Option<&str> {
    part.and_then(|p| std::str::from_utf8(p).ok())
}

fuzz_target!(|data: &[u8]| {
    let secrets = [
        WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
        WebhookSecret::new("whsec_b2xkLXNlY3JldA==").unwrap(),
    ];
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    // Fields separated by newlines: id, timestamp, signature, then the body.
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let id = field(parts.next());
    let timestamp = field(parts.next());
    let signature = field(parts.next());
    let body = parts.next().unwrap_or_default();
    let _ = verify_webhook(&secrets, id, timestamp, signature, body, now);

    // Signed for real, any id and body verify; a changed body does not.
    if let Some(id) = id.filter(|id| !id.is_empty()) {
        let ts = NOW as i64;
        let signed = secrets[1].sign(id, ts, body);
        let header = format!("{} {signed}", signature.unwrap_or("v1,x"));
        let entries = header.split_whitespace().count();
        let verified = verify_webhook(
            &secrets,
            Some(id),
            Some(&ts.to_string()),
            Some(&header),
            body,
            now,
        );
        if entries <= 8 {
            assert_eq!(verified.as_deref(), Some(id));
        }
        let mut changed = body.to_vec();
        changed.push(b'!');
        let forged = verify_webhook(
            &secrets,
            Some(id),
            Some(&ts.to_string()),
            Some(&signed),
            &changed,
            now,
        );
        assert!(forged.is_none());
    }
});
