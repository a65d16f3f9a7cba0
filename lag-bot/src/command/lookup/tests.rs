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
    Ctx::new(Arc::new(()), client, Arc::new(me), Arc::new(envelope))
}

/// One command's answers, as `answer` gives them.
async fn said_or_error(command: &Command, args: &str, mentions: Vec<Mention>) -> String {
    let index = index(vec![command.clone()], CommandOptions::new().help(false));
    answer(&index, &format!("{} {args}", command.trigger()), mentions).await
}

#[tokio::test]
async fn handlers_get_typed_arguments_or_a_usage_error() {
    let roll = roll();
    assert_eq!(said_or_error(&roll, "20", Vec::new()).await, "rolled d20");
    assert_eq!(said_or_error(&roll, "", Vec::new()).await, "rolled d6");
    assert_eq!(
        said_or_error(&roll, "six", Vec::new()).await,
        "sides: `six` is not a whole number\nUsage: !roll [sides]"
    );
    assert_eq!(
        said_or_error(&roll, "99999999999", Vec::new()).await,
        "sides: `99999999999` is too large (at most 4294967295)\nUsage: !roll [sides]"
    );
    assert_eq!(
        said_or_error(&roll, "6 7", Vec::new()).await,
        "unexpected extra argument `7`\nUsage: !roll [sides]"
    );
}

#[tokio::test]
async fn missing_arguments_say_what_was_expected() {
    let ban = Command::new(
        "!ban",
        |_ctx: Ctx, who: crate::command::MemberMention, why: Rest| async move {
            format!("banned {who}: {why}")
        },
    )
    .params(["who", "reason"]);
    let bob = vec![Mention::new(MentionKind::User, "usr_2", "bob")];
    assert_eq!(
        said_or_error(&ban, "@bob spamming links", bob.clone()).await,
        "banned @bob: spamming links"
    );
    assert_eq!(
        said_or_error(&ban, "@bob", bob.clone()).await,
        "missing argument `reason` (some text)\nUsage: !ban <who> <reason...>"
    );
    assert_eq!(
        said_or_error(&ban, "", bob).await,
        "missing argument `who` (a member, like @alice)\nUsage: !ban <who> <reason...>"
    );
}

#[tokio::test]
async fn cooldown_and_unnamed_params() {
    let cmd = Command::new("!add", |_ctx: Ctx, a: i32, b: i32| async move {
        (a + b).to_string()
    })
    .cooldown(Cooldown::per_user(Duration::from_secs(60)));
    assert_eq!(cmd.usage(), "!add <arg1> <arg2>");
    assert_eq!(
        said_or_error(&cmd, "1 x", Vec::new()).await,
        "arg2: `x` is not a whole number\nUsage: !add <arg1> <arg2>"
    );
    let index = index(vec![cmd], CommandOptions::default());
    assert_eq!(answer(&index, "!add 1 2", Vec::new()).await, "3");
    assert_eq!(
        answer(&index, "!add 1 2", Vec::new()).await,
        "Slow down! `!add` can be used again in 1m."
    );
}

#[tokio::test]
async fn framework_texts_come_from_the_options() {
    struct Terse;
    impl Texts for Terse {
        fn usage_error(&self, _error: &ArgError, usage: &str) -> String {
            format!("? {usage}")
        }
        fn unknown_command(&self, typed: &str, suggestion: &str) -> String {
            format!("{typed}? {suggestion}!")
        }
        fn denied(&self, command: &str) -> String {
            format!("no {command}")
        }
    }
    let locked =
        Command::new("!lock", |_ctx: Ctx| async { "locked" }).check(|_ctx: Ctx| async { false });
    let index = index(vec![roll(), locked], CommandOptions::new().texts(Terse));
    assert_eq!(
        answer(&index, "!roll x", Vec::new()).await,
        "? !roll [sides]"
    );
    assert_eq!(answer(&index, "!rol", Vec::new()).await, "!rol? !roll!");
    assert_eq!(answer(&index, "!lock", Vec::new()).await, "no !lock");
    assert!(
        answer(&index, "!help", Vec::new())
            .await
            .starts_with("Commands:")
    );
}

