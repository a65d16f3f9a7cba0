//! The webhook receiver under bad input and pressure: each case has a defined answer, nothing
//! unverified is dispatched, nothing accepted is lost, and nothing runs twice.

use std::sync::Arc;
use std::time::Duration;

use lag_bot::command::Command;
use lag_bot::events::Event;
use lag_bot::transport::{Ack, WebhookConfig};
use lag_bot::{Ctx, Listener, Robot, RobotHandle};
use lag_sim::DeliveryOutcome;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::support::{
    Seen, World, eventually, gated_recorder, metric, now, recorder, reserve, secrets, sign,
    start_end_recorder, stop, within, world,
};

/// Posts deliveries straight to a robot's receiver, the way Lag does or deliberately not.
struct Lag {
    url: String,
    secret: String,
    http: reqwest::Client,
}

impl Lag {
    fn new(handle: &RobotHandle, world: &World) -> Self {
        Self {
            url: format!("http://{}/webhook", handle.local_addr().unwrap()),
            secret: world.demo.robot.secret().to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, headers: &[(&str, String)], body: Vec<u8>) -> (u16, String) {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = within("the receiver's answer", request.body(body).send())
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// A correctly signed delivery.
    async fn deliver(&self, id: &str, body: &[u8]) -> (u16, String) {
        let ts = now();
        let signature = sign(&self.secret, id, ts, body);
        self.send(
            &[
                ("webhook-id", id.to_owned()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", signature),
            ],
            body.to_vec(),
        )
        .await
    }
}

/// A robot whose receiver listens on a free loopback port; lag-sim itself delivers nothing to
/// it (the sim's robot uses long-poll), so every delivery in these tests is posted by hand.
fn receiver(world: &World, config: impl FnOnce(WebhookConfig) -> WebhookConfig) -> Robot {
    let secrets = secrets(&world.demo.robot.secrets);
    let config = config(WebhookConfig::new(secrets).listen("127.0.0.1:0".parse().unwrap()));
    world.robot(config)
}

#[tokio::test]
async fn verification_failures_get_401_and_dispatch_nothing() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = receiver(&world, |c| c)
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let lag = Lag::new(&handle, &world);
    let body = world.message_body("msg_1", "genuine");
    let id = "evt_1".to_owned();
    let ts = now();
    let good = sign(&lag.secret, &id, ts, &body);
    let wrong_key = sign("whsec_d3Jvbmcta2V5", &id, ts, &body);
    let other_body = sign(&lag.secret, &id, ts, b"{}");
    let stale = now() - 301;
    let future = now() + 400;

    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no headers", vec![]),
        (
            "no signature",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", ts.to_string()),
            ],
        ),
        (
            "wrong secret",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", wrong_key),
            ],
        ),
        (
            "signature of another body",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", other_body),
            ],
        ),
        (
            "signature for another id",
            vec![
                ("webhook-id", "evt_other".to_owned()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", good.clone()),
            ],
        ),
        (
            "stale timestamp",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", stale.to_string()),
                ("webhook-signature", sign(&lag.secret, &id, stale, &body)),
            ],
        ),
        (
            "timestamp from the future",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", future.to_string()),
                ("webhook-signature", sign(&lag.secret, &id, future, &body)),
            ],
        ),
        (
            "garbage signature header",
            vec![
                ("webhook-id", id.clone()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", "v1,not-base64!! v2,xyz".to_owned()),
            ],
        ),
    ];
    let rejected = cases.len();
    for (case, headers) in cases {
        let (status, _) = lag.send(&headers, body.clone()).await;
        assert_eq!(status, 401, "{case}");
    }
    assert_eq!(seen.len(), 0, "nothing unverified was dispatched");

    // The rejections left no trace in the dedup store: the genuine delivery runs.
    let (status, text) = lag
        .send(
            &[
                ("webhook-id", id.clone()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", format!("v1,AAAA {good}")),
            ],
            body.clone(),
        )
        .await;
    assert_eq!((status, text.as_str()), (200, "accepted"));

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(seen.all(), ["genuine"]);
    assert_eq!(
        metric(
            &metrics,
            r#"lag_bot_deliveries_total{transport="webhook",outcome="unauthorized"}"#
        ),
        rejected as f64
    );
}

#[tokio::test]
async fn a_redelivered_event_runs_once() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = receiver(&world, |c| c)
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let lag = Lag::new(&handle, &world);

    let body = world.message_body("msg_1", "once");
    assert_eq!(lag.deliver("evt_1", &body).await, (200, "accepted".into()));
    assert_eq!(lag.deliver("evt_1", &body).await, (200, "duplicate".into()));
    // The same message under a fresh delivery id is recognised by its message id.
    assert_eq!(lag.deliver("evt_2", &body).await, (200, "duplicate".into()));
    let other = world.message_body("msg_2", "twice is fine for another message");
    assert_eq!(lag.deliver("evt_3", &other).await.0, 200);

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(seen.all(), ["once", "twice is fine for another message"]);
    assert_eq!(
        metric(&metrics, r#"lag_bot_dedup_hits_total{transport="webhook"}"#),
        2.0
    );
}

