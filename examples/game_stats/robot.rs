//! The game-stats robot as `main` and the tests build it: its configuration, its state, the
//! poll job and the two commands.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lag_bot::job::{Job, Missed, Schedule};
use lag_bot::{Client, Ctx, Error, ErrorKind, Robot, RobotBuilder, command};
use tokio::sync::OnceCell;

use super::api::{ApiError, Match, Milestone, Page, Player, StatsApi};
use super::store::{Kind, Store};

/// How many matches or milestones one request asks for.
const PAGE: u32 = 50;

/// The most pages of each kind one poll reads: after a long downtime, the rest waits for the
/// next poll rather than holding this one for minutes.
const PAGES_PER_POLL: usize = 10;

/// How many players `!top` shows by default, and at most.
const TOP_DEFAULT: u32 = 5;
const TOP_MAX: u32 = 20;

/// What the robot needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The stats service's base URL.
    pub url: String,
    /// Its key, sent as a bearer token.
    pub key: Option<String>,
    /// The name of the room announcements go to.
    pub room: String,
    /// How often the service is polled.
    pub every: Duration,
    /// How long one call to the service may take.
    pub timeout: Duration,
    /// The SQLite file the robot remembers in.
    pub database: PathBuf,
}

impl Config {
    /// The defaults for a service at `url`: announcements in `#general`, a poll every 30
    /// seconds, calls of at most 10 seconds, and `lag-bot-game-stats.sqlite3` in the system's temporary directory.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key: None,
            room: "general".to_owned(),
            every: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            database: std::env::temp_dir().join("lag-bot-game-stats.sqlite3"),
        }
    }
}

/// What the handlers and the job share.
pub struct GameStats {
    api: StatsApi,
    store: Store,
    room_name: String,
    room_id: OnceCell<String>,
}

impl GameStats {
    /// The id of the announcement room, asked of Lag the first time.
    async fn room(&self, client: &Client) -> lag_bot::Result<&str> {
        let id = self
            .room_id
            .get_or_try_init(|| async {
                match client.room_named(&self.room_name).await {
                    Ok(room) => Ok(room.id),
                    Err(error) if error.kind() == &ErrorKind::NotFound => Err(Error::new(
                        ErrorKind::Config,
                        format!("{}; set STATS_ROOM to one of them", error.message()),
                    )),
                    Err(error) => Err(error),
                }
            })
            .await?;
        Ok(id)
    }
}

/// The robot: the poll job every `config.every`, `!stats` and `!top`, remembering in
/// `config.database`.
///
/// # Errors
///
/// [`ErrorKind::Config`] for a bad URL or a database that cannot be opened, and the builder's
/// own errors.
pub fn robot(lag: RobotBuilder, config: Config) -> lag_bot::Result<Robot<GameStats>> {
    let store = Store::open(&config.database)?;
    let api = StatsApi::new(&config.url, config.key.clone(), config.timeout)?;
    let state = GameStats {
        api,
        store: store.clone(),
        room_name: config.room,
        room_id: OnceCell::new(),
    };
    let poll = Job::new("poll_stats", Schedule::every(config.every), poll)
        // After a restart that missed polls, poll at once rather than a period later.
        .missed(Missed::CatchUpOnce)
        // No timeout on the whole poll: each call has its own, and a poll cut short between a
        // post and its record would announce that item again. At shutdown, a poll under way
        // gets time to finish its posts.
        .grace(Duration::from_secs(30));
    Ok(lag
        .state(state)
        .build_from_env()?
        .job(poll)
        .job_store(std::sync::Arc::new(store))
        .command(stats())
        .command(top()))
}

/// One poll: announces the matches, then the milestones, the service recorded since the last
/// one seen. A failing service ends the poll with an error (logged by the error hook); the next
/// poll starts where this one stopped.
async fn poll(ctx: Ctx<GameStats>) -> lag_bot::Result<()> {
    let stats = ctx.state();
    let first_start = stats.store.first_start().await?;
    let matches = announce(&ctx, Kind::Match, first_start, |after| async move {
        stats.api.matches_after(after, PAGE).await
    })
    .await;
    let milestones = announce(&ctx, Kind::Milestone, first_start, |after| async move {
        stats.api.milestones_after(after, PAGE).await
    })
    .await;
    let (matches, milestones) = (matches?, milestones?);
    if matches + milestones > 0 {
        tracing::info!(matches, milestones, "announced");
    }
    Ok(())
}

/// What the robot can announce.
trait News {
    fn id(&self) -> u64;
    /// When it happened, as the service wrote it.
    fn happened(&self) -> &str;
    fn text(&self) -> String;
}

impl News for Match {
    fn id(&self) -> u64 {
        self.id
    }

    fn happened(&self) -> &str {
        &self.finished_at
    }

