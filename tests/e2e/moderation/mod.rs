//! The moderation example (`examples/moderation`), end to end on the test kit: every rule kind,
//! both removal paths (Lag's 403 and the local Lag's `manage_messages` extension), strikes
//! across a restart and their expiry in simulated time, the moderators' `!mod` group (its
//! denial to members, and `pardon-all` confirmed and declined), and a flood.
//!
//! The robot's own clock is a [`TestClock`] the tests move: strike expiry, warning windows
//! and the mod-log summaries' waits follow it.
//!
//! Every scenario that keeps strikes runs twice, on SQLite and on PostgreSQL
//! ([`database::on_both_databases`]): `moderation::<scenario>::sqlite` always, and
//! `moderation::<scenario>::postgres` when the tests run with `--ignored` and
//! `LAG_TEST_POSTGRES_URL` set (see the README's Testing section).

mod database;
mod rules_file;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lag_bot::Robot;
use lag_bot::testing::Kit;
use lag_bot::transport::{SseConfig, Transport};
use lag_sim::Permission;
use tokio::sync::watch;

use crate::support::exported;

// The example's robot, shared with its `main`; the tests do not use every item of it.
#[allow(dead_code)]
#[path = "../../../examples/moderation/robot/mod.rs"]
mod robot;

use robot::clock::{Clock, Sleep};
use robot::rules::RuleSet;
use robot::store::{Database, NewEntry, Store};
use robot::{Moderation, Setup};

/// The robot's clock in a test: it stands still until the test moves it, so a flood posted in
/// a second of real time happens at one moment for the robot, as it would in production, and
/// expiry takes a call instead of thirty days. (lag-bot's own timers follow the kit's simulated
/// time, which the kit moves by itself whenever the robot waits on it.)
struct TestClock {
    start: SystemTime,
    elapsed: watch::Sender<Duration>,
}

impl TestClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: SystemTime::now(),
            elapsed: watch::Sender::new(Duration::ZERO),
        })
    }

    /// Moves the robot's time forward by `by`, waking what waits on it.
    fn advance(&self, by: Duration) {
        self.elapsed.send_modify(|elapsed| *elapsed += by);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        self.start + *self.elapsed.borrow()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut elapsed = self.elapsed.subscribe();
        let deadline = *elapsed.borrow() + duration;
        Box::pin(async move {
            while *elapsed.borrow_and_update() < deadline {
                if elapsed.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        })
    }
}

/// A kit running the moderation robot with `rules` (the built-in ones for `None`) on
/// `database`.
async fn start(rules: Option<&str>, database: &Database) -> (Kit, Arc<Moderation>, Arc<TestClock>) {
    let rules = match rules {
        Some(text) => RuleSet::parse(text, "test rules").unwrap(),
        None => RuleSet::default_rules().unwrap(),
    };
    let clock = TestClock::new();
    let moderation = Moderation::new(Setup {
        rules,
        database: database.clone(),
        clock: Arc::clone(&clock) as Arc<dyn Clock>,
    })
    .await
    .unwrap();
    let kit = Kit::start({
        let moderation = Arc::clone(&moderation);
        move |lag| robot::robot(lag, moderation)
    })
    .await
    .unwrap();
    (kit, moderation, clock)
}

database::on_both_databases!(
    every_rule_kind_is_enforced_and_recorded,
    links_can_be_allowed_only_and_edits_are_checked,
    when_lag_refuses_the_deletion_the_robot_warns_and_reports,
    with_the_manage_messages_extension_the_robot_deletes,
    the_store_keeps_strikes_across_openings_and_counts_them_until_they_expire,
    two_stores_count_a_members_strikes_one_change_at_a_time,
    strikes_survive_a_restart_of_the_robot,
    strikes_expire_in_simulated_time,
    reaching_a_threshold_calls_the_admins_in,
    moderators_commands_and_their_denial_to_members,
    mod_lists_its_subcommands_and_needs_a_count_to_pardon_some,
    pardon_all_lifts_every_strike_once_confirmed,
    pardon_all_answered_no_keeps_the_strikes,
    a_flood_of_200_violations_is_recorded_and_answered_within_lags_limits,
);

