//! The `commands` example (`examples/commands.rs`), end to end on the test kit: a few of its
//! commands, and the `!report` conversation with a room asked again, filed in `#mod-log`,
//! cancelled, and given up after too many unknown rooms.

use lag_bot::testing::Kit;

// The example's robot, shared with its `main`, which the tests do not run.
#[allow(dead_code)]
#[path = "../../examples/commands.rs"]
mod example;

#[tokio::test]
async fn ping_echo_and_a_refused_roll() {
    let kit = Kit::start(example::robot).await.unwrap();
    let alice = kit.member("alice");
    alice.say("!ping");
    kit.reply().await.assert_text("pong");
    alice.say("!say  two  spaces");
    kit.reply().await.assert_text("two  spaces");
    alice.say("!roll 1");
    kit.reply()
        .await
        .assert_text("A die has between 2 and 1000 sides.");
    kit.no_reply().await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_report_asks_again_for_an_unknown_room_and_is_filed_in_mod_log() {
    let kit = Kit::start(example::robot).await.unwrap();
    let carol = kit.member("carol");
    carol.say("!report");
    kit.reply()
        .await
        .assert_text("What happened? (`!cancel` to stop reporting)");
    carol.say("Someone posted spam, thanks to a bot");
    kit.reply().await.assert_text("Which room?");
    carol.say("#kitchen");
    kit.reply().await.assert_text(
        "There is no room `#kitchen` here; the rooms are #general, #welcome, #mod-log. \
         Which room?",
    );
    carol.say("#General");
    kit.reply().await.assert_text("Thanks, filed.");
    kit.reply_in("mod-log")
        .await
        .assert_text("Report from carol about #general: Someone posted spam, thanks to a bot");
    // The answer with "thanks" in it was an answer, not thanks to the robot.
    kit.no_reply().await;
    kit.no_reply_in("mod-log").await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn cancel_ends_a_report_and_files_nothing() {
    let kit = Kit::start(example::robot).await.unwrap();
    let carol = kit.member("carol");
    carol.say("!report");
    kit.reply()
        .await
        .assert_text("What happened? (`!cancel` to stop reporting)");
    carol.say("spam");
    kit.reply().await.assert_text("Which room?");
    carol.say("!cancel");
    kit.reply().await.assert_text("Cancelled.");
    // Messages are commands again.
    carol.say("!ping");
    kit.reply().await.assert_text("pong");
    kit.no_reply().await;
    kit.no_reply_in("mod-log").await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_report_gives_up_after_three_unknown_rooms() {
    let kit = Kit::start(example::robot).await.unwrap();
    let carol = kit.member("carol");
    carol.say("!report");
    kit.reply()
        .await
        .assert_text("What happened? (`!cancel` to stop reporting)");
    carol.say("spam");
    kit.reply().await.assert_text("Which room?");
    for room in ["kitchen", "attic"] {
        carol.say(room);
        kit.reply()
            .await
            .assert_like(&format!("There is no room `{room}` here; * Which room?"));
    }
    carol.say("cellar");
    kit.reply()
        .await
        .assert_text("Too many tries; start again with `!report`.");
    kit.no_reply_in("mod-log").await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}
