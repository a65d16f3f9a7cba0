//! Run with: `cargo run --example game_stats` (with no keys it runs against a local Lag and a local stats service; type `!top`)
//!
//! A game-stats robot. Every 30 seconds a scheduled job polls a game's stats service over
//! HTTP and posts each finished match and each milestone a player reached in `#general`; in
//! any room, `!stats <player>` shows a player's rating and record and `!top [n]` the best
//! players. The service's API (players, matches, milestones, as JSON) is documented in
//! `api.rs`.
//!
//! It remembers what it has announced in a SQLite file, so a restart never announces
//! anything twice and announces what happened while it was down. On its very first start it
//! takes what the service already lists as history and announces only what comes after.
//! When the service fails (no answer in time, an error status, an answer that is not the
//! documented JSON), the poll is logged as failed and the next one picks up where it stopped.
//!
//! Configuration, besides lag-bot's own `LAG_*` variables:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `STATS_URL` | the stats service's base URL (required with a Lag key) |
//! | `STATS_API_KEY` | its key, sent as a bearer token (optional) |
//! | `STATS_ROOM` | the room announcements go to (default `general`) |
//! | `STATS_EVERY` | how often to poll, e.g. `30s`, `5m` (default `30s`) |
//! | `STATS_TIMEOUT` | how long one call to the service may take (default `10s`) |
//! | `STATS_DB` | the SQLite file (default `lag-bot-game-stats.sqlite3` in the system's temporary directory) |
//!
//! With no `LAG_ROBOT_API_KEY` and no `STATS_URL`, it runs in dev mode: a local Lag and the
//! local stats service of `service.rs` start in this process, a match is played every 20
//! seconds, and this terminal is the chat (type `!top`, `!stats zed`).

mod api;
mod robot;
// Its fault switches and counters are for the tests.
#[allow(dead_code)]
mod service;
mod store;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use lag_bot::{Error, ErrorContext, ErrorKind, Robot};

use robot::{Config, GameStats};
use service::StatsService;

/// Reads the `STATS_*` variables over the defaults of [`Config::new`].
fn config(url: String) -> lag_bot::Result<Config> {
    let mut config = Config::new(url);
    config.key = std::env::var("STATS_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    if let Ok(room) = std::env::var("STATS_ROOM") {
        config.room = room;
    }
    if let Some(every) = duration("STATS_EVERY")? {
        config.every = every;
    }
    if let Some(timeout) = duration("STATS_TIMEOUT")? {
        config.timeout = timeout;
    }
    if let Some(path) = std::env::var_os("STATS_DB") {
        config.database = PathBuf::from(path);
    }
    Ok(config)
}

/// The duration in variable `name`, if set.
fn duration(name: &str) -> lag_bot::Result<Option<Duration>> {
    let Ok(text) = std::env::var(name) else {
        return Ok(None);
    };
    humantime::parse_duration(&text).map(Some).map_err(|error| {
        Error::new(
            ErrorKind::Config,
            format!("{name}={text:?} is not a duration like 30s or 5m: {error}"),
        )
    })
}

/// Plays a match between two of the demo players every `every`, forever.
async fn play(service: &StatsService, every: Duration) {
    const PLAYERS: [&str; 4] = ["zed", "mira", "kofi", "ana"];
    const MAPS: [&str; 3] = ["Dust", "Harbor", "Glacier"];
    let mut round: usize = 0;
    loop {
        tokio::time::sleep(every).await;
        let (a, b) = (PLAYERS[round % 4], PLAYERS[(round / 4 + round + 1) % 4]);
        let (a, b) = if a == b {
            (a, PLAYERS[(round + 2) % 4])
        } else {
            (a, b)
        };
        let score = |n: usize| i64::try_from(10 + (n * 7) % 13).unwrap_or(10);
        service.finish_match(MAPS[round % 3], &[(a, score(round)), (b, score(round + 5))]);
        round += 1;
    }
}

async fn report(error: Error, cx: ErrorContext<GameStats>) {
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

    let url = std::env::var("STATS_URL").ok().filter(|u| !u.is_empty());
    let dev = std::env::var_os("LAG_ROBOT_API_KEY").is_none();
    let (url, demo) = match url {
        Some(url) => (url, None),
        None if dev => {
            let service = StatsService::start(None).await.map_err(|error| {
                Error::new(
                    ErrorKind::Config,
                    format!("cannot start the local stats service: {error}"),
                )
            })?;
            for name in ["zed", "mira", "kofi", "ana"] {
                service.add_player(name);
            }
            tracing::info!(
                url = service.url(),
                "dev mode: a local stats service plays a match every 20s"
            );
            (service.url(), Some(service))
        }
        None => {
            return Err(Error::new(
                ErrorKind::Config,
                "STATS_URL is not set: give the stats service's base URL",
            ));
        }
    };
    let config = config(url)?;
    tracing::info!(url = config.url, room = config.room, every = ?config.every, database = %config.database.display(), "polling the stats service");
    let robot = robot::robot(Robot::builder(), config)?.on_error(report);
    match demo {
        Some(service) => {
            tokio::select! {
                ended = robot.run() => ended,
                () = play(&service, Duration::from_secs(20)) => Ok(()),
            }
        }
        None => robot.run().await,
    }
}
