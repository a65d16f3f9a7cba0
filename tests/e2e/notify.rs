//! The `notify` example: generic, GitHub and Alertmanager notifications posted over real HTTP to
//! the robot's own routes, each with a good and a bad signature or token, malformed and
//! unknown payloads, duplicates, and a burst of alerts paced under Lag's message limit.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use lag_bot::testing::{Kit, Via};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::metric;

#[allow(dead_code)]
#[path = "../../examples/notify/main.rs"]
mod example;

use example::{Notify, Settings};

const TOKEN: &str = "test-token";
const SECRET: &str = "It's a Secret to Everybody";

fn settings() -> Settings {
    Settings {
        room: "general".to_owned(),
        token: Some(TOKEN.to_owned()),
        github_secret: Some(SECRET.to_owned()),
        dedup_window: Duration::from_secs(600),
    }
}

/// A kit running the example, and the base URL of its routes.
async fn start(via: Via) -> (Kit, String) {
    let notify = Arc::new(Notify::new(settings()));
    let kit = Kit::builder()
        .via(via)
        .start(|lag| example::robot(lag, notify))
        .await
        .expect("the notify robot starts");
    let base = format!("http://{}", kit.handle().routes_addr().expect("routes"));
    (kit, base)
}

/// An HTTP answer: status and JSON body.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn generic(base: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/notify"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    answer(response).await
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn github(
    base: &str,
    event: &str,
    delivery: &str,
    signature: &str,
    body: &[u8],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/notify/github"))
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", signature)
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    answer(response).await
}

async fn alertmanager(base: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/notify/alertmanager"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    answer(response).await
}

fn push_payload() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "before": "0000000",
        "after": "b1c2d3e",
        "created": false,
        "deleted": false,
        "forced": false,
        "compare": "https://github.example/octo/robots/compare/0000000...b1c2d3e",
        "repository": { "full_name": "octo/robots", "id": 1 },
        "pusher": { "name": "mona" },
        "sender": { "login": "mona" },
        "commits": [
            { "id": "a1b2c3d4e5f6", "message": "Fix the greeting\n\nIt was rude." },
            { "id": "b1c2d3e4f5a6", "message": "Add a test" }
        ]
    }))
    .unwrap()
}

