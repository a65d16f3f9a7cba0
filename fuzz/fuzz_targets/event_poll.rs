//! Long-poll answers: decoding any body into items, and each item into an event, never panics.
#![no_main]

use lag_bot::events::{Envelope, decode_poll};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = decode_poll(data) {
        for item in items.into_iter().flatten() {
            let _ = format!("{:?}", item.event());
        }
    }
    if let Ok(value) = serde_json::from_slice(data) {
        let _ = Envelope::from_poll_item(value);
    }
});