/// The newest audit entry's rule, action and whether Lag accepted it, once the robot has
/// finished with every event.
async fn last_audit(kit: &Kit, moderation: &Moderation) -> (String, String, Option<bool>) {
    kit.settle().await;
    let entry = moderation.store.audit(1).await.unwrap().remove(0);
    (entry.rule, entry.action, entry.accepted)
}

fn granted_deletion() -> Vec<Permission> {
    Permission::LAG
        .iter()
        .copied()
        .chain([Permission::ManageMessages])
        .collect()
}

// ----- every rule kind -------------------------------------------------------------------

async fn every_rule_kind_is_enforced_and_recorded(database: Database) {
    let (kit, moderation, clock) = start(None, &database).await;
    let carol = kit.member("carol");
    kit.join("dave");

    // Words, seen through a disguise; the first violation is warned in a thread.
    let insult = carol.say("you are such an 1d10t");
    kit.reply()
        .await
        .assert_reply_to(&insult)
        .assert_contains("the rule `insults`");
    assert_eq!(last_audit(&kit, &moderation).await.0, "insults");

    // Each of the other kinds, a warning window apart so that every one is warned.
    let cases: [(&str, &str); 3] = [
        ("get FREE nitro here", "free-nitro-scams"),
        ("look https://grabify.link/abc", "bad-links"),
        ("@alice @bob @carol @dave @Helper hi all", "mention-spam"),
    ];
    for (text, rule) in cases {
        clock.advance(Duration::from_secs(61));
        let message = carol.say(text);
        kit.reply()
            .await
            .assert_reply_to(&message)
            .assert_contains(&format!("the rule `{rule}`"));
        assert_eq!(last_audit(&kit, &moderation).await.0, rule, "{text}");
    }

    // Flooding: the seventh message within ten seconds.
    clock.advance(Duration::from_secs(61));
    for n in 1..=6 {
        carol.say(&format!("message number {n}"));
    }
    kit.no_reply().await;
    let seventh = carol.say("message number 7");
    kit.reply()
        .await
        .assert_reply_to(&seventh)
        .assert_contains("the rule `flooding` (7 messages in 10s)");

    // Repeats: the same text a third time within two minutes (punctuation and case aside).
    clock.advance(Duration::from_secs(61));
    carol.say("buy my stuff");
    carol.say("Buy my stuff!");
    kit.no_reply().await;
    let third = carol.say("buy MY stuff");
    kit.reply()
        .await
        .assert_reply_to(&third)
        .assert_contains("the rule `repeats`");
    let (rule, action, accepted) = last_audit(&kit, &moderation).await;
    assert_eq!(
        (rule.as_str(), accepted),
        ("repeats", Some(true)),
        "{action}"
    );

    // The owner and admins are not moderated; plain talk is not either.
    kit.member("bob").say("you idiot");
    carol.say("what a nice day");
    kit.no_reply().await;
    assert_eq!(moderation.store.audit_count(None).await.unwrap(), 6);
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

async fn links_can_be_allowed_only_and_edits_are_checked(database: Database) {
    let rules = r#"
        [[rule]]
        name = "off-site"
        kind = "links"
        allow = ["example.com"]
        action = "warn"
    "#;
    let (kit, moderation, clock) = start(Some(rules), &database).await;
    let carol = kit.member("carol");

    carol.say("docs at https://docs.example.com/guide and www.example.com");
    kit.no_reply().await;
    let elsewhere = carol.say("or see evil.example.net/page");
    kit.reply()
        .await
        .assert_reply_to(&elsewhere)
        .assert_contains("a link to evil.example.net, which is not allowed here");

    clock.advance(Duration::from_secs(61));
    let innocent = carol.say("nothing to see");
    kit.no_reply().await;
    carol.edit(&innocent, "now see http://spam.test/x");
    kit.reply()
        .await
        .assert_reply_to(&innocent)
        .assert_contains("spam.test");
    kit.settle().await;
    let entries = moderation.store.audit(2).await.unwrap();
    assert!(entries.iter().all(|e| e.rule == "off-site"), "{entries:?}");
    kit.stop().await.unwrap();
}

// ----- removal: Lag's refusal and the extension ------------------------------------------

async fn when_lag_refuses_the_deletion_the_robot_warns_and_reports(database: Database) {
    let (kit, moderation, _clock) = start(None, &database).await;
    let carol = kit.member("carol");

    let link = carol.say("click bit.ly/totally-safe");
    kit.reply()
        .await
        .assert_reply_to(&link)
        .assert_contains("I can't remove it, so the moderators have been told");
    kit.reply_in("mod-log")
        .await
        .assert_contains("carol in #general broke `bad-links`: could not remove: Lag refused")
        .assert_contains("> click bit.ly/totally-safe");
    let (_, action, accepted) = last_audit(&kit, &moderation).await;
    assert_eq!(accepted, Some(false), "{action}");
    assert!(
        kit.sim()
            .messages(&kit.demo().general)
            .iter()
            .any(|m| m.id == link.id()),
        "the message is still there"
    );
    kit.stop().await.unwrap();
}

async fn with_the_manage_messages_extension_the_robot_deletes(database: Database) {
    let (kit, moderation, _clock) = start(None, &database).await;
    kit.sim()
        .set_permissions(&kit.demo().robot.id, granted_deletion())
        .unwrap();
    let carol = kit.member("carol");

    let link = carol.say("click bit.ly/totally-safe");
    kit.deleted(&link).await;
    let notice = kit.reply().await;
    notice.assert_contains("@carol, I removed your message: it broke the rule `bad-links`");
    assert_eq!(
        notice.reply_to(),
        None,
        "the message it would thread to is gone"
    );
    kit.reply_in("mod-log")
        .await
        .assert_contains("broke `bad-links`: removed");
    let (_, action, accepted) = last_audit(&kit, &moderation).await;
    assert_eq!(accepted, Some(true), "{action}");
    kit.stop().await.unwrap();
}

// ----- strikes ---------------------------------------------------------------------------

/// carol's violation of `insults` at `at`, as the store is given it.
fn insult(at: SystemTime) -> NewEntry {
    NewEntry {
        at,
        rule: "insults".into(),
        member_id: "usr_1".into(),
        member_name: "carol".into(),
        room_id: "room_1".into(),
        message_id: "msg_1".into(),
        excerpt: "you idiot".into(),
        edited: false,
    }
}

async fn the_store_keeps_strikes_across_openings_and_counts_them_until_they_expire(
    database: Database,
) {
    let now = SystemTime::now();
    {
        let store = Store::open(&database).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 2);
        let entry = insult(now);
        let day = Duration::from_secs(24 * 3600);
        let (_, totals) = store
            .record(entry.clone(), "strike".into(), Some((2, day)))
            .await
            .unwrap();
        assert_eq!(totals.map(|t| (t.before, t.after)), Some((0, 2)));
        let (_, totals) = store
            .record(entry, "strike".into(), Some((1, day * 10)))
            .await
            .unwrap();
        assert_eq!(totals.map(|t| (t.before, t.after)), Some((2, 3)));
    }
    let store = Store::open(&database).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        2,
        "not migrated twice"
    );
    let weights =
        |strikes: Vec<robot::store::Strike>| strikes.iter().map(|s| s.weight).sum::<u32>();
    assert_eq!(weights(store.strikes("usr_1", now).await.unwrap()), 3);
    let later = now + Duration::from_secs(2 * 24 * 3600);
    assert_eq!(
        weights(store.strikes("usr_1", later).await.unwrap()),
        1,
        "the 2 expired"
    );
    assert_eq!(store.pardon("usr_1", Some(1), later).await.unwrap(), 1);
    assert_eq!(weights(store.strikes("usr_1", later).await.unwrap()), 0);
    assert_eq!(store.audit_count(Some("usr_1")).await.unwrap(), 2);
}