#[tokio::test]
async fn a_word_no_optional_parameter_takes_is_blamed_on_the_first_that_could() {
    let roll =
        Command::new(
            "!roll",
            |_ctx: Ctx, sides: Option<u32>, count: Option<u8>| async move {
                format!("{sides:?} {count:?}")
            },
        )
        .params(["sides", "count"]);
    let usage = "Usage: !roll [sides] [count]";
    assert_eq!(
        said_or_error(&roll, "six", Vec::new()).await,
        format!("sides: `six` is not a whole number\n{usage}")
    );
    assert_eq!(
        said_or_error(&roll, "20   six", Vec::new()).await,
        format!("count: `six` is not a whole number\n{usage}")
    );
    assert_eq!(
        said_or_error(&roll, "20 300", Vec::new()).await,
        format!("count: `300` is too large (at most 255)\n{usage}")
    );
    assert_eq!(
        said_or_error(&roll, "20 3", Vec::new()).await,
        "Some(20) Some(3)"
    );
    assert_eq!(said_or_error(&roll, "", Vec::new()).await, "None None");
}

#[tokio::test]
async fn a_later_parameter_still_takes_a_word_an_optional_one_refused() {
    let tag = Command::new("!tag", |_ctx: Ctx, a: Option<u32>, b: String| async move {
        format!("{a:?} {b}")
    })
    .params(["a", "b"]);
    assert_eq!(said_or_error(&tag, "x", Vec::new()).await, "None x");
    assert_eq!(said_or_error(&tag, "5 x", Vec::new()).await, "Some(5) x");
    assert_eq!(
        said_or_error(&tag, "x y", Vec::new()).await,
        "unexpected extra argument `y`\nUsage: !tag [a] <b>"
    );
    let remind = Command::new(
        "!remind",
        |_ctx: Ctx, after: Option<Duration>, text: Rest| async move { format!("{after:?} {text}") },
    );
    assert_eq!(
        said_or_error(&remind, "stretch now", Vec::new()).await,
        "None stretch now"
    );
}

#[tokio::test]
async fn a_required_parameter_refusing_the_same_word_blames_the_earlier_optional() {
    let give = Command::new(
        "!give",
        |_ctx: Ctx, count: Option<u8>, who: crate::command::MemberMention| async move {
            format!("{} to {who}", count.unwrap_or(1))
        },
    )
    .params(["count", "who"]);
    let bob = vec![Mention::new(MentionKind::User, "usr_2", "bob")];
    let usage = "Usage: !give [count] <who>";
    assert_eq!(
        said_or_error(&give, "five @bob", bob.clone()).await,
        format!("count: `five` is not a whole number\n{usage}")
    );
    assert_eq!(
        said_or_error(&give, "5 bob", bob.clone()).await,
        format!("who: `bob` is not a mention (type @ and pick a name)\n{usage}")
    );
    assert_eq!(said_or_error(&give, "@bob", bob).await, "1 to @bob");
}

