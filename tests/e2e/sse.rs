//! An SSE robot against lag-sim: a member's message reaches a listener over the event stream
//! and the reply appears in the room.

use std::sync::Arc;

use lag_bot::transport::{DedupStore, MemoryDedup, SseConfig};

use crate::support::{
    Seen, eventually, keepalive, metric, recorder, replying_recorder, stop, within, world,
};

#[tokio::test]
async fn a_message_reaches_a_listener_and_the_reply_appears_in_the_room() {
    let world = world(lag_sim::Transport::Sse).await;
    let seen = Seen::default();
    let handle = world
        .robot(SseConfig::new().keepalive(keepalive()))
        .on(replying_recorder(&seen))
        .start()
        .await
        .expect("robot starts");

    let posted = world
        .sim
        .post(&world.demo.bob, &world.demo.welcome, "hello robot")
        .unwrap();
    let reply = eventually("the robot's reply", || {
        world.robot_messages(&world.demo.welcome).into_iter().next()
    })
    .await;
    assert_eq!(reply.content, "echo: hello robot");
    assert_eq!(reply.reply_to.map(|r| r.id), Some(posted.id));
    let last = handle.last_event_id().expect("the stream's last event id");
    assert!(
        world
            .sim
            .events(&world.demo.robot.id)
            .iter()
            .any(|e| e.id == last),
        "the resume point is one of lag-sim's event ids"
    );

    stop(handle, world).await;
    assert_eq!(seen.all(), ["hello robot"]);
}

#[tokio::test]
async fn a_replay_of_handled_events_is_dropped_by_a_shared_dedup_store() {
    let world = world(lag_sim::Transport::Sse).await;
    let store: Arc<dyn DedupStore> = Arc::new(MemoryDedup::new(100));
    let seen = Seen::default();
    let first = world
        .robot(SseConfig::new().keepalive(keepalive()))
        .dedup_store(Arc::clone(&store))
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    world.post_all(["a", "b", "c"]);
    eventually("the first robot's events", || {
        (seen.len() == 3).then_some(())
    })
    .await;
    within("the first robot to stop", first.shutdown())
        .await
        .unwrap();

    // A second instance sharing the store resumes from the very first event: Lag replays
    // `b` and `c` (and anything after), but only the new event runs.
    let oldest = world.sim.events(&world.demo.robot.id)[0].id.clone();
    let second = world
        .robot(SseConfig::new().keepalive(keepalive()).resume_from(oldest))
        .dedup_store(store)
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    world.post("d");
    eventually("the new event", || (seen.len() == 4).then_some(())).await;
    let metrics = second.metrics().clone();
    stop(second, world).await;
    assert_eq!(seen.all(), ["a", "b", "c", "d"]);
    assert!(metric(&metrics, r#"lag_bot_dedup_hits_total{transport="sse"}"#) >= 2.0);
}