#[tokio::test]
async fn an_sqlite_file_from_an_earlier_build_is_refused_with_the_reason() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("old.sqlite3");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 2)
        .unwrap();
    let err = Store::open(&Database::Sqlite(path)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("made by an earlier build of this robot"),
        "{err}"
    );
}

/// Two robots sharing one database (replicas) give a member strikes at the same moment: each
/// counts from the total the other left, never both from the same one.
async fn two_stores_count_a_members_strikes_one_change_at_a_time(database: Database) {
    let stores = [
        Store::open(&database).await.unwrap(),
        Store::open(&database).await.unwrap(),
    ];
    let entry = insult(SystemTime::now());
    let hour = Duration::from_secs(3600);
    let records =
        (0..20).map(|n| stores[n % 2].record(entry.clone(), "strike".into(), Some((1, hour))));
    let mut before: Vec<u32> = futures_util::future::join_all(records)
        .await
        .into_iter()
        .map(|recorded| {
            let totals = recorded.unwrap().1.unwrap();
            assert_eq!(totals.after, totals.before + 1);
            totals.before
        })
        .collect();
    before.sort_unstable();
    assert_eq!(before, (0..20).collect::<Vec<u32>>());
}

async fn strikes_survive_a_restart_of_the_robot(database: Database) {
    let (kit, _first, _clock) = start(None, &database).await;
    kit.member("carol").say("moron");
    kit.reply()
        .await
        .assert_contains("You have 1 active strike(s)");

    // Stop the robot, keep the world: the same Lag robot starts again, as a new process
    // would, with a new state over the same database.
    kit.handle().shutdown_handle().trigger();
    kit.sim().cut_streams();
    while kit.sim().open_streams() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = Moderation::new(Setup {
        rules: RuleSet::default_rules().unwrap(),
        database: database.clone(),
        clock: Arc::new(robot::clock::SystemClock),
    })
    .await
    .unwrap();
    let lag = Robot::builder()
        .key(kit.demo().robot.key.clone())
        .base_url(kit.sim().base_url())
        .transport(Transport::Sse(SseConfig::new()));
    let restarted = robot::robot(lag, second).unwrap().start().await.unwrap();
    while kit.sim().open_streams() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    kit.member("bob").say("!mod strikes @carol");
    kit.reply()
        .await
        .assert_like("carol has 1 active strike(s):\n- 1 x `insults`, expires in *");
    restarted.shutdown().await.unwrap();
    kit.stop().await.ok();
}

