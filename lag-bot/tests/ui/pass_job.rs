use std::time::Duration;

use lag_bot::job::{Job, Missed, Schedule};
use lag_bot::{Ctx, Reply, cron, every};

struct Stats {
    room: String,
}

/// Polls for finished matches.
#[every("1h30m")]
async fn poll(_ctx: Ctx<Stats>) -> lag_bot::Result<()> {
    Ok(())
}

/// Says good morning.
#[cron("0 9 * * 1-5", tz = "Europe/Paris")]
async fn morning(ctx: Ctx<Stats>) -> Reply {
    Reply::say("Good morning!").in_room(ctx.state().room.clone())
}

/// Every day at midnight, local time.
#[cron("@daily")]
pub async fn nightly(_ctx: Ctx<Stats>) {}

fn main() {
    let poll: Job<Stats> = poll();
    assert_eq!(poll.name(), "poll");
    assert_eq!(poll.schedule().to_string(), "every 1h 30m");
    let morning = morning().timeout(Duration::from_secs(30)).missed(Missed::CatchUpOnce);
    assert_eq!(morning.schedule().to_string(), "cron `0 9 * * 1-5` in Europe/Paris");
    let by_hand = Job::new("nightly", Schedule::cron("@daily").unwrap(), |_ctx: Ctx<Stats>| async {});
    assert_eq!(nightly().name(), by_hand.name());
}
