use lag_bot::command::{Command, MemberMention};
use lag_bot::{Ctx, command};

/// Shows a member's strikes.
#[command("strikes", aliases("s"))]
async fn strikes(_ctx: Ctx, who: MemberMention) -> String {
    format!("{who} has no strikes")
}

/// Sets the rules.
#[command("set")]
async fn set_rules(_ctx: Ctx, text: lag_bot::command::Rest) -> String {
    format!("rules: {text}")
}

/// The rules.
#[command("rules", subcommands(set_rules))]
async fn rules(_ctx: Ctx) -> &'static str {
    "be kind"
}

/// Moderation tools.
#[command("!mod", subcommands(strikes, rules), category = "Moderation")]
async fn moderation(_ctx: Ctx) {}

fn main() {
    let group: Command = moderation();
    assert_eq!(group.usage(), "!mod <subcommand>");
    assert_eq!(group.category_name(), Some("Moderation"));
    let names: Vec<&str> = group.subcommands().iter().map(Command::name).collect();
    assert_eq!(names, ["strikes", "rules"]);
    assert_eq!(group.subcommands()[0].usage(), "strikes <who>");
    assert_eq!(group.subcommands()[1].subcommands()[0].usage(), "set <text...>");
}
