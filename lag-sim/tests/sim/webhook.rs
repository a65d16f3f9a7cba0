//! Webhook delivery: Standard Webhooks signatures (checked by an independent HMAC), the
//! ten-attempt retry schedule under a time scale, 410 Gone, timeouts and secret rotation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lag_sim::{DeliveryOutcome, RobotSpec, SimConfig, Transport};
use serde_json::json;

use crate::support::{self, Api, Receiver, log_len, verify, webhook_robot};

#[tokio::test]
async fn deliveries_are_signed_per_standard_webhooks() {
    let receiver = Receiver::start().await;
    let sim = support::sim().await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    let message = sim.post(&demo.alice, &demo.general, "signed").unwrap();
    let hook = receiver.wait_for(1).await.remove(0);

    assert_eq!(hook.header("content-type"), "application/json");
    assert_eq!(hook.header("user-agent"), "Lag-Webhooks/1.0");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let timestamp: u64 = hook
        .header("webhook-timestamp")
        .parse()
        .expect("unix seconds");
    assert!(now.abs_diff(timestamp) <= 300, "timestamp is current");
    assert!(hook.header("webhook-signature").starts_with("v1,"));
    assert_eq!(
        verify(&hook, &demo.robot.secrets),
        demo.robot.secrets,
        "the signature verifies with the robot's secret"
    );
    assert!(
        verify(
            &hook,
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()]
        )
        .is_empty()
    );

    let body = hook.json();
    assert_eq!(body["type"], "room.message");
    assert_eq!(body["serverId"], demo.server_id.as_str());
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["messageId"], message.id.as_str());
    assert_eq!(body["data"]["senderName"], "alice");

    let events = sim.events(&demo.robot.id);
    assert_eq!(
        hook.header("webhook-id"),
        events[0].id,
        "webhook-id is the event id"
    );
    let log = log_len(&sim, &demo.robot.id, 1).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Delivered);
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[0].transport.as_str(), "webhook");
    assert_eq!(log[0].event_id, events[0].id);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_tampered_body_fails_verification() {
    let receiver = Receiver::start().await;
    let sim = support::sim().await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "original").unwrap();
    let mut hook = receiver.wait_for(1).await.remove(0);
    assert_eq!(verify(&hook, &demo.robot.secrets).len(), 1);
    let tampered = String::from_utf8(hook.body.to_vec())
        .unwrap()
        .replace("original", "tampered");
    hook.body = tampered.into();
    assert!(verify(&hook, &demo.robot.secrets).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn first_attempts_keep_event_order() {
    let receiver = Receiver::start().await;
    let sim = support::sim().await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    for n in 0..8 {
        sim.post(&demo.alice, &demo.general, &format!("m{n}"))
            .unwrap();
    }
    let contents: Vec<String> = receiver
        .wait_for(8)
        .await
        .iter()
        .map(|h| h.json()["data"]["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contents, ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn failures_are_retried_on_the_scaled_schedule_with_a_stable_id() {
    let receiver = Receiver::start().await;
    receiver.script([500, 503, 404]);
    let time_scale = 1000.0;
    let sim = support::sim_with(support::scaled(time_scale)).await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "retry me").unwrap();
    let hooks = receiver.wait_for(4).await;
    assert_eq!(hooks.len(), 4);
    let id = hooks[0].header("webhook-id");
    for hook in &hooks {
        assert_eq!(
            hook.header("webhook-id"),
            id,
            "the id is stable across retries"
        );
        assert_eq!(
            verify(hook, &demo.robot.secrets).len(),
            1,
            "every attempt is signed"
        );
        assert_eq!(hook.body, hooks[0].body, "the body is identical");
    }
    // Attempts 2, 3 and 4 come 5 s, 25 s and 2 min (scaled) after the previous failure.
    for (pair, simulated) in hooks.windows(2).zip([5.0, 25.0, 120.0]) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_secs_f64(simulated / time_scale),
            "gap {gap:?} shorter than the scaled {simulated} s"
        );
    }
    let log = log_len(&sim, &demo.robot.id, 4).await;
    let outcomes: Vec<_> = log
        .iter()
        .map(|r| (r.attempt, r.outcome, r.status))
        .collect();
    assert_eq!(
        outcomes,
        [
            (1, DeliveryOutcome::Failed, Some(500)),
            (2, DeliveryOutcome::Failed, Some(503)),
            (3, DeliveryOutcome::Failed, Some(404)),
            (4, DeliveryOutcome::Delivered, Some(200)),
        ]
    );
    let next: Vec<_> = log.iter().map(|r| r.next_attempt_in_ms).collect();
    assert_eq!(next, [Some(5_000), Some(25_000), Some(120_000), None]);
    sim.shutdown().await;
}

