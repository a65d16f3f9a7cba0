//! The digest example (`examples/digest`) against a local Lag over loopback HTTP, in
//! simulated time: a day of 2,500 messages read through the paginated history and summarised
//! at the configured time, within Lag's rate limits; `!digest` on demand; and the summary's
//! rules on hand-made messages.

#[allow(dead_code)]
#[path = "../../examples/digest/robot.rs"]
mod robot;
#[allow(dead_code)]
#[path = "../../examples/digest/summary.rs"]
mod summary;

use std::collections::BTreeMap;
use std::time::Duration;

use lag_bot::model::Message;
use lag_bot::testing::Kit;
use robot::Config;
use serde_json::json;
use summary::Tally;

use crate::support::{exported, metric};

/// A configuration whose digest falls about twelve hours from now, in UTC: Lag writes real
/// times on messages, so the messages a test posts now are well inside the digest's day.
fn in_twelve_hours() -> Config {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(12);
    Config {
        at: at.strftime("%H:%M").to_string(),
        ..Config::new()
    }
}

fn requests(kit: &Kit) -> f64 {
    exported(kit.handle().metrics(), "lag_bot_limiter_wait_seconds_count").unwrap_or(0.0)
}

fn rate_limited(kit: &Kit) -> f64 {
    metric(kit.handle().metrics(), "lag_bot_rate_limited_total")
}

#[tokio::test]
async fn a_day_of_2500_messages_is_summarised_at_the_set_time_within_the_rate_limits() {
    let config = in_twelve_hours();
    let at = config.at.clone();
    let kit = Kit::builder()
        .patience(Duration::from_secs(60))
        .start(move |lag| robot::robot(lag, config))
        .await
        .unwrap();
    let demo = kit.demo().clone();
    for i in 0..2_500 {
        let (who, text) = match i % 10 {
            0..=4 => (&demo.alice, "Deploy looks green".to_owned()),
            5..=7 => (&demo.bob, "the deploy pipeline is green".to_owned()),
            _ => (
                &demo.carol,
                format!("coffee first? https://example.com/build/{}", (i / 10) % 3),
            ),
        };
        kit.sim().post(who, &demo.general, &text).unwrap();
    }
    // The busiest hour, by the times Lag wrote (UTC).
    let mut hours: BTreeMap<String, usize> = BTreeMap::new();
    for message in kit.sim().messages(&demo.general) {
        *hours
            .entry(message.created_at[11..13].to_owned())
            .or_default() += 1;
    }
    let (hour, most) = hours
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(hour, n)| (hour.parse::<u32>().unwrap(), *n))
        .unwrap();

    kit.settle().await;
    let before = requests(&kit);
    let started = std::time::Instant::now();
    let digest = kit.reply().await;
    let wall = started.elapsed();
    digest.assert_like(&format!(
        "**Daily digest of #general**, the 24 hours to * (UTC): 2500 messages from 3 members.\n\
         Most active: Alice 1250, Bob 750, Carol 500\n\
         Busiest hour: {hour:02}:00 to {:02}:00, {most} messages\n\
         Top words: deploy 2000, green 2000, looks 1250, pipeline 750, coffee 500, first 500\n\
         Links shared: https://example.com/build/0 (Carol), https://example.com/build/1 (Carol), \
         https://example.com/build/2 (Carol)",
        (hour + 1) % 24
    ));
    let now = jiff::Timestamp::try_from(kit.now()).unwrap().to_string();
    assert!(
        now.contains(&format!("T{at}:00")),
        "posted at {now}, set for {at} UTC"
    );
    let made = requests(&kit) - before;
    // The room's list, 25 pages of 100 messages, and the digest itself.
    assert_eq!(made, 27.0, "requests for one digest");
    assert_eq!(rate_limited(&kit), 0.0);
    eprintln!("one digest of 2500 messages: {made} requests, {wall:?} of wall time");

    // Four more on demand, back to back: 135 requests in all, more than Lag allows in a
    // minute, so the client spaces them out instead of being refused.
    let alice = kit.member("alice");
    let from = kit.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..4 {
        alice.say("!digest");
    }
    let said = kit.replies().await;
    let wall = started.elapsed();
    assert_eq!(said.len(), 4);
    for reply in &said {
        reply
            .assert_like("**Daily digest of #general**, * (UTC): 2500 messages from 3 members.\n*");
    }
    let paced = kit.elapsed() - from;
    let made = requests(&kit) - before;
    assert_eq!(rate_limited(&kit), 0.0, "no request was refused");
    assert!(made > 100.0, "{made} requests");
    assert!(
        paced >= Duration::from_secs(1),
        "the requests over Lag's limit waited ({paced:?} of simulated time)"
    );
    eprintln!(
        "five digests of 2500 messages: {made} requests in {paced:?} of simulated time, \
         {wall:?} of wall time for the last four, 0 refused"
    );
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_quiet_room_gets_a_short_digest() {
    let kit = Kit::start(|lag| robot::robot(lag, Config::new()))
        .await
        .unwrap();
    let alice = kit.member("alice").in_room("welcome");
    alice.say("!digest");
    kit.reply().await.assert_like(
        "**Daily digest of #welcome**, the 24 hours to * (UTC): a quiet day, no messages.",
    );
    kit.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_time_or_zone_stops_the_robot_before_it_starts() {
    for (at, zone, says) in [
        ("25:00", "UTC", "is not a time of day like 09:00"),
        ("9h", "UTC", "is not a time of day like 09:00"),
        ("09:00", "Mars/Olympus_Mons", "unknown time zone"),
    ] {
        let config = Config {
            at: at.to_owned(),
            zone: zone.to_owned(),
            ..Config::new()
        };
        let error = Kit::start(move |lag| robot::robot(lag, config))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), &lag_bot::ErrorKind::Config);
        assert!(error.message().contains(says), "{at} {zone}: {error}");
    }
}

