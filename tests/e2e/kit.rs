//! The test kit (`lag_bot::testing`): its actions, its expectations and how they fail, many kits
//! at once, simulated time, and transcripts.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt as _;
use lag_bot::command::Cooldown;
use lag_bot::events::{MemberJoin, MemberLeave, MemberRoleChanged, PresenceUpdate, VoiceLeave};
use lag_bot::testing::{Kit, Via};
use lag_bot::{Ctx, Error, ErrorKind, Listener, Reply, Robot, RobotBuilder, command};
use lag_sim::{DeliveryOutcome, Role, Transport};

use crate::support::{eventually, exported};

/// Answers pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Rolls a die with the sides given (a loaded one: always the middle), answering in a thread.
#[command("!roll")]
async fn roll(_ctx: Ctx, sides: u32) -> Reply {
    Reply::reply(format!("You rolled {} (1-{sides}).", sides.div_ceil(2)))
}

/// Hands out a bonus (once every ten minutes per member: see `helper`).
#[command("!daily")]
async fn daily(ctx: Ctx) -> String {
    let who = ctx.message().map_or("friend", |m| m.sender_name.as_str());
    format!("Here is your bonus, {who}.")
}

/// Says `n` numbered lines, one message each.
#[command("!count")]
async fn count(ctx: Ctx, n: u32) -> lag_bot::Result<()> {
    for i in 1..=n {
        ctx.say(i.to_string()).await?;
    }
    Ok(())
}

/// Deletes its own announcement after posting it.
#[command("!flash")]
async fn flash(ctx: Ctx) -> lag_bot::Result<()> {
    let posted = ctx.say("now you see me").await?;
    ctx.client().delete(&posted.room_id, &posted.id).await
}

/// Always fails.
#[command("!broken")]
async fn broken(_ctx: Ctx) -> lag_bot::Result<String> {
    Err(Error::new(
        ErrorKind::Handler,
        "the flux capacitor is empty",
    ))
}

/// The robot the kit's tests run.
fn helper(lag: RobotBuilder) -> lag_bot::Result<Robot> {
    Ok(lag
        .build_from_env()?
        .command(ping())
        .command(roll())
        .command(daily().cooldown(Cooldown::per_user(Duration::from_secs(600))))
        .command(count())
        .command(flash())
        .command(broken())
        .on(Listener::new(|ctx: Ctx, join: MemberJoin| async move {
            let welcome = ctx.client().room_named("welcome").await?;
            ctx.send(&welcome.id, format!("Welcome, {}!", join.username))
                .await?;
            Ok::<(), Error>(())
        })))
}

