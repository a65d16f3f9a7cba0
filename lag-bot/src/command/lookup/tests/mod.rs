//! What the robot answers to messages, through lookup, checks, arguments and texts.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::ErrorKind;
use crate::command::tests::{ping, roll, secret};
use crate::command::{ArgError, Cooldown, Rest, Texts};
use crate::events::Envelope;
use crate::model::{Mention, MentionKind, RobotInfo};

const ME: Me<'static> = Me {
    id: "rob_1",
    name: "Helper Bot",
};

fn memory() -> Arc<dyn CooldownStore> {
    Arc::new(crate::command::MemoryCooldowns::new())
}

fn new_index(
    commands: Vec<Command>,
    hears: Vec<Hear>,
    options: CommandOptions,
) -> Result<CommandIndex<()>> {
    CommandIndex::new(commands, hears, options, memory())
}

fn index(commands: Vec<Command>, options: CommandOptions) -> CommandIndex<()> {
    CommandIndex::new(commands, Vec::new(), options, memory()).unwrap()
}

fn from_alice(content: &str) -> RoomMessage {
    RoomMessage::new("room_1", content)
        .message_id("msg_1")
        .sender("usr_1", "alice")
}

fn command_of(index: &CommandIndex<()>, content: &str) -> Option<(String, String)> {
    index
        .decide(ME, &from_alice(content))
        .into_iter()
        .find_map(|action| match action {
            Action::Command { index: i, args, .. } => {
                Some((index.commands[i].name().to_owned(), args))
            }
            _ => None,
        })
}

fn said(index: &CommandIndex<()>, content: &str) -> Option<String> {
    index
        .decide(ME, &from_alice(content))
        .into_iter()
        .find_map(|action| match action {
            Action::Say(text) => Some(text),
            _ => None,
        })
}

#[test]
fn finds_commands_by_trigger_and_alias() {
    let index = index(vec![roll(), ping()], CommandOptions::default());
    assert_eq!(
        command_of(&index, "!roll 20"),
        Some(("roll".into(), "20".into()))
    );
    assert_eq!(
        command_of(&index, "  !dice   3  "),
        Some(("roll".into(), "3".into()))
    );
    assert_eq!(
        command_of(&index, "!ping"),
        Some(("ping".into(), "".into()))
    );
    assert_eq!(command_of(&index, "ping"), None);
    assert_eq!(command_of(&index, "! ping"), None);
    assert_eq!(command_of(&index, "!"), None);
    assert_eq!(command_of(&index, "!pingpong"), None);
}

#[test]
fn case_insensitive_by_default_and_configurable() {
    let index_ci = index(vec![roll()], CommandOptions::default());
    assert!(command_of(&index_ci, "!ROLL").is_some());
    let index_cs = index(vec![roll()], CommandOptions::new().case_insensitive(false));
    assert!(command_of(&index_cs, "!ROLL").is_none());
    assert!(command_of(&index_cs, "!roll").is_some());
}

#[test]
fn prefixes_replace_the_written_one() {
    let index = index(vec![roll()], CommandOptions::new().prefixes(["?", "bot."]));
    assert!(command_of(&index, "?roll").is_some());
    assert!(command_of(&index, "bot.roll 4").is_some());
    assert!(command_of(&index, "!roll").is_none());
    let longest = index_with_prefixes(["!", "!!"]);
    assert_eq!(
        command_of(&longest, "!!roll"),
        Some(("roll".into(), "".into()))
    );
}

fn index_with_prefixes<const N: usize>(prefixes: [&str; N]) -> CommandIndex<()> {
    index(vec![roll()], CommandOptions::new().prefixes(prefixes))
}

