//! Lag's per-robot rate limits: 10 messages per 10 s and 100 requests per 60 s, sliding windows.

use std::time::Duration;

use lag_sim::RobotSpec;
use serde_json::json;

use crate::support::{self, Api, messages_path};

fn retry_after(reply: &support::Reply) -> u64 {
    reply
        .header("retry-after")
        .expect("429 carries Retry-After")
        .parse()
        .expect("Retry-After is whole seconds")
}

#[tokio::test]
async fn the_eleventh_message_in_ten_seconds_is_429() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);
    for n in 0..10 {
        let reply = api.post(&path, &json!({"content": format!("n{n}")})).await;
        assert_eq!(reply.status, 201, "message {n}: {}", reply.text);
    }
    let limited = api.post(&path, &json!({"content": "one too many"})).await;
    limited.assert_error(429);
    assert_eq!(limited.json()["error"], "Too Many Requests");
    let wait = retry_after(&limited);
    assert!(
        (1..=10).contains(&wait),
        "Retry-After {wait} within the window"
    );
    assert_eq!(
        sim.messages(&demo.general).len(),
        10,
        "the refused message was not stored"
    );

    // The limit covers all rooms together, but reads are still allowed.
    api.post(
        &messages_path(&demo.server_id, &demo.welcome),
        &json!({"content": "other room"}),
    )
    .await
    .assert_error(429);
    assert_eq!(api.get("/robots/@me/info").await.status, 200);

    // Another robot has its own budget.
    let other = sim
        .create_robot(&demo.server_id, RobotSpec::new("Other"))
        .unwrap();
    let reply = Api::robot(&sim, &other.key)
        .post(&path, &json!({"content": "fresh budget"}))
        .await;
    assert_eq!(reply.status, 201);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_hundred_and_first_request_in_a_minute_is_429() {
    let (sim, demo, api) = support::demo().await;
    for n in 0..100 {
        let reply = api.get("/robots/@me/info").await;
        assert_eq!(reply.status, 200, "request {n}");
    }
    let limited = api.get("/robots/@me/info").await;
    limited.assert_error(429);
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    // Every robot endpoint counts, the event endpoints included.
    api.get("/robots/@me/events/poll").await.assert_error(429);
    api.post(
        &messages_path(&demo.server_id, &demo.general),
        &json!({"content": "hi"}),
    )
    .await
    .assert_error(429);
    // Requests without a valid key are not the robot's.
    Api::anonymous(&sim)
        .get("/robots/@me/info")
        .await
        .assert_error(401);
    sim.shutdown().await;
}

#[tokio::test]
async fn honouring_retry_after_gets_through() {
    // 10x faster: the message window is one real second.
    let (sim, demo, api) =
        support::demo_with(support::scaled(10.0), RobotSpec::new("Helper")).await;
    let path = messages_path(&demo.server_id, &demo.general);
    for round in 0..2 {
        let body = json!({"content": "tick"});
        let burst = (0..10).map(|_| api.post(&path, &body));
        for reply in futures_util::future::join_all(burst).await {
            assert_eq!(reply.status, 201, "round {round}: {}", reply.text);
        }
        let limited = api.post(&path, &json!({"content": "tick"})).await;
        limited.assert_error(429);
        let wait = retry_after(&limited);
        assert_eq!(wait, 1, "a scaled window rounds up to one whole second");
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let retried = api.post(&path, &json!({"content": "after waiting"})).await;
        assert_eq!(retried.status, 201, "round {round}: {}", retried.text);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(sim.messages(&demo.general).len(), 22);
    sim.shutdown().await;
}

#[tokio::test]
async fn rejected_requests_do_not_extend_the_window() {
    // 10x faster: the message window is one real second.
    let (sim, demo, api) =
        support::demo_with(support::scaled(10.0), RobotSpec::new("Helper")).await;
    let path = messages_path(&demo.server_id, &demo.general);
    for _ in 0..10 {
        assert_eq!(api.post(&path, &json!({"content": "x"})).await.status, 201);
    }
    let filled = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Hammering while limited is refused every time...
    for _ in 0..20 {
        assert_eq!(api.post(&path, &json!({"content": "x"})).await.status, 429);
    }
    // ...but does not count: once the accepted messages age out, the window is open again,
    // although the refused ones are younger than a window.
    tokio::time::sleep_until((filled + Duration::from_millis(1050)).into()).await;
    assert_eq!(api.post(&path, &json!({"content": "x"})).await.status, 201);
    sim.shutdown().await;
}
