//! lag-sim's HTTP API: any body (and path suffix) on any route is answered without a panic
//! (which the emulator would turn into a 500).
#![no_main]

use lag_sim::__fuzz::Harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    // A path suffix up to the first newline, then the body.
    let (suffix, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (&[][..], rest),
    };
    let suffix = String::from_utf8_lossy(suffix);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let harness = Harness::new().expect("the demo world builds");
        let status = harness.request(route.into(), &suffix, body.to_vec()).await;
        assert_ne!(status, 500, "route {route}, suffix {suffix:?}");
    });
});