/// Runs `test` and returns the message it panicked with.
async fn panic_message<T>(test: impl Future<Output = T>) -> String {
    let Err(panic) = AssertUnwindSafe(test).catch_unwind().await else {
        panic!("the expectation was met, and it should have failed");
    };
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[tokio::test]
async fn members_act_and_the_robot_answers_over_every_transport() {
    for via in [Via::Sse, Via::LongPoll, Via::Webhook] {
        let kit = Kit::builder().via(via).start(helper).await.unwrap();
        let alice = kit.member("alice");
        let question = alice.say("!roll 6");
        kit.reply()
            .await
            .assert_like("You rolled * (1-6).")
            .assert_text("You rolled 3 (1-6).")
            .assert_reply_to(&question);
        alice.say("just chatting");
        kit.no_reply().await;

        let dave = kit.join("dave");
        kit.reply_in("welcome").await.assert_text("Welcome, dave!");
        assert_eq!(
            kit.received::<MemberJoin>().await.username,
            "dave",
            "{via:?}"
        );
        dave.in_room("welcome").say("thanks!");
        kit.no_reply_in("#welcome").await;
        kit.stop().await.unwrap();
    }
}

#[tokio::test]
async fn every_members_action_reaches_the_robot() {
    let kit = Kit::start(|lag| {
        Ok(lag
            .build()?
            .on(Listener::new(|_ctx: Ctx, _e: MemberRoleChanged| async {}))
            .on(Listener::new(|_ctx: Ctx, _e: VoiceLeave| async {})))
    })
    .await
    .unwrap();
    let carol = kit.member("carol");
    let said = carol.say("first");
    let edited = carol.edit(&said, "second");
    assert_eq!(edited.text(), "second");
    carol.delete(&edited);
    kit.deleted(&edited).await;
    carol.set_role(Role::Admin);
    assert_eq!(
        kit.received::<MemberRoleChanged>()
            .await
            .new_role
            .to_string(),
        "admin"
    );
    let lounge = carol.create_room("lounge");
    lounge.voice_join();
    kit.advance(Duration::from_secs(90)).await;
    lounge.voice_leave();
    let left: VoiceLeave = kit.received().await;
    assert_eq!(
        left.duration,
        Some(Duration::from_secs(90)),
        "voice time is simulated time"
    );
    carol.set_status(lag_sim::UserStatus::Idle);
    let presence: PresenceUpdate = kit.received().await;
    assert_eq!(presence.status.to_string(), "idle");
    carol.leave();
    assert_eq!(kit.received::<MemberLeave>().await.username, "carol");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_missing_reply_fails_at_once_with_the_transcript_and_the_robots_errors() {
    let kit = Kit::start(helper).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!broken");
    let started = std::time::Instant::now();
    let message = panic_message(kit.reply()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it did not wait out its patience"
    );
    assert!(
        message.starts_with("expected a message from Helper in #general, and it cannot come"),
        "{message}"
    );
    assert!(message.contains("  #general alice: !broken"), "{message}");
    assert!(
        message.contains("`!broken` failed: handler error: the flux capacitor is empty"),
        "{message}"
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn each_expectation_fails_with_what_it_expected() {
    let kit = Kit::builder()
        .patience(Duration::from_millis(500))
        .start(helper)
        .await
        .unwrap();
    let alice = kit.member("alice");

    alice.say("!ping");
    let message = panic_message(kit.no_reply()).await;
    assert!(
        message.starts_with(
            "expected no more messages from Helper in #general, but it said: \"pong\""
        ),
        "{message}"
    );

    alice.say("!ping");
    let reply = kit.reply().await;
    let message = panic_message(async {
        reply.assert_text("ping");
    })
    .await;
    assert!(
        message.starts_with("expected the text \"ping\", but Helper said in #general: \"pong\""),
        "{message}"
    );
    assert!(message.contains("  #general Helper: pong"), "{message}");
    let message = panic_message(async {
        reply.assert_like("p*g!");
    })
    .await;
    assert!(
        message.starts_with("expected text like \"p*g!\""),
        "{message}"
    );

    let said = alice.say("nobody deletes this");
    let message = panic_message(kit.deleted(&said)).await;
    assert!(
        message.starts_with("expected alice's message \"nobody deletes this\" to be deleted"),
        "{message}"
    );

    let message = panic_message(async {
        kit.received::<VoiceLeave>().await;
    })
    .await;
    assert!(
        message.starts_with("expected the robot to receive a voice.leave event"),
        "{message}"
    );

    let message = panic_message(async {
        kit.member("zed");
    })
    .await;
    assert!(
        message.contains("no member \"zed\"; it has alice, bob, carol"),
        "{message}"
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_robot_that_deletes_its_message_is_seen_doing_it() {
    let kit = Kit::start(helper).await.unwrap();
    kit.member("bob").say("!flash");
    let flash = kit.reply().await;
    flash.assert_text("now you see me");
    kit.deleted(&flash).await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn twenty_kits_run_side_by_side() {
    let runs = (0..20).map(|n| async move {
        let kit = Kit::start(helper).await.unwrap();
        kit.member("alice").say(&format!("!roll {}", n + 1));
        kit.reply().await.assert_text(&format!(
            "You rolled {} (1-{}).",
            (n + 1u32).div_ceil(2),
            n + 1
        ));
        kit.stop().await.unwrap();
    });
    futures_util::future::join_all(runs).await;
}

#[tokio::test]
async fn a_ten_minute_cooldown_passes_in_simulated_time() {
    let started = std::time::Instant::now();
    let kit = Kit::start(helper).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!daily");
    kit.reply().await.assert_text("Here is your bonus, alice.");
    alice.say("!daily");
    kit.reply().await.assert_like("* 10m.");
    kit.advance(Duration::from_secs(9 * 60)).await;
    alice.say("!daily");
    kit.reply().await.assert_like("* 1m.");
    kit.advance(Duration::from_secs(60)).await;
    alice.say("!daily");
    kit.reply().await.assert_text("Here is your bonus, alice.");
    assert_eq!(kit.elapsed(), Duration::from_secs(600));
    kit.stop().await.unwrap();
    eprintln!("a ten-minute cooldown took {:?}", started.elapsed());
}

#[tokio::test]
async fn thirty_replies_are_paced_under_the_message_limit_in_simulated_time() {
    let started = std::time::Instant::now();
    let kit = Kit::start(helper).await.unwrap();
    kit.member("alice").say("!count 30");
    for i in 1..=30 {
        kit.reply().await.assert_text(&i.to_string());
    }
    kit.no_reply().await;
    // Ten messages per ten seconds: the 30th waits for two windows to pass.
    assert!(
        kit.elapsed() >= Duration::from_secs(20),
        "{:?}",
        kit.elapsed()
    );
    assert!(
        kit.elapsed() < Duration::from_secs(40),
        "{:?}",
        kit.elapsed()
    );
    let metrics = kit.handle().metrics();
    assert_eq!(
        exported(metrics, "lag_bot_rate_limited_total"),
        Some(0.0),
        "Lag never answered 429"
    );
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
    eprintln!("thirty paced replies took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_failed_webhook_delivery_is_retried_in_simulated_time() {
    let kit = Kit::builder()
        .via(Via::Webhook)
        .start(helper)
        .await
        .unwrap();
    let robot = kit.demo().robot.id.clone();
    let receiver = format!("http://{}/webhook", kit.handle().local_addr().unwrap());
    let nowhere = Transport::Webhook {
        url: "http://127.0.0.1:9/webhook".to_owned(),
    };
    kit.sim().set_transport(&robot, nowhere).unwrap();
    kit.member("alice").say("!ping");
    eventually("the first attempt to fail", || {
        kit.sim()
            .deliveries(&robot)
            .iter()
            .any(|d| d.outcome == DeliveryOutcome::Failed)
            .then_some(())
    })
    .await;
    kit.sim()
        .set_transport(&robot, Transport::Webhook { url: receiver })
        .unwrap();
    kit.reply().await.assert_text("pong");
    assert_eq!(
        kit.elapsed(),
        Duration::from_secs(5),
        "Lag's first retry waits 5 s"
    );
    kit.stop().await.unwrap();
}

const ROLLS: &str = "\
// Rolling dice, and a newcomer.
alice: !roll 6
Helper: You rolled * (1-6).
alice: !ping
Helper: pong
* dave joins
#welcome
Helper: Welcome, dave!
dave: thanks
... 10m later
#general
bob: !daily
Helper: Here is your bonus, bob.
";

#[tokio::test]
async fn a_transcript_passes() {
    let kit = Kit::start(helper).await.unwrap();
    kit.transcript(ROLLS).await;
    assert_eq!(kit.elapsed(), Duration::from_secs(600));
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_transcript_file_passes() {
    let kit = Kit::start(helper).await.unwrap();
    kit.transcript_file("tests/e2e/transcripts/helper.transcript")
        .await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_failing_transcript_shows_a_diff() {
    let kit = Kit::start(helper).await.unwrap();
    let wrong =
        "alice: !roll 6\nHelper: You rolled 6 (1-6).\nalice: !ping\nbob: !ping\nHelper: pong\n";
    let message = panic_message(kit.transcript(wrong)).await;
    let diff = [
        "  #general alice: !roll 6",
        "- #general Helper: You rolled 6 (1-6).",
        "+ #general Helper: You rolled 3 (1-6).",
        "  #general alice: !ping",
        "+ #general Helper: pong",
        "  #general bob: !ping",
        "  #general Helper: pong",
    ]
    .join("\n");
    assert!(
        message.starts_with(&format!(
            "the robot's messages differ from the transcript (- expected, + actual):\n\n{diff}\n"
        )),
        "{message}"
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_robot_function_that_picks_its_own_transport_is_refused() {
    let err = Kit::builder()
        .via(Via::LongPoll)
        .start(|lag| lag.transport(lag_bot::transport::SseConfig::new()).build())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.to_string().contains("KitBuilder::via"), "{err}");
}

#[tokio::test]
async fn a_cooldown_on_a_command_built_at_run_time_uses_simulated_time_too() {
    let kit = Kit::start(|lag| {
        Ok(lag
            .build()?
            .command(ping().cooldown(Cooldown::per_user(Duration::from_secs(3_600)))))
    })
    .await
    .unwrap();
    let bob = kit.member("bob");
    bob.say("!ping");
    kit.reply().await.assert_text("pong");
    bob.say("!ping");
    kit.reply().await.assert_like("*1h*");
    kit.advance(Duration::from_secs(3_600)).await;
    bob.say("!ping");
    kit.reply().await.assert_text("pong");
    kit.stop().await.unwrap();
}
