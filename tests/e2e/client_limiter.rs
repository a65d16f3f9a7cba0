//! The client's pacing against lag-sim's real sliding windows: bursts never meet a 429, in
//! order, and every clone of a client shares one budget.

use std::collections::BTreeSet;
use std::time::Duration;

use lag_bot::client::{Client, RateLimits, Window};
use lag_bot::metrics::Metrics;
use lag_sim::{Sim, SimConfig};

use crate::support::{contents, demo_with, exported, paced_client, scaled};

/// Lag's clock runs only 10x faster here: a 50-message burst needs 4 s instead of 40 s.
const BURST_SCALE: f64 = 10.0;

fn rate_limited(metrics: &Metrics) -> f64 {
    exported(metrics, "lag_bot_rate_limited_total").expect("the 429 counter is exported")
}

async fn start() -> (Sim, lag_sim::Demo, Client, Metrics) {
    let (sim, demo) = demo_with(scaled(BURST_SCALE)).await;
    let metrics = Metrics::new();
    let client = paced_client(&sim, &demo.robot.key)
        .metrics(metrics.clone())
        .build()
        .expect("client builds");
    (sim, demo, client, metrics)
}

#[tokio::test]
async fn a_burst_of_fifty_sends_meets_no_429_and_arrives_in_order() {
    let (sim, demo, client, metrics) = start().await;
    client.me().await.unwrap();
    for i in 0..50 {
        client
            .send(&demo.general, format!("burst {i}"))
            .await
            .unwrap_or_else(|err| panic!("send {i}: {err}"));
    }
    assert_eq!(rate_limited(&metrics), 0.0, "no 429 was ever answered");
    let expected: Vec<_> = (0..50).map(|i| format!("burst {i}")).collect();
    assert_eq!(contents(&sim, &demo.general), expected);
    sim.shutdown().await;
}

#[tokio::test]
async fn clones_in_many_tasks_share_one_budget() {
    let (sim, demo, client, metrics) = start().await;
    client.me().await.unwrap();
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let client = client.clone();
            let room = demo.general.clone();
            tokio::spawn(async move { client.send(&room, format!("task {i}")).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(rate_limited(&metrics), 0.0);
    let stored: BTreeSet<_> = sim
        .messages(&demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    let expected: BTreeSet<_> = (0..30).map(|i| format!("task {i}")).collect();
    assert_eq!(stored, expected, "every send arrived exactly once");
    sim.shutdown().await;
}

#[tokio::test]
async fn reads_and_sends_share_the_request_window() {
    let limits = lag_sim::RateLimits {
        requests: 12,
        request_window: Duration::from_secs(60),
        ..lag_sim::RateLimits::default()
    };
    let (sim, demo) = demo_with(SimConfig {
        time_scale: 30.0,
        rate_limits: limits,
        ..SimConfig::default()
    })
    .await;
    let metrics = Metrics::new();
    let client = Client::builder(&demo.robot.key)
        .base_url(sim.base_url())
        .rate_limits(
            RateLimits::lag()
                .requests(Some(Window::new(12, Duration::from_secs(60))))
                .time_scale(30.0),
        )
        .metrics(metrics.clone())
        .build()
        .unwrap();
    for i in 0..30 {
        if i % 3 == 0 {
            client.send(&demo.general, format!("s{i}")).await.unwrap();
        } else {
            assert_eq!(client.rooms().await.unwrap().len(), 3);
        }
    }
    assert_eq!(rate_limited(&metrics), 0.0);
    assert_eq!(sim.messages(&demo.general).len(), 10);
    sim.shutdown().await;
}
