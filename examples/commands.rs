//! Run with: `cargo run --example commands` (with no key it runs against a local Lag; type `/help`)
//!
//! A custom-command robot: `!ping`, `!roll [sides] [count]` (alias `!dice`), `!echo <text...>`,
//! `!time [offset]`, `!report` and the built-in `!help`, plus a pattern listener that answers
//! thanks. Each command is an `async fn` whose parameters after the context are parsed from the
//! message; a wrong argument is answered with what was wrong and the command's usage line, and
//! the doc comments below are what `!help` shows.
//!
//! `!report` is a conversation: it asks what happened, then in which room (asking again when the
//! server has no such room), and files the report in `#mod-log`. While it waits, the member's
//! next message in the room is the answer; `!cancel` ends it, and so does five minutes without
//! an answer.
//!
//! It is configured like any `lag-bot` robot, from `LAG_ROBOT_API_KEY`, `LAG_API_BASE`,
//! `LAG_TRANSPORT` and, for webhooks, `LAG_WEBHOOK_SECRET` and `LAG_LISTEN` (for example the
//! `export` lines `cargo run -p lag-sim` prints). With no `LAG_ROBOT_API_KEY` set, lag-bot's
//! `dev` feature runs it against a local Lag in this process, and this terminal is the chat:
//! what you type is posted in `#general` as alice. Stop it with Ctrl-C.

use std::io::IsTerminal;
use std::time::Duration;

use lag_bot::command::{Captures, Cooldown, Rest};
use lag_bot::model::Room;
use lag_bot::{
    ConversationEnd, Ctx, Error, ErrorContext, ErrorKind, Robot, RobotBuilder, command, hear,
};
use rand::Rng;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Checks that the robot is listening.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Rolls dice: `!roll` for one six-sided die, `!roll 20` for a d20, `!roll 20 3` for three.
#[command("!roll", aliases("!dice"))]
async fn roll(_ctx: Ctx, sides: Option<u32>, count: Option<u8>) -> String {
    let sides = sides.unwrap_or(6);
    let count = count.unwrap_or(1);
    if !(2..=1_000).contains(&sides) {
        return "A die has between 2 and 1000 sides.".to_owned();
    }
    if !(1..=20).contains(&count) {
        return "I can roll 1 to 20 dice at a time.".to_owned();
    }
    let mut rng = rand::rng();
    let rolls: Vec<u32> = (0..count).map(|_| rng.random_range(1..=sides)).collect();
    if let [single] = rolls[..] {
        return format!("You rolled **{single}** (d{sides}).");
    }
    let total: u32 = rolls.iter().sum();
    let shown: Vec<String> = rolls.iter().map(u32::to_string).collect();
    format!(
        "You rolled {} (d{sides} x{count}): **{total}** in total.",
        shown.join(", ")
    )
}

/// Repeats what you say, exactly as you typed it.
#[command("!echo", aliases("!say"))]
async fn echo(_ctx: Ctx, text: Rest) -> String {
    text.into_inner()
}

/// Tells the time in UTC, or at a whole-hour offset from it: `!time`, `!time 2`, `!time -5`.
#[command("!time")]
async fn time(_ctx: Ctx, offset: Option<i8>) -> String {
    let hours = offset.unwrap_or(0);
    let Ok(zone) = UtcOffset::from_hms(hours, 0, 0) else {
        return "Offsets go from -25 to 25 hours.".to_owned();
    };
    let now = OffsetDateTime::now_utc().to_offset(zone);
    let format =
        format_description!("[hour]:[minute] on [weekday], [day] [month repr:long] [year]");
    match now.format(&format) {
        Ok(text) if hours == 0 => format!("It is {text} (UTC)."),
        Ok(text) => format!("It is {text} (UTC{hours:+})."),
        Err(error) => format!("I could not read the clock: {error}"),
    }
}

/// The room `!report` files reports in.
const REPORTS_ROOM: &str = "mod-log";

/// How many times `!report` asks for the room before it gives up.
const ROOM_ATTEMPTS: u32 = 3;

/// Reports a problem to the moderators: asks what happened and where, then files it.
#[command("!report")]
async fn file_report(ctx: Ctx) -> lag_bot::Result<String> {
    let what = ctx
        .ask("What happened? (`!cancel` to stop reporting)")
        .await?;
    let room = ask_room(&ctx).await?;
    let reporter = ctx.message().map_or("someone", |m| m.sender_name.as_str());
    let room_name = room.name.unwrap_or(room.id);
    let reports = ctx.client().room_named(REPORTS_ROOM).await?;
    ctx.send(
        &reports.id,
        format!("Report from {reporter} about #{room_name}: {what}"),
    )
    .await?;
    Ok("Thanks, filed.".to_owned())
}

/// Asks which room, until the answer names one of the server's rooms (up to
/// [`ROOM_ATTEMPTS`] times).
async fn ask_room(ctx: &Ctx) -> lag_bot::Result<Room> {
    let mut question = "Which room?".to_owned();
    for _ in 0..ROOM_ATTEMPTS {
        let answer = ctx.ask(question).await?;
        match ctx.client().room_named(&answer).await {
            Ok(room) => return Ok(room),
            Err(error) if error.kind() == &ErrorKind::NotFound => {
                let names: Vec<String> = ctx
                    .client()
                    .rooms()
                    .await?
                    .into_iter()
                    .filter_map(|room| room.name)
                    .map(|name| format!("#{name}"))
                    .collect();
                question = format!(
                    "There is no room `{answer}` here; the rooms are {}. Which room?",
                    names.join(", ")
                );
            }
            Err(error) => return Err(error),
        }
    }
    // The robot answers this as it does any conversation that ran out of attempts.
    Err(Error::new(
        ErrorKind::ConversationEnded(ConversationEnd::TooManyAttempts),
        "no answer named a room of the server",
    ))
}

/// Answers thanks addressed to the robot by name.
#[hear(r"(?i)\b(?:thanks|thank you|thx),?\s+(?P<name>@?\w+)")]
async fn thanks(ctx: Ctx, caps: Captures) -> Option<String> {
    let name = caps.name("name")?.trim_start_matches('@');
    let me = &ctx.me().name;
    let who = ctx.message()?.sender_name.clone();
    name.eq_ignore_ascii_case(me)
        .then(|| format!("You're welcome, {who}!"))
}

/// Logs a handler's failure; the robot goes on with the next event.
async fn log_error(error: Error, cx: ErrorContext) {
    tracing::error!(handler = cx.handler(), %error, "a handler failed");
}

/// The robot, as `main` and the tests build it: `lag` is `Robot::builder()` in `main`, or the
/// test kit's builder pointed at its local Lag.
///
/// # Errors
///
/// As `RobotBuilder::build_from_env`.
pub fn robot(lag: RobotBuilder) -> lag_bot::Result<Robot> {
    Ok(lag
        .build_from_env()?
        .command(ping())
        .command(roll().cooldown(Cooldown::per_user(Duration::from_secs(3))))
        .command(echo())
        .command(time())
        .command(file_report())
        .hear(thanks())
        .on_error(log_error))
}

#[tokio::main]
async fn main() -> lag_bot::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    robot(Robot::builder())?.run().await
}