async fn strikes_expire_in_simulated_time(database: Database) {
    let (kit, _moderation, clock) = start(None, &database).await;
    let carol = kit.member("carol");
    let bob = kit.member("bob");
    carol.say("get free nitro now");
    kit.reply()
        .await
        .assert_contains("You have 2 active strike(s)");

    clock.advance(Duration::from_secs(29 * 24 * 3600));
    bob.say("!mod strikes @carol");
    kit.reply()
        .await
        .assert_like("carol has 2 active strike(s):\n- 2 x `free-nitro-scams`, expires in 1d*");

    clock.advance(Duration::from_secs(24 * 3600 + 1));
    bob.say("!mod strikes @carol");
    kit.reply()
        .await
        .assert_text("carol has no active strikes.");
    kit.stop().await.unwrap();
}

async fn reaching_a_threshold_calls_the_admins_in(database: Database) {
    let (kit, _moderation, clock) = start(None, &database).await;
    let carol = kit.member("carol");
    carol.say("free gift cards for all");
    carol.say("you loser");
    // The first violation is reported at once; the second, with the escalation, waits for
    // the end of the report window.
    kit.reply_in("mod-log")
        .await
        .assert_contains("carol in #general broke `free-nitro-scams`");
    kit.no_reply_in("mod-log").await;
    clock.advance(Duration::from_secs(30));
    let mod_log = kit.reply_in("mod-log").await.text().to_owned();
    assert!(
        mod_log.contains(
            "**Escalation:** @alice @bob: carol has reached 3 active strikes (`!mod strikes @carol`"
        ),
        "{mod_log}"
    );
    kit.stop().await.unwrap();
}

