//! `Robot::run` and the operating system's stop signals. In a file of its own: the test sends
//! SIGTERM to its own process.

#![cfg(unix)]

mod runtime_support;

use std::sync::Arc;

use lag_bot::events::RoomMessage;
use lag_bot::transport::PollConfig;
use lag_bot::{Ctx, ErrorKind, Listener, Robot};
use runtime_support::{Seen, World, eventually, within, world};
use tokio::sync::Semaphore;

fn sigterm() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn gated(world: &World, seen: &Seen, gate: &Arc<Semaphore>) -> Robot {
    let (log, held) = (seen.clone(), Arc::clone(gate));
    world
        .robot(PollConfig::new())
        .on(Listener::new(move |_ctx: Ctx, msg: RoomMessage| {
            let (log, held) = (log.clone(), Arc::clone(&held));
            async move {
                log.push(format!("start {}", msg.content));
                held.acquire().await.unwrap().forget();
                log.push(format!("end {}", msg.content));
            }
        }))
}

#[tokio::test]
async fn sigterm_drains_and_a_second_one_stops_at_once() {
    let world = world(lag_sim::Transport::LongPoll).await;

    // One signal: the robot finishes the event it is handling, then `run` returns Ok.
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let robot = gated(&world, &seen, &gate);
    let shutdown = robot.shutdown_handle();
    let running = tokio::spawn(robot.run());
    world
        .sim
        .post(&world.demo.alice, &world.demo.general, "first")
        .unwrap();
    eventually("the handler to start", || (seen.len() == 1).then_some(())).await;
    sigterm();
    eventually("the signal to be seen", || {
        shutdown.is_triggered().then_some(())
    })
    .await;
    assert!(
        !running.is_finished(),
        "the event in flight holds the robot"
    );
    gate.add_permits(1);
    within("run to return", running)
        .await
        .unwrap()
        .expect("a clean stop");
    assert_eq!(seen.all(), ["start first", "end first"]);

    // A second signal while finishing: `run` returns at once, with an error.
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let robot = gated(&world, &seen, &gate);
    let shutdown = robot.shutdown_handle();
    let running = tokio::spawn(robot.run());
    world
        .sim
        .post(&world.demo.alice, &world.demo.general, "second")
        .unwrap();
    eventually("the handler to start", || (seen.len() == 1).then_some(())).await;
    sigterm();
    eventually("the signal to be seen", || {
        shutdown.is_triggered().then_some(())
    })
    .await;
    sigterm();
    let err = within("run to give up", running)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport);
    assert_eq!(seen.all(), ["start second"]);
    gate.add_permits(1);
    world.sim.shutdown().await;
}