fn alert_group(status: &str, name: &str, instances: &[&str]) -> Value {
    let alerts: Vec<Value> = instances
        .iter()
        .map(|instance| {
            json!({
                "status": status,
                "labels": { "alertname": name, "instance": instance, "severity": "page" },
                "annotations": { "summary": format!("{name} on {instance}") },
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": format!("{name}-{instance}")
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "lag",
        "groupLabels": { "alertname": name },
        "commonLabels": { "alertname": name, "severity": "page" },
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": alerts
    })
}

#[tokio::test]
async fn generic_notifications_need_the_token_and_are_posted_once() {
    let (kit, base) = start(Via::Sse).await;
    let note = json!({ "room": "general", "text": "Deploy finished" });

    let (status, body) = generic(&base, TOKEN, &note).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "queued");
    kit.reply_in("general").await.assert_text("Deploy finished");

    let (status, body) = generic(&base, TOKEN, &note).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("duplicate")),
        "{body}"
    );

    let (status, body) = generic(&base, "not-the-token", &json!({ "text": "forged" })).await;
    assert_eq!(status, 401, "{body}");
    let unsigned = reqwest::Client::new()
        .post(format!("{base}/notify"))
        .json(&json!({ "text": "no token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);

    for bad in [
        json!({ "message": "wrong field" }),
        json!({ "text": "   " }),
        json!({ "text": "x".repeat(2001) }),
        json!({ "room": "nowhere", "text": "lost" }),
    ] {
        let (status, body) = generic(&base, TOKEN, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }

    // The room by name with its `#`, and by default; nothing else was posted in between.
    let (status, _) = generic(
        &base,
        TOKEN,
        &json!({ "room": "#welcome", "text": "Hi there" }),
    )
    .await;
    assert_eq!(status, 202);
    kit.reply_in("welcome").await.assert_text("Hi there");
    let (status, _) = generic(&base, TOKEN, &json!({ "text": "Backup done" })).await;
    assert_eq!(status, 202);
    kit.reply_in("general").await.assert_text("Backup done");
    kit.no_reply_in("general").await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn github_deliveries_are_verified_rendered_and_posted_once() {
    let (kit, base) = start(Via::Webhook).await;
    let push = push_payload();
    let signed = github_signature(SECRET, &push);

    let (status, body) = github(&base, "push", "d-1", &signed, &push).await;
    assert_eq!(status, 202, "{body}");
    kit.reply_in("general").await.assert_text(
        "mona pushed 2 commits to octo/robots main:\n\
         • a1b2c3d Fix the greeting\n\
         • b1c2d3e Add a test\n\
         https://github.example/octo/robots/compare/0000000...b1c2d3e",
    );

    // GitHub redelivers with the same delivery id: taken once.
    let (status, body) = github(&base, "push", "d-1", &signed, &push).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("duplicate")),
        "{body}"
    );

    let forged = github_signature("another secret", &push);
    let (status, _) = github(&base, "push", "d-2", &forged, &push).await;
    assert_eq!(status, 401);
    let (status, _) = github(&base, "push", "d-3", "sha256=zz", &push).await;
    assert_eq!(status, 401);
    let mut tampered = push.clone();
    tampered.extend_from_slice(b" ");
    let (status, _) = github(&base, "push", "d-4", &signed, &tampered).await;
    assert_eq!(status, 401);

    let issue = br#"{"action":"opened","issue":{"number":1}}"#;
    let (status, body) = github(
        &base,
        "issues",
        "d-5",
        &github_signature(SECRET, issue),
        issue,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let broken = br#"{"ref": 42}"#;
    let (status, _) = github(
        &base,
        "push",
        "d-6",
        &github_signature(SECRET, broken),
        broken,
    )
    .await;
    assert_eq!(status, 400);
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let (status, body) = github(&base, "ping", "d-7", &github_signature(SECRET, ping), ping).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("ignored")),
        "{body}"
    );

    let pr = serde_json::to_vec(&json!({
        "action": "closed",
        "number": 7,
        "pull_request": {
            "title": "Welcome new members by name",
            "html_url": "https://github.example/octo/robots/pull/7",
            "merged": true,
            "user": { "login": "mona" }
        },
        "repository": { "full_name": "octo/robots" },
        "sender": { "login": "hubot" }
    }))
    .unwrap();
    let (status, _) = github(
        &base,
        "pull_request",
        "d-8",
        &github_signature(SECRET, &pr),
        &pr,
    )
    .await;
    assert_eq!(status, 202);
    kit.reply_in("general").await.assert_text(
        "hubot merged pull request #7 in octo/robots: **Welcome new members by name**\n\
         https://github.example/octo/robots/pull/7",
    );

    let run = serde_json::to_vec(&json!({
        "action": "completed",
        "workflow_run": {
            "name": "CI",
            "head_branch": "main",
            "conclusion": "failure",
            "run_number": 42,
            "html_url": "https://github.example/octo/robots/actions/runs/42"
        },
        "repository": { "full_name": "octo/robots" }
    }))
    .unwrap();
    let (status, _) = github(
        &base,
        "workflow_run",
        "d-9",
        &github_signature(SECRET, &run),
        &run,
    )
    .await;
    assert_eq!(status, 202);
    kit.reply_in("general").await.assert_text(
        "❌ CI #42 failed in octo/robots on main\nhttps://github.example/octo/robots/actions/runs/42",
    );
    kit.no_reply_in("general").await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn alertmanager_groups_are_rendered_firing_and_resolved() {
    let (kit, base) = start(Via::LongPoll).await;
    let firing = alert_group("firing", "HighLatency", &["web-1:9100", "web-2:9100"]);

    let (status, body) = alertmanager(&base, TOKEN, &firing).await;
    assert_eq!(status, 202, "{body}");
    kit.reply_in("general").await.assert_text(
        "🔥 FIRING: HighLatency (2 alerts)\n\
         • web-1:9100: HighLatency on web-1:9100\n\
         • web-2:9100: HighLatency on web-2:9100",
    );
    let (status, body) = alertmanager(&base, TOKEN, &firing).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("duplicate")),
        "{body}"
    );

    let (status, _) = alertmanager(&base, "wrong", &firing).await;
    assert_eq!(status, 401);
    for bad in [
        json!({ "status": "firing" }),
        json!({ "status": "firing", "alerts": [] }),
        json!([1, 2]),
    ] {
        let (status, body) = alertmanager(&base, TOKEN, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }

    let mut mixed = alert_group("resolved", "HighLatency", &["web-1:9100"]);
    let still = alert_group("firing", "HighLatency", &["web-2:9100"]);
    mixed["status"] = json!("firing");
    mixed["alerts"]
        .as_array_mut()
        .unwrap()
        .push(still["alerts"][0].clone());
    let (status, _) = alertmanager(&base, TOKEN, &mixed).await;
    assert_eq!(status, 202);
    kit.reply_in("general").await.assert_text(
        "🔥 FIRING: HighLatency (1 alert)\n\
         • web-2:9100: HighLatency on web-2:9100\n\
         ✅ RESOLVED: HighLatency (1 alert)\n\
         • web-1:9100: HighLatency on web-1:9100",
    );
    kit.no_reply_in("general").await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_alerts_is_paced_and_grouped_never_dropped() {
    let (kit, base) = start(Via::Sse).await;
    const BURST: usize = 120;
    let names: Vec<String> = (0..BURST).map(|i| format!("Alert{i:03}")).collect();
    // One after another, as Alertmanager sends a storm: the first ones are posted as they
    // come, until Lag's window of ten messages is used; the rest pile up meanwhile and go out
    // grouped as the window frees.
    for name in &names {
        let (status, body) =
            alertmanager(&base, TOKEN, &alert_group("firing", name, &["db-1:9100"])).await;
        assert_eq!(status, 202, "{body}");
    }

    let mut missing: Vec<&String> = names.iter().collect();
    let mut messages = 0;
    while !missing.is_empty() {
        let message = kit.reply_in("general").await;
        messages += 1;
        assert!(message.text().chars().count() <= 2000);
        missing.retain(|name| !message.text().contains(&format!("FIRING: {name} ")));
    }
    kit.no_reply_in("general").await;

    let metrics = kit.handle().metrics();
    assert_eq!(
        metric(metrics, "lag_bot_rate_limited_total"),
        0.0,
        "no 429s"
    );
    assert!(
        messages < BURST / 2,
        "{BURST} alert groups went out in {messages} messages: grouped"
    );
    assert!(
        messages > 10,
        "{messages} messages: the burst outlasted one window of Lag's limit"
    );
    assert!(
        kit.elapsed() >= Duration::from_secs(10),
        "more than ten messages are paced over more than one window: {:?}",
        kit.elapsed()
    );
    eprintln!(
        "figure: {BURST} alert groups -> {messages} messages over {:?} of simulated time, 0 429s",
        kit.elapsed()
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn queued_notifications_are_posted_before_the_robot_stops() {
    let notify = Arc::new(Notify::new(settings()));
    let kit = Kit::start(|lag| example::robot(lag, Arc::clone(&notify)))
        .await
        .unwrap();
    let base = format!("http://{}", kit.handle().routes_addr().unwrap());
    // Fewer than Lag's ten messages per window: nothing waits on the kit's clock.
    for i in 0..5 {
        let (status, _) = generic(&base, TOKEN, &json!({ "text": format!("note {i}") })).await;
        assert_eq!(status, 202);
    }
    kit.handle().shutdown_handle().trigger();
    notify.drained().await;
    let late = reqwest::Client::new()
        .post(format!("{base}/notify"))
        .bearer_auth(TOKEN)
        .json(&json!({ "text": "too late" }))
        .send()
        .await;
    // Refused while the robot finishes (503: the sender retries), or no longer listening.
    if let Ok(late) = late {
        assert_eq!(late.status(), 503, "a stopping robot queues nothing more");
    }
    let posted: Vec<String> = kit
        .sim()
        .messages(&kit.demo().general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    let posted = posted.join("\n");
    for i in 0..5 {
        assert!(
            posted.contains(&format!("note {i}")),
            "note {i} in {posted}"
        );
    }
    assert!(!posted.contains("too late"));
    kit.stop().await.unwrap();
}
