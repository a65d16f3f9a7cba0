//! Commands and pattern listeners end to end: a robot built from `#[command]` and `#[hear]`
//! functions, run by the test kit against lag-sim, answering members through lag-sim's REST
//! API.
//!
//! Each test posts its messages in one room, where the robot handles them in order, and
//! compares everything the robot said there once it has handled them all (including what it
//! did not say).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lag_bot::Reply;
use lag_bot::command::{Captures, Command, CommandOptions, Cooldown, MemberMention, Rest};
use lag_bot::model::ServerRole;
use lag_bot::testing::Kit;
use lag_bot::{Ctx, Error, ErrorKind, Robot, command, hear};

use crate::support::{Seen, eventually, metric};

/// Replies with pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Rolls a die.
/// Six sides unless told otherwise.
#[command("!roll", aliases("!dice"))]
async fn roll(_ctx: Ctx, sides: Option<u32>) -> String {
    format!("rolled a d{}", sides.unwrap_or(6))
}

/// Adds two whole numbers.
#[command("!add")]
async fn add(_ctx: Ctx, a: i64, b: i64) -> lag_bot::Result<String> {
    a.checked_add(b)
        .map(|sum| sum.to_string())
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "the sum overflows"))
}

/// Repeats the text.
#[command("!echo")]
async fn echo(_ctx: Ctx, text: Rest) -> String {
    text.into_inner()
}

/// Sets a reminder.
#[command("!remind")]
async fn remind(_ctx: Ctx, after: Duration, text: Rest) -> String {
    format!("in {}s: {text}", after.as_secs())
}

/// Greets a member, as a reply.
#[command("!greet")]
async fn greet(_ctx: Ctx, who: MemberMention, times: Option<u8>) -> Reply {
    let hellos = vec!["hello"; usize::from(times.unwrap_or(1))].join(" ");
    Reply::reply(format!("{hellos} {who}"))
}

/// Kicks a member (admins only).
#[command("!kick")]
async fn kick(_ctx: Ctx, who: MemberMention) -> String {
    format!("kicked {who}")
}

#[command("!secret")]
async fn secret(_ctx: Ctx) -> &'static str {
    "you found it"
}

#[hear(r"(?i)\bspam\b")]
async fn no_spam(_ctx: Ctx) -> &'static str {
    "Please don't spam."
}

#[hear(r"(?P<count>\d+) cookies?\b")]
async fn cookies(_ctx: Ctx, caps: Captures) -> String {
    format!("{} cookies eaten", caps.name("count").unwrap_or("?"))
}

#[hear(r"^boom$")]
async fn boom(_ctx: Ctx) -> &'static str {
    panic!("the boom listener blew up")
}

/// Whether the sender of the message in `ctx` is an owner or admin, asked of Lag.
async fn is_admin(ctx: Ctx) -> lag_bot::Result<bool> {
    let Some(sender) = ctx.message().and_then(|m| m.sender_id.clone()) else {
        return Ok(false);
    };
    let members = ctx.client().members().await?;
    Ok(members
        .iter()
        .any(|m| m.user_id == sender && matches!(m.role, ServerRole::Owner | ServerRole::Admin)))
}

/// Starts a kit whose robot has `with` on top of the default builder.
async fn start_kit(with: impl FnOnce(Robot) -> Robot) -> Kit {
    Kit::start(|lag| Ok(with(lag.build()?)))
        .await
        .expect("the robot starts")
}

/// Posts each message as `user` in `room`, and returns everything the robot said in that room
/// once it has handled them all.
async fn conversation(kit: &Kit, user: &str, room: &str, messages: &[&str]) -> Vec<String> {
    let member = kit.member(user).in_room(room);
    for message in messages {
        member.say(message);
    }
    kit.replies()
        .await
        .iter()
        .map(|m| m.text().to_owned())
        .collect()
}