#[test]
fn mention_addresses_a_command_with_or_without_prefix() {
    let index = index(vec![roll()], CommandOptions::default());
    assert_eq!(
        command_of(&index, "@Helper Bot roll 8"),
        Some(("roll".into(), "8".into()))
    );
    assert_eq!(
        command_of(&index, "@helper bot, !roll 8"),
        Some(("roll".into(), "8".into()))
    );
    assert_eq!(command_of(&index, "@Helper Botty roll 8"), None);
    assert_eq!(command_of(&index, "@Helper Bot"), None);
    let off = new_index(
        vec![roll()],
        Vec::new(),
        CommandOptions::new().mention_addressing(false),
    )
    .unwrap();
    assert_eq!(command_of(&off, "@Helper Bot roll 8"), None);
}

#[test]
fn ignores_the_robots_own_messages() {
    let index = index(vec![ping()], CommandOptions::default());
    let echo = RoomMessage::new("room_1", "!ping").robot("rob_1", "Helper Bot");
    assert!(index.decide(ME, &echo).is_empty());
    let other_robot = RoomMessage::new("room_1", "!ping").robot("rob_2", "Other");
    assert_eq!(index.decide(ME, &other_robot).len(), 1);
}

#[test]
fn suggests_near_misses_only() {
    let index = index(vec![roll(), ping(), secret()], CommandOptions::default());
    assert_eq!(
        said(&index, "!rol 6").as_deref(),
        Some("Unknown command `!rol`. Did you mean `!roll`?")
    );
    assert_eq!(
        said(&index, "!dcie").as_deref(),
        Some("Unknown command `!dcie`. Did you mean `!dice`?")
    );
    assert_eq!(said(&index, "!weather"), None);
    assert_eq!(said(&index, "!secrt"), None);
    let quiet = new_index(
        vec![roll()],
        Vec::new(),
        CommandOptions::new().suggestions(false),
    )
    .unwrap();
    assert!(quiet.decide(ME, &from_alice("!rol")).is_empty());
}