#[tokio::test]
async fn a_word_that_ends_a_list_is_blamed_on_the_list() {
    let sum = Command::new(
        "!sum",
        |_ctx: Ctx, numbers: Vec<u32>, times: Option<u8>| async move {
            let total: u32 = numbers.iter().sum();
            format!("{total} x{}", times.unwrap_or(1))
        },
    )
    .params(["numbers", "times"]);
    let usage = "Usage: !sum [numbers...] [times]";
    assert_eq!(said_or_error(&sum, "1 2 3", Vec::new()).await, "6 x1");
    assert_eq!(
        said_or_error(&sum, "1 2 x", Vec::new()).await,
        format!("numbers: `x` is not a whole number\n{usage}")
    );
    let pick = Command::new(
        "!pick",
        |_ctx: Ctx, numbers: Vec<u8>, last: u8| async move { format!("{numbers:?} {last}") },
    )
    .params(["numbers", "last"]);
    assert_eq!(
        said_or_error(&pick, "1 x", Vec::new()).await,
        "numbers: `x` is not a whole number\nUsage: !pick [numbers...] <last>"
    );
    let fruit = Command::new(
        "!fruit",
        |_ctx: Ctx, numbers: Vec<u8>, name: String| async move { format!("{numbers:?} {name}") },
    );
    assert_eq!(
        said_or_error(&fruit, "1 2 apples", Vec::new()).await,
        "[1, 2] apples"
    );
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

/// `!mod` with `strikes` (alias `s`), a hidden `purge`, and `rules`, itself a group with `set`.
fn moderation() -> Command {
    let strikes = Command::new("strikes", |_ctx: Ctx, who: String| async move {
        format!("{who} has 2 strikes")
    })
    .params(["who"])
    .alias("s")
    .help("Shows a member's strikes.");
    let purge = Command::new("purge", |_ctx: Ctx| async { "purged" }).hidden();
    let set = Command::new("set", |_ctx: Ctx, text: Rest| async move {
        format!("rules are now: {text}")
    })
    .params(["text"])
    .help("Sets the rules.");
    let rules = Command::new("rules", |_ctx: Ctx| async { "Be kind." })
        .subcommand(set)
        .help("Shows the rules.");
    Command::group("!mod")
        .subcommand(strikes)
        .subcommand(purge)
        .subcommand(rules)
        .help("Moderation tools.")
        .category("Moderation")
}

#[test]
fn subcommands_are_found_by_name_and_alias_to_two_levels() {
    let index = index(vec![moderation(), ping()], CommandOptions::default());
    assert_eq!(
        command_of(&index, "!mod strikes @bob"),
        Some(("strikes".into(), "@bob".into()))
    );
    assert_eq!(
        command_of(&index, "!MOD  S   bob"),
        Some(("strikes".into(), "bob".into()))
    );
    assert_eq!(
        command_of(&index, "!mod rules set Be   kind."),
        Some(("set".into(), "Be   kind.".into()))
    );
    assert_eq!(
        command_of(&index, "!mod rules"),
        Some(("rules".into(), "".into()))
    );
    assert_eq!(command_of(&index, "!mod"), Some(("mod".into(), "".into())));
    assert_eq!(
        command_of(&index, "!mod purge"),
        Some(("purge".into(), "".into()))
    );
    // A subcommand is not a command of its own.
    assert_eq!(command_of(&index, "!strikes bob"), None);
    let named: Vec<String> = index
        .runs(
            &ctx_for("!mod rules set x", Vec::new()),
            &from_alice("!mod rules set x"),
        )
        .into_iter()
        .map(|run| run.name.into_owned())
        .collect();
    assert_eq!(named, ["!mod rules set"]);
}

#[test]
fn a_misspelt_subcommand_gets_a_suggestion_and_an_unknown_one_the_usage() {
    let index = index(vec![moderation()], CommandOptions::default());
    assert_eq!(
        said(&index, "!mod strkes bob").as_deref(),
        Some("Unknown command `!mod strkes`. Did you mean `!mod strikes`?")
    );
    assert_eq!(
        said(&index, "!Mod rules sett x").as_deref(),
        Some("Unknown command `!Mod rules sett`. Did you mean `!Mod rules set`?")
    );
    let usage = "Usage: !mod <subcommand>\n\
                 Subcommands:\n\
                 `!mod rules <subcommand>` - Shows the rules.\n\
                 `!mod strikes <who>` - Shows a member's strikes.";
    assert_eq!(said(&index, "!mod weather").as_deref(), Some(usage));
    // Hidden subcommands are neither listed nor suggested.
    assert_eq!(said(&index, "!mod purg").as_deref(), Some(usage));
    // `rules` answers by itself, so a word after it that names no subcommand is its usage.
    assert_eq!(
        said(&index, "!mod rules weather").as_deref(),
        Some(
            "Usage: !mod rules <subcommand>\nSubcommands:\n`!mod rules set <text...>` - Sets the rules."
        )
    );
}

#[tokio::test]
async fn a_bare_group_answers_with_its_usage_unless_its_handler_replies() {
    let index = index(vec![moderation()], CommandOptions::default());
    assert_eq!(
        answer(&index, "!mod", Vec::new()).await,
        "Usage: !mod <subcommand>\n\
         Subcommands:\n\
         `!mod rules <subcommand>` - Shows the rules.\n\
         `!mod strikes <who>` - Shows a member's strikes."
    );
    assert_eq!(answer(&index, "!mod rules", Vec::new()).await, "Be kind.");
    assert_eq!(
        answer(&index, "!mod rules set  Be kind.", Vec::new()).await,
        "rules are now: Be kind."
    );
    assert_eq!(
        answer(&index, "!mod strikes", Vec::new()).await,
        "missing argument `who` (a word, or \"words in quotes\")\nUsage: !mod strikes <who>"
    );
}

#[tokio::test]
async fn a_groups_checks_and_cooldown_hold_for_its_subcommands() {
    let allowed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gate = Arc::clone(&allowed);
    let group = moderation()
        .check(move |_ctx: Ctx| {
            let gate = Arc::clone(&gate);
            async move { gate.load(std::sync::atomic::Ordering::SeqCst) }
        })
        .denied_message("Moderators only.")
        .cooldown(Cooldown::per_user(Duration::from_secs(60)));
    let index = index(vec![group], CommandOptions::default());
    // Refused before the arguments: no usage is given away.
    assert_eq!(
        answer(&index, "!mod strikes", Vec::new()).await,
        "Moderators only."
    );
    assert_eq!(
        answer(&index, "!mod rules set x", Vec::new()).await,
        "Moderators only."
    );
    allowed.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        answer(&index, "!mod strikes bob", Vec::new()).await,
        "bob has 2 strikes"
    );
    // The group's cooldown started with `!mod strikes`, and holds for another subcommand.
    assert_eq!(
        answer(&index, "!mod rules", Vec::new()).await,
        "Slow down! `!mod rules` can be used again in 1m."
    );
}

