//! A long-poll robot against lag-sim: a member's message reaches a listener and the reply
//! appears in the room.

use lag_bot::events::MemberJoin;
use lag_bot::transport::PollConfig;
use lag_bot::{Ctx, Listener};

use crate::support::{Seen, eventually, replying_recorder, stop, world};

#[tokio::test]
async fn a_message_reaches_a_listener_and_the_reply_appears_in_the_room() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = world
        .robot(PollConfig::new())
        .on(replying_recorder(&seen))
        .start()
        .await
        .expect("robot starts");

    let posted = world.post("hello robot");
    let reply = eventually("the robot's reply", || {
        world.robot_messages(&world.demo.general).into_iter().next()
    })
    .await;
    assert_eq!(reply.content, "echo: hello robot");
    assert_eq!(
        reply.reply_to.as_ref().map(|r| r.id.as_str()),
        Some(posted.id.as_str()),
        "ctx.reply answers the triggering message"
    );

    stop(handle, world).await;
    assert_eq!(
        seen.all(),
        ["hello robot"],
        "the listener ran once, and not for the robot's own reply"
    );
}

#[tokio::test]
async fn typed_listeners_get_only_their_event_kind() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let joins = Seen::default();
    let log = joins.clone();
    let welcome = world.demo.welcome.clone();
    let handle = world
        .robot(PollConfig::new())
        .on(Listener::new(move |ctx: Ctx, join: MemberJoin| {
            let log = log.clone();
            let welcome = welcome.clone();
            async move {
                log.push(join.username.clone());
                ctx.send(&welcome, format!("Welcome, {}!", join.username))
                    .await
                    .map(drop)
            }
        }))
        .start()
        .await
        .expect("robot starts");

    world.post("not a join");
    world.sim.add_member(&world.demo.server_id, "dave").unwrap();
    eventually("the welcome message", || {
        world
            .contents(&world.demo.welcome)
            .contains(&"Welcome, dave!".to_owned())
            .then_some(())
    })
    .await;

    stop(handle, world).await;
    assert_eq!(joins.all(), ["dave"]);
}