#[tokio::test]
async fn bad_bodies_get_defined_answers_and_unknown_events_pass_through() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let unknown = Seen::default();
    let log = unknown.clone();
    let handle = receiver(&world, |c| c.max_body_bytes(1024))
        .on(recorder(&seen))
        .on(Listener::of_type(
            "galaxy.exploded",
            move |_ctx: Ctx, event: Event| {
                let log = log.clone();
                async move {
                    if let Event::Unknown(unknown) = event {
                        log.push(format!("{}:{}", unknown.event_type, unknown.data["size"]));
                    }
                }
            },
        ))
        .start()
        .await
        .unwrap();
    let lag = Lag::new(&handle, &world);

    let huge = world.message_body("msg_big", &"x".repeat(2000));
    assert_eq!(lag.deliver("evt_big", &huge).await.0, 413);
    assert_eq!(
        lag.deliver("evt_bad", b"{\"type\": \"room.mess").await.0,
        400
    );
    assert_eq!(lag.deliver("evt_list", b"[1, 2]").await.0, 400);
    let incomplete =
        json!({"type": "room.message", "serverId": "s", "timestamp": "t", "data": {"roomId": "r"}});
    assert_eq!(
        lag.deliver("evt_partial", &serde_json::to_vec(&incomplete).unwrap())
            .await
            .0,
        400,
        "a known type missing required fields"
    );
    let get = reqwest::get(&lag.url).await.unwrap();
    assert_eq!(get.status(), 405);

    let galaxy = json!({"type": "galaxy.exploded", "serverId": world.demo.server_id, "timestamp": "t", "data": {"size": 42}});
    assert_eq!(
        lag.deliver("evt_galaxy", &serde_json::to_vec(&galaxy).unwrap())
            .await,
        (200, "accepted".into())
    );
    // After all that, the receiver still works, and none of the rejected ids is remembered.
    let ok = world.message_body("msg_ok", "still fine");
    assert_eq!(lag.deliver("evt_bad", &ok).await, (200, "accepted".into()));

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(seen.all(), ["still fine"]);
    assert_eq!(unknown.all(), ["galaxy.exploded:42"]);
    for (outcome, count) in [("too_large", 1.0), ("malformed", 3.0)] {
        let series =
            format!(r#"lag_bot_deliveries_total{{transport="webhook",outcome="{outcome}"}}"#);
        assert_eq!(metric(&metrics, &series), count, "{outcome}");
    }
}

#[tokio::test]
async fn a_full_queue_answers_503_and_the_redelivery_runs_once() {
    let (listener, url) = reserve();
    let world = world(lag_sim::Transport::Webhook { url }).await;
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let secrets = secrets(&world.demo.robot.secrets);
    let handle = world
        .robot(WebhookConfig::new(secrets).listener(listener))
        .queue_capacity(1)
        .on(start_end_recorder(&seen, &gate))
        .start()
        .await
        .unwrap();

    world.post("first");
    eventually("the first handler to start", || {
        (seen.all() == ["start first"]).then_some(())
    })
    .await;
    world
        .sim
        .post(&world.demo.alice, &world.demo.welcome, "second")
        .unwrap();
    let robot = world.demo.robot.id.clone();
    eventually("lag-sim to be told to come back later", || {
        world
            .sim
            .deliveries(&robot)
            .iter()
            .any(|r| r.status == Some(503) && r.outcome == DeliveryOutcome::Failed)
            .then_some(())
    })
    .await;
    assert_eq!(seen.all(), ["start first"], "the refused event did not run");

    gate.add_permits(2);
    eventually("both events to finish", || (seen.len() == 4).then_some(())).await;
    let second = world
        .sim
        .deliveries(&robot)
        .into_iter()
        .find(|r| r.status == Some(503))
        .map(|r| r.event_id)
        .unwrap();
    let attempts = eventually("lag-sim to record the redelivery", || {
        let attempts: Vec<_> = world
            .sim
            .deliveries(&robot)
            .into_iter()
            .filter(|r| r.event_id == second)
            .collect();
        let last = attempts.last()?;
        (last.outcome == DeliveryOutcome::Delivered).then_some(attempts)
    })
    .await;
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert!(
        attempts[..attempts.len() - 1]
            .iter()
            .all(|r| r.outcome == DeliveryOutcome::Failed && r.status == Some(503)),
        "refused while the queue was full, then accepted: {attempts:?}"
    );

    stop(handle, world).await;
    assert_eq!(
        seen.all(),
        ["start first", "end first", "start second", "end second"],
        "each event ran exactly once"
    );
}

