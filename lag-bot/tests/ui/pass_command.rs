use std::time::Duration;

use lag_bot::command::{Command, Cooldown, MemberMention, Quoted, Rest};
use lag_bot::{Ctx, Reply, Result, command};

struct State {
    greeting: String,
}

/// Replies with pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Rolls a die.
///
/// Six sides unless told otherwise.
#[command("!roll", aliases("!dice", "?r"))]
pub async fn roll(ctx: Ctx, sides: Option<u32>) -> String {
    let _ = ctx;
    format!("rolled a d{}", sides.unwrap_or(6))
}

#[command("!greet")]
pub(crate) async fn greet(ctx: Ctx<State>, who: MemberMention) -> Result<Reply> {
    Ok(Reply::reply(format!("{} {who}", ctx.state().greeting)))
}

#[command("!poll")]
async fn poll(_ctx: Ctx, question: Quoted, mut choices: Vec<String>) -> Option<String> {
    choices.sort();
    Some(format!("{question}: {}", choices.join("/")))
}

#[command("!remind")]
async fn remind(_ctx: Ctx, _after: Option<Duration>, text: Rest) -> std::result::Result<String, std::io::Error> {
    Ok(text.into_inner())
}

#[command("!quiet")]
#[allow(unused_variables)]
async fn quiet(ctx: Ctx, r#loud: bool) {}

fn main() {
    let ping: Command = ping();
    assert_eq!(ping.usage(), "!ping");
    assert_eq!(ping.help_text(), Some("Replies with pong."));

    let roll = roll().cooldown(Cooldown::per_user(Duration::from_secs(5)));
    assert_eq!(roll.usage(), "!roll [sides]");
    assert_eq!(roll.aliases(), ["!dice", "?r"]);
    assert_eq!(
        roll.help_text(),
        Some("Rolls a die.\n\nSix sides unless told otherwise.")
    );
    assert_eq!(roll.summary(), Some("Rolls a die."));

    let greet: Command<State> = greet().hidden();
    assert_eq!(greet.usage(), "!greet <who>");
    assert!(greet.is_hidden());
    assert_eq!(greet.help_text(), None);

    assert_eq!(poll().usage(), "!poll <question> [choices...]");
    assert_eq!(remind().usage(), "!remind [after] <text...>");
    assert_eq!(quiet().usage(), "!quiet <loud>");
}
