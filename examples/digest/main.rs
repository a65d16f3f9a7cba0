//! Run with: `cargo run --example digest` (with no key it runs against a local Lag; chat a little, then type `!digest`)
//!
//! A daily-digest robot. Every day at a set time it reads the last 24 hours of a room through
//! Lag's paginated history and posts a summary there: messages per member, the busiest hour,
//! the most used words (common words such as "the" left out) and the links shared. `!digest`
//! posts the same summary of the room it is asked in, at once. Robots' messages and commands
//! (`!...`) are not counted.
//!
//! A busy room is read a hundred messages a request, and the client paces its requests under
//! Lag's limit of 100 a minute: thousands of messages take a few dozen requests and never a
//! refusal.
//!
//! Configuration, besides lag-bot's own `LAG_*` variables:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `DIGEST_ROOM` | the room summarised and posted in (default `general`) |
//! | `DIGEST_AT` | the time of day, `HH:MM` (default `09:00`) |
//! | `DIGEST_TZ` | its time zone from the tz database, e.g. `Europe/Paris` (default `UTC`) |
//!
//! With no `LAG_ROBOT_API_KEY` set, it runs against a local Lag in this process, and this
//! terminal is the chat.

mod robot;
mod summary;

use std::io::IsTerminal;

use lag_bot::{Error, ErrorContext, Robot};

use robot::{Config, Digest};

async fn report(error: Error, cx: ErrorContext<Digest>) {
    tracing::error!(handler = cx.handler(), %error, "a handler or job failed");
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

    let mut config = Config::new();
    for (name, field) in [
        ("DIGEST_ROOM", &mut config.room),
        ("DIGEST_AT", &mut config.at),
        ("DIGEST_TZ", &mut config.zone),
    ] {
        if let Ok(value) = std::env::var(name) {
            *field = value;
        }
    }
    tracing::info!(
        room = config.room,
        at = config.at,
        zone = config.zone,
        "posting a daily digest"
    );
    robot::robot(Robot::builder(), config)?
        .on_error(report)
        .run()
        .await
}
