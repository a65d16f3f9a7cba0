//! Run by the load benchmark: `cargo bench -p lag-bot-bench --bench load` (see BENCHMARKS.md).
//!
//! The robot under load, a program of its own as a deployed robot is: the `commands` example's
//! command set (its replies shortened) on the webhook transport, configured by
//! `LAG_ROBOT_API_KEY` and `LAG_API_BASE`, with raised rate limits when `LAG_LOAD_SOAK` is set.
//! It prints `listening ADDR`, answers `stats` on stdin with its allocation count, and shuts
//! down when stdin closes (the protocol is in `src/lib.rs`).

use std::alloc::System;

use lag_bot::command::{Captures, Rest};
use lag_bot::transport::WebhookConfig;
use lag_bot::{Ctx, Robot};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts allocations for the load client (the floor counts the same way).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Checks that the robot is listening.
#[lag_bot::command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Rolls dice.
#[lag_bot::command("!roll", aliases("!dice"))]
async fn roll(_ctx: Ctx, sides: Option<u32>, count: Option<u8>) -> String {
    format!("d{} x{}", sides.unwrap_or(6), count.unwrap_or(1))
}

/// Repeats what you say.
#[lag_bot::command("!echo", aliases("!say"))]
async fn echo(_ctx: Ctx, text: Rest) -> String {
    text.into_inner()
}

/// Tells the time.
#[lag_bot::command("!time")]
async fn time(_ctx: Ctx, offset: Option<i8>) -> String {
    format!("UTC{:+}", offset.unwrap_or(0))
}

/// Answers thanks addressed to the robot by name.
#[lag_bot::hear(r"(?i)\b(?:thanks|thank you|thx),?\s+(?P<name>@?\w+)")]
async fn thanks(ctx: Ctx, caps: Captures) -> Option<String> {
    let name = caps.name("name")?.trim_start_matches('@');
    let who = ctx.message()?.sender_name.clone();
    name.eq_ignore_ascii_case(&ctx.me().name)
        .then(|| format!("You're welcome, {who}!"))
}

#[tokio::main]
async fn main() -> lag_bot::Result<()> {
    let transport =
        WebhookConfig::new(lag_bot_bench::secrets()).listen("127.0.0.1:0".parse().unwrap());
    let mut builder = Robot::builder()
        .key(std::env::var("LAG_ROBOT_API_KEY").expect("LAG_ROBOT_API_KEY is set"))
        .base_url(std::env::var("LAG_API_BASE").expect("LAG_API_BASE is set"))
        .transport(transport);
    if std::env::var_os(lag_bot_bench::SOAK).is_some() {
        builder = builder.rate_limits(lag_bot_bench::raised_robot_limits());
    }
    let robot = builder
        .build()?
        .command(ping())
        .command(roll())
        .command(echo())
        .command(time())
        .hear(thanks());
    let handle = robot.start().await?;
    lag_bot_bench::announce(handle.local_addr().expect("the webhook listens"));
    lag_bot_bench::answer_stats(GLOBAL).await;
    handle.shutdown().await
}
