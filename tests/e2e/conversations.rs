//! Conversations end to end: handlers that ask members and wait for their answers, run by the
//! test kit against lag-sim, with timeouts in simulated time.

use std::time::Duration;

use lag_bot::command::{Captures, CommandOptions};
use lag_bot::testing::{Kit, Via};
use lag_bot::{Ctx, Robot, RobotBuilder, command, hear};

/// Files a report in three steps.
#[command("!report")]
async fn report(ctx: Ctx) -> lag_bot::Result<String> {
    let what = ctx.ask("What happened?").await?;
    let room = ctx.ask("Which room?").await?;
    let people: u32 = ctx.ask_for("How many people were involved?").await?;
    Ok(format!(
        "Thanks, filed: {what} in {room}, {people} involved."
    ))
}

/// Replies with pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Thanks whoever thanks the robot.
#[hear(r"(?i)\bthanks\b")]
async fn thanks(_ctx: Ctx, _captures: Captures) -> &'static str {
    "You're welcome!"
}

fn robot(lag: RobotBuilder) -> lag_bot::Result<Robot> {
    Ok(lag
        .build()?
        .command(report())
        .command(ping())
        .hear(thanks())
        .command_options(CommandOptions::new().conversation_timeout(Duration::from_secs(120))))
}

#[tokio::test]
async fn a_three_step_conversation_with_a_wrong_answer_asked_again() {
    let kit = Kit::start(robot).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    alice.say("Spam, thanks to a bot");
    kit.reply().await.assert_text("Which room?");
    alice.say("#general");
    kit.reply()
        .await
        .assert_text("How many people were involved?");
    alice.say("three");
    kit.reply()
        .await
        .assert_text("`three` is not a whole number\nHow many people were involved?");
    alice.say("3");
    kit.reply()
        .await
        .assert_text("Thanks, filed: Spam, thanks to a bot in #general, 3 involved.");
    // The answer with "thanks" in it was an answer, not a pattern match.
    kit.no_reply().await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn answers_are_not_commands_but_explicit_commands_still_run() {
    let kit = Kit::start(robot).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    // A command runs, and the conversation keeps waiting.
    alice.say("!ping");
    kit.reply().await.assert_text("pong");
    // Nothing of this is run as a command, a suggestion or a pattern listener.
    alice.say("!pnig thanks");
    kit.reply().await.assert_text("Which room?");
    alice.say("thanks");
    kit.reply()
        .await
        .assert_text("How many people were involved?");
    alice.say("!cancel");
    kit.reply().await.assert_text("Cancelled.");
    // After the conversation, messages are routed as usual again.
    alice.say("thanks");
    kit.reply().await.assert_text("You're welcome!");
    kit.no_reply().await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_waiting_conversation_counts_as_settled_and_keeps_its_time() {
    let kit = Kit::start(robot).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    let asked = kit.elapsed();
    // The robot waits for alice: nothing more to say, and no time passes towards the timeout.
    kit.no_reply().await;
    assert!(kit.replies().await.is_empty());
    kit.settle().await;
    assert_eq!(kit.elapsed(), asked);
    // The answer is taken at once, and the next question is among the replies.
    alice.say("Spam");
    let replies = kit.replies().await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    replies[0].assert_text("Which room?");
    assert_eq!(kit.elapsed(), asked);
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_conversation_times_out_in_simulated_time() {
    let kit = Kit::start(robot).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    let asked = kit.elapsed();
    kit.reply()
        .await
        .assert_text("No answer in time; start again with `!report`.");
    let waited = kit.elapsed() - asked;
    assert!(
        waited >= Duration::from_secs(120) && waited < Duration::from_secs(121),
        "{waited:?}"
    );
    // The conversation is over: an answer now is an ordinary message.
    alice.say("thanks");
    kit.reply().await.assert_text("You're welcome!");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn too_many_wrong_answers_end_the_conversation() {
    let kit =
        Kit::start(|lag| Ok(robot(lag)?.command_options(CommandOptions::new().answer_attempts(2))))
            .await
            .unwrap();
    let alice = kit.member("alice");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    alice.say("spam");
    kit.reply().await.assert_text("Which room?");
    alice.say("here");
    kit.reply()
        .await
        .assert_text("How many people were involved?");
    alice.say("some");
    kit.reply()
        .await
        .assert_text("`some` is not a whole number\nHow many people were involved?");
    alice.say("1 2");
    kit.reply()
        .await
        .assert_text("Too many tries; start again with `!report`.");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn two_members_hold_conversations_in_one_room_at_once() {
    let kit = Kit::start(robot).await.unwrap();
    let alice = kit.member("alice");
    let bob = kit.member("bob");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    // Alice's conversation does not hold up the room.
    bob.say("!report");
    kit.reply().await.assert_text("What happened?");
    bob.say("a raid");
    kit.reply().await.assert_text("Which room?");
    alice.say("spam");
    kit.reply().await.assert_text("Which room?");
    alice.say("#general");
    kit.reply()
        .await
        .assert_text("How many people were involved?");
    bob.say("#welcome");
    kit.reply()
        .await
        .assert_text("How many people were involved?");
    bob.say("12");
    kit.reply()
        .await
        .assert_text("Thanks, filed: a raid in #welcome, 12 involved.");
    alice.say("1");
    kit.reply()
        .await
        .assert_text("Thanks, filed: spam in #general, 1 involved.");
    kit.no_reply().await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_conversation_in_one_room_leaves_the_member_free_in_another() {
    let kit = Kit::start(robot).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    alice.in_room("welcome").say("thanks");
    kit.reply_in("welcome").await.assert_text("You're welcome!");
    alice.say("!cancel");
    kit.reply().await.assert_text("Cancelled.");
    kit.stop().await.unwrap();
}

async fn over(via: Via) {
    let kit = Kit::builder().via(via).start(robot).await.unwrap();
    let alice = kit.member("alice");
    let carol = kit.member("carol");
    alice.say("!report");
    kit.reply().await.assert_text("What happened?");
    carol.say("!report");
    kit.reply().await.assert_text("What happened?");
    carol.say("!cancel");
    kit.reply().await.assert_text("Cancelled.");
    alice.say("spam");
    kit.reply().await.assert_text("Which room?");
    alice.say("here");
    kit.reply()
        .await
        .assert_text("How many people were involved?");
    alice.say("2");
    kit.reply()
        .await
        .assert_text("Thanks, filed: spam in here, 2 involved.");
    kit.no_reply().await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn conversations_work_over_webhooks() {
    over(Via::Webhook).await;
}

#[tokio::test]
async fn conversations_work_over_long_polling() {
    over(Via::LongPoll).await;
}