// ----- moderators' commands --------------------------------------------------------------

async fn moderators_commands_and_their_denial_to_members(database: Database) {
    let (kit, _moderation, clock) = start(None, &database).await;
    let carol = kit.member("carol");
    let bob = kit.member("bob");
    let alice = kit.member("alice");

    for command in [
        "!mod strikes @bob",
        "!mod pardon @carol 1",
        "!mod pardon-all @carol",
        "!mod rules",
        "!mod modlog",
    ] {
        carol.say(command);
        let trigger = command.split(' ').take(2).collect::<Vec<_>>().join(" ");
        kit.reply()
            .await
            .assert_text(&format!("You can't use `{trigger}`."));
    }

    carol.say("idiot");
    kit.reply().await.assert_contains("1 active strike(s)");
    clock.advance(Duration::from_secs(61));
    carol.say("free skins");
    kit.reply().await.assert_contains("3 active strike(s)");

    bob.say("!mod pardon @carol 2");
    kit.reply()
        .await
        .assert_text("Pardoned 2 strike(s) of carol; 1 left.");
    alice.say("!mod strikes @carol");
    kit.reply()
        .await
        .assert_like("carol has 1 active strike(s):\n- 1 x `insults`, expires in *");
    bob.say("!mod modlog 1");
    kit.reply().await.assert_like(
        "The latest 1 of 2 audit entries, newest first:\n#2 carol `free-nitro-scams`: *",
    );
    alice.say("!mod rules");
    kit.reply()
        .await
        .assert_contains("Moderation rules (the built-in rules):\n1. **insults**");
    kit.stop().await.unwrap();
}

async fn mod_lists_its_subcommands_and_needs_a_count_to_pardon_some(database: Database) {
    let (kit, _moderation, _clock) = start(None, &database).await;
    let bob = kit.member("bob");
    bob.say("!help mod");
    kit.reply().await.assert_text(
        "`!mod <subcommand>`\nModeration tools for the server's owner and admins.\n\
         Subcommands:\n\
         `!mod modlog [count]` - Shows the latest entries of the audit log: `!mod modlog` for 10, `!mod modlog 25` for more.\n\
         `!mod pardon <member> <count>` - Lifts some of a member's strikes, newest first: `!mod pardon @member 2` for two.\n\
         `!mod pardon-all <member>` - Lifts all of a member's strikes, once you confirm: `!mod pardon-all @member`.\n\
         `!mod rules` - Shows the moderation rules in force.\n\
         `!mod strikes <member>` - Lists a member's active strikes: `!mod strikes @member`.",
    );
    bob.say("!mod pardon @carol");
    kit.reply()
        .await
        .assert_like("*\nUsage: !mod pardon <member> <count>");
    bob.say("!mod pardon @carol 0");
    kit.reply()
        .await
        .assert_text("Pardon at least one strike (`!mod pardon-all` for all of them).");
    bob.say("!mod pardon-all @carol");
    kit.reply()
        .await
        .assert_text("carol has no active strikes to pardon.");
    kit.no_reply().await;
    kit.stop().await.unwrap();
}

/// Gives carol 3 strikes (an insult, then a scam a minute later) and waits for her warnings.
async fn three_strikes(kit: &Kit, clock: &TestClock) {
    let carol = kit.member("carol");
    carol.say("idiot");
    kit.reply().await.assert_contains("1 active strike(s)");
    clock.advance(Duration::from_secs(61));
    carol.say("free skins");
    kit.reply().await.assert_contains("3 active strike(s)");
}

