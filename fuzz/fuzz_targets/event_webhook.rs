//! Webhook bodies: decoding any bytes into an event never panics.
#![no_main]

use lag_bot::events::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_webhook(Some("evt_fuzz"), data) {
        let _ = format!("{:?}", envelope.event());
        let _ = envelope.event_type();
    }
});