#[tokio::test]
async fn each_attempt_gets_a_fresh_timestamp() {
    let receiver = Receiver::start().await;
    receiver.script([500]);
    // 5 s at 4x is 1.25 s: the retry falls in a later second.
    let sim = support::sim_with(support::scaled(4.0)).await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "retry me").unwrap();
    let hooks = receiver.wait_for(2).await;
    let first: u64 = hooks[0].header("webhook-timestamp").parse().unwrap();
    let second: u64 = hooks[1].header("webhook-timestamp").parse().unwrap();
    assert!(second > first, "{second} > {first}");
    assert_eq!(hooks[0].header("webhook-id"), hooks[1].header("webhook-id"));
    assert_ne!(
        hooks[0].header("webhook-signature"),
        hooks[1].header("webhook-signature"),
        "a new timestamp means a new signature"
    );
    assert_eq!(verify(&hooks[1], &demo.robot.secrets).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn ten_failed_attempts_give_the_event_up() {
    let receiver = Receiver::start().await;
    receiver.script([500; 12]);
    // The whole 36-hour schedule in about 1.3 s.
    let sim = support::sim_with(support::scaled(100_000.0)).await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "doomed").unwrap();
    receiver.wait_for(10).await;
    let log = log_len(&sim, &demo.robot.id, 10).await;
    assert_eq!(log.len(), 10);
    let attempts: Vec<u32> = log.iter().map(|r| r.attempt).collect();
    assert_eq!(attempts, (1..=10).collect::<Vec<_>>());
    assert!(
        log[..9]
            .iter()
            .all(|r| r.outcome == DeliveryOutcome::Failed)
    );
    assert_eq!(log[9].outcome, DeliveryOutcome::GaveUp);
    let delays: Vec<Option<u64>> = log.iter().map(|r| r.next_attempt_in_ms).collect();
    let minutes = 60_000;
    let hours = 60 * minutes;
    assert_eq!(
        delays,
        [
            Some(5_000),
            Some(25_000),
            Some(2 * minutes),
            Some(10 * minutes),
            Some(30 * minutes),
            Some(hours),
            Some(3 * hours),
            Some(8 * hours),
            Some(24 * hours),
            None,
        ]
    );
    // The robot stays enabled and later events are still delivered.
    sim.post(&demo.alice, &demo.general, "next").unwrap();
    let hooks = receiver.wait_for(12).await;
    assert_eq!(hooks.len(), 12, "no eleventh attempt for the first event");
    assert_eq!(hooks[11].json()["data"]["content"], "next");
    assert!(sim.robot(&demo.robot.id).unwrap().active);
    sim.shutdown().await;
}

