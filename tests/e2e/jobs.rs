//! Scheduled jobs in simulated time, through the test kit: `every` and cron schedules (a
//! daylight-saving change included), no overlap, timeouts, shutdown during a run, and both
//! missed-run policies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use lag_bot::job::{Job, JobStore, MemoryJobStore, Missed, Schedule};
use lag_bot::testing::Kit;
use lag_bot::{Ctx, Reply, Robot, RobotBuilder, cron, every};

/// The room jobs post in, looked up by name.
async fn general(ctx: &Ctx) -> lag_bot::Result<String> {
    Ok(ctx.client().room_named("general").await?.id)
}

/// Says "tick" in #general every five minutes.
#[every("5m")]
async fn tick(ctx: Ctx) -> lag_bot::Result<Reply> {
    Ok(Reply::say("tick").in_room(general(&ctx).await?))
}

/// Says good morning at nine, Paris time.
#[cron("0 9 * * *", tz = "Europe/Paris")]
async fn morning(ctx: Ctx) -> lag_bot::Result<Reply> {
    Ok(Reply::say("Bonjour !").in_room(general(&ctx).await?))
}

/// Posts `count` numbered messages, paced under Lag's limit of ten per ten seconds.
async fn burst(ctx: &Ctx, count: usize) -> lag_bot::Result<()> {
    let room = general(ctx).await?;
    for n in 1..=count {
        ctx.send(&room, format!("part {n}")).await?;
    }
    Ok(())
}

fn at(text: &str) -> SystemTime {
    SystemTime::from(text.parse::<jiff::Timestamp>().unwrap())
}

fn iso(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time).unwrap().to_string()
}

