//! Lag's answers as the client reads them: `Retry-After` values and error bodies never panic.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use lag_bot::__fuzz::{error_detail, retry_after};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let _ = retry_after(text, now);
    }
    if let Some(detail) = error_detail(data) {
        assert!(detail.chars().count() <= 200 || data.first() == Some(&b'{'));
    }
});
