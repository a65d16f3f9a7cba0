//! The runtime's promises, end to end against lag-sim (over long-poll, the simplest
//! transport, or through the test kit where a test is a conversation): what it ignores,
//! ordering across rooms, the bound on concurrent handlers, robot state and metrics, replies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lag_bot::command::{Captures, Hear};
use lag_bot::events::RoomMessage;
use lag_bot::testing::Kit;
use lag_bot::transport::PollConfig;
use lag_bot::{Ctx, ErrorKind, Listener, Reply};
use lag_sim::{DeliveryOutcome, RobotSpec};
use tokio::sync::Semaphore;

use crate::support::{
    Seen, World, eventually, metric, paced_client, recorder, stop, within, world,
};

/// Waits until lag-sim handed the robot every event it queued for it whose data satisfies
/// `matches`, and returns how many there were.
async fn delivered(world: &World, matches: impl Fn(&serde_json::Value) -> bool) -> usize {
    let robot = &world.demo.robot.id;
    eventually("lag-sim to hand over the events", || {
        let ids: Vec<String> = world
            .sim
            .events(robot)
            .into_iter()
            .filter(|e| matches(&e.payload.data))
            .map(|e| e.id)
            .collect();
        let log = world.sim.deliveries(robot);
        let all_out = ids.iter().all(|id| {
            log.iter()
                .any(|r| &r.event_id == id && r.outcome == DeliveryOutcome::Delivered)
        });
        (!ids.is_empty() && all_out).then_some(ids.len())
    })
    .await
}

fn echo(seen: &Seen) -> Listener {
    let seen = seen.clone();
    Listener::new(move |ctx: Ctx, msg: RoomMessage| {
        let seen = seen.clone();
        async move {
            seen.push(msg.content.clone());
            ctx.say(format!("echo: {}", msg.content)).await.map(drop)
        }
    })
}

#[tokio::test]
async fn the_robot_ignores_its_own_messages() {
    let seen = Seen::default();
    let kit = Kit::start(|lag| Ok(lag.build()?.on(echo(&seen))))
        .await
        .unwrap();
    kit.member("alice").say("ping");
    // The kit waits until the robot has handled its own echo too.
    let said = kit.replies().await;
    assert_eq!(said.len(), 1, "{said:?}");
    said[0].assert_text("echo: ping");
    assert_eq!(seen.all(), ["ping"], "the echo of the echo never ran");
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn other_robots_are_ignored_unless_allowed() {
    for allow in [false, true] {
        let world = world(lag_sim::Transport::LongPoll).await;
        let other = world
            .sim
            .create_robot(&world.demo.server_id, RobotSpec::new("Chatty"))
            .unwrap();
        let chatty = paced_client(&world.sim, &other.key).build().unwrap();
        let seen = Seen::default();
        let handle = world
            .robot(PollConfig::new())
            .allow_robots(allow)
            .on(recorder(&seen))
            .start()
            .await
            .unwrap();

        chatty.send(&world.demo.general, "beep").await.unwrap();
        world
            .sim
            .post(&world.demo.bob, &world.demo.general, "hi")
            .unwrap();
        let n = delivered(&world, |data| data["roomId"] == world.demo.general.as_str()).await;
        assert_eq!(n, 2);

        stop(handle, world).await;
        let expected: &[&str] = if allow { &["beep", "hi"] } else { &["hi"] };
        assert_eq!(seen.all(), expected, "allow_robots({allow})");
    }
}

#[tokio::test]
async fn one_room_runs_in_order_while_other_rooms_go_ahead() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let gate = Arc::new(Semaphore::new(0));
    let (log, held) = (seen.clone(), Arc::clone(&gate));
    let general = world.demo.general.clone();
    let handle = world
        .robot(PollConfig::new())
        .on(Listener::new(move |_ctx: Ctx, msg: RoomMessage| {
            let (log, held, general) = (log.clone(), Arc::clone(&held), general.clone());
            async move {
                if msg.room_id == general && msg.content == "g1" {
                    held.acquire().await.unwrap().forget();
                }
                log.push(msg.content);
            }
        }))
        .start()
        .await
        .unwrap();

    for content in ["g1", "g2", "g3"] {
        world
            .sim
            .post(&world.demo.alice, &world.demo.general, content)
            .unwrap();
    }
    for content in ["w1", "w2"] {
        world
            .sim
            .post(&world.demo.bob, &world.demo.welcome, content)
            .unwrap();
    }
    // `g1` is held, yet the other room's events run; `general` waits behind `g1`.
    eventually("the welcome room's events", || {
        (seen.len() == 2).then_some(())
    })
    .await;
    assert_eq!(seen.all(), ["w1", "w2"]);

    gate.add_permits(1);
    eventually("the general room's events", || {
        (seen.len() == 5).then_some(())
    })
    .await;
    stop(handle, world).await;
    assert_eq!(seen.all(), ["w1", "w2", "g1", "g2", "g3"]);
}

