//! Run with: `cargo run --release --example burst -- [SENDS] [TIME_SCALE]`
//!
//! Measures the client's pacing: sends a burst of messages (50 by default) to an in-process
//! lag-sim as fast as the client allows, then prints how long it took against the least time
//! Lag's sliding windows allow, and how many 429s were answered (there should be none).
//! `TIME_SCALE` (default 1, real time) speeds up the emulator's clock and the client's windows
//! together.

use std::time::{Duration, Instant};

use lag_bot::client::{Client, RateLimits};
use lag_bot::metrics::Metrics;
use lag_sim::{Sim, SimConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sends: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(50);
    let scale: f64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1.0);

    let sim = Sim::start(SimConfig {
        time_scale: scale,
        ..SimConfig::default()
    })
    .await?;
    let demo = sim.seed_demo()?;
    let limits = RateLimits::lag().time_scale(scale);
    let metrics = Metrics::new();
    let client = Client::builder(&demo.robot.key)
        .base_url(sim.base_url())
        .rate_limits(limits)
        .metrics(metrics.clone())
        .build()?;
    client.me().await?;

    println!("sending {sends} messages (time scale {scale})...");
    let start = Instant::now();
    for i in 0..sends {
        client.send(&demo.general, format!("burst {i}")).await?;
    }
    let took = start.elapsed();

    let minimum = limits.min_time_for_sends(sends);
    let rate_limited = metrics
        .encode()
        .lines()
        .find_map(|l| {
            l.strip_prefix("lag_bot_rate_limited_total")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or_default();
    let stored = sim.messages(&demo.general).len();
    println!("messages stored:   {stored}");
    println!("429 answers:       {rate_limited}");
    println!("took:              {took:.3?}");
    println!("minimum allowed:   {minimum:.3?}");
    if minimum > Duration::ZERO {
        println!(
            "ratio:             {:.4}",
            took.as_secs_f64() / minimum.as_secs_f64()
        );
    }
    sim.shutdown().await;
    Ok(())
}
