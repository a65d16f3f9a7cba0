//! Dev mode end to end: a robot built from variables with no key runs against the local Lag
//! it starts, over each transport, and answers a member's message posted through that Lag's
//! admin API; the local Lag stops with the robot.
//!
//! The variables are given to `build_from_vars`, not set in the process environment, which the
//! tests share; the chat is off, so that nothing reads the test's stdin.

use std::time::Duration;

use lag_bot::{Ctx, Robot, command};
use serde_json::{Value, json};

use crate::support::within;

/// Replies with pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// The variables of a dev-mode robot on `transport`, on free loopback ports.
fn vars(transport: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LAG_TRANSPORT", transport.to_owned()),
        ("LAG_DEV_LISTEN", "127.0.0.1:0".to_owned()),
        ("LAG_LISTEN", "127.0.0.1:0".to_owned()),
        ("LAG_DEV_CHAT", "off".to_owned()),
    ]
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("the local Lag answers")
        .error_for_status()
        .expect("a success")
        .json()
        .await
        .expect("JSON")
}

/// The demo world as the local Lag's admin API shows it: (general's id, alice's id, robot id).
async fn demo_ids(http: &reqwest::Client, base: &str) -> (String, String, String) {
    let world = get(http, format!("{base}/_sim/world")).await;
    let server = &world["servers"][0];
    let general = server["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|room| room["name"] == "general")
        .expect("room general")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alice = server["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|member| member["username"] == "alice")
        .expect("member alice")["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let robot = server["robots"][0]["id"].as_str().unwrap().to_owned();
    (general, alice, robot)
}

async fn answers_a_member(transport: &str) {
    let robot = Robot::builder()
        .build_from_vars(vars(transport))
        .expect("a robot with no key builds in dev mode")
        .command(ping());
    let base = robot.client().base_url().trim_end_matches('/').to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // The local Lag answers before the robot starts, as a program's set-up needs.
    let rooms = robot.client().rooms().await.expect("rooms before start");
    let names: Vec<_> = rooms.iter().filter_map(|r| r.name.as_deref()).collect();
    assert_eq!(names, ["general", "welcome", "mod-log"]);

    let handle = within("the robot to start", robot.start())
        .await
        .expect("the robot starts");
    assert_eq!(handle.me().name, "Helper");
    assert_eq!(handle.local_addr().is_some(), transport == "webhook");

    let http = reqwest::Client::new();
    let (general, alice, robot_id) = demo_ids(&http, &base).await;
    http.post(format!("{base}/_sim/rooms/{general}/messages"))
        .json(&json!({ "userId": alice, "content": "!ping" }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("alice posts");

    within("the robot's reply", async {
        loop {
            let messages = get(&http, format!("{base}/_sim/rooms/{general}/messages")).await;
            let replied = messages.as_array().unwrap().iter().any(|m| {
                m["robotId"].as_str() == Some(robot_id.as_str()) && m["content"] == "pong"
            });
            if replied {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    if transport == "webhook" {
        let log = get(&http, format!("{base}/_sim/robots/{robot_id}/deliveries")).await;
        let delivered = log.as_array().unwrap().iter().any(|record| {
            record["eventType"] == "room.message"
                && record["outcome"] == "delivered"
                && record["status"] == 200
        });
        assert!(
            delivered,
            "the local Lag delivered a signed webhook the robot accepted: {log}"
        );
    }

    within("the robot to stop", handle.shutdown())
        .await
        .expect("the robot stops cleanly");
    let after = http.get(format!("{base}/_sim/world")).send().await;
    assert!(after.is_err(), "the local Lag stopped with the robot");
}

#[tokio::test]
async fn dev_mode_over_sse() {
    answers_a_member("sse").await;
}

#[tokio::test]
async fn dev_mode_over_long_poll() {
    answers_a_member("poll").await;
}

#[tokio::test]
async fn dev_mode_over_signed_webhooks() {
    answers_a_member("webhook").await;
}

#[tokio::test]
async fn dev_mode_settings_are_checked() {
    let err = Robot::builder()
        .build_from_vars([("LAG_DEV_CHAT", "maybe"), ("LAG_DEV_LISTEN", "127.0.0.1:0")])
        .unwrap_err();
    assert_eq!(err.kind(), &lag_bot::ErrorKind::Config);
    assert!(err.message().contains("LAG_DEV_CHAT"), "{err}");
}
