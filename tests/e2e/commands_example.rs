//! The `commands` example (`examples/commands`), end to end on the test kit: a few of its
//! commands; `!define` against the example's local dictionary, found, not found, failing and
//! too slow; and the `!report` conversation with a room asked again, filed in `#mod-log`,
//! cancelled, and given up after too many unknown rooms.

use std::time::{Duration, Instant};

use lag_bot::testing::Kit;

// The example's robot, shared with its `main`, which the tests do not run.
#[allow(dead_code)]
#[path = "../../examples/commands/main.rs"]
mod example;

use example::dictionary::Dictionary;
use example::local_dictionary::{Fault, LocalDictionary};

/// A kit running the example's robot, asking `local` for definitions with `timeout`.
async fn start(local: &LocalDictionary, timeout: Duration) -> Kit {
    let dictionary = Dictionary::new(&local.url(), timeout).unwrap();
    Kit::start(move |lag| example::robot(lag, dictionary))
        .await
        .unwrap()
}

/// A kit running the example's robot with a local dictionary of its own, which it returns too.
async fn kit() -> (Kit, LocalDictionary) {
    let local = LocalDictionary::start().await.unwrap();
    (start(&local, Duration::from_secs(5)).await, local)
}

#[tokio::test]
async fn ping_echo_and_a_refused_roll() {
    let (kit, _local) = kit().await;
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
    let (kit, _local) = kit().await;
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
    let (kit, _local) = kit().await;
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
    let (kit, _local) = kit().await;
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

#[tokio::test]
async fn define_answers_a_known_word_an_unknown_one_and_a_non_word() {
    let (kit, _local) = kit().await;
    let alice = kit.member("alice");
    alice.say("!define Robot");
    kit.reply().await.assert_text(
        "**robot** (noun): A machine that carries out a series of actions on its own.\n\
         **robot** (noun): A program that takes part in a chat as a member would.",
    );
    alice.say("!define xyzzy");
    kit.reply()
        .await
        .assert_text("I found no definition of `xyzzy`.");
    alice.say("!define ../admin");
    kit.reply()
        .await
        .assert_text("`../admin` is not a word I can look up.");
    kit.no_reply().await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn define_answers_politely_when_the_dictionary_fails_and_recovers() {
    let (kit, local) = kit().await;
    let alice = kit.member("alice");
    local.fail(Fault::ServerError);
    alice.say("!define lag");
    kit.reply()
        .await
        .assert_text("The dictionary is not available right now; try again later.");
    local.fail(Fault::None);
    alice.say("!define lag");
    kit.reply()
        .await
        .assert_text("**lag** (noun): A delay between an action and its effect.");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn define_gives_up_on_a_slow_dictionary_after_its_timeout() {
    let local = LocalDictionary::start().await.unwrap();
    let kit = start(&local, Duration::from_millis(200)).await;
    local.fail(Fault::Slow(Duration::from_millis(800)));
    let asked = Instant::now();
    kit.member("alice").say("!define lag");
    kit.reply()
        .await
        .assert_text("The dictionary did not answer in time; try again in a moment.");
    let waited = asked.elapsed();
    // The answer came after the client's timeout, before the dictionary's.
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_millis(800),
        "{waited:?}"
    );
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}