async fn pardon_all_lifts_every_strike_once_confirmed(database: Database) {
    let (kit, _moderation, clock) = start(None, &database).await;
    three_strikes(&kit, &clock).await;
    let bob = kit.member("bob");
    bob.say("!mod pardon-all @carol");
    kit.reply()
        .await
        .assert_text("Pardon all 3 strike(s) of @carol? (yes/no)");
    bob.say("perhaps");
    kit.reply()
        .await
        .assert_like("`perhaps` is not yes or no\nPardon all 3 strike(s) of @carol? (yes/no)");
    bob.say("yes");
    kit.reply()
        .await
        .assert_text("Pardoned all 3 strike(s) of carol.");
    bob.say("!mod strikes @carol");
    kit.reply()
        .await
        .assert_text("carol has no active strikes.");
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

async fn pardon_all_answered_no_keeps_the_strikes(database: Database) {
    let (kit, _moderation, clock) = start(None, &database).await;
    three_strikes(&kit, &clock).await;
    let alice = kit.member("alice");
    alice.say("!mod pardon-all @carol");
    kit.reply()
        .await
        .assert_text("Pardon all 3 strike(s) of @carol? (yes/no)");
    // Only alice answers her question: carol's "yes" is an ordinary message.
    kit.member("carol").say("yes");
    alice.say("no");
    kit.reply()
        .await
        .assert_text("Nothing pardoned; carol keeps 3 strike(s).");
    alice.say("!mod strikes @carol");
    kit.reply()
        .await
        .assert_like("carol has 3 active strike(s):\n*");
    kit.no_reply().await;
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    kit.stop().await.unwrap();
}

// ----- a flood ---------------------------------------------------------------------------

/// How many violations a mod-log summary covers.
fn violations_in(summary: &str) -> u64 {
    if summary.contains("**1 violation:**") {
        return 1;
    }
    summary
        .split("**")
        .find_map(|part| part.strip_suffix(" violations")?.parse().ok())
        .unwrap_or(0)
}

async fn a_flood_of_200_violations_is_recorded_and_answered_within_lags_limits(database: Database) {
    let (kit, moderation, clock) = start(None, &database).await;
    let started = std::time::Instant::now();
    let members = [
        kit.member("carol"),
        kit.join("dave"),
        kit.join("erin"),
        kit.join("frank"),
    ];
    for n in 0..200 {
        members[n % members.len()].say(&format!("you idiot number {n}"));
    }

    // Every violation is recorded.
    kit.settle().await;
    assert_eq!(moderation.store.audit_count(None).await.unwrap(), 200);

    // Every one is reported, in a few summaries.
    let mut reported = 0;
    let mut summaries = 0;
    while reported < 200 {
        if summaries > 0 {
            clock.advance(Duration::from_secs(30));
        }
        let summary = kit.reply_in("mod-log").await;
        reported += violations_in(summary.text());
        summaries += 1;
    }
    assert_eq!(reported, 200);
    kit.no_reply_in("mod-log").await;
    let warnings = kit.replies_in("general").await.len();
    let simulated = kit.elapsed();

    // One warning per member; the first report at once, then one summary per window.
    assert_eq!(warnings, 4);
    assert!(summaries <= 3, "{summaries} summaries");
    assert_eq!(
        exported(kit.handle().metrics(), "lag_bot_rate_limited_total"),
        Some(0.0),
        "Lag never answered 429"
    );
    assert!(kit.errors().is_empty(), "{:?}", kit.errors());
    eprintln!(
        "flood of 200: {warnings} warnings and {summaries} mod-log summaries posted, \
         {simulated:?} of lag-bot's simulated time (pacing), {:?} of real time",
        started.elapsed()
    );
    kit.stop().await.unwrap();
}