#[tokio::test]
async fn no_more_handlers_run_at_once_than_the_bound() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let (count, held) = (Arc::clone(&started), Arc::clone(&gate));
    let handle = world
        .robot(PollConfig::new())
        .max_concurrent_handlers(2)
        .on(Listener::new(move |_ctx: Ctx, _msg: RoomMessage| {
            let (count, held) = (Arc::clone(&count), Arc::clone(&held));
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                held.acquire().await.unwrap().forget();
            }
        }))
        .start()
        .await
        .unwrap();

    let rooms = [
        &world.demo.general,
        &world.demo.welcome,
        &world.demo.mod_log,
    ];
    for room in rooms {
        world.sim.post(&world.demo.carol, room, "work").unwrap();
    }
    let n = delivered(&world, |data| data["content"] == "work").await;
    assert_eq!(n, 3);
    eventually("two handlers to start", || {
        (started.load(Ordering::SeqCst) == 2).then_some(())
    })
    .await;
    let metrics = handle.metrics().clone();
    eventually("all three to be accepted", || {
        (metric(&metrics, "lag_bot_queue_depth") == 3.0).then_some(())
    })
    .await;
    assert_eq!(metric(&metrics, "lag_bot_handlers_running"), 2.0);
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "the third room waits for a free slot, though nothing orders it behind the others"
    );

    gate.add_permits(1);
    eventually("the third handler to start", || {
        (started.load(Ordering::SeqCst) == 3).then_some(())
    })
    .await;
    gate.add_permits(2);
    stop(handle, world).await;
    assert_eq!(metric(&metrics, "lag_bot_queue_depth"), 0.0);
    assert_eq!(metric(&metrics, "lag_bot_handlers_running"), 0.0);
}

