//! `Robot::run` and the operating system's stop signals. A test binary of its own, apart from
//! the other end-to-end tests in `e2e/`: the test sends SIGTERM to its own process, and a
//! signal that came before the robot listened for it would end every test in that process.

#![cfg(unix)]

// The shared support of `e2e/`, of which this test uses a part.
#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::Arc;

use lag_bot::ErrorKind;
use lag_bot::transport::PollConfig;
use support::{Seen, World, eventually, start_end_recorder, within, world};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

fn sigterm() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// A robot in `run` whose handler is holding `text` at `gate` when the first SIGTERM has
/// been seen.
struct Signalled {
    seen: Seen,
    gate: Arc<Semaphore>,
    running: JoinHandle<lag_bot::Result<()>>,
}

async fn signalled_while_handling(world: &World, text: &str) -> Signalled {
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let robot = world
        .robot(PollConfig::new())
        .on(start_end_recorder(&seen, &gate));
    let shutdown = robot.shutdown_handle();
    let running = tokio::spawn(robot.run());
    world.post(text);
    eventually("the handler to start", || (seen.len() == 1).then_some(())).await;
    sigterm();
    eventually("the signal to be seen", || {
        shutdown.is_triggered().then_some(())
    })
    .await;
    Signalled {
        seen,
        gate,
        running,
    }
}

#[tokio::test]
async fn sigterm_drains_and_a_second_one_stops_at_once() {
    let world = world(lag_sim::Transport::LongPoll).await;

    // One signal: the robot finishes the event it is handling, then `run` returns Ok.
    let first = signalled_while_handling(&world, "first").await;
    assert!(
        !first.running.is_finished(),
        "the event in flight holds the robot"
    );
    first.gate.add_permits(1);
    within("run to return", first.running)
        .await
        .unwrap()
        .expect("a clean stop");
    assert_eq!(first.seen.all(), ["start first", "end first"]);

    // A second signal while finishing: `run` returns at once, with an error.
    let second = signalled_while_handling(&world, "second").await;
    sigterm();
    let err = within("run to give up", second.running)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport);
    assert_eq!(second.seen.all(), ["start second"]);
    second.gate.add_permits(1);
    world.sim.shutdown().await;
}
