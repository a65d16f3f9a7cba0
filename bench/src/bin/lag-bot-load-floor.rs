//! Run by the load benchmark: `cargo bench -p lag-bot-bench --bench load` (see BENCHMARKS.md).
//!
//! The floor the robot is measured against: a bare axum handler that does only what every
//! webhook receiver must, the signature check and the JSON decode, with the robot's own
//! signature code. A program of its own like the robot, built and measured the same way. It
//! prints `listening ADDR`, answers `stats` on stdin with its allocation count, and exits when
//! stdin closes (the protocol is in `src/lib.rs`).

use std::alloc::System;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use lag_bot::transport::WebhookSecret;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts allocations for the load client (the robot counts the same way).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

async fn webhook(
    State(secrets): State<Arc<Vec<WebhookSecret>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let verified = lag_bot::__fuzz::verify_webhook(
        &secrets,
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
        &body,
        SystemTime::now(),
    );
    if verified.is_none() {
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/webhook", axum::routing::post(webhook))
        .with_state(Arc::new(lag_bot_bench::secrets()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    lag_bot_bench::announce(listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    lag_bot_bench::answer_stats(GLOBAL).await;
    server.abort();
    Ok(())
}
