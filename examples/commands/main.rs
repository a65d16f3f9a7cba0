//! Run with: `cargo run --example commands` (with no key it runs against a local Lag; type `/help`)
//!
//! A custom-command robot: `!ping`, `!roll [sides] [count]` (alias `!dice`), `!echo <text...>`,
//! `!time [offset]`, `!define <word>`, `!report` and the built-in `!help`, plus a pattern
//! listener that answers thanks. Each command is an `async fn` whose parameters after the context are parsed from the
//! message; a wrong argument is answered with what was wrong and the command's usage line, and
//! the doc comments below are what `!help` shows.
//!
//! `!report` is a conversation: it asks what happened, then in which room (asking again when the
//! server has no such room), and files the report in `#mod-log`. While it waits, the member's
//! next message in the room is the answer; `!cancel` ends it, and so does five minutes without
//! an answer.
//!
//! `!define` looks the word up in a dictionary service over HTTP (its API is documented in
//! `dictionary.rs`). A lookup that takes longer than `DICTIONARY_TIMEOUT` (default `5s`), fails,
//! or finds nothing is answered politely, and a failure is logged. The service's base URL comes
//! from `DICTIONARY_URL`; with none, a local dictionary of a few words (`local_dictionary.rs`:
//! `lag`, `robot`, `ping`) starts in this process.
//!
//! It is configured like any `lag-bot` robot, from `LAG_ROBOT_API_KEY`, `LAG_API_BASE`,
//! `LAG_TRANSPORT` and, for webhooks, `LAG_WEBHOOK_SECRET` and `LAG_LISTEN` (for example the
//! `export` lines `cargo run -p lag-sim` prints). With no `LAG_ROBOT_API_KEY` set, lag-bot's
//! `dev` feature runs it against a local Lag in this process, and this terminal is the chat:
//! what you type is posted in `#general` as alice. Stop it with Ctrl-C.

pub mod dictionary;
// Its fault switch is for the tests.
#[allow(dead_code)]
pub mod local_dictionary;

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

use dictionary::{Dictionary, Entry, LookupError};
use local_dictionary::LocalDictionary;

/// Checks that the robot is listening.
#[command("!ping")]
async fn ping(_ctx: Ctx<Dictionary>) -> &'static str {
    "pong"
}

/// Rolls dice: `!roll` for one six-sided die, `!roll 20` for a d20, `!roll 20 3` for three.
#[command("!roll", aliases("!dice"))]
async fn roll(_ctx: Ctx<Dictionary>, sides: Option<u32>, count: Option<u8>) -> String {
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
async fn echo(_ctx: Ctx<Dictionary>, text: Rest) -> String {
    text.into_inner()
}

/// Tells the time in UTC, or at a whole-hour offset from it: `!time`, `!time 2`, `!time -5`.
#[command("!time")]
async fn time(_ctx: Ctx<Dictionary>, offset: Option<i8>) -> String {
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

/// The most definitions `!define` shows.
const MAX_DEFINITIONS: usize = 3;

/// Looks a word up in the dictionary: `!define lag`.
#[command("!define")]
async fn define(ctx: Ctx<Dictionary>, word: String) -> String {
    let looks_like_a_word = word.chars().count() <= 50
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'');
    if !looks_like_a_word {
        return format!("`{word}` is not a word I can look up.");
    }
    match ctx.state().define(&word).await {
        Ok(entries) => definitions(&entries),
        Err(LookupError::NotFound) => format!("I found no definition of `{word}`."),
        Err(error) => {
            tracing::warn!(word, %error, "a dictionary lookup failed");
            match error {
                LookupError::Timeout => {
                    "The dictionary did not answer in time; try again in a moment.".to_owned()
                }
                _ => "The dictionary is not available right now; try again later.".to_owned(),
            }
        }
    }
}

/// The first [`MAX_DEFINITIONS`] definitions in `entries`, one a line.
fn definitions(entries: &[Entry]) -> String {
    let lines: Vec<String> = entries
        .iter()
        .flat_map(|entry| {
            entry.meanings.iter().flat_map(move |meaning| {
                meaning.definitions.iter().map(move |definition| {
                    format!(
                        "**{}** ({}): {}",
                        entry.word, meaning.part_of_speech, definition.definition
                    )
                })
            })
        })
        .take(MAX_DEFINITIONS)
        .collect();
    lines.join("\n")
}

/// The room `!report` files reports in.
const REPORTS_ROOM: &str = "mod-log";

/// How many times `!report` asks for the room before it gives up.
const ROOM_ATTEMPTS: u32 = 3;

/// Reports a problem to the moderators: asks what happened and where, then files it.
#[command("!report")]
async fn file_report(ctx: Ctx<Dictionary>) -> lag_bot::Result<String> {
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
async fn ask_room(ctx: &Ctx<Dictionary>) -> lag_bot::Result<Room> {
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
async fn thanks(ctx: Ctx<Dictionary>, caps: Captures) -> Option<String> {
    let name = caps.name("name")?.trim_start_matches('@');
    let me = &ctx.me().name;
    let who = ctx.message()?.sender_name.clone();
    name.eq_ignore_ascii_case(me)
        .then(|| format!("You're welcome, {who}!"))
}

/// Logs a handler's failure; the robot goes on with the next event.
async fn log_error(error: Error, cx: ErrorContext<Dictionary>) {
    tracing::error!(handler = cx.handler(), %error, "a handler failed");
}

/// The robot, as `main` and the tests build it: `lag` is `Robot::builder()` in `main`, or the
/// test kit's builder pointed at its local Lag; `dictionary` is what `!define` asks.
///
/// # Errors
///
/// As `RobotBuilder::build_from_env`.
pub fn robot(lag: RobotBuilder, dictionary: Dictionary) -> lag_bot::Result<Robot<Dictionary>> {
    Ok(lag
        .state(dictionary)
        .build_from_env()?
        .command(ping())
        .command(roll().cooldown(Cooldown::per_user(Duration::from_secs(3))))
        .command(echo())
        .command(time())
        .command(define())
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

    let timeout = match std::env::var("DICTIONARY_TIMEOUT") {
        Err(_) => Duration::from_secs(5),
        Ok(text) => humantime::parse_duration(&text).map_err(|error| {
            Error::new(
                ErrorKind::Config,
                format!("DICTIONARY_TIMEOUT={text:?} is not a duration like 5s: {error}"),
            )
        })?,
    };
    let configured = std::env::var("DICTIONARY_URL")
        .ok()
        .filter(|url| !url.trim().is_empty());
    // `_local` lives until the robot stops: dropping it stops the local dictionary.
    let (url, _local) = match configured {
        Some(url) => (url, None),
        None => {
            let local = LocalDictionary::start().await.map_err(|error| {
                Error::new(
                    ErrorKind::Config,
                    format!("cannot start the local dictionary: {error}"),
                )
            })?;
            tracing::info!(
                url = local.url(),
                "DICTIONARY_URL is not set: `!define` asks a local dictionary of a few words"
            );
            (local.url(), Some(local))
        }
    };
    robot(Robot::builder(), Dictionary::new(&url, timeout)?)?
        .run()
        .await
}
