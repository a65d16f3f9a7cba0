//! The event model against what lag-sim really delivers: every event type, over all three
//! transports (long-poll, SSE and webhook), decodes into its typed event with its id, server,
//! time and raw data.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use lag_bot::events::{EVENT_TYPES, Envelope, Event};
use lag_bot::model::{ServerRole, UserStatus};
use lag_sim::{Demo, RobotSpec, ServerUpdate, Sim, Transport};
use tokio::sync::mpsc;

use crate::support::{demo, paced_client, within};

/// Does one member action per event type; returns the id of the message that was deleted.
fn provoke_every_event(sim: &Sim, demo: &Demo) -> String {
    let hello = sim.post(&demo.alice, &demo.general, "hello").unwrap();
    sim.post(&demo.bob, &demo.general, "@Helper @Streamer @Hook hi")
        .unwrap();
    sim.edit(&demo.alice, &demo.general, &hello.id, "hello!")
        .unwrap();
    sim.delete(&demo.alice, &demo.general, &hello.id).unwrap();
    sim.join_voice(&demo.bob, &demo.general).unwrap();
    sim.leave_voice(&demo.bob, &demo.general).unwrap();
    let dave = sim.add_member(&demo.server_id, "dave").unwrap();
    sim.remove_member(&demo.server_id, &dave).unwrap();
    sim.set_role(&demo.server_id, &demo.carol, lag_sim::Role::Admin)
        .unwrap();
    let games = sim.create_room(&demo.server_id, "games").unwrap();
    sim.delete_room(&games).unwrap();
    sim.set_status(&demo.carol, lag_sim::UserStatus::Idle)
        .unwrap();
    sim.update_server(
        &demo.server_id,
        ServerUpdate {
            name: Some("Renamed".into()),
            ..ServerUpdate::default()
        },
    )
    .unwrap();
    hello.id
}

fn types(envelopes: &[Envelope]) -> BTreeSet<String> {
    envelopes
        .iter()
        .map(|e| e.event_type().to_owned())
        .collect()
}

fn all_types() -> BTreeSet<String> {
    EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect()
}

/// Checks every envelope's metadata and the typed fields of each event type.
fn check(envelopes: &[Envelope], demo: &Demo, robot_name: &str, robot_id: &str, deleted: &str) {
    assert_eq!(types(envelopes), all_types(), "every type arrived");
    let mut ids = BTreeSet::new();
    for envelope in envelopes {
        let id = envelope.id().expect("every delivery has an id");
        assert!(ids.insert(id.to_owned()), "ids are unique: {id}");
        assert_eq!(envelope.server_id(), Some(demo.server_id.as_str()));
        let at = envelope.timestamp().expect("a timestamp");
        assert!(at.to_datetime().is_some(), "timestamp {at} is RFC 3339");
        assert!(envelope.data().is_object());
        match envelope.event() {
            Event::RoomMessage(m) => {
                assert_eq!(m.room_id, demo.general);
                assert!(m.message_id.is_some());
                assert!(m.sender_id.is_some());
                assert!(!m.is_bot);
                assert!(["hello", "@Helper @Streamer @Hook hi"].contains(&m.content.as_str()));
            }
            Event::RobotMentioned(m) => {
                assert_eq!(m.sender_id.as_deref(), Some(demo.bob.as_str()));
                assert!(m.mentions_robot(robot_id), "{robot_name} is mentioned");
            }
            Event::RoomMessageEdited(e) => {
                assert_eq!(e.message_id, deleted);
                assert_eq!(e.content, "hello!");
                assert_eq!(e.edited_by.as_deref(), Some(demo.alice.as_str()));
            }
            Event::RoomMessageDeleted(e) => {
                assert_eq!(e.message_id, deleted);
                assert_eq!(e.deleted_by.as_deref(), Some(demo.alice.as_str()));
            }
            Event::VoiceJoin(e) => {
                assert_eq!(
                    (e.room_id.as_str(), e.user_id.as_str()),
                    (demo.general.as_str(), demo.bob.as_str())
                );
            }
            Event::VoiceLeave(e) => {
                assert_eq!(e.user_id, demo.bob);
                assert!(e.duration.is_some());
            }
            Event::MemberJoin(e) => assert_eq!(e.username, "dave"),
            Event::MemberLeave(e) => assert_eq!(e.username, "dave"),
            Event::MemberRoleChanged(e) => {
                assert_eq!(e.user_id, demo.carol);
                assert_eq!(e.old_role, ServerRole::Member);
                assert_eq!(e.new_role, ServerRole::Admin);
            }
            Event::RoomCreated(e) => assert_eq!(e.name.as_deref(), Some("games")),
            Event::RoomDeleted(e) => assert_eq!(e.name.as_deref(), Some("games")),
            Event::PresenceUpdate(e) => {
                assert_eq!(e.user_id, demo.carol);
                assert_eq!(e.status, UserStatus::Idle);
            }
            Event::ServerUpdated(e) => assert_eq!(e.changes["name"], "Renamed"),
            other => panic!("unexpected event {other:?}"),
        }
    }
}

