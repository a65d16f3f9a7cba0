//! Command groups: subcommands, their suggestions, usage, checks, cooldowns and help.

use super::*;

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
