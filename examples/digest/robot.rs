//! The digest robot as `main` and the tests build it: its configuration, the daily job and
//! `!digest`.

use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use lag_bot::job::{Job, Missed, Schedule};
use lag_bot::model::{HistoryQuery, MAX_HISTORY_PAGE};
use lag_bot::{Client, Ctx, Error, ErrorKind, Reply, Robot, RobotBuilder, command};

use super::summary::Tally;

/// How far back a digest looks.
const DAY: Duration = Duration::from_secs(24 * 3_600);

/// What the robot needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The name of the room summarised, where the daily digest is posted.
    pub room: String,
    /// The time of day the digest is posted, as `HH:MM`.
    pub at: String,
    /// The time zone of that time and of the digest's hours, from the tz database (e.g.
    /// `Europe/Paris`).
    pub zone: String,
}

impl Config {
    /// The defaults: `#general` at 09:00 UTC.
    pub fn new() -> Self {
        Self {
            room: "general".to_owned(),
            at: "09:00".to_owned(),
            zone: "UTC".to_owned(),
        }
    }

    /// The daily schedule this configuration names.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for a time that is not `HH:MM` or an unknown zone.
    pub fn schedule(&self) -> lag_bot::Result<Schedule> {
        let bad = || {
            Error::new(
                ErrorKind::Config,
                format!(
                    "the digest time {:?} is not a time of day like 09:00",
                    self.at
                ),
            )
        };
        let (hour, minute) = self.at.trim().split_once(':').ok_or_else(bad)?;
        let hour: u8 = hour.parse().map_err(|_| bad())?;
        let minute: u8 = minute.parse().map_err(|_| bad())?;
        if hour > 23 || minute > 59 {
            return Err(bad());
        }
        Schedule::cron(&format!("{minute} {hour} * * *"))?.in_time_zone(&self.zone)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// What the job and the command share.
#[derive(Debug)]
pub struct Digest {
    room: String,
    zone: TimeZone,
    zone_name: String,
}

/// The robot: the digest of `config.room` every day at `config.at` in `config.zone`, and
/// `!digest` in any room.
///
/// # Errors
///
/// [`ErrorKind::Config`] for a bad time or zone, and the builder's own errors.
pub fn robot(lag: RobotBuilder, config: Config) -> lag_bot::Result<Robot<Digest>> {
    let schedule = config.schedule()?;
    let zone = TimeZone::get(&config.zone).map_err(|_| {
        Error::new(
            ErrorKind::Config,
            format!("unknown time zone {:?}", config.zone),
        )
    })?;
    let state = Digest {
        room: config.room,
        zone,
        zone_name: config.zone,
    };
    // A digest missed while the robot was down is posted when it is back (with a job store
    // that outlives the process; the default one lives in memory).
    let daily = Job::new("daily_digest", schedule, daily).missed(Missed::CatchUpOnce);
    Ok(lag
        .state(state)
        .build_from_env()?
        .job(daily)
        .command(digest()))
}

/// Posts the digest of the configured room in it.
async fn daily(ctx: Ctx<Digest>) -> lag_bot::Result<Reply> {
    let digest = ctx.state();
    let room = ctx.client().room_named(&digest.room).await?;
    let name = room.name.clone().unwrap_or_else(|| digest.room.clone());
    let text = summarise(ctx.client(), digest, &room.id, &name).await?;
    Ok(Reply::say(text).in_room(room.id))
}

/// Summarises the last 24 hours of the room it is asked in.
#[command("!digest")]
async fn digest(ctx: Ctx<Digest>) -> lag_bot::Result<String> {
    let room_id = ctx
        .room_id()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "!digest is asked in a room"))?
        .to_owned();
    let rooms = ctx.client().rooms().await?;
    let name = rooms
        .iter()
        .find(|room| room.id == room_id)
        .and_then(|room| room.name.clone())
        .unwrap_or_else(|| room_id.clone());
    summarise(ctx.client(), ctx.state(), &room_id, &name).await
}

/// Reads the room's history back to 24 hours ago, newest first, a full page (100 messages) at
/// a time: the client paces the requests under Lag's limit of 100 a minute, so a busy room
/// takes longer to read but is never refused. Reading stops at the first message older than
/// the day.
///
/// The day ends now on the wall clock, which is what Lag's timestamps are written in.
async fn summarise(
    client: &Client,
    digest: &Digest,
    room_id: &str,
    room_name: &str,
) -> lag_bot::Result<String> {
    let end = Timestamp::try_from(SystemTime::now())
        .map_err(|error| Error::new(ErrorKind::Handler, format!("the clock: {error}")))?;
    let start = end - jiff::SignedDuration::try_from(DAY).unwrap_or_default();
    let mut tally = Tally::new(digest.zone.clone());
    let mut read = 0usize;
    let mut history = client.history_from(room_id, HistoryQuery::new().limit(MAX_HISTORY_PAGE));
    while let Some(message) = history.try_next().await? {
        let at = message.created_at.as_str().parse::<Timestamp>().ok();
        if at.is_some_and(|at| at < start) {
            break;
        }
        read += 1;
        tally.add(&message);
    }
    tracing::info!(room = room_name, read, "read the room's day");
    let summary = tally.finish();
    Ok(summary.render(
        room_name,
        &end.to_zoned(digest.zone.clone()),
        &digest.zone_name,
    ))
}
