//! Faults around the robot: a cut event stream, a silent one, Lag restarting under a polling
//! robot, a panicking handler, and a shutdown with events in flight. In each, nothing is lost
//! and nothing runs twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lag_bot::events::RoomMessage;
use lag_bot::transport::{PollConfig, SseConfig, WebhookConfig};
use lag_bot::{Ctx, Error, ErrorContext, Listener, Robot, RobotHandle};
use lag_sim::{DeliveryOutcome, SimConfig};
use tokio::sync::Semaphore;

use crate::support::{
    Seen, World, eventually, gated_recorder, keepalive, metric, now, recorder, reserve, secrets,
    sign, stop, within, world, world_with,
};

fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i}")).collect()
}

/// An SSE robot logging every message to `seen`, expecting lag-sim's scaled keepalive and
/// reconnecting quickly.
async fn recording_sse_robot(world: &World, seen: &Seen) -> RobotHandle {
    world
        .robot(
            SseConfig::new()
                .keepalive(keepalive())
                .reconnect_delay(Duration::from_millis(20), Duration::from_millis(200)),
        )
        .on(recorder(seen))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_sse_stream_cut_mid_stream_loses_nothing_and_runs_nothing_twice() {
    let world = world(lag_sim::Transport::Sse).await;
    let seen = Seen::default();
    let handle = recording_sse_robot(&world, &seen).await;

    world.post_all(numbered(0..5));
    eventually("the first events", || (seen.len() >= 3).then_some(())).await;
    world.sim.cut_streams();
    world.post_all(numbered(5..12));
    eventually("every event", || (seen.len() >= 12).then_some(())).await;

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(
        seen.all(),
        numbered(0..12),
        "all of them, once each, in order"
    );
    assert!(
        metric(
            &metrics,
            r#"lag_bot_transport_reconnects_total{transport="sse"}"#
        ) >= 1.0
    );
}

#[tokio::test]
async fn a_silent_sse_stream_is_reopened() {
    // lag-sim sends a keepalive only every 30 real seconds here, while the robot expects one
    // every 50 ms: it must give up on each stream after 100 ms of silence and reopen it.
    let config = SimConfig {
        time_scale: 1.0,
        ..SimConfig::default()
    };
    let world = world_with(config, lag_sim::Transport::Sse).await;
    let seen = Seen::default();
    let handle = world
        .robot(
            SseConfig::new()
                .keepalive(Duration::from_millis(50))
                .reconnect_delay(Duration::from_millis(10), Duration::from_millis(50)),
        )
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let metrics = handle.metrics().clone();
    let series = r#"lag_bot_transport_reconnects_total{transport="sse"}"#;
    eventually("the robot to drop two silent streams", || {
        (metric(&metrics, series) >= 2.0).then_some(())
    })
    .await;

    world.post_all(numbered(0..3));
    eventually("every event", || (seen.len() >= 3).then_some(())).await;
    stop(handle, world).await;
    assert_eq!(seen.all(), numbered(0..3));
}

#[tokio::test]
async fn lag_restarting_under_a_polling_robot_loses_nothing() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = world
        .robot(PollConfig::new().retry_delay(Duration::from_millis(20), Duration::from_millis(200)))
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();

    world.post_all(numbered(0..3));
    eventually("the first events", || (seen.len() == 3).then_some(())).await;
    within("lag-sim to restart", world.sim.restart())
        .await
        .unwrap();
    world.post_all(numbered(3..8));
    within("lag-sim to restart again", world.sim.restart())
        .await
        .unwrap();
    eventually("every event", || (seen.len() >= 8).then_some(())).await;

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(
        seen.all(),
        numbered(0..8),
        "all of them, once each, in order"
    );
    assert!(
        metric(
            &metrics,
            r#"lag_bot_transport_reconnects_total{transport="poll"}"#
        ) >= 1.0
    );
}

#[tokio::test]
async fn lag_restarting_under_an_sse_robot_loses_nothing() {
    let world = world(lag_sim::Transport::Sse).await;
    let seen = Seen::default();
    let handle = recording_sse_robot(&world, &seen).await;

    world.post_all(numbered(0..3));
    eventually("the first events", || (seen.len() == 3).then_some(())).await;
    within("lag-sim to restart", world.sim.restart())
        .await
        .unwrap();
    world.post_all(numbered(3..8));
    eventually("every event", || (seen.len() >= 8).then_some(())).await;
    stop(handle, world).await;
    assert_eq!(
        seen.all(),
        numbered(0..8),
        "all of them, once each, in order"
    );
}

