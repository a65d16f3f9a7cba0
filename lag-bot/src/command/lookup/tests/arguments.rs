//! Typed arguments and usage errors, through the production path.

use super::*;

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