#[tokio::test]
async fn an_every_job_runs_each_period_in_simulated_time() {
    let kit = Kit::start(|lag| Ok(lag.build()?.job(tick())))
        .await
        .unwrap();
    kit.reply().await.assert_text("tick");
    assert_eq!(kit.elapsed(), Duration::from_secs(300));
    kit.reply().await.assert_text("tick");
    assert_eq!(kit.elapsed(), Duration::from_secs(600));
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_cron_job_follows_its_time_zone_across_a_daylight_saving_change() {
    // Paris moves from UTC+1 to UTC+2 in the night of 28 to 29 March 2026.
    let kit = Kit::builder()
        .start_at(at("2026-03-27T12:00:00Z"))
        .start(|lag| Ok(lag.build()?.job(morning())))
        .await
        .unwrap();
    kit.reply().await.assert_text("Bonjour !");
    assert_eq!(
        iso(kit.now()),
        "2026-03-28T08:00:00Z",
        "9:00 in winter time"
    );
    kit.reply().await.assert_text("Bonjour !");
    assert_eq!(
        iso(kit.now()),
        "2026-03-29T07:00:00Z",
        "9:00 in summer time"
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_job_never_overlaps_itself() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let job = {
        let (running, most, runs) = (running.clone(), most.clone(), runs.clone());
        Job::new(
            "slow",
            Schedule::every(Duration::from_secs(1)),
            move |ctx: Ctx| {
                let (running, most, runs) = (running.clone(), most.clone(), runs.clone());
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Twelve messages take more than ten seconds under Lag's limit: far longer
                    // than the one-second period.
                    let result = burst(&ctx, 12).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    runs.fetch_add(1, Ordering::SeqCst);
                    result
                }
            },
        )
    };
    let kit = Kit::start(|lag| Ok(lag.build()?.job(job))).await.unwrap();
    for _ in 0..2 {
        for n in 1..=12 {
            kit.reply().await.assert_text(&format!("part {n}"));
        }
    }
    kit.settle().await;
    assert_eq!(most.load(Ordering::SeqCst), 1, "one run at a time");
    assert!(runs.load(Ordering::SeqCst) >= 2);
    assert!(
        kit.elapsed() > Duration::from_secs(20),
        "{:?}",
        kit.elapsed()
    );
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_run_longer_than_its_timeout_is_stopped_and_reported() {
    let job = Job::new(
        "chatty",
        Schedule::every(Duration::from_secs(60)),
        |ctx: Ctx| async move { burst(&ctx, 15).await },
    )
    .timeout(Duration::from_secs(5));
    let kit = Kit::start(|lag| Ok(lag.build()?.job(job))).await.unwrap();
    let said = kit.replies().await;
    assert!(said.is_empty(), "nothing before the first run: {said:?}");
    kit.reply().await.assert_text("part 1");
    kit.settle().await;
    let said = kit.replies().await;
    assert_eq!(said.len(), 9, "ten messages fit in the first ten seconds");
    assert_eq!(
        kit.errors(),
        [
            "`chatty` failed: handler error: job `chatty` took longer than its timeout of 5s and was stopped"
        ]
    );
    kit.stop().await.unwrap();
}

/// A robot whose `chatty` job posts fifteen messages (more than ten seconds' worth) every
/// minute, with the given grace.
fn chatty(grace: Duration) -> impl FnOnce(RobotBuilder) -> lag_bot::Result<Robot> {
    move |lag| {
        let job = Job::new(
            "chatty",
            Schedule::every(Duration::from_secs(60)),
            |ctx: Ctx| async move { burst(&ctx, 15).await },
        )
        .grace(grace);
        Ok(lag.build()?.job(job))
    }
}

#[tokio::test]
async fn shutdown_gives_a_running_job_its_grace_and_then_stops_it() {
    let mut kit = Kit::start(chatty(Duration::from_secs(30))).await.unwrap();
    kit.reply().await.assert_text("part 1");
    kit.stop_robot().await.unwrap();
    let said = kit.replies().await;
    assert_eq!(said.len(), 14, "the run finished within its grace");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();

    let mut kit = Kit::start(chatty(Duration::from_secs(2))).await.unwrap();
    kit.reply().await.assert_text("part 1");
    kit.stop_robot().await.unwrap();
    let said = kit.replies().await;
    assert_eq!(said.len(), 9, "cut after the first ten messages");
    assert_eq!(
        kit.errors(),
        [
            "`chatty` failed: handler error: job `chatty` was stopped: the robot stopped and the job's grace of 2s ran out"
        ]
    );
    kit.stop().await.unwrap();
}

/// A robot with an hourly `report` job following `missed`, keeping its last runs in `store`.
fn reporter(
    store: Arc<MemoryJobStore>,
    missed: Missed,
) -> impl FnOnce(RobotBuilder) -> lag_bot::Result<Robot> {
    move |lag| {
        let job = Job::new(
            "report",
            Schedule::every(Duration::from_secs(3_600)),
            |ctx: Ctx| async move {
                Ok::<_, lag_bot::Error>(Reply::say("report").in_room(general(&ctx).await?))
            },
        )
        .missed(missed);
        Ok(lag.build()?.job(job).job_store(store))
    }
}

#[tokio::test]
async fn missed_runs_are_skipped_or_caught_up_once() {
    for (missed, first_after) in [
        (Missed::Skip, Duration::from_secs(3_600)),
        (Missed::CatchUpOnce, Duration::ZERO),
    ] {
        let store = Arc::new(MemoryJobStore::new());
        let kit = Kit::builder()
            .start_at(at("2026-06-01T00:00:00Z"))
            .start(reporter(store.clone(), missed))
            .await
            .unwrap();
        kit.reply().await.assert_text("report");
        kit.stop().await.unwrap();
        assert_eq!(
            store.last_run("report").await.unwrap().map(iso).as_deref(),
            Some("2026-06-01T01:00:00Z")
        );

        // Down for three hours: two runs missed.
        let kit = Kit::builder()
            .start_at(at("2026-06-01T04:00:00Z"))
            .start(reporter(store.clone(), missed))
            .await
            .unwrap();
        kit.reply().await.assert_text("report");
        assert_eq!(kit.elapsed(), first_after, "{missed:?}");
        kit.reply().await.assert_text("report");
        assert_eq!(
            kit.elapsed(),
            first_after + Duration::from_secs(3_600),
            "{missed:?}: then on schedule, one at a time"
        );
        kit.stop().await.unwrap();
    }
}

#[tokio::test]
async fn jitter_delays_each_run_by_up_to_the_amount_given_without_drift() {
    let job = Job::new(
        "jittery",
        Schedule::every(Duration::from_secs(60)),
        |ctx: Ctx| async move {
            Ok::<_, lag_bot::Error>(Reply::say("now").in_room(general(&ctx).await?))
        },
    )
    .jitter(Duration::from_secs(30));
    let kit = Kit::start(|lag| Ok(lag.build()?.job(job))).await.unwrap();
    // Run k is due at k minutes and starts up to 30 s after: jitter does not pile up.
    for k in 1..=5 {
        kit.reply().await.assert_text("now");
        let due = Duration::from_secs(60 * k);
        let late = kit
            .elapsed()
            .checked_sub(due)
            .expect("never before it is due");
        assert!(late <= Duration::from_secs(30), "run {k} was {late:?} late");
    }
    kit.stop().await.unwrap();
}
