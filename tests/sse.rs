//! An SSE robot against lag-sim: a member's message reaches a listener over the event stream
//! and the reply appears in the room.

mod runtime_support;

use std::time::Duration;

use lag_bot::events::RoomMessage;
use lag_bot::transport::SseConfig;
use lag_bot::{Ctx, Listener};
use runtime_support::{SCALE, Seen, eventually, stop, world};

/// lag-sim's keepalive interval under the tests' time scale.
fn keepalive() -> Duration {
    Duration::from_secs(30).div_f64(SCALE)
}

#[tokio::test]
async fn a_message_reaches_a_listener_and_the_reply_appears_in_the_room() {
    let world = world(lag_sim::Transport::Sse).await;
    let seen = Seen::default();
    let log = seen.clone();
    let handle = world
        .robot(SseConfig::new().keepalive(keepalive()))
        .on(Listener::new(move |ctx: Ctx, msg: RoomMessage| {
            let log = log.clone();
            async move {
                log.push(msg.content.clone());
                ctx.reply(format!("echo: {}", msg.content)).await.map(drop)
            }
        }))
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
