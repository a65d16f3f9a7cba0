//! The game-stats example (`examples/game_stats`) against a local Lag and its local stats
//! service over loopback HTTP, in simulated time: announcements, `!stats` and `!top`, a
//! restart that neither repeats nor misses an announcement, and the service failing and
//! recovering.

#[allow(dead_code)]
#[path = "../../examples/game_stats/api.rs"]
mod api;
#[allow(dead_code)]
#[path = "../../examples/game_stats/robot.rs"]
mod robot;
#[allow(dead_code)]
#[path = "../../examples/game_stats/service.rs"]
mod service;
#[allow(dead_code)]
#[path = "../../examples/game_stats/store.rs"]
mod store;

use std::path::Path;
use std::time::{Duration, SystemTime};

use lag_bot::testing::Kit;
use robot::Config;
use service::{Fault, StatsService};

use crate::support::eventually;

/// The poll period in these tests.
const EVERY: Duration = Duration::from_secs(30);

const KEY: &str = "stats-key-1";

/// The robot's configuration for `service`, remembering in `database`.
fn config(service: &StatsService, database: &Path) -> Config {
    Config {
        key: Some(KEY.to_owned()),
        every: EVERY,
        timeout: Duration::from_millis(300),
        database: database.to_owned(),
        ..Config::new(service.url())
    }
}

/// A kit running the robot for `service` and `database`, from `start_at` when given.
async fn kit(service: &StatsService, database: &Path, start_at: Option<SystemTime>) -> Kit {
    let config = config(service, database);
    let mut builder = Kit::builder();
    if let Some(at) = start_at {
        builder = builder.start_at(at);
    }
    builder
        .start(move |lag| robot::robot(lag, config))
        .await
        .unwrap()
}

/// Lets simulated time run to the next poll and waits until it is over: the service has
/// answered both of its requests (matches and milestones) and the robot has finished.
async fn next_poll(kit: &Kit, service: &StatsService) {
    // A poll under way finishes first; then the poll job is what waits on the clock.
    kit.settle().await;
    let clock = kit
        .sim()
        .config()
        .clock
        .clone()
        .expect("the kit's simulated clock");
    let until = eventually("the poll job to wait for its time", || clock.until_next()).await;
    assert!(until <= EVERY, "the next poll is {until:?} away");
    let before = service.requests();
    kit.advance(until).await;
    eventually("the robot to poll the stats service", || {
        (service.requests() >= before + 2).then_some(())
    })
    .await;
    kit.settle().await;
}

fn texts(messages: &[lag_bot::testing::Message]) -> Vec<String> {
    messages.iter().map(|m| m.text().to_owned()).collect()
}

