//! Command groups end to end: `#[command]` groups two levels deep, run by the test kit against
//! lag-sim, with their help, usage, suggestions, and the group's checks and cooldowns guarding
//! every subcommand.

use std::time::Duration;

use lag_bot::command::{Cooldown, MemberMention, Rest};
use lag_bot::model::ServerRole;
use lag_bot::testing::Kit;
use lag_bot::{Ctx, Error, ErrorKind, Robot, command};

/// Shows a member's strikes.
#[command("strikes", aliases("s"))]
async fn strikes(_ctx: Ctx, who: MemberMention) -> String {
    format!("{who} has no strikes")
}

/// Pardons a member's strikes.
#[command("pardon")]
async fn pardon(_ctx: Ctx, who: MemberMention, count: Option<u32>) -> lag_bot::Result<String> {
    match count {
        Some(0) => Err(Error::new(ErrorKind::InvalidInput, "nothing to pardon")),
        count => Ok(format!("pardoned {} of {who}", count.unwrap_or(1))),
    }
}

/// Sets the rules.
#[command("set")]
async fn set_rules(_ctx: Ctx, text: Rest) -> String {
    format!("The rules are now: {text}")
}

/// Shows the rules.
#[command("rules", subcommands(set_rules))]
async fn rules(_ctx: Ctx) -> &'static str {
    "Be kind."
}

/// Moderation tools.
#[command("!mod", subcommands(strikes, pardon, rules), category = "Moderation")]
async fn moderation(_ctx: Ctx) {}

/// Replies with pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// The robot: `!mod` for admins and the owner, one use a minute per member, and `!ping`.
fn robot(lag: lag_bot::RobotBuilder) -> lag_bot::Result<Robot> {
    let moderation = moderation()
        .only_roles([ServerRole::Owner, ServerRole::Admin])
        .denied_message("Only moderators can use `!mod`.")
        .cooldown(Cooldown::per_user(Duration::from_secs(60)));
    Ok(lag.build()?.command(moderation).command(ping()))
}

async fn said(kit: &Kit, user: &str, messages: &[&str]) -> Vec<String> {
    let member = kit.member(user);
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
async fn help_usage_and_suggestions_at_two_levels() {
    let kit = Kit::start(robot).await.unwrap();
    let answers = said(
        &kit,
        "carol",
        &[
            "!help",
            "!help mod",
            "!help mod s",
            "!help mod rules set",
            "!help mod strkes",
        ],
    )
    .await;
    assert_eq!(
        answers,
        [
            "Commands:\n\
             `!help [command]` - Lists the commands, or explains one.\n\
             `!ping` - Replies with pong.\n\
             Moderation:\n\
             `!mod <subcommand>` - Moderation tools.\n\
             Type `!help <command>` for details.",
            "`!mod <subcommand>`\nModeration tools.\n\
             Subcommands:\n\
             `!mod pardon <who> [count]` - Pardons a member's strikes.\n\
             `!mod rules <subcommand>` - Shows the rules.\n\
             `!mod strikes <who>` - Shows a member's strikes.",
            "`!mod strikes <who>`\nShows a member's strikes.\nAliases: `!mod s`",
            "`!mod rules set <text...>`\nSets the rules.",
            "No command `!mod strkes`. Did you mean `!mod strikes`?",
        ]
    );
    // Usage and suggestions answer anyone: they run no subcommand, so no check is asked.
    let answers = said(&kit, "alice", &["!mod", "!mod strkes @bob", "!mod weather"]).await;
    let usage = "Usage: !mod <subcommand>\n\
                 Subcommands:\n\
                 `!mod pardon <who> [count]` - Pardons a member's strikes.\n\
                 `!mod rules <subcommand>` - Shows the rules.\n\
                 `!mod strikes <who>` - Shows a member's strikes.";
    assert_eq!(
        answers,
        [
            usage,
            "Unknown command `!mod strkes`. Did you mean `!mod strikes`?",
            usage
        ]
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn subcommands_take_typed_arguments_at_two_levels() {
    let kit = Kit::start(robot).await.unwrap();
    let answers = said(&kit, "alice", &["!mod rules set  No spam, please."]).await;
    assert_eq!(answers, ["The rules are now: No spam, please."]);
    kit.advance(Duration::from_secs(60)).await;
    let answers = said(&kit, "bob", &["!mod pardon @carol two"]).await;
    assert_eq!(
        answers,
        ["count: `two` is not a whole number\nUsage: !mod pardon <who> [count]"]
    );
    let answers = said(&kit, "bob", &["!MOD S @carol"]).await;
    assert_eq!(answers, ["@carol has no strikes"]);
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn the_groups_check_and_cooldown_guard_every_subcommand() {
    let kit = Kit::start(robot).await.unwrap();
    let answers = said(
        &kit,
        "carol",
        &["!mod strikes @bob", "!mod rules set anarchy"],
    )
    .await;
    assert_eq!(
        answers,
        [
            "Only moderators can use `!mod`.",
            "Only moderators can use `!mod`."
        ]
    );
    let answers = said(&kit, "bob", &["!mod strikes @carol", "!mod rules"]).await;
    assert_eq!(
        answers,
        [
            "@carol has no strikes",
            "Slow down! `!mod rules` can be used again in 1m."
        ]
    );
    kit.advance(Duration::from_secs(60)).await;
    let answers = said(&kit, "bob", &["!mod rules"]).await;
    assert_eq!(answers, ["Be kind."]);
    assert!(kit.elapsed() >= Duration::from_secs(60));
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_failing_subcommand_is_reported_under_its_full_name() {
    let kit = Kit::start(robot).await.unwrap();
    kit.member("alice").say("!mod pardon @carol 0");
    kit.no_reply().await;
    assert_eq!(
        kit.errors(),
        ["`!mod pardon` failed: invalid input: nothing to pardon"]
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn two_subcommands_with_one_name_stop_the_robot_from_starting() {
    let twice = moderation().subcommand(strikes());
    let err = Kit::start(|lag| Ok(lag.build()?.command(twice)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(
        err.message(),
        "two subcommands of `!mod` claim the name `strikes`: `strikes` and `strikes`"
    );
}
