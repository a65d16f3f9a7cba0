//! `Sim::subscribe`: every event of the world, in order, with names, whatever robots receive.

use lag_sim::{
    EventFeed, EventType, Permission, RobotSpec, Role, ServerUpdate, SimConfig, UserStatus,
    WorldEvent,
};
use serde_json::json;

use crate::support::{self, PATIENCE, messages_path};

async fn next(feed: &mut EventFeed) -> WorldEvent {
    tokio::time::timeout(PATIENCE, feed.recv())
        .await
        .expect("an event in time")
        .expect("the feed is open")
}

async fn lines(feed: &mut EventFeed, count: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..count {
        lines.push(next(feed).await.to_string());
    }
    lines
}

#[tokio::test]
async fn members_and_robots_are_in_one_conversation() {
    let (sim, demo, api) = support::demo().await;
    let mut feed = sim.subscribe();

    let ask = sim.post(&demo.alice, &demo.general, "!roll 6").unwrap();
    let reply = api
        .post(
            &messages_path(&demo.server_id, &demo.general),
            &json!({"content": "You rolled 4."}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let answer = reply.json()["id"].as_str().unwrap().to_owned();
    sim.edit(&demo.alice, &demo.general, &ask.id, "!roll 20")
        .unwrap();
    sim.delete(&demo.bob, &demo.general, &answer).unwrap();
    let dave = sim.add_member(&demo.server_id, "dave").unwrap();
    sim.remove_member(&demo.server_id, &dave).unwrap();

    let mut events = Vec::new();
    for _ in 0..6 {
        events.push(next(&mut feed).await);
    }
    let lines: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "#general alice: !roll 6",
            "#general Helper: You rolled 4.",
            "#general alice (edited): !roll 20",
            "#general bob deleted a message",
            "* dave joined Demo Server",
            "* dave left Demo Server",
        ]
    );
    assert!(feed.try_recv().is_none(), "nothing else happened");

    // The robot got the same event under the same id.
    let retained = sim.events(&demo.robot.id);
    let robot_copy = retained
        .iter()
        .find(|e| e.id == events[0].id)
        .expect("the robot has the message's event");
    assert_eq!(robot_copy.payload, events[0].body);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_feed_shows_what_no_robot_may_see() {
    let robot = RobotSpec::new("Helper")
        .permissions([Permission::SendMessages])
        .subscriptions([]);
    let (sim, demo, _api) = support::demo_with(SimConfig::default(), robot).await;
    let mut feed = sim.subscribe();
    sim.post(&demo.alice, &demo.general, "secret plans, @Helper")
        .unwrap();
    let event = feed.try_recv().expect("the message");
    assert_eq!(event.kind, EventType::RoomMessage);
    assert_eq!(event.body.data["content"], "secret plans, @Helper");
    assert_eq!(event.server_name, "Demo Server");
    assert_eq!(event.room_name.as_deref(), Some("general"));
    assert_eq!(event.actor_name.as_deref(), Some("alice"));
    assert!(
        feed.try_recv().is_none(),
        "robot.mentioned is not repeated in the feed"
    );
    assert!(sim.events(&demo.robot.id).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn every_kind_of_event_has_a_line() {
    let (sim, demo, _api) = support::demo().await;
    let mut feed = sim.subscribe();
    let ops = sim
        .create_room_as(&demo.bob, &demo.server_id, "ops")
        .unwrap();
    sim.post(&demo.carol, &ops, "line one\nline two").unwrap();
    sim.join_voice(&demo.carol, &ops).unwrap();
    sim.set_role(&demo.server_id, &demo.carol, Role::Admin)
        .unwrap();
    sim.set_status(&demo.carol, UserStatus::Idle).unwrap();
    sim.update_server(
        &demo.server_id,
        ServerUpdate {
            name: Some("Acme".into()),
            ..ServerUpdate::default()
        },
    )
    .unwrap();
    sim.delete_room(&ops).unwrap();

    let mut lines = lines(&mut feed, 8).await;
    let left_voice = lines.remove(6);
    assert!(
        left_voice.starts_with("#ops carol left voice after "),
        "{left_voice}"
    );
    assert_eq!(
        lines,
        [
            "* bob created #ops in Demo Server",
            "#ops carol: line one\n    line two",
            "#ops carol joined voice",
            "* carol is now admin in Demo Server (was member)",
            "* carol is idle",
            "* alice changed Acme: name",
            "* #ops was deleted from Acme",
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_reader_skips_the_oldest_and_counts_them() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let mut feed = sim.subscribe();
    let total = 1100;
    for i in 0..total {
        sim.post(&demo.alice, &demo.general, &format!("message {i}"))
            .unwrap();
    }
    let first = feed.try_recv().expect("the newest events are kept");
    let missed = feed.missed();
    assert!(missed > 0, "the feed holds fewer than {total} events");
    assert_eq!(first.body.data["content"], format!("message {missed}"));
    let mut read = 1;
    while feed.try_recv().is_some() {
        read += 1;
    }
    assert_eq!(read + missed, total);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_feed_ends_after_shutdown_with_nothing_lost() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let mut feed = sim.subscribe();
    sim.post(&demo.alice, &demo.general, "last words").unwrap();
    sim.shutdown().await;
    assert_eq!(
        next(&mut feed).await.to_string(),
        "#general alice: last words"
    );
    let end = tokio::time::timeout(PATIENCE, feed.recv()).await;
    assert_eq!(end.expect("the feed ends in time"), None);
}