#[tokio::test]
async fn announces_new_matches_and_milestones_and_answers_stats_and_top() {
    let service = StatsService::start(Some(KEY.to_owned())).await.unwrap();
    // History from before the robot's first start: not announced.
    service.finish_match("Harbor", &[("mira", 12), ("zed", 9)]);
    let dir = tempfile::tempdir().unwrap();
    let kit = kit(&service, &dir.path().join("stats.db"), None).await;

    service.finish_match("Dust", &[("zed", 21), ("mira", 17)]);
    kit.reply()
        .await
        .assert_text("Match #2 on Dust: **zed** wins (zed 21, mira 17).");
    assert_eq!(
        kit.elapsed(),
        EVERY,
        "the first poll, one period after the start"
    );
    kit.reply()
        .await
        .assert_text("Milestone: **zed** reached first win!");
    kit.no_reply().await;

    service.finish_match("Glacier", &[("kofi", 8), ("zed", 8)]);
    kit.reply()
        .await
        .assert_text("Match #3 on Glacier: a draw (kofi 8, zed 8).");
    assert_eq!(kit.elapsed(), EVERY * 2);
    next_poll(&kit, &service).await;
    kit.no_reply().await;

    let alice = kit.member("alice");
    alice.say("!stats ZED");
    kit.reply()
        .await
        .assert_text("**zed**: rating 1500, 1 wins, 1 losses, 50% won.");
    alice.say("!stats kofi");
    kit.reply()
        .await
        .assert_text("**kofi**: rating 1500, 0 wins, 0 losses.");
    alice.say("!stats nobody");
    kit.reply()
        .await
        .assert_text("I know no player called \"nobody\".");
    alice.say("!top 2");
    kit.reply().await.assert_text(
        "Top 2 by rating:\n1. **kofi**: rating 1500, 0 wins, 0 losses\n\
         2. **mira**: rating 1500, 1 wins, 1 losses, 50% won",
    );
    alice.say("!top 50");
    kit.reply().await.assert_text("I can show 1 to 20 players.");
    alice.say("!top");
    kit.reply().await.assert_like(
        "Top 3 by rating:\n1. **kofi**: *\n2. **mira**: *\n3. **zed**: rating 1500, 1 wins, 1 losses, 50% won",
    );
    alice.say("!stats");
    kit.reply().await.assert_like("*Usage: !stats <player>*");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_restart_announces_what_happened_while_down_and_nothing_twice() {
    let service = StatsService::start(Some(KEY.to_owned())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("stats.db");

    let first = kit(&service, &database, None).await;
    service.finish_match("Dust", &[("zed", 21), ("mira", 17)]);
    first
        .reply()
        .await
        .assert_text("Match #1 on Dust: **zed** wins (zed 21, mira 17).");
    first
        .reply()
        .await
        .assert_text("Milestone: **zed** reached first win!");
    let stopped_at = first.now();
    first.stop().await.unwrap();

    // While the robot is down: two matches and a milestone.
    service.finish_match("Harbor", &[("mira", 5), ("zed", 3)]);
    service.finish_match("Glacier", &[("zed", 7), ("kofi", 2)]);
    service.add_milestone("zed", "1500 rating");

    // Back an hour later, in a new world (a new Lag server, new room ids): the announcements
    // key on the stats service's ids, kept in the same database.
    let second = kit(
        &service,
        &database,
        Some(stopped_at + Duration::from_secs(3_600)),
    )
    .await;
    second
        .reply()
        .await
        .assert_text("Match #2 on Harbor: **mira** wins (mira 5, zed 3).");
    assert_eq!(
        second.elapsed(),
        Duration::ZERO,
        "missed polls are caught up at start"
    );
    let rest = second.replies().await;
    assert_eq!(
        texts(&rest),
        [
            "Match #3 on Glacier: **zed** wins (zed 7, kofi 2).",
            "Milestone: **mira** reached first win!",
            "Milestone: **zed** reached 1500 rating!",
        ]
    );
    next_poll(&second, &service).await;
    second.no_reply().await;
    assert!(second.errors().is_empty(), "{:?}", second.errors());
    second.stop().await.unwrap();
}

#[tokio::test]
async fn a_failing_stats_service_is_reported_and_retried_on_the_next_poll() {
    let service = StatsService::start(Some(KEY.to_owned())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kit = kit(&service, &dir.path().join("stats.db"), None).await;
    let alice = kit.member("alice");

    let faults = [
        (
            Fault::ServerError,
            "the stats service answered status 500",
            "it answered with an error",
        ),
        (
            Fault::Hang,
            "the stats service did not answer in time",
            "it did not answer in time",
        ),
        (
            Fault::Malformed,
            "the stats service's answer is malformed",
            "it answered with an error",
        ),
    ];
    for (round, (fault, logged, answered)) in faults.into_iter().enumerate() {
        service.fail(fault);
        service.finish_match("Dust", &[("zed", 10), ("mira", 4)]);
        next_poll(&kit, &service).await;
        kit.no_reply().await;
        let errors = kit.errors();
        let last = errors.last().map(String::as_str).unwrap_or_default();
        assert!(
            last.starts_with("`poll_stats` failed:") && last.contains(logged),
            "{fault:?}: {errors:?}"
        );
        assert_eq!(errors.len(), round + 1, "one error per failed poll");

        alice.say("!stats zed");
        kit.reply().await.assert_text(&format!(
            "I cannot ask the stats service right now ({answered}); try again in a minute."
        ));

        service.fail(Fault::None);
        next_poll(&kit, &service).await;
        let said = texts(&kit.replies().await);
        let id = round + 1;
        let mut expected = vec![format!(
            "Match #{id} on Dust: **zed** wins (zed 10, mira 4)."
        )];
        if id == 1 {
            expected.push("Milestone: **zed** reached first win!".to_owned());
        }
        assert_eq!(said, expected, "after {fault:?}, announced once");
    }
    next_poll(&kit, &service).await;
    kit.no_reply().await;
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_stats_url_or_database_stops_the_robot_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new("ftp://stats.example.com/");
    config.database = dir.path().join("stats.db");
    let error = Kit::start(move |lag| robot::robot(lag, config))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &lag_bot::ErrorKind::Config);
    assert!(
        error.message().contains("must be an http or https URL"),
        "{error}"
    );

    let mut config = Config::new("http://127.0.0.1:9/");
    config.database = dir.path().to_owned(); // a directory, not a database file
    let error = Kit::start(move |lag| robot::robot(lag, config))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), &lag_bot::ErrorKind::Config);
    assert!(
        error.message().starts_with("cannot open the database"),
        "{error}"
    );
}