#[test]
fn duplicate_subcommands_are_a_startup_error() {
    let twice = Command::group("!mod")
        .subcommand(Command::new("strikes", |_ctx: Ctx| async {}))
        .subcommand(Command::new("warns", |_ctx: Ctx| async {}).alias("strikes"));
    let err = new_index(vec![twice], Vec::new(), CommandOptions::default()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(
        err.message(),
        "two subcommands of `!mod` claim the name `strikes`: `strikes` and `warns` (as an alias)"
    );
    let spaced = Command::group("!mod").subcommand(Command::new("two words", |_ctx: Ctx| async {}));
    let err = new_index(vec![spaced], Vec::new(), CommandOptions::default()).unwrap_err();
    assert_eq!(
        err.message(),
        "command `!mod two words`: trigger \"two words\" contains whitespace"
    );
}

#[tokio::test]
async fn help_lists_groups_by_category_and_explains_subcommands() {
    let index = index(
        vec![moderation(), ping(), roll()],
        CommandOptions::default(),
    );
    assert_eq!(
        answer(&index, "!help", Vec::new()).await,
        "Commands:\n\
         `!help [command]` - Lists the commands, or explains one.\n\
         `!ping` - Replies with pong.\n\
         `!roll [sides]` - Rolls a die.\n\
         Moderation:\n\
         `!mod <subcommand>` - Moderation tools.\n\
         Type `!help <command>` for details."
    );
    assert_eq!(
        answer(&index, "!help mod", Vec::new()).await,
        "`!mod <subcommand>`\nModeration tools.\n\
         Subcommands:\n\
         `!mod rules <subcommand>` - Shows the rules.\n\
         `!mod strikes <who>` - Shows a member's strikes."
    );
    assert_eq!(
        answer(&index, "!help !mod S", Vec::new()).await,
        "`!mod strikes <who>`\nShows a member's strikes.\nAliases: `!mod s`"
    );
    assert_eq!(
        answer(&index, "!help mod rules set", Vec::new()).await,
        "`!mod rules set <text...>`\nSets the rules."
    );
    assert_eq!(
        answer(&index, "!help mod strkes", Vec::new()).await,
        "No command `!mod strkes`. Did you mean `!mod strikes`?"
    );
    assert_eq!(
        answer(&index, "!help mod purge", Vec::new()).await,
        "No command `!mod purge`. Type `!help` for the list."
    );
}
