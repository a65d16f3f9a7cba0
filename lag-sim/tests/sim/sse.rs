//! SSE delivery: frames, keepalives, replay after `Last-Event-ID`, dropped connections.

use std::time::Duration;

use lag_sim::{DEMO_TRANSPORT, DeliveryOutcome, RobotSpec, SimConfig, Transport};

use crate::support::{self, Api, SseReader};

fn sse_robot() -> RobotSpec {
    RobotSpec::new("Streamer").transport(Transport::Sse)
}

#[tokio::test]
async fn events_arrive_as_id_event_data_frames() {
    let (sim, demo, api) = support::demo_with(SimConfig::default(), sse_robot()).await;
    let mut stream = SseReader::connect(&api, None).await;
    assert_eq!(
        stream.headers.get("content-type").unwrap(),
        "text/event-stream"
    );
    assert!(stream.headers.get("x-request-id").is_some());

    let message = sim
        .post(&demo.alice, &demo.general, "hello stream")
        .unwrap();
    let frame = stream.next_event().await.expect("a frame");
    assert_eq!(frame.event.as_deref(), Some("room.message"));
    let id = frame.id.clone().expect("frames carry an id");
    let event = frame.json();
    assert_eq!(event["type"], "room.message");
    assert_eq!(event["serverId"], demo.server_id.as_str());
    assert!(event["timestamp"].is_string());
    assert_eq!(event["data"]["messageId"], message.id.as_str());
    assert_eq!(event["data"]["content"], "hello stream");

    sim.join_voice(&demo.bob, &demo.general).unwrap();
    let frame = stream.next_event().await.expect("a second frame");
    assert_eq!(frame.event.as_deref(), Some("voice.join"));
    assert!(frame.id.clone().unwrap() > id, "ids increase");
    sim.shutdown().await;
}

#[tokio::test]
async fn keepalive_comments_follow_the_configured_interval() {
    let sim = support::sim_with(SimConfig {
        keepalive: Duration::from_millis(50),
        ..SimConfig::default()
    })
    .await;
    let demo = sim.seed_demo_with(sse_robot()).unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let mut stream = SseReader::connect(&api, None).await;
    for _ in 0..3 {
        let frame = stream.next_frame().await.expect("a keepalive");
        assert_eq!(frame.comment.as_deref(), Some("ping"));
        assert_eq!(frame.data, None);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn keepalives_follow_the_time_scale() {
    // 30 s at 1000x is 30 ms.
    let (sim, _demo, api) = support::demo_with(support::scaled(1000.0), sse_robot()).await;
    let mut stream = SseReader::connect(&api, None).await;
    let frame = stream
        .next_frame()
        .await
        .expect("a keepalive within the test's patience");
    assert_eq!(frame.comment.as_deref(), Some("ping"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_stream_replays_after_last_event_id() {
    let (sim, demo, api) = support::demo_with(SimConfig::default(), sse_robot()).await;
    let mut stream = SseReader::connect(&api, None).await;
    sim.post(&demo.alice, &demo.general, "one").unwrap();
    sim.post(&demo.alice, &demo.general, "two").unwrap();
    let one = stream.next_event().await.unwrap();
    let two = stream.next_event().await.unwrap();
    assert_eq!(two.json()["data"]["content"], "two");

    sim.cut_streams();
    assert_eq!(
        stream.next_frame().await,
        None,
        "the connection was dropped"
    );
    sim.post(&demo.alice, &demo.general, "three").unwrap();
    sim.post(&demo.alice, &demo.general, "four").unwrap();

    // Resuming after "one" replays "two" (already seen) and the missed events, in order.
    let mut resumed = SseReader::connect(&api, one.id.as_deref()).await;
    let mut contents = Vec::new();
    for _ in 0..3 {
        let frame = resumed.next_event().await.unwrap();
        contents.push(frame.json()["data"]["content"].as_str().unwrap().to_owned());
    }
    assert_eq!(contents, ["two", "three", "four"]);
    let replayed = sim
        .deliveries(&demo.robot.id)
        .into_iter()
        .filter(|d| d.outcome == DeliveryOutcome::Replayed)
        .count();
    assert_eq!(replayed, 1, "the log marks the re-sent event as a replay");

    // And then it is live again.
    sim.post(&demo.alice, &demo.general, "five").unwrap();
    let frame = resumed.next_event().await.unwrap();
    assert_eq!(frame.json()["data"]["content"], "five");
    sim.shutdown().await;
}

#[tokio::test]
async fn events_missed_while_disconnected_arrive_on_a_fresh_connection() {
    let sim = support::sim().await;
    let demo = sim.seed_demo_with(sse_robot()).unwrap();
    sim.post(&demo.alice, &demo.general, "while down 1")
        .unwrap();
    sim.post(&demo.alice, &demo.general, "while down 2")
        .unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let mut stream = SseReader::connect(&api, None).await;
    let first = stream.next_event().await.unwrap();
    let second = stream.next_event().await.unwrap();
    assert_eq!(first.json()["data"]["content"], "while down 1");
    assert_eq!(second.json()["data"]["content"], "while down 2");
    drop(stream);

    // A second fresh connection does not get them again.
    let mut again = SseReader::connect(&api, None).await;
    sim.post(&demo.alice, &demo.general, "new").unwrap();
    let frame = again.next_event().await.unwrap();
    assert_eq!(frame.json()["data"]["content"], "new");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_restart_drops_streams_and_replay_recovers_everything() {
    let (sim, demo, api) = support::demo_with(SimConfig::default(), sse_robot()).await;
    let mut stream = SseReader::connect(&api, None).await;
    sim.post(&demo.alice, &demo.general, "before").unwrap();
    let before = stream.next_event().await.unwrap();
    sim.restart().await.unwrap();
    assert_eq!(
        stream.next_frame().await,
        None,
        "the restart closed the stream"
    );
    sim.post(&demo.alice, &demo.general, "during").unwrap();
    let mut resumed = SseReader::connect(&api, before.id.as_deref()).await;
    let frame = resumed.next_event().await.unwrap();
    assert_eq!(frame.json()["data"]["content"], "during");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_demo_robot_streams() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let details = sim.robot(&demo.robot.id).unwrap();
    assert_eq!(details.transport_type, DEMO_TRANSPORT.kind());
    let api = Api::robot(&sim, &demo.robot.key);
    let mut stream = SseReader::connect(&api, None).await;
    sim.post(&demo.alice, &demo.general, "hello").unwrap();
    let frame = stream.next_event().await.expect("an event");
    assert_eq!(frame.event.as_deref(), Some("room.message"));
    assert_eq!(frame.json()["data"]["content"], "hello");
    sim.shutdown().await;
}

#[tokio::test]
async fn streaming_a_robot_of_another_transport_is_409() {
    let sim = support::sim().await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let reply = api.get("/robots/@me/events/sse").await;
    reply.assert_error(409);
    sim.shutdown().await;
}

#[tokio::test]
async fn disabling_a_robot_ends_its_stream() {
    let (sim, demo, api) = support::demo_with(SimConfig::default(), sse_robot()).await;
    let mut stream = SseReader::connect(&api, None).await;
    sim.set_active(&demo.robot.id, false).unwrap();
    assert_eq!(stream.next_frame().await, None);
    api.get("/robots/@me/events/sse").await.assert_error(403);
    sim.shutdown().await;
}