#[tokio::test]
async fn gone_disables_the_robot_and_drops_pending_retries() {
    let receiver = Receiver::start().await;
    receiver.script([500, 410]);
    let sim = support::sim_with(support::scaled(10.0)).await; // first retry after 500 ms
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "fails once").unwrap();
    sim.post(&demo.alice, &demo.general, "gone").unwrap();
    receiver.wait_for(2).await;
    let log = log_len(&sim, &demo.robot.id, 3).await;
    assert_eq!(log[1].outcome, DeliveryOutcome::Gone);
    assert_eq!(log[1].status, Some(410));
    assert_eq!(
        log[2].outcome,
        DeliveryOutcome::Cancelled,
        "the pending retry of the first event was dropped"
    );
    assert_eq!(log[2].event_id, log[0].event_id);
    assert_eq!(receiver.hooks().len(), 2, "no request after the 410");

    let robot = sim.robot(&demo.robot.id).unwrap();
    assert!(!robot.active);
    let api = Api::robot(&sim, &demo.robot.key);
    let info = api.get("/robots/@me/info").await;
    info.assert_error(403);

    // Nothing is queued for a disabled robot.
    sim.post(&demo.alice, &demo.general, "while disabled")
        .unwrap();
    // Re-enabled from the admin API, it receives new events again.
    let enabled = Api::anonymous(&sim)
        .patch(
            &format!("/_sim/robots/{}", demo.robot.id),
            &json!({"active": true}),
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);
    sim.post(&demo.alice, &demo.general, "welcome back")
        .unwrap();
    let hooks = receiver.wait_for(3).await;
    assert_eq!(hooks.len(), 3);
    assert_eq!(hooks[2].json()["data"]["content"], "welcome back");
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_endpoints_time_out_and_are_retried() {
    let receiver = Receiver::start().await;
    receiver.script_with_delay([(200, Duration::from_secs(3))]);
    let sim = support::sim_with(SimConfig {
        webhook_timeout: Duration::from_millis(200),
        ..support::scaled(1000.0)
    })
    .await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "slow").unwrap();
    receiver.wait_for(2).await;
    let log = log_len(&sim, &demo.robot.id, 2).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Failed);
    assert_eq!(log[0].status, None);
    assert!(
        log[0].error.as_deref().unwrap().contains("no response"),
        "{log:?}"
    );
    assert_eq!(log[1].outcome, DeliveryOutcome::Delivered);
    sim.shutdown().await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let receiver = Receiver::start().await;
    receiver.script([301, 307]);
    let sim = support::sim_with(support::scaled(1000.0)).await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "redirected").unwrap();
    receiver.wait_for(3).await;
    let log = log_len(&sim, &demo.robot.id, 3).await;
    let statuses: Vec<_> = log.iter().map(|r| (r.outcome, r.status)).collect();
    assert_eq!(
        statuses,
        [
            (DeliveryOutcome::Failed, Some(301)),
            (DeliveryOutcome::Failed, Some(307)),
            (DeliveryOutcome::Delivered, Some(200)),
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn unreachable_endpoints_keep_events_for_retries() {
    // Reserve a port, then close it so connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let sim = support::sim_with(support::scaled(1000.0)).await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Hooked").transport(Transport::Webhook {
            url: format!("http://127.0.0.1:{port}/hook"),
        }))
        .unwrap();
    sim.post(&demo.alice, &demo.general, "anyone?").unwrap();
    let log = log_len(&sim, &demo.robot.id, 2).await;
    assert_eq!(log[0].outcome, DeliveryOutcome::Failed);
    assert_eq!(log[0].error.as_deref(), Some("connection failed"));
    assert_eq!(log[1].attempt, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn rotation_signs_with_old_and_new_secrets_during_the_overlap() {
    let receiver = Receiver::start().await;
    let sim = support::sim().await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    let old = demo.robot.secret().to_owned();

    let rotated = sim.rotate_secret(&demo.robot.id).unwrap();
    assert_eq!(rotated.secrets.len(), 2);
    let new = rotated.secret().to_owned();
    assert_ne!(new, old);
    assert_eq!(rotated.secrets[1], old, "newest first");

    sim.post(&demo.alice, &demo.general, "during overlap")
        .unwrap();
    let hook = receiver.wait_for(1).await.remove(0);
    assert_eq!(hook.header("webhook-signature").split(' ').count(), 2);
    assert_eq!(
        verify(&hook, std::slice::from_ref(&old)),
        std::slice::from_ref(&old)
    );
    assert_eq!(
        verify(&hook, std::slice::from_ref(&new)),
        std::slice::from_ref(&new)
    );

    // Through the admin API, with no overlap: only the newest secret signs.
    let reply = Api::anonymous(&sim)
        .post(
            &format!("/_sim/robots/{}/rotate-secret", demo.robot.id),
            &json!({"overlapSeconds": 0}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let newest = reply.json()["secrets"][0].as_str().unwrap().to_owned();
    assert_eq!(reply.json()["secrets"].as_array().unwrap().len(), 1);
    sim.post(&demo.alice, &demo.general, "after overlap")
        .unwrap();
    let hook = receiver.wait_for(2).await.remove(1);
    assert_eq!(hook.header("webhook-signature").split(' ').count(), 1);
    assert_eq!(verify(&hook, &[old, new, newest.clone()]), [newest]);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_overlap_ends_after_the_configured_time() {
    let receiver = Receiver::start().await;
    let sim = support::sim_with(SimConfig {
        secret_overlap: Duration::from_millis(100),
        ..SimConfig::default()
    })
    .await;
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    let rotated = sim.rotate_secret(&demo.robot.id).unwrap();
    assert_eq!(rotated.secrets.len(), 2);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(sim.credentials(&demo.robot.id).unwrap().secrets.len(), 1);
    sim.post(&demo.alice, &demo.general, "later").unwrap();
    let hook = receiver.wait_for(1).await.remove(0);
    assert_eq!(
        verify(&hook, &rotated.secrets),
        [rotated.secret().to_owned()]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn switching_to_webhook_delivers_what_was_queued() {
    let receiver = Receiver::start().await;
    let sim = support::sim().await;
    let demo = sim // long-poll, nobody polling
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    sim.post(&demo.alice, &demo.general, "queued 1").unwrap();
    sim.post(&demo.alice, &demo.general, "queued 2").unwrap();
    let reply = Api::anonymous(&sim)
        .patch(
            &format!("/_sim/robots/{}", demo.robot.id),
            &json!({"transportType": "webhook", "webhookUrl": receiver.url}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["transportType"], "webhook");
    let contents: Vec<String> = receiver
        .wait_for(2)
        .await
        .iter()
        .map(|h| h.json()["data"]["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contents, ["queued 1", "queued 2"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_hanging_endpoint() {
    let receiver = Receiver::start().await;
    receiver.script_with_delay([(200, Duration::from_secs(60))]);
    let sim = support::sim().await; // 15 s webhook timeout
    let demo = sim.seed_demo_with(webhook_robot(&receiver)).unwrap();
    sim.post(&demo.alice, &demo.general, "into the void")
        .unwrap();
    receiver.wait_for(1).await;
    tokio::time::timeout(Duration::from_secs(10), sim.shutdown())
        .await
        .expect("shutdown cancels the in-flight webhook instead of waiting 15 s for it");
}
