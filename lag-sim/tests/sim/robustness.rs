//! Bad input and concurrency: nothing panics, nothing is lost, state stays consistent.

use std::collections::HashSet;

use lag_sim::RobotSpec;
use serde_json::json;

use crate::support::{self, Api, messages_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_lose_nothing_and_paginate_exactly_once() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let admin = Api::anonymous(&sim);
    let mut keys = vec![demo.robot.key.clone()];
    for n in 0..4 {
        keys.push(
            sim.create_robot(&demo.server_id, RobotSpec::new(format!("Writer {n}")))
                .unwrap()
                .key,
        );
    }
    let mut tasks = Vec::new();
    for (n, user) in [&demo.alice, &demo.bob, &demo.carol]
        .into_iter()
        .enumerate()
    {
        let admin = admin.clone();
        let path = format!("/_sim/rooms/{}/messages", demo.general);
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            for m in 0..40 {
                let reply = admin
                    .post(
                        &path,
                        &json!({"userId": user, "content": format!("u{n}-{m}")}),
                    )
                    .await;
                assert_eq!(reply.status, 201, "{}", reply.text);
            }
        }));
    }
    for (n, key) in keys.iter().enumerate() {
        let api = Api::robot(&sim, key);
        let path = messages_path(&demo.server_id, &demo.general);
        tasks.push(tokio::spawn(async move {
            for m in 0..10 {
                let reply = api
                    .post(&path, &json!({"content": format!("r{n}-{m}")}))
                    .await;
                assert_eq!(reply.status, 201, "{}", reply.text);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let stored = sim.messages(&demo.general);
    assert_eq!(stored.len(), 3 * 40 + 5 * 10);
    for pair in stored.windows(2) {
        assert!(
            pair[0].created_at > pair[1].created_at,
            "createdAt strictly decreases newest-first: {} then {}",
            pair[0].created_at,
            pair[1].created_at
        );
    }

    // Walking history with a small page sees every message exactly once.
    let api = Api::robot(&sim, &demo.robot.key);
    let path = messages_path(&demo.server_id, &demo.general);
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = api
            .request(reqwest::Method::GET, &path)
            .query(&[("limit", "7")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page = api.send(request).await.json();
        for message in page["messages"].as_array().unwrap() {
            assert!(seen.insert(message["id"].as_str().unwrap().to_owned()));
        }
        pages += 1;
        assert!(pages < 100, "pagination terminates");
        if page["hasMore"] == false {
            assert_eq!(page["nextCursor"], serde_json::Value::Null);
            break;
        }
        cursor = Some(page["nextCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), stored.len());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_robot_creation_respects_limits() {
    let sim = support::sim().await;
    let server = sim.create_server("Busy").unwrap();
    let admin = Api::anonymous(&sim);
    let mut tasks = Vec::new();
    for n in 0..30 {
        let admin = admin.clone();
        let path = format!("/_sim/servers/{server}/robots");
        // Names collide in pairs (case-insensitively) and there are more than ten.
        let name = if n % 2 == 0 {
            format!("robot {}", n / 2)
        } else {
            format!("ROBOT {}", n / 2)
        };
        tasks.push(tokio::spawn(async move {
            admin.post(&path, &json!({"name": name})).await.status
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            201 => created += 1,
            409 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created, 10);
    let robots = sim.robots(&server).unwrap();
    assert_eq!(robots.len(), 10);
    let names: HashSet<String> = robots.iter().map(|r| r.name.to_lowercase()).collect();
    assert_eq!(names.len(), 10, "no duplicate names slipped through");
    sim.shutdown().await;
}

#[tokio::test]
async fn odd_paths_and_headers_get_envelopes() {
    let (sim, demo, api) = support::demo().await;
    // A path segment that is not valid UTF-8 once decoded.
    api.get("/robots/@me/servers/%FF%FE/rooms")
        .await
        .assert_error(400);
    api.get(&format!(
        "/robots/@me/servers/{}/rooms/%C0/messages",
        demo.server_id
    ))
    .await
    .assert_error(400);
    // Percent-encoded ids are decoded before lookup.
    let encoded = demo.general.replace('_', "%5F");
    let reply = api.get(&messages_path(&demo.server_id, &encoded)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Not-ASCII bytes in the Authorization header.
    let odd = api
        .send(
            Api::anonymous(&sim)
                .request(reqwest::Method::GET, "/robots/@me/info")
                .header(
                    "authorization",
                    reqwest::header::HeaderValue::from_bytes(b"Robot \xe9\xe9").unwrap(),
                ),
        )
        .await;
    odd.assert_error(401);
    // A very long, unknown key.
    Api::robot(&sim, &"k".repeat(10_000))
        .get("/robots/@me/info")
        .await
        .assert_error(401);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_emulator_keeps_serving_after_bad_input() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);
    for body in [
        "",
        "{}",
        "{\"content\":[]}",
        "{\"content\":\"\\ud800\"}",
        "[1,2,3]",
    ] {
        let reply = api.raw(reqwest::Method::POST, &path, body).await;
        assert_eq!(reply.status, 400, "body {body:?}: {}", reply.text);
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    api.raw(reqwest::Method::POST, &path, deep)
        .await
        .assert_error(400);
    let ok = api.post(&path, &json!({"content": "still here"})).await;
    assert_eq!(ok.status, 201);
    assert_eq!(sim.messages(&demo.general).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_is_idempotent_and_closes_the_port() {
    let sim = support::sim().await;
    let base = sim.base_url();
    sim.shutdown().await;
    sim.shutdown().await;
    let refused = reqwest::Client::new()
        .get(format!("{base}/robots/@me/info"))
        .send()
        .await;
    assert!(refused.is_err(), "nothing listens after shutdown");
    assert!(
        sim.restart().await.is_err(),
        "a shut-down emulator does not restart"
    );
}
