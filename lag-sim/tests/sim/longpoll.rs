//! Long-poll delivery: held requests, `[]` on timeout, batches of at most 100, consumption.

use std::time::Duration;

use lag_sim::{RobotSpec, Transport};
use serde_json::Value;

use crate::support::{self, Api};

#[tokio::test]
async fn an_idle_poll_returns_an_empty_array_after_the_hold() {
    let (sim, _demo, api) =
        support::demo_with(support::short_polls(300), RobotSpec::new("Helper")).await;
    let reply = api.get("/robots/@me/events/poll").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text, "[]");
    assert!(reply.header("x-request-id").is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_hold_follows_the_time_scale() {
    // 30 s of simulated hold at 100x is 300 ms of real time.
    let (sim, _demo, api) =
        support::demo_with(support::scaled(100.0), RobotSpec::new("Helper")).await;
    let reply = tokio::time::timeout(support::PATIENCE, api.get("/robots/@me/events/poll"))
        .await
        .expect("a scaled hold ends long before the real 30 s");
    assert_eq!(reply.text, "[]");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_held_poll_wakes_up_for_a_new_event() {
    let sim = support::sim().await; // 30 s hold: only an event can end it in time
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let poll = tokio::spawn({
        let api = api.clone();
        async move { api.poll().await }
    });
    support::streams_open(&sim, 1).await;
    let message = sim.post(&demo.alice, &demo.general, "wake up").unwrap();
    let events = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .expect("the poll returned before its 30 s hold ended")
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["eventType"], "room.message");
    assert!(event["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(event["createdAt"].is_string());
    let payload = &event["payload"];
    assert_eq!(payload["type"], "room.message");
    assert_eq!(payload["serverId"], demo.server_id.as_str());
    assert!(payload["timestamp"].is_string());
    let data = &payload["data"];
    assert_eq!(data["roomId"], demo.general.as_str());
    assert_eq!(data["messageId"], message.id.as_str());
    assert_eq!(data["senderId"], demo.alice.as_str());
    assert_eq!(data["senderName"], "alice");
    assert_eq!(data["content"], "wake up");
    assert_eq!(data["createdAt"], message.created_at.as_str());
    assert_eq!(data["isBot"], false);
    assert_eq!(data["robotId"], Value::Null);
    assert_eq!(data["replyToId"], Value::Null);
    assert_eq!(data["mentions"], serde_json::json!([]));
    sim.shutdown().await;
}

#[tokio::test]
async fn events_queue_while_nobody_polls_and_are_consumed_once() {
    let sim = support::sim_with(support::short_polls(300)).await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    for n in 0..5 {
        sim.post(&demo.alice, &demo.general, &format!("m{n}"))
            .unwrap();
    }
    let api = Api::robot(&sim, &demo.robot.key);
    let events = api.poll().await;
    let contents: Vec<&str> = events
        .iter()
        .map(|e| e["payload"]["data"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["m0", "m1", "m2", "m3", "m4"], "in order");
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids sort in delivery order");
    assert_eq!(
        api.poll().await,
        Vec::<Value>::new(),
        "returned events are consumed"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn batches_hold_at_most_one_hundred_events() {
    let sim = support::sim_with(support::short_polls(300)).await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    for n in 0..150 {
        sim.post(&demo.bob, &demo.general, &format!("m{n}"))
            .unwrap();
    }
    let api = Api::robot(&sim, &demo.robot.key);
    let first = api.poll().await;
    assert_eq!(first.len(), 100);
    let second = api.poll().await;
    assert_eq!(second.len(), 50);
    assert_eq!(second[0]["payload"]["data"]["content"], "m100");
    assert_eq!(second[49]["payload"]["data"]["content"], "m149");
    assert!(api.poll().await.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_polls_split_events_without_duplicates() {
    let (sim, demo, api) =
        support::demo_with(support::short_polls(300), RobotSpec::new("Helper")).await;
    let polls: Vec<_> = (0..3)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.poll().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for n in 0..30 {
        sim.post(&demo.alice, &demo.general, &format!("m{n}"))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut ids = Vec::new();
    for poll in polls {
        for event in poll.await.unwrap() {
            ids.push(event["id"].as_str().unwrap().to_owned());
        }
    }
    while ids.len() < 30 {
        let more = api.poll().await;
        assert!(
            !more.is_empty(),
            "only {} of 30 events were handed out",
            ids.len()
        );
        ids.extend(more.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "no event was handed out twice");
    assert_eq!(count, 30, "every event was handed out");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_delivery_log_records_each_handout() {
    let sim = support::sim_with(support::short_polls(300)).await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    sim.post(&demo.alice, &demo.general, "one").unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let events = api.poll().await;
    let log = sim.deliveries(&demo.robot.id);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event_id, events[0]["id"].as_str().unwrap());
    assert_eq!(log[0].event_type, "room.message");
    assert_eq!(log[0].transport.as_str(), "longpoll");
    assert_eq!(log[0].outcome, lag_sim::DeliveryOutcome::Delivered);
    assert_eq!(log[0].attempt, 1);
    assert!(log[0].latency_ms.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn polling_a_robot_of_another_transport_is_409() {
    let (sim, demo, api) = support::demo_with(
        support::short_polls(300),
        RobotSpec::new("Streamer").transport(Transport::Sse),
    )
    .await;
    api.get("/robots/@me/events/poll").await.assert_error(409);

    // Switching the robot to long-poll hands over what was queued meanwhile.
    sim.post(&demo.alice, &demo.general, "queued").unwrap();
    sim.set_transport(&demo.robot.id, Transport::LongPoll)
        .unwrap();
    let events = api.poll().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["payload"]["data"]["content"], "queued");
    api.get("/robots/@me/events/sse").await.assert_error(409);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cut_poll_loses_nothing() {
    let (sim, demo, api) = support::demo().await;
    let held = tokio::spawn({
        let api = api.clone();
        async move {
            api.request(reqwest::Method::GET, "/robots/@me/events/poll")
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map(|r| async move { r.text().await })
        }
    });
    support::streams_open(&sim, 1).await;
    sim.cut_streams();
    let outcome = match held.await.unwrap() {
        Ok(body) => body.await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(outcome.is_err(), "the held poll's connection was dropped");
    sim.post(&demo.alice, &demo.general, "after the cut")
        .unwrap();
    let events = api.poll().await;
    assert_eq!(events.len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_restart_keeps_queued_events() {
    let sim = support::sim_with(support::short_polls(300)).await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    sim.post(&demo.alice, &demo.general, "before").unwrap();
    let base = sim.base_url();
    sim.restart().await.unwrap();
    assert_eq!(sim.base_url(), base, "same address after a restart");
    sim.post(&demo.alice, &demo.general, "after").unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let contents: Vec<String> = api
        .poll_until(2)
        .await
        .iter()
        .map(|e| e["payload"]["data"]["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contents, ["before", "after"]);
    sim.shutdown().await;
}
