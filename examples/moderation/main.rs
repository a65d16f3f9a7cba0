//! Run with: `cargo run --example moderation` (with no key it runs against a local Lag; say `you idiot` as carol: `/as carol`)
//!
//! A moderation robot a server could deploy as it is. It checks every message, and every edit,
//! against rules read from a TOML file: banned words (seen through disguises like `1d10t` or
//! `i.d.i.o.t`), regex patterns, links to denied domains (or anywhere but allowed ones), mention
//! spam, flooding and repeated text. A violation is recorded in an audit log (SQLite, or
//! PostgreSQL for robots that share one database), then the robot warns the member, removes
//! the message, and gives strikes, as the rule says. Strikes expire, survive restarts, and call
//! the admins in (by mention, in `#mod-log`) when a member reaches a threshold. Moderators
//! have the `!mod` group: `!mod strikes @member`, `!mod pardon @member <n>`,
//! `!mod pardon-all @member` (which asks for a yes or no first), `!mod rules` and
//! `!mod modlog [n]`; other members get a polite refusal.
//!
//! **Removing a message.** On Lag today a robot may delete only its own messages: Lag answers
//! 403 to anything else. So the robot tries, and when Lag refuses it falls back to a warning
//! threaded to the message and a report in `#mod-log` quoting it; the audit log records that Lag
//! refused. The local Lag has an opt-in emulator extension, the `manage_messages` robot
//! permission, under which the deletion succeeds. In dev mode the robot does not have it, so you
//! see the fallback; to see deletions, grant it while the robot runs (the local Lag listens on
//! 127.0.0.1:8090 unless that port was taken; the robot asks again a minute after a refusal):
//!
//! ```sh
//! ROBOT=$(curl -s http://127.0.0.1:8090/_sim/world | jq -r '.servers[0].robots[0].id')
//! curl -s -X PATCH http://127.0.0.1:8090/_sim/robots/$ROBOT -H 'content-type: application/json' \
//!   -d '{"permissions": ["read_messages", "send_messages", "read_members", "read_rooms", "manage_messages"]}'
//! ```
//!
//! **Under a flood** (hundreds of violations in seconds) it stays within Lag's limits (100
//! requests a minute, 10 messages per 10 seconds) instead of answering each one: every violation
//! is recorded in the database at once, a member is warned at most once per warning window, the
//! mod-log room gets one summary per report window, and after a refused deletion the robot stops
//! asking for a while. What it posts goes through lag-bot's paced client, so Lag never answers
//! 429, and what it keeps in memory for the next summary is bounded.
//!
//! Configuration, besides lag-bot's `LAG_*` variables (with no `LAG_ROBOT_API_KEY` it runs in
//! dev mode: a local Lag in this process, and this terminal is the chat):
//!
//! - `--rules FILE` or `MODERATION_RULES=FILE`: the rules (default: the built-in
//!   `examples/moderation/rules.toml`, which documents every key; `!mod rules` prints them);
//! - `--database DB` or `MODERATION_DB=DB`: where strikes and the audit log are kept: the path
//!   of an SQLite file (or a `sqlite://` URL), created on first run, or a PostgreSQL database's
//!   URL, `postgres://user:password@host:5432/moderation` (the database must exist; the robot
//!   creates its tables). Default: `lag-bot-moderation.sqlite3` in the system's temporary
//!   directory. Several robots may share one PostgreSQL database (replicas, or a new process
//!   starting before the old one stops): a member's strikes are counted one change at a time.
//!   The schema is brought up to date at start-up in either case.

mod robot;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use lag_bot::{Error, ErrorContext, ErrorKind, Robot};

use robot::clock::SystemClock;
use robot::rules::RuleSet;
use robot::store::Database;
use robot::{Moderation, Setup};

/// The moderation robot's flags; each has an environment variable too.
#[derive(Debug, Parser)]
#[command(about = "A Lag moderation robot: rules, strikes, an audit log and moderator commands")]
struct Flags {
    /// The rules file (TOML); default: the built-in rules. Also MODERATION_RULES.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Where strikes and the audit log are kept: an SQLite file's path or `sqlite://` URL, or a
    /// `postgres://` URL. Also MODERATION_DB.
    #[arg(long)]
    database: Option<String>,
}

/// Logs a handler's failure (a database error, say); the robot goes on with the next event.
async fn report(error: Error, cx: ErrorContext<Moderation>) {
    tracing::error!(handler = cx.handler(), event = cx.event_type(), %error, "a handler failed");
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

    let flags = Flags::parse();
    let rules_path = flags
        .rules
        .or_else(|| std::env::var_os("MODERATION_RULES").map(PathBuf::from));
    let rules = match &rules_path {
        Some(path) => RuleSet::load(path),
        None => RuleSet::default_rules(),
    }
    .map_err(|err| Error::new(ErrorKind::Config, err.to_string()))?;
    let setting = match flags.database {
        Some(setting) => Some(setting),
        None => match std::env::var("MODERATION_DB") {
            Ok(setting) => Some(setting),
            Err(std::env::VarError::NotPresent) => None,
            Err(err) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("MODERATION_DB: {err}"),
                ));
            }
        },
    };
    let database = match setting {
        Some(setting) => Database::parse(&setting)
            .map_err(|err| Error::new(ErrorKind::Config, err.to_string()))?,
        None => Database::Sqlite(std::env::temp_dir().join("lag-bot-moderation.sqlite3")),
    };
    tracing::info!(
        rules = rules.origin,
        count = rules.rules.len(),
        "rules loaded"
    );

    let moderation = Moderation::new(Setup {
        rules,
        database,
        clock: Arc::new(SystemClock),
    })
    .await
    .map_err(|err| Error::new(ErrorKind::Config, err.to_string()))?;
    tracing::info!(
        database = %moderation.store.database(),
        schema = moderation.store.schema_version().await?,
        "strikes and audit log"
    );
    let robot = robot::robot(Robot::builder(), Arc::clone(&moderation))?;
    // Look the mod-log room up now, so that a missing one stops the robot before it starts.
    moderation
        .reporter
        .room_id(robot.client())
        .await
        .map_err(|err| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "the mod-log room: {} (set `mod_log` in the rules' [settings])",
                    err.message()
                ),
            )
        })?;
    robot.on_error(report).run().await
}
