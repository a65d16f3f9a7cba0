//! SSE frames: decoding any `id`, `event` and `data` fields never panics.
#![no_main]

use lag_bot::events::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Fields separated by newlines: id, event, then the data (which may hold newlines).
    let mut parts = text.splitn(3, '\n');
    let id = parts.next().filter(|s| !s.is_empty());
    let event = parts.next().filter(|s| !s.is_empty());
    let frame = parts.next().unwrap_or_default();
    if let Ok(Some(envelope)) = Envelope::from_sse(id, event, frame) {
        let _ = format!("{:?}", envelope.event());
    }
});