#[tokio::test]
async fn typed_arguments_aliases_and_usage_errors() {
    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command(roll())
            .command(add())
            .command(echo())
            .command(remind())
    })
    .await;
    let said = conversation(
        &kit,
        "alice",
        "general",
        &[
            "!roll 20",
            "!dice",
            "!ROLL 8",
            "hello everyone",
            "!roll six",
            "!roll 99999999999",
            "!add 2 40",
            "!add 2",
            "!add 2 40 1",
            r#"!echo "hi there" you"#,
            "!echo",
            "!remind 1h30m stretch your legs",
            "!remind soon stretch",
            r#"!echo "unclosed"#,
        ],
    )
    .await;
    assert_eq!(
        said,
        [
            "rolled a d20",
            "rolled a d6",
            "rolled a d8",
            "sides: `six` is not a whole number\nUsage: !roll [sides]",
            "sides: `99999999999` is too large (at most 4294967295)\nUsage: !roll [sides]",
            "42",
            "missing argument `b` (a whole number)\nUsage: !add <a> <b>",
            "unexpected extra argument `1`\nUsage: !add <a> <b>",
            r#""hi there" you"#,
            "missing argument `text` (some text)\nUsage: !echo <text...>",
            "in 5400s: stretch your legs",
            "after: `soon` is not a duration (try 45s, 10m, 1h30m or 2d)\nUsage: !remind <after> <text...>",
            r#""unclosed"#,
        ]
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn member_mentions_resolve_and_replies_thread() {
    let kit = start_kit(|robot| robot.command(ping()).command(greet())).await;
    let trigger = kit.member("alice").say("!greet @Bob 2");
    kit.reply()
        .await
        .assert_text("hello hello @bob")
        .assert_reply_to(&trigger);
    let said = conversation(
        &kit,
        "alice",
        "general",
        &["!greet bob", "!greet @nobody", "!greet @Helper"],
    )
    .await;
    assert_eq!(
        said,
        [
            "who: `bob` is not a mention (type @ and pick a name)\nUsage: !greet <who> [times]",
            "who: `@nobody` does not name anyone on this server\nUsage: !greet <who> [times]",
            "who: `@Helper` is a robot, not a member\nUsage: !greet <who> [times]",
        ]
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn help_lists_and_explains_commands_and_near_misses_get_a_suggestion() {
    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command(roll())
            .command(add())
            .command(secret().hidden())
    })
    .await;
    let said = conversation(
        &kit,
        "carol",
        "general",
        &[
            "!help",
            "!help dice",
            "!help !add",
            "!help nope",
            "!rol 4",
            "!weather",
            "!secret",
        ],
    )
    .await;
    assert_eq!(
        said,
        [
            "Commands:\n\
             `!add <a> <b>` - Adds two whole numbers.\n\
             `!help [command]` - Lists the commands, or explains one.\n\
             `!ping` - Replies with pong.\n\
             `!roll [sides]` - Rolls a die.\n\
             Type `!help <command>` for details.",
            "`!roll [sides]`\nRolls a die.\nSix sides unless told otherwise.\nAliases: `!dice`",
            "`!add <a> <b>`\nAdds two whole numbers.",
            "No command `!nope`. Type `!help` for the list.",
            "Unknown command `!rol`. Did you mean `!roll`?",
            "you found it",
        ]
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn help_and_suggestions_can_be_turned_off_or_replaced() {
    let my_help = Command::new("!help", |_ctx: Ctx| async { "Ask a moderator." });
    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command(roll())
            .command(my_help)
            .command_options(CommandOptions::new().suggestions(false))
    })
    .await;
    let said = conversation(&kit, "alice", "general", &["!help", "!help roll", "!rol"]).await;
    assert_eq!(
        said,
        [
            "Ask a moderator.",
            "unexpected extra argument `roll`\nUsage: !help"
        ]
    );
    kit.stop().await.unwrap();

    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command_options(CommandOptions::new().help(false))
    })
    .await;
    let said = conversation(&kit, "alice", "general", &["!help"]).await;
    assert!(said.is_empty(), "{said:?}");
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn cooldowns_answer_kindly_per_user_and_per_room() {
    let flip = Command::new("!flip", |_ctx: Ctx| async { "heads" })
        .cooldown(Cooldown::per_room(Duration::from_secs(3_600)).message("Wait {remaining}."));
    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command(roll().cooldown(Cooldown::per_user(Duration::from_secs(3_600))))
            .command(flip)
    })
    .await;
    let alice_said = conversation(&kit, "alice", "general", &["!roll", "!dice 4", "!flip"]).await;
    let bob_said = conversation(&kit, "bob", "general", &["!roll 12", "!flip", "!roll bad"]).await;
    let bob_elsewhere = conversation(&kit, "bob", "welcome", &["!flip"]).await;
    assert_eq!(alice_said.len(), 3);
    assert_eq!(alice_said[0], "rolled a d6");
    assert!(
        alice_said[1].starts_with("Slow down! `!dice` can be used again in "),
        "{alice_said:?}"
    );
    assert_eq!(alice_said[2], "heads");
    assert_eq!(bob_said[0], "rolled a d12", "the cooldown is per user");
    assert!(
        bob_said[1].starts_with("Wait "),
        "the room's cooldown holds: {bob_said:?}"
    );
    assert!(
        bob_said[2].starts_with("sides: `bad`"),
        "usage errors come before the cooldown: {bob_said:?}"
    );
    assert_eq!(
        bob_elsewhere,
        ["heads"],
        "another room has its own cooldown"
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn checks_refuse_before_arguments_are_looked_at() {
    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command(
                kick()
                    .check(is_admin)
                    .denied_message("Only admins can kick."),
            )
            .command(
                Command::new("!purge", |_ctx: Ctx| async { "purged" })
                    .only_roles([ServerRole::Owner]),
            )
    })
    .await;
    let carol_said = conversation(&kit, "carol", "general", &["!kick @bob", "!kick"]).await;
    let bob_said = conversation(&kit, "bob", "general", &["!kick @carol", "!kick", "!purge"]).await;
    let alice_said = conversation(&kit, "alice", "general", &["!purge"]).await;
    assert_eq!(
        carol_said,
        ["Only admins can kick.", "Only admins can kick."]
    );
    assert_eq!(
        bob_said,
        [
            "kicked @carol",
            "missing argument `who` (a member, like @alice)\nUsage: !kick <who>",
            "You can't use `!purge`.",
        ]
    );
    assert_eq!(alice_said, ["purged"], "the owner may purge");
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_mention_of_the_robot_addresses_a_command_and_prefixes_are_configurable() {
    let kit = start_kit(|robot| {
        robot.command(roll()).command(ping()).command_options(
            CommandOptions::new()
                .prefixes(["?", "!"])
                .case_insensitive(false),
        )
    })
    .await;
    let said = conversation(
        &kit,
        "alice",
        "general",
        &[
            "@Helper roll 4",
            "@helper, ?roll 5",
            "?roll 6",
            "!roll 7",
            "?ROLL 8",
            "@Helperbot roll 9",
            "hey @Helper roll 10",
        ],
    )
    .await;
    assert_eq!(
        said,
        [
            "rolled a d4",
            "rolled a d5",
            "rolled a d6",
            "rolled a d7",
            "Unknown command `?ROLL`. Did you mean `?roll`?",
        ],
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn pattern_listeners_match_through_one_set_with_captures() {
    let kit = start_kit(|robot| robot.command(ping()).hear(no_spam()).hear(cookies())).await;
    let said = conversation(
        &kit,
        "alice",
        "general",
        &[
            "no SPAM here",
            "I ate 12 cookies",
            "spammer",
            "1 cookie and spam",
        ],
    )
    .await;
    assert_eq!(
        said.len(),
        4,
        "one answer each, two for the last message: {said:?}"
    );
    assert_eq!(&said[..2], ["Please don't spam.", "12 cookies eaten"]);
    let mut last = said[2..].to_vec();
    last.sort();
    assert_eq!(last, ["1 cookies eaten", "Please don't spam."]);
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn the_robot_ignores_its_own_ping_echo() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let parrot = Command::new("!parrot", move |_ctx: Ctx| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "!parrot" }
    });
    let kit = start_kit(|robot| robot.command(ping()).command(parrot)).await;
    let said = conversation(&kit, "alice", "general", &["!parrot"]).await;
    assert_eq!(said, ["!parrot"]);
    let said = conversation(&kit, "alice", "general", &[]).await;
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "its own `!parrot` did not run it again"
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn handler_errors_go_to_the_error_hook_under_the_command_name() {
    let errors = Seen::default();
    let seen = errors.clone();
    let kit = start_kit(|robot| {
        robot
            .command(ping())
            .command(add())
            .hear(boom())
            .on_error(move |error, cx| {
                let seen = seen.clone();
                async move {
                    seen.push(format!(
                        "{} panicked={}: {error}",
                        cx.handler(),
                        cx.panicked()
                    ));
                }
            })
    })
    .await;
    let metrics = kit.handle().metrics().clone();
    let said = conversation(
        &kit,
        "alice",
        "general",
        &["!add 9223372036854775807 1", "boom"],
    )
    .await;
    assert!(said.is_empty(), "{said:?}");
    let mut reported = eventually("the error hook", || {
        (errors.len() == 2).then(|| errors.all())
    })
    .await;
    reported.sort();
    assert_eq!(
        reported,
        [
            "!add panicked=false: invalid input: the sum overflows",
            "boom panicked=true: handler error: handler `boom` panicked: the boom listener blew up",
        ]
    );
    assert_eq!(
        metric(
            &metrics,
            r#"lag_bot_handler_errors_total{handler="!add",cause="error"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            r#"lag_bot_handler_errors_total{handler="boom",cause="panic"}"#
        ),
        1.0
    );
    kit.stop().await.unwrap();
}
