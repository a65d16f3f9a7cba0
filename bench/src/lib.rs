//! The load benchmark of lag-bot (`cargo bench -p lag-bot-bench --bench load`; see
//! BENCHMARKS.md), a package of its own so that its robot is built as a robot is deployed:
//! with lag-bot's default features, without the dev mode's local Lag or Redis.
//!
//! This library is what the two server programs (`src/bin/lag-bot-load-robot.rs` and
//! `src/bin/lag-bot-load-floor.rs`) and the load client (`benches/load.rs`) agree on: the
//! signing secret, the raised limits, and the line protocol on the servers' stdin and stdout.
//! Each server prints `listening ADDR`, answers each `stats` line with its allocation count and
//! live heap bytes, and exits when its stdin closes.

use std::alloc::System;
use std::io::Write as _;
use std::time::Duration;

use lag_bot::client::{RateLimits, Window};
use lag_bot::transport::WebhookSecret;
use stats_alloc::StatsAlloc;

/// The webhook signing secret both servers check.
pub const SECRET: &str = "whsec_bG9hZC1iZW5jaG1hcmstc2VjcmV0LWtleQ==";

/// The variable that gives the robot raised rate limits (see [`RAISED_MESSAGES`]).
pub const SOAK: &str = "LAG_LOAD_SOAK";

/// The raised limits used when replies are sent: 2,000 messages per 10 s and 12,000 requests
/// per minute (200 a second each), twice the soak's default reply rate. Lag's own limits
/// (10 messages per 10 s) allow one robot far fewer replies than a soak at 1,000 deliveries a
/// second asks for; `--lag-limits` keeps them.
pub const RAISED_MESSAGES: (u32, Duration) = (2_000, Duration::from_secs(10));
/// The raised request limit (see [`RAISED_MESSAGES`]).
pub const RAISED_REQUESTS: (u32, Duration) = (12_000, Duration::from_secs(60));

/// The raised limits for a robot's paced client (see [`RAISED_MESSAGES`]).
pub fn raised_robot_limits() -> RateLimits {
    RateLimits::lag()
        .messages(Some(Window::new(RAISED_MESSAGES.0, RAISED_MESSAGES.1)))
        .requests(Some(Window::new(RAISED_REQUESTS.0, RAISED_REQUESTS.1)))
}

/// The secrets both servers accept.
pub fn secrets() -> Vec<WebhookSecret> {
    vec![WebhookSecret::new(SECRET).unwrap()]
}

/// Tells the load client where the server listens.
pub fn announce(addr: std::net::SocketAddr) {
    println!("listening {addr}");
    std::io::stdout().flush().unwrap();
}

/// Answers each `stats` line on stdin with the allocations so far and the live heap bytes;
/// returns when stdin closes.
pub async fn answer_stats(counter: &'static StatsAlloc<System>) {
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "stats" {
                let stats = counter.stats();
                // Reallocations are already in both byte counts, as growth or shrinkage.
                let live = stats
                    .bytes_allocated
                    .saturating_sub(stats.bytes_deallocated);
                println!(
                    "allocs {} live {live}",
                    stats.allocations + stats.reallocations
                );
                std::io::stdout().flush().unwrap();
            }
        }
    })
    .await
    .unwrap();
}