    fn text(&self) -> String {
        let mut players: Vec<_> = self.players.iter().collect();
        players.sort_by_key(|p| std::cmp::Reverse(p.score));
        let scores = players
            .iter()
            .map(|p| format!("{} {}", p.name, p.score))
            .collect::<Vec<_>>()
            .join(", ");
        let winner = self
            .winner
            .as_ref()
            .and_then(|id| self.players.iter().find(|p| &p.id == id));
        match winner {
            Some(winner) => format!(
                "Match #{} on {}: **{}** wins ({scores}).",
                self.id, self.map, winner.name
            ),
            None => format!("Match #{} on {}: a draw ({scores}).", self.id, self.map),
        }
    }
}

impl News for Milestone {
    fn id(&self) -> u64 {
        self.id
    }

    fn happened(&self) -> &str {
        &self.achieved_at
    }

    fn text(&self) -> String {
        format!(
            "Milestone: **{}** reached {}!",
            self.player_name, self.title
        )
    }
}

/// Reads the items of `kind` after the last one seen, page by page, and posts each one that is
/// news; returns how many it posted. Items from before the robot's first start are recorded
/// without a post.
async fn announce<T, F, Fut>(
    ctx: &Ctx<GameStats>,
    kind: Kind,
    first_start: SystemTime,
    fetch: F,
) -> lag_bot::Result<usize>
where
    T: News,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<Page<T>, ApiError>>,
{
    let stats = ctx.state();
    let mut posted = 0;
    for _ in 0..PAGES_PER_POLL {
        let after = stats.store.last_seen(kind).await?;
        let page = fetch(after).await?;
        for item in &page.items {
            if item.id() <= after || stats.store.was_seen(kind, item.id()).await? {
                continue;
            }
            if is_history(item.happened(), first_start) {
                stats.store.mark(kind, item.id(), None).await?;
                continue;
            }
            let room = stats.room(ctx.client()).await?;
            let message = ctx.send(room, item.text()).await?;
            stats.store.mark(kind, item.id(), Some(message.id)).await?;
            posted += 1;
        }
        if !page.has_more || page.items.is_empty() {
            break;
        }
    }
    Ok(posted)
}

/// Whether something that happened at `happened` (RFC 3339) is from before `first_start`. A
/// time that cannot be read counts as news: better one announcement too many than a silent
/// robot.
fn is_history(happened: &str, first_start: SystemTime) -> bool {
    happened
        .parse::<jiff::Timestamp>()
        .ok()
        .and_then(|at| {
            jiff::Timestamp::try_from(first_start)
                .ok()
                .map(|start| at < start)
        })
        .unwrap_or(false)
}

/// What a command answers when the service fails.
fn unavailable(error: &ApiError) -> String {
    tracing::warn!(%error, "a command could not reach the stats service");
    let why = match error {
        ApiError::Timeout => "it did not answer in time",
        ApiError::Unreachable(_) => "it cannot be reached",
        ApiError::Refused(_) => "it refused my key",
        ApiError::Status(_) | ApiError::Malformed(_) => "it answered with an error",
    };
    format!("I cannot ask the stats service right now ({why}); try again in a minute.")
}

fn record(player: &Player) -> String {
    let played = player.wins + player.losses;
    let rate = (player.wins * 100)
        .checked_div(played)
        .map(|percent| format!(", {percent}% won"))
        .unwrap_or_default();
    format!(
        "rating {}, {} wins, {} losses{rate}",
        player.rating, player.wins, player.losses
    )
}

/// Shows a player's rating and record: `!stats zed`.
#[command("!stats")]
async fn stats(ctx: Ctx<GameStats>, player: String) -> String {
    match ctx.state().api.player(&player).await {
        Ok(Some(found)) => format!("**{}**: {}.", found.name, record(&found)),
        Ok(None) => format!("I know no player called {player:?}."),
        Err(error) => unavailable(&error),
    }
}

/// Shows the best-rated players: `!top` for five, `!top 10` for ten (up to 20).
#[command("!top")]
async fn top(ctx: Ctx<GameStats>, count: Option<u32>) -> String {
    let count = count.unwrap_or(TOP_DEFAULT);
    if !(1..=TOP_MAX).contains(&count) {
        return format!("I can show 1 to {TOP_MAX} players.");
    }
    let mut players = match ctx.state().api.players().await {
        Ok(players) => players,
        Err(error) => return unavailable(&error),
    };
    if players.is_empty() {
        return "Nobody has played yet.".to_owned();
    }
    players.sort_by(|a, b| b.rating.cmp(&a.rating).then_with(|| a.name.cmp(&b.name)));
    let mut lines = vec![format!(
        "Top {} by rating:",
        count.min(players.len() as u32)
    )];
    for (rank, player) in players.iter().take(count as usize).enumerate() {
        lines.push(format!(
            "{}. **{}**: {}",
            rank + 1,
            player.name,
            record(player)
        ));
    }
    lines.join("\n")
}
