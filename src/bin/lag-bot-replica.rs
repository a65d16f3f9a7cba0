//! Run with: `LAG_REDIS_URL=redis://127.0.0.1:6379/ LAG_ROBOT_API_KEY=... cargo run --bin lag-bot-replica`
//!
//! One replica of a recording robot, for the replicated tests (`tests/e2e/replicas/`) and
//! the replica benchmark (`benches/replicas.rs`): start several against one Lag and one Redis.
//! It is configured like any robot (`LAG_*` variables, `LAG_REDIS_URL` included: without it,
//! the robot runs alone and in memory), plus:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `REPLICA_RECORD` | the Redis key prefix under which it records what it handled (required) |
//! | `REPLICA_REDIS_URL` | the Redis it records in (default `LAG_REDIS_URL`) |
//! | `REPLICA_TIME_SCALE` | how much faster than Lag's the sim's clock runs (default 1); the pacing follows |
//! | `REPLICA_LEASE_MS` | the intake's lease (default 10 s) |
//! | `REPLICA_ATTEMPTS` | the intake's attempts before the dead letters (default 5) |
//! | `REPLICA_WORK_MS` | how long each message's handler works before recording (default 0) |
//!
//! For every room message it records, once per event id, the content at the end of the list
//! `{record}:room:{room id}` and the time it finished (Unix microseconds) in the hash
//! `{record}:finished`, and counts every run in `{record}:runs`: the record is idempotent
//! by event id, as the durable intake's docs advise for effects that must happen once. A
//! message ending in `!` is answered in the room first (a paced call to Lag); one starting with
//! `poison` panics every time; one starting with `hold` waits until the key
//! `{record}:release` exists.

use std::time::Duration;

use lag_bot::client::RateLimits;
use lag_bot::events::RoomMessage;
use lag_bot::redis::IntakeConfig;
use lag_bot::{Ctx, Error, ErrorKind, Listener, Robot};
use redis::Script;
use redis::aio::ConnectionManager;

/// Records a content once per event id, and counts the run.
const RECORD: &str = r"
if redis.call('SET', KEYS[1], '1', 'NX') then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[2])
end
return redis.call('INCR', KEYS[3])
";

struct Recorder {
    conn: ConnectionManager,
    record: String,
    script: Script,
    work: Duration,
}

impl Recorder {
    async fn record(&self, event_id: &str, room_id: &str, content: &str) -> lag_bot::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .script
            .key(format!("{}:done:{event_id}", self.record))
            .key(format!("{}:room:{room_id}", self.record))
            .key(format!("{}:runs", self.record))
            .key(format!("{}:finished", self.record))
            .arg(content)
            .arg(now_micros().to_string())
            .arg(event_id)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    async fn wait_for_release(&self) -> lag_bot::Result<()> {
        let key = format!("{}:release", self.record);
        loop {
            let mut conn = self.conn.clone();
            let released: bool = redis::cmd("EXISTS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(redis_error)?;
            if released {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn now_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_micros())
}

fn redis_error(err: redis::RedisError) -> Error {
    Error::new(
        ErrorKind::Connection,
        format!("the recording failed: {err}"),
    )
}

fn var<T: std::str::FromStr>(name: &str, default: T) -> lag_bot::Result<T> {
    match std::env::var(name) {
        Ok(text) => text.parse().map_err(|_| {
            Error::new(
                ErrorKind::Config,
                format!("{name} is not a number: {text:?}"),
            )
        }),
        Err(_) => Ok(default),
    }
}

async fn on_message(ctx: Ctx<Recorder>, msg: RoomMessage) -> lag_bot::Result<()> {
    let recorder = ctx.state();
    if msg.content.starts_with("poison") {
        panic!("a poison event: {}", msg.content);
    }
    if msg.content.starts_with("hold") {
        recorder.wait_for_release().await?;
    }
    if !recorder.work.is_zero() {
        tokio::time::sleep(recorder.work).await;
    }
    if msg.content.ends_with('!') {
        ctx.reply(format!("seen {}", msg.content)).await?;
    }
    let event_id = ctx.envelope().id().unwrap_or_default().to_owned();
    recorder.record(&event_id, &msg.room_id, &msg.content).await
}

#[tokio::main]
async fn main() -> lag_bot::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let record = std::env::var("REPLICA_RECORD").map_err(|_| {
        Error::new(
            ErrorKind::Config,
            "REPLICA_RECORD (the key prefix of the records) is not set",
        )
    })?;
    let url = std::env::var("REPLICA_REDIS_URL")
        .or_else(|_| std::env::var("LAG_REDIS_URL"))
        .map_err(|_| {
            Error::new(
                ErrorKind::Config,
                "neither REPLICA_REDIS_URL nor LAG_REDIS_URL is set: the replica records in Redis",
            )
        })?;
    let conn = redis::Client::open(url.as_str())
        .map_err(redis_error)?
        .get_connection_manager()
        .await
        .map_err(redis_error)?;
    let intake = IntakeConfig::new()
        .lease(Duration::from_millis(var("REPLICA_LEASE_MS", 10_000)?))
        .max_attempts(var("REPLICA_ATTEMPTS", 5)?);
    let recorder = Recorder {
        conn,
        record,
        script: Script::new(RECORD),
        work: Duration::from_millis(var("REPLICA_WORK_MS", 0)?),
    };
    Robot::builder()
        .state(recorder)
        .rate_limits(RateLimits::lag().time_scale(var("REPLICA_TIME_SCALE", 1.0)?))
        .build_from_env()?
        .intake(intake)
        .on(Listener::new(on_message))
        .run()
        .await
}