#[tokio::test]
async fn a_panicking_handler_is_contained_and_reported() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let handle = world
        .robot(PollConfig::new())
        .on(Listener::new(|ctx: Ctx, msg: RoomMessage| async move {
            match msg.content.as_str() {
                "boom" => panic!("the handler blew up"),
                "fail" => Err(Error::handler(std::io::Error::other("disk full"))),
                _ => ctx.reply("fine").await.map(drop),
            }
        })
        .named("moody"))
        .on_error(move |error: Error, cx: ErrorContext| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push((
                    cx.handler().to_owned(),
                    cx.panicked(),
                    cx.event_type().to_owned(),
                    cx.room_id().map(str::to_owned),
                    cx.event_id().is_some(),
                    error.to_string(),
                ));
                if cx.panicked() {
                    cx.ctx().say("sorry, that went wrong").await.unwrap();
                }
            }
        })
        .start()
        .await
        .unwrap();

    world.post_all(["boom", "fail", "still alive?"]);
    eventually("the robot's answers", || {
        (world.robot_messages(&world.demo.general).len() == 2).then_some(())
    })
    .await;
    let answers: Vec<String> = world
        .robot_messages(&world.demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(answers, ["sorry, that went wrong", "fine"]);

    let metrics = handle.metrics().clone();
    let general = world.demo.general.clone();
    stop(handle, world).await;
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 2, "{reports:?}");
    let (handler, panicked, kind, room, has_id, message) = &reports[0];
    assert_eq!(
        (handler.as_str(), *panicked, kind.as_str()),
        ("moody", true, "room.message")
    );
    assert_eq!(room.as_deref(), Some(general.as_str()));
    assert!(*has_id);
    assert!(message.contains("the handler blew up"), "{message}");
    let (handler, panicked, _, _, _, message) = &reports[1];
    assert_eq!((handler.as_str(), *panicked), ("moody", false));
    assert!(message.contains("disk full"), "{message}");
    for (cause, count) in [("panic", 1.0), ("error", 1.0)] {
        let series = format!(r#"lag_bot_handler_errors_total{{handler="moody",cause="{cause}"}}"#);
        assert_eq!(metric(&metrics, &series), count);
    }
}

#[tokio::test]
async fn shutdown_finishes_events_in_flight_and_refuses_new_ones_for_redelivery() {
    // A faster clock so Lag's retries of the refused event come within a few seconds.
    let config = SimConfig {
        time_scale: 1000.0,
        ..SimConfig::default()
    };
    let (listener, url) = reserve();
    let addr = listener.local_addr().unwrap();
    let world = world_with(config, lag_sim::Transport::Webhook { url }).await;
    let secrets = secrets(&world.demo.robot.secrets);
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let (log, held) = (seen.clone(), Arc::clone(&gate));
    let first = world
        .robot(WebhookConfig::new(secrets.clone()).listener(listener))
        .on(Listener::new(move |ctx: Ctx, msg: RoomMessage| {
            let (log, held) = (log.clone(), Arc::clone(&held));
            async move {
                log.push(format!("start {}", msg.content));
                held.acquire().await.unwrap().forget();
                ctx.reply("done").await?;
                log.push(format!("end {}", msg.content));
                Ok::<_, Error>(())
            }
        }))
        .start()
        .await
        .unwrap();

    world.post("in flight");
    eventually("the handler to start", || (seen.len() == 1).then_some(())).await;
    let shutdown = first.shutdown_handle();
    let stopped = tokio::spawn(first.wait());
    shutdown.trigger();

    // While draining, the receiver still answers, with 503 so Lag keeps the event.
    let body = br#"{"type":"member.join","serverId":"s","timestamp":"t","data":{"userId":"u_9","username":"zed"}}"#;
    let ts = now();
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/webhook"))
        .header("webhook-id", "evt_manual")
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            sign(world.demo.robot.secret(), "evt_manual", ts, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.text().await.unwrap(), "shutting down");

    world
        .sim
        .post(
            &world.demo.bob,
            &world.demo.welcome,
            "arrives while stopping",
        )
        .unwrap();
    let robot = world.demo.robot.id.clone();
    eventually("lag-sim to be refused", || {
        world
            .sim
            .deliveries(&robot)
            .iter()
            .any(|r| r.status == Some(503))
            .then_some(())
    })
    .await;
    assert!(
        !stopped.is_finished(),
        "the robot waits for the event in flight"
    );

    gate.add_permits(1);
    within("the first robot to stop", stopped)
        .await
        .unwrap()
        .expect("a clean stop");
    assert_eq!(seen.all(), ["start in flight", "end in flight"]);
    assert_eq!(
        world.robot_messages(&world.demo.general).len(),
        1,
        "the in-flight handler finished its work"
    );

    // The next instance of the robot, on the same address, gets the refused event from Lag's
    // retries: nothing was lost.
    let listener = std::net::TcpListener::bind(addr).unwrap();
    gate.add_permits(10);
    let second = world
        .robot(WebhookConfig::new(secrets).listener(listener))
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    eventually("the redelivery", || (seen.len() == 3).then_some(())).await;
    let refused = world
        .sim
        .deliveries(&robot)
        .into_iter()
        .find(|r| r.status == Some(503))
        .unwrap();
    eventually("lag-sim to record the redelivery", || {
        world
            .sim
            .deliveries(&robot)
            .iter()
            .any(|r| r.event_id == refused.event_id && r.outcome == DeliveryOutcome::Delivered)
            .then_some(())
    })
    .await;
    stop(second, world).await;
    assert_eq!(
        seen.all(),
        ["start in flight", "end in flight", "arrives while stopping"]
    );
}

#[tokio::test]
async fn a_polling_robot_finishes_its_events_before_stopping() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let robot: Robot = world.robot(PollConfig::new());
    let handle = robot
        .on(gated_recorder(&seen, &gate))
        .start()
        .await
        .unwrap();
    world.post_all(numbered(0..3));
    eventually("all three to be accepted", || {
        (metric(handle.metrics(), "lag_bot_queue_depth") == 3.0).then_some(())
    })
    .await;
    let stopping = tokio::spawn(handle.shutdown());
    gate.add_permits(3);
    within("the robot to stop", stopping)
        .await
        .unwrap()
        .expect("a clean stop");
    assert_eq!(seen.all(), numbered(0..3));
    world.sim.shutdown().await;
}