/// A message as Lag's history returns it.
fn message(user: &str, name: &str, at: &str, content: &str) -> Message {
    serde_json::from_value(json!({
        "id": format!("msg_{at}"), "roomId": "room_1", "userId": user, "username": name,
        "displayName": name, "content": content, "createdAt": at,
    }))
    .unwrap()
}

#[test]
fn the_summary_counts_members_hours_in_the_zone_words_and_links() {
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let mut tally = Tally::new(zone.clone());
    let day = [
        (
            "u1",
            "ana",
            "2026-06-01T06:10:00Z",
            "Release day! Ana's release notes: https://example.com/notes.",
        ),
        (
            "u2",
            "bo",
            "2026-06-01T06:20:00Z",
            "@ana the release notes look great, I'm reading https://example.com/notes",
        ),
        ("u2", "bo", "2026-06-01T06:59:59Z", "!deploy now"),
        (
            "u1",
            "ana",
            "2026-06-01T07:00:00Z",
            "Thanks! Deploying the release at 10 (see http://ci.example.com/job/7)",
        ),
        (
            "u3",
            "cy",
            "2026-06-01T08:30:00Z",
            "release release RELEASE",
        ),
    ];
    for (user, name, at, content) in day {
        tally.add(&message(user, name, at, content));
    }
    let mut robot = message("", "Helper", "2026-06-01T08:40:00Z", "release digest");
    robot.is_bot = true;
    tally.add(&robot);
    let summary = tally.finish();

    assert_eq!(
        summary.messages, 4,
        "the command and the robot's message are left out"
    );
    assert_eq!(
        summary.members,
        [
            ("ana".to_owned(), 2),
            ("bo".to_owned(), 1),
            ("cy".to_owned(), 1)
        ]
    );
    let (hour, n) = summary.busiest.clone().unwrap();
    assert_eq!(
        (hour.strftime("%H:%M").to_string(), n),
        ("08:00".to_owned(), 2),
        "Paris time, summer"
    );
    assert_eq!(
        summary.words.iter().take(3).cloned().collect::<Vec<_>>(),
        [
            ("release".to_owned(), 7),
            ("notes".to_owned(), 2),
            ("ana".to_owned(), 1)
        ]
    );
    for left_out in ["the", "i'm", "example", "https", "10", "deploy"] {
        assert!(
            summary.words.iter().all(|(word, _)| word != left_out),
            "{left_out}: {:?}",
            summary.words
        );
    }
    assert_eq!(
        summary.links,
        [
            ("https://example.com/notes".to_owned(), "ana".to_owned()),
            ("http://ci.example.com/job/7".to_owned(), "ana".to_owned()),
        ]
    );
    let end = "2026-06-02T07:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned(zone);
    assert_eq!(
        summary.render("general", &end, "Europe/Paris"),
        "**Daily digest of #general**, the 24 hours to Tue 2 Jun 09:00 (Europe/Paris): 4 messages from 3 members.\n\
         Most active: ana 2, bo 1, cy 1\n\
         Busiest hour: 08:00 to 09:00, 2 messages\n\
         Top words: release 7, notes 2, ana 1, day 1, deploying 1, great 1, look 1, reading 1, see 1, thanks 1\n\
         Links shared: https://example.com/notes (ana), http://ci.example.com/job/7 (ana)"
    );
}