#[test]
fn duplicate_triggers_name_both_commands() {
    let dice = Command::new("!dice", |_ctx: Ctx| async {});
    let err = new_index(vec![roll(), dice], Vec::new(), CommandOptions::default()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(
        err.message(),
        "two commands claim the trigger `!dice`: `!roll` (as an alias) and `!dice`"
    );
    let shout = Command::new("!ROLL", |_ctx: Ctx| async {});
    let err = new_index(vec![roll(), shout], Vec::new(), CommandOptions::default()).unwrap_err();
    assert_eq!(
        err.message(),
        "two commands claim the trigger `!ROLL`: `!roll` and `!ROLL`"
    );
    let shout = Command::new("!ROLL", |_ctx: Ctx| async {});
    new_index(
        vec![roll(), shout],
        Vec::new(),
        CommandOptions::new().case_insensitive(false),
    )
    .unwrap();
}

#[test]
fn invalid_triggers_and_names_are_refused() {
    for (trigger, why) in [
        ("!", "has no name after its prefix"),
        ("  ", "is empty"),
        ("!two words", "contains whitespace"),
    ] {
        let command = Command::new(trigger, |_ctx: Ctx| async {});
        let err = new_index(vec![command], Vec::new(), CommandOptions::default()).unwrap_err();
        assert!(err.message().ends_with(why), "{trigger:?}: {err}");
    }
    let too_many = Command::new("!x", |_ctx: Ctx, _n: u8| async {}).params(["a", "b"]);
    let err = new_index(vec![too_many], Vec::new(), CommandOptions::default()).unwrap_err();
    assert_eq!(err.message(), "command `!x` names 2 parameters but takes 1");
}

#[test]
fn builtin_help_can_be_disabled_or_replaced() {
    let with_help = index(vec![ping()], CommandOptions::default());
    assert_eq!(command_of(&with_help, "!help ping").unwrap().0, "help");
    let without = index(vec![ping()], CommandOptions::new().help(false));
    assert!(command_of(&without, "!help").is_none());
    let mine = Command::new("!help", |_ctx: Ctx| async { "my help" });
    let replaced = index(vec![ping(), mine], CommandOptions::default());
    assert_eq!(replaced.commands.len(), 2);
    assert_eq!(command_of(&replaced, "!help").unwrap().0, "help");
}

#[test]
fn hear_patterns_run_through_one_set() {
    let spam = Hear::new(r"(?i)\bspam\b", |_ctx: Ctx, _c: Captures| async {});
    let number = Hear::new(r"(?P<n>\d+)", |_ctx: Ctx, _c: Captures| async {});
    let index = new_index(vec![ping()], vec![spam, number], CommandOptions::default()).unwrap();
    let actions = index.decide(ME, &from_alice("SPAM 42 times"));
    let heard: Vec<(usize, Option<String>)> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Hear { index, captures } => {
                Some((*index, captures.name("n").map(str::to_owned)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(heard, [(0, None), (1, Some("42".to_owned()))]);
    let both = index.decide(ME, &from_alice("!ping spam"));
    assert_eq!(both.len(), 2);
    assert!(index.decide(ME, &from_alice("nothing here")).is_empty());
}

#[test]
fn a_bad_pattern_is_a_startup_error() {
    let bad = Hear::new(r"(unclosed", |_ctx: Ctx, _c: Captures| async {});
    let err = new_index(Vec::new(), vec![bad], CommandOptions::default()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(
        err.message().starts_with("pattern listener `(unclosed`"),
        "{err}"
    );
}

/// What the robot answers to `content` from alice, through the production path: lookup,
/// checks, arguments, cooldown and handler (nothing is sent; the reply is returned).
async fn answer(index: &CommandIndex<()>, content: &str, mentions: Vec<Mention>) -> String {
    let ctx = ctx_for(content, mentions);
    let msg = ctx.message().unwrap();
    let mut replies = Vec::new();
    for run in index.runs(&ctx, msg) {
        if let Some(reply) = run.future.await.unwrap() {
            replies.push(reply.content().to_owned());
        }
    }
    replies.join("\n---\n")
}

fn ctx_for(content: &str, mentions: Vec<Mention>) -> Ctx {
    let me: RobotInfo = serde_json::from_value(json!({
        "id": "rob_1", "name": "Helper Bot", "serverId": "srv_1"
    }))
    .unwrap();
    let envelope = Envelope::new(
        Some("evt_1".into()),
        "room.message",
        Some("srv_1".into()),
        None,
        json!({"roomId": "room_1", "messageId": "msg_1", "senderId": "usr_1",
               "senderName": "alice", "content": content, "mentions": mentions}),
    )
    .unwrap();
    let client = crate::Client::builder("lag_robot_test_unused")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let kv = crate::kv::Kv::new(Arc::new(crate::kv::MemoryKv::new()));
    Ctx::new(Arc::new(()), client, Arc::new(me), Arc::new(envelope), kv)
}

/// One command's answers, as `answer` gives them.
async fn said_or_error(command: &Command, args: &str, mentions: Vec<Mention>) -> String {
    let index = index(vec![command.clone()], CommandOptions::new().help(false));
    answer(&index, &format!("{} {args}", command.trigger()), mentions).await
}

#[test]
fn runs_are_named_after_their_command_or_pattern_listener() {
    let thanks = Hear::new(r"(?i)\bthanks\b", |_ctx: Ctx, _c: Captures| async {});
    let index = new_index(
        vec![roll(), ping()],
        vec![thanks.labelled("thanks")],
        CommandOptions::new().prefixes(["?"]),
    )
    .unwrap();
    let names = |content: &str| -> Vec<String> {
        let ctx = ctx_for(content, Vec::new());
        index
            .runs(&ctx, ctx.message().unwrap())
            .into_iter()
            .map(|run| run.name.into_owned())
            .collect()
    };
    assert_eq!(names("?dice 20"), ["!roll"]);
    assert_eq!(names("?ROLL thanks"), ["!roll", "thanks"]);
    assert_eq!(names("?help"), ["?help"]);
    assert_eq!(names("?rol"), ["command suggestion"]);
    assert!(names("hello").is_empty());
}

mod arguments;
mod groups;