#[tokio::test]
async fn long_poll_items_decode_into_every_event_type() {
    let (sim, demo) = demo().await;
    let client = paced_client(&sim, &demo.robot.key).build().unwrap();
    let deleted = provoke_every_event(&sim, &demo);

    let mut envelopes = Vec::new();
    within("all events to arrive by long-poll", async {
        while types(&envelopes) != all_types() {
            for item in client.poll_events().await.unwrap() {
                envelopes.push(item.expect("lag-sim's poll items decode"));
            }
        }
    })
    .await;
    check(&envelopes, &demo, "Helper", &demo.robot.id, &deleted);
    sim.shutdown().await;
}

#[tokio::test]
async fn sse_frames_decode_into_every_event_type() {
    let (sim, demo) = demo().await;
    let robot = sim
        .create_robot(
            &demo.server_id,
            RobotSpec::new("Streamer").transport(Transport::Sse),
        )
        .unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/robots/@me/events/sse", sim.base_url()))
        .header("authorization", format!("Robot {}", robot.key))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let mut frames = response.bytes_stream().eventsource();
    let deleted = provoke_every_event(&sim, &demo);

    let mut envelopes = Vec::new();
    within("all events to arrive over SSE", async {
        while types(&envelopes) != all_types() {
            let frame = frames.next().await.expect("the stream stays open").unwrap();
            let id = Some(frame.id.as_str()).filter(|id| !id.is_empty());
            if let Some(envelope) = Envelope::from_sse(id, Some(&frame.event), &frame.data).unwrap()
            {
                assert_eq!(envelope.event_type(), frame.event);
                envelopes.push(envelope);
            }
        }
    })
    .await;
    check(&envelopes, &demo, "Streamer", &robot.id, &deleted);
    sim.shutdown().await;
}

#[tokio::test]
async fn webhook_bodies_decode_into_every_event_type() {
    let (sim, demo) = demo().await;
    let (tx, mut rx) = mpsc::unbounded_channel::<(Option<String>, Bytes)>();
    let app =
        Router::new()
            .route(
                "/hook",
                post(
                    |State(tx): State<mpsc::UnboundedSender<_>>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let id = headers
                            .get("webhook-id")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let _ = tx.send((id, body));
                    },
                ),
            )
            .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let robot = sim
        .create_robot(
            &demo.server_id,
            RobotSpec::new("Hook").transport(Transport::Webhook { url }),
        )
        .unwrap();
    let deleted = provoke_every_event(&sim, &demo);

    let mut envelopes = Vec::new();
    within("all events to arrive by webhook", async {
        while types(&envelopes) != all_types() {
            let (id, body) = rx.recv().await.expect("the receiver runs");
            envelopes.push(Envelope::from_webhook(id.as_deref(), &body).unwrap());
        }
    })
    .await;
    check(&envelopes, &demo, "Hook", &robot.id, &deleted);
    server.abort();
    sim.shutdown().await;
}
