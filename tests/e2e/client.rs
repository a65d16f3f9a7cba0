//! The REST client against a real lag-sim over loopback HTTP: every endpoint, every error kind
//! Lag can answer with, pagination, content rules and 429 recovery.

use std::time::Duration;

use futures_util::TryStreamExt;
use lag_bot::client::{Client, RateLimits, RetryPolicy};
use lag_bot::metrics::Metrics;
use lag_bot::model::{HistoryQuery, MentionKind, Permission, ServerRole};
use lag_bot::{ErrorKind, SendMessage};
use lag_sim::{Demo, RobotSpec, RobotUpdate, Sim, Transport};

use crate::support::{self, contents, demo_with, metric, paced_client, scaled};

fn client(sim: &Sim, key: &str) -> Client {
    paced_client(sim, key)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

async fn demo() -> (Sim, Demo, Client) {
    let (sim, demo) = support::demo().await;
    let client = client(&sim, &demo.robot.key);
    (sim, demo, client)
}

#[tokio::test]
async fn identity_rooms_and_members() {
    let (sim, demo, client) = demo().await;

    let me = client.me().await.unwrap();
    assert_eq!(me.id, demo.robot.id);
    assert_eq!(me.name, "Helper");
    assert_eq!(me.server_id, demo.server_id);
    assert!(me.active);
    for permission in [
        Permission::ReadMessages,
        Permission::SendMessages,
        Permission::ReadMembers,
        Permission::ReadVoice,
        Permission::ReadRooms,
        Permission::ReadPresence,
    ] {
        assert!(me.has_permission(&permission), "{permission}");
    }
    assert_eq!(client.server_id().await.unwrap(), demo.server_id);

    let rooms = client.rooms().await.unwrap();
    let mut names: Vec<_> = rooms.iter().filter_map(|r| r.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["general", "mod-log", "welcome"]);
    for name in ["general", "General", "#general"] {
        assert_eq!(
            client.room_named(name).await.unwrap().id,
            demo.general,
            "{name}"
        );
    }
    let err = client.room_named("lobby").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    assert!(err.message().contains("general, "), "{err}");
    let general = rooms.iter().find(|r| r.id == demo.general).unwrap();
    assert_eq!(general.server_id, demo.server_id);
    assert!(general.participants.is_empty());

    let members = client.members().await.unwrap();
    let role_of = |id: &str| {
        members
            .iter()
            .find(|m| m.user_id == id)
            .map(|m| m.role.clone())
    };
    assert_eq!(members.len(), 3);
    assert_eq!(role_of(&demo.alice), Some(ServerRole::Owner));
    assert_eq!(role_of(&demo.bob), Some(ServerRole::Admin));
    assert_eq!(role_of(&demo.carol), Some(ServerRole::Member));

    // The identity is cached until refreshed.
    sim.update_robot(
        &demo.robot.id,
        RobotUpdate {
            name: Some("Helper Two".into()),
            ..RobotUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(client.me().await.unwrap().name, "Helper");
    assert_eq!(client.refresh_me().await.unwrap().name, "Helper Two");
    assert_eq!(client.clone().me().await.unwrap().name, "Helper Two");
    sim.shutdown().await;
}

#[tokio::test]
async fn send_reply_edit_and_delete() {
    let (sim, demo, client) = demo().await;
    let question = sim.post(&demo.alice, &demo.general, "ping?").unwrap();

    let sent = client.send(&demo.general, "hello, room").await.unwrap();
    assert_eq!(sent.content, "hello, room");
    assert_eq!(sent.room_id, demo.general);
    assert_eq!(sent.robot_id.as_deref(), Some(demo.robot.id.as_str()));
    assert_eq!(sent.user_id, None);
    assert!(sent.is_bot);

    let reply = client
        .send_message(
            &demo.general,
            SendMessage::new("pong").reply_to(&question.id),
        )
        .await
        .unwrap();
    let quoted = reply.reply_to.as_ref().expect("reply_to is filled");
    assert_eq!(quoted.id, question.id);
    assert_eq!(quoted.content, "ping?");
    assert_eq!(quoted.user_id.as_deref(), Some(demo.alice.as_str()));

    let in_room = sim.messages(&demo.general);
    assert_eq!(in_room.len(), 3);
    assert_eq!(in_room[0].id, reply.id);
    assert_eq!(in_room[1].id, sent.id);

    let edited = client
        .edit(&demo.general, &sent.id, "hello, everyone")
        .await
        .unwrap();
    assert_eq!(edited.id, sent.id);
    assert_eq!(edited.content, "hello, everyone");
    assert!(edited.edited_at.is_some());
    let stored = sim.messages(&demo.general);
    let stored = stored.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(stored.content, "hello, everyone");

    client.delete(&demo.general, &sent.id).await.unwrap();
    assert!(sim.messages(&demo.general).iter().all(|m| m.id != sent.id));

    let again = client.delete(&demo.general, &sent.id).await.unwrap_err();
    assert_eq!(again.kind(), &ErrorKind::NotFound);
    assert_eq!(again.status(), Some(404));
    assert!(again.request_id().is_some(), "lag-sim sends x-request-id");
    sim.shutdown().await;
}

#[tokio::test]
async fn mentions_decode_from_history() {
    let (sim, demo, client) = demo().await;
    sim.post(&demo.alice, &demo.general, "@Helper are you there?")
        .unwrap();
    let page = client
        .history_page(&demo.general, &HistoryQuery::new())
        .await
        .unwrap();
    let message = &page.messages[0];
    assert!(message.mentions_robot(&demo.robot.id));
    assert_eq!(message.mentions[0].kind, MentionKind::Robot);
    sim.shutdown().await;
}

#[tokio::test]
async fn content_rules_are_checked_before_sending() {
    let (sim, demo, client) = demo().await;

    for bad in [String::new(), "   \n".to_owned(), "x".repeat(2001)] {
        let err = client.send(&demo.general, bad.clone()).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{bad:?}");
        assert_eq!(err.status(), None, "rejected without a request");
    }
    let too_long = client
        .send(&demo.general, "y".repeat(2001))
        .await
        .unwrap_err();
    assert!(too_long.message().contains("2000"), "{too_long}");
    assert!(sim.messages(&demo.general).is_empty());

    let full = "é".repeat(2000);
    let sent = client.send(&demo.general, full.clone()).await.unwrap();
    assert_eq!(sent.content, full);
    let err = client
        .edit(&demo.general, &sent.id, "z".repeat(2001))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);

    let long: String = (0..900).map(|i| format!("word{i} ")).collect();
    let pieces = lag_bot::client::split_content(&long);
    assert!(pieces.len() >= 3);
    let sent = client.send_split(&demo.welcome, &long).await.unwrap();
    assert_eq!(contents(&sim, &demo.welcome), pieces);
    assert_eq!(sent.len(), pieces.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn history_walks_every_page() {
    let (sim, demo, client) = demo().await;
    for i in 0..250 {
        sim.post(&demo.alice, &demo.general, &format!("m{i}"))
            .unwrap();
    }
    let expected: Vec<String> = (0..250).rev().map(|i| format!("m{i}")).collect();

    let all: Vec<_> = client.history(&demo.general).try_collect().await.unwrap();
    let contents: Vec<_> = all.iter().map(|m| m.content.clone()).collect();
    assert_eq!(contents, expected);

    let small: Vec<_> = client
        .history_from(&demo.general, HistoryQuery::new().limit(9))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(small.len(), 250);
    assert_eq!(small, all);

    let first = client
        .history_page(&demo.general, &HistoryQuery::new().limit(7))
        .await
        .unwrap();
    assert_eq!(first.messages.len(), 7);
    assert!(first.has_more);
    let cursor = first
        .next_cursor
        .clone()
        .expect("a cursor to older messages");
    let second = client
        .history_page(&demo.general, &HistoryQuery::new().limit(7).before(cursor))
        .await
        .unwrap();
    assert_eq!(second.messages[0].content, "m242");

    let default_page = client
        .history_page(&demo.general, &HistoryQuery::new())
        .await
        .unwrap();
    assert_eq!(default_page.messages.len(), 50);

    let empty: Vec<_> = client.history(&demo.welcome).try_collect().await.unwrap();
    assert!(empty.is_empty());

    for limit in [0, 101] {
        let err = client
            .history_page(&demo.general, &HistoryQuery::new().limit(limit))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    }
    let err = client
        .history_page(&demo.general, &HistoryQuery::new().before("yesterday"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Api);
    assert_eq!(err.status(), Some(400));
    assert!(err.message().contains("cursor"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn every_refusal_maps_to_its_error_kind() {
    let (sim, demo, client) = demo().await;

    let stranger = self::client(&sim, "lag_robot_deadbeef_notarealkeyatall");
    let err = stranger.me().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert!(err.request_id().is_some());
    assert!(!err.is_transient());

    let mute = sim
        .create_robot(
            &demo.server_id,
            RobotSpec::new("Mute").permissions([lag_sim::Permission::SendMessages]),
        )
        .unwrap();
    let mute = self::client(&sim, &mute.key);
    for err in [
        mute.rooms().await.unwrap_err(),
        mute.members().await.unwrap_err(),
        mute.history_page(&demo.general, &HistoryQuery::new())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), &ErrorKind::Forbidden, "{err}");
        assert_eq!(err.status(), Some(403));
    }

    let theirs = sim.post(&demo.alice, &demo.general, "mine").unwrap();
    let err = client.delete(&demo.general, &theirs.id).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Forbidden);
    let err = client
        .edit(&demo.general, &theirs.id, "not yours")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Forbidden);

    let err = client.send("room_missing", "hi").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let err = client
        .edit(&demo.general, "msg_missing", "hi")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);

    let err = client.poll_events().await;
    assert!(err.is_ok(), "the demo robot uses long-poll: {err:?}");
    sim.set_transport(&demo.robot.id, Transport::Sse).unwrap();
    let err = client.poll_events().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
    assert_eq!(err.status(), Some(409));

    sim.set_active(&demo.robot.id, false).unwrap();
    let err = client.send(&demo.general, "anyone?").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Forbidden);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_closed_port_is_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder("lag_robot_abcd1234_secret")
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.me().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Connection);
    assert!(err.is_transient());
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn an_unpaced_burst_is_refused_with_retry_after() {
    let (sim, demo) = demo_with(scaled(5.0)).await;
    let client = Client::builder(&demo.robot.key)
        .base_url(sim.base_url())
        .rate_limits(RateLimits::unlimited())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut refused = None;
    for i in 0..11 {
        if let Err(err) = client.send(&demo.general, format!("n{i}")).await {
            refused = Some((i, err));
            break;
        }
    }
    let (index, err) = refused.expect("the eleventh send in one window is refused");
    assert_eq!(index, 10);
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }));
    assert_eq!(err.status(), Some(429));
    let wait = err.retry_after().expect("Retry-After is parsed");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    assert!(err.is_transient());
    assert_eq!(sim.messages(&demo.general).len(), 10);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_pauses_and_the_call_is_retried() {
    let (sim, demo) = demo_with(scaled(5.0)).await;
    let metrics = Metrics::new();
    let client = Client::builder(&demo.robot.key)
        .base_url(sim.base_url())
        .rate_limits(RateLimits::unlimited())
        .metrics(metrics.clone())
        .build()
        .unwrap();
    for i in 0..12 {
        client
            .send(&demo.general, format!("n{i}"))
            .await
            .unwrap_or_else(|err| panic!("send {i} failed: {err}"));
    }
    assert!(metric(&metrics, "lag_bot_rate_limited_total") >= 1.0);
    let expected: Vec<_> = (0..12).map(|i| format!("n{i}")).collect();
    assert_eq!(
        contents(&sim, &demo.general),
        expected,
        "each message exactly once, in order"
    );
    sim.shutdown().await;
}