#[tokio::test]
async fn handlers_share_the_robot_state_and_metrics_are_served() {
    #[derive(Default)]
    struct Tally {
        messages: AtomicUsize,
    }

    let world = world(lag_sim::Transport::LongPoll).await;
    let tally = Arc::new(Tally::default());
    let handle = world
        .builder(PollConfig::new())
        .with_state(Arc::clone(&tally))
        .build()
        .unwrap()
        .metrics_listen("127.0.0.1:0".parse().unwrap())
        .on(
            Listener::new(|ctx: Ctx<Tally>, _msg: RoomMessage| async move {
                ctx.state().messages.fetch_add(1, Ordering::SeqCst);
            })
            .named("tally"),
        )
        .start()
        .await
        .unwrap();

    for content in ["one", "two", "three"] {
        world
            .sim
            .post(&world.demo.alice, &world.demo.general, content)
            .unwrap();
    }
    eventually("three messages counted", || {
        (tally.messages.load(Ordering::SeqCst) == 3).then_some(())
    })
    .await;

    let addr = handle.metrics_addr().expect("a metrics listener");
    let response = within(
        "the metrics scrape",
        reqwest::get(format!("http://{addr}/metrics")),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"lag_bot_deliveries_total{transport="poll",outcome="accepted"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"lag_bot_handler_duration_seconds_count{handler="tally"} 3"#));
    assert!(text.contains("lag_bot_limiter_wait_seconds_count"));
    stop(handle, world).await;
}

#[tokio::test]
async fn commands_run_from_room_messages_and_reply_in_the_room() {
    let seen = Seen::default();
    let add = lag_bot::command::Command::new("!add", |_ctx: Ctx, a: i64, b: i64| async move {
        format!("{}", a + b)
    });
    let kit = Kit::start(|lag| Ok(lag.build()?.command(add).on(recorder(&seen))))
        .await
        .unwrap();
    kit.member("alice").say("!add 2 40");
    kit.reply().await.assert_text("42");
    kit.stop().await.unwrap();
    assert_eq!(
        seen.all(),
        ["!add 2 40"],
        "listeners see command messages too"
    );
}

#[tokio::test]
async fn start_reports_what_would_stop_the_robot() {
    let world = world(lag_sim::Transport::LongPoll).await;

    let bad_key = lag_bot::Robot::builder()
        .key("lag_robot_00000000_not-a-real-key")
        .base_url(world.sim.base_url())
        .transport(PollConfig::new())
        .build()
        .unwrap();
    let err = bad_key.start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized);

    let clash = world
        .robot(PollConfig::new())
        .command(lag_bot::command::Command::new("!go", |_ctx: Ctx| async {}))
        .command(lag_bot::command::Command::new("!go", |_ctx: Ctx| async {}));
    let err = clash.start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = world
        .robot(PollConfig::new())
        .metrics_listen(taken.local_addr().unwrap());
    let err = busy.start().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport);
    assert!(err.message().contains("cannot listen"), "{err}");

    // The robot is set up for long-poll in Lag: an SSE robot is refused (409), and `start`
    // says so instead of the robot dying in the background.
    let wrong = world.robot(lag_bot::transport::SseConfig::new()).start();
    let err = within("start to fail", wrong).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
    world.sim.shutdown().await;

    // And the other way round: a long-poll robot for a robot set up for SSE.
    let sse_world = crate::support::world(lag_sim::Transport::Sse).await;
    let wrong = sse_world.robot(PollConfig::new()).start();
    let err = within("start to fail", wrong).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
    // A robot of the right transport starts, and stops cleanly.
    let right = sse_world.robot(lag_bot::transport::SseConfig::new());
    let handle = within("start", right.start()).await.unwrap();
    stop(handle, sse_world).await;
}

/// About 4,500 characters of numbered words, so its split is checkable word by word.
fn long_text() -> String {
    (0..500)
        .map(|i| format!("word{i:04}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn long_listener_and_pattern_replies_are_split_like_a_commands() {
    let kit = Kit::start(|lag| {
        Ok(lag
            .build()?
            .on(Listener::new(|_ctx: Ctx, msg: RoomMessage| async move {
                (msg.content == "listener").then(long_text)
            }))
            .hear(Hear::new("^pattern$", |_ctx: Ctx, _caps: Captures| async {
                Reply::reply(long_text())
            })))
    })
    .await
    .unwrap();
    let words: Vec<String> = long_text().split(' ').map(str::to_owned).collect();
    assert!(long_text().chars().count() > 4_000);
    let alice = kit.member("alice");

    alice.say("listener");
    let parts = kit.replies().await;
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p.text().chars().count() <= 2_000));
    let said: Vec<&str> = parts
        .iter()
        .flat_map(|p| p.text().split_whitespace())
        .collect();
    assert_eq!(said, words, "every word once, in order");
    assert!(parts.iter().all(|p| p.reply_to().is_none()));

    let trigger = alice.say("pattern");
    let parts = kit.replies().await;
    let threaded: Vec<Option<&str>> = parts.iter().map(|p| p.reply_to()).collect();
    assert_eq!(
        threaded,
        [Some(trigger.id()), None, None],
        "the first part answers"
    );
    kit.stop().await.unwrap();
}