#[tokio::test]
async fn acknowledging_after_handlers_waits_for_them() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let handle = receiver(&world, |c| {
        c.ack(Ack::Handled {
            within: Duration::from_secs(10),
        })
    })
    .on(gated_recorder(&seen, &gate))
    .start()
    .await
    .unwrap();
    let lag = Arc::new(Lag::new(&handle, &world));

    let body = world.message_body("msg_1", "slow");
    let poster = Arc::clone(&lag);
    let answer = tokio::spawn(async move { poster.deliver("evt_1", &body).await });
    eventually("the delivery to be queued", || {
        (metric(handle.metrics(), "lag_bot_queue_depth") == 1.0).then_some(())
    })
    .await;
    assert!(!answer.is_finished(), "no answer while the handler runs");
    gate.add_permits(1);
    let (status, text) = within("the answer", answer).await.unwrap();
    assert_eq!((status, text.as_str()), (200, "handled"));
    assert_eq!(
        seen.all(),
        ["slow"],
        "the handler had finished before the answer"
    );
    stop(handle, world).await;
}

#[tokio::test]
async fn a_message_no_handler_wants_is_done_at_once_behind_a_busy_room_and_a_full_queue() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let gate = Arc::new(Semaphore::new(0));
    let held = Arc::clone(&gate);
    let slow = Command::new("!slow", move |_ctx: Ctx| {
        let gate = Arc::clone(&held);
        async move {
            gate.acquire().await.expect("the gate stays open").forget();
            "done"
        }
    });
    let handle = receiver(&world, |c| {
        c.ack(Ack::Handled {
            within: Duration::from_secs(10),
        })
    })
    .command(slow)
    .queue_capacity(1)
    .start()
    .await
    .unwrap();
    let lag = Arc::new(Lag::new(&handle, &world));

    let body = world.message_body("msg_1", "!slow");
    let poster = Arc::clone(&lag);
    let command = tokio::spawn(async move { poster.deliver("evt_1", &body).await });
    eventually("the command to run", || {
        (metric(handle.metrics(), "lag_bot_queue_depth") == 1.0).then_some(())
    })
    .await;
    // The room's lane is busy with the command and the queue of one is full; plain chat needs
    // neither and is done, while another command is refused for Lag to send again.
    let chat = world.message_body("msg_2", "just chatting");
    let (status, text) = within("the chat's answer", lag.deliver("evt_2", &chat)).await;
    assert_eq!((status, text.as_str()), (200, "handled"));
    let again = world.message_body("msg_3", "!slow");
    let (status, text) = lag.deliver("evt_3", &again).await;
    assert_eq!((status, text.as_str()), (503, "queue full"));
    assert!(!command.is_finished(), "the command still runs");
    assert_eq!(metric(handle.metrics(), "lag_bot_queue_depth"), 1.0);
    gate.add_permits(1);
    let (status, text) = within("the command's answer", command).await.unwrap();
    assert_eq!((status, text.as_str()), (200, "handled"));
    stop(handle, world).await;
}

#[tokio::test]
async fn acknowledging_after_handlers_gives_up_waiting_at_the_deadline() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let handle = receiver(&world, |c| {
        c.ack(Ack::Handled {
            within: Duration::from_millis(50),
        })
    })
    .on(gated_recorder(&seen, &gate))
    .start()
    .await
    .unwrap();
    let lag = Lag::new(&handle, &world);

    let body = world.message_body("msg_1", "very slow");
    let (status, text) = lag.deliver("evt_1", &body).await;
    assert_eq!(
        (status, text.as_str()),
        (202, "accepted, still running"),
        "still a success, so Lag does not redeliver"
    );
    assert_eq!(seen.len(), 0);
    gate.add_permits(1);
    stop(handle, world).await;
    assert_eq!(seen.all(), ["very slow"]);
}

#[tokio::test]
async fn the_receiver_answers_410_only_when_retired() {
    let (listener, url) = reserve();
    let world = world(lag_sim::Transport::Webhook { url }).await;
    let seen = Seen::default();
    let secrets = secrets(&world.demo.robot.secrets);
    let handle = world
        .robot(WebhookConfig::new(secrets).listener(listener))
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let robot = world.demo.robot.id.clone();

    world.post("before");
    eventually("the first event", || (seen.len() == 1).then_some(())).await;
    assert!(world.sim.robot(&robot).unwrap().active);

    handle.retire();
    world.post("after");
    eventually("lag-sim to disable the robot", || {
        (!world.sim.robot(&robot).unwrap().active).then_some(())
    })
    .await;
    assert!(
        world
            .sim
            .deliveries(&robot)
            .iter()
            .any(|r| r.outcome == DeliveryOutcome::Gone && r.status == Some(410))
    );
    stop(handle, world).await;
    assert_eq!(seen.all(), ["before"]);
}
