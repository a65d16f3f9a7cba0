//! Replicas of one robot sharing one Redis, over real HTTP against lag-sim: a delivery
//! redelivered to two replicas runs once, replicas flooding sends share one rate-limit budget
//! (no 429), cooldowns and the key-value store hold across replicas, and a scheduled job in
//! three replicas runs once per tick.
//!
//! These tests need a Redis server, so they are ignored by `cargo test --workspace`; run them
//! with `LAG_TEST_REDIS_URL=redis://127.0.0.1:6379/ cargo test --test redis_stores -- --ignored`
//! (README, Testing). Each test works under a random key prefix and deletes its keys at the end,
//! so they run in parallel on one server.

#[allow(
    dead_code,
    reason = "the end-to-end tests' shared helpers; this binary uses some"
)]
#[path = "e2e/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use lag_bot::client::{CallClass, RateLimiter, RateLimits, Settlement};
use lag_bot::command::{Cooldown, CooldownStore};
use lag_bot::job::{Job, JobStore, Schedule};
use lag_bot::kv::{Kv, KvStore};
use lag_bot::metrics::Metrics;
use lag_bot::redis::{
    Redis, RedisConfig, RedisCooldowns, RedisDedup, RedisJobStore, RedisKv, RedisLimiter,
};
use lag_bot::transport::{DedupStore, WebhookConfig};
use lag_bot::{Ctx, ErrorKind, Robot, RobotHandle, command};
use proptest::prelude::*;
use serde_json::json;

use support::{
    Seen, World, eventually, exported, now, scaled, secrets, sign, within, world, world_with,
};

/// The test server's URL; fails at once, naming the variable, when it is not set.
fn redis_url() -> String {
    std::env::var("LAG_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| {
            panic!("LAG_TEST_REDIS_URL is not set: point it at a Redis server, e.g. redis://127.0.0.1:6379/ (see README, Testing)")
        })
}

/// A key prefix of this test's own, and the configuration of a replica using it.
struct Space {
    prefix: String,
}

impl Space {
    /// A fresh prefix on the test server, checked reachable.
    async fn new() -> Self {
        let space = Self {
            prefix: format!("lag-bot-test:{:016x}", rand::random::<u64>()),
        };
        let redis = space.redis();
        if let Err(err) = within("Redis to answer", redis.ping()).await {
            panic!(
                "the Redis at LAG_TEST_REDIS_URL ({}) does not answer: {err}",
                redis_url()
            );
        }
        space
    }

    fn config(&self) -> RedisConfig {
        RedisConfig::new(redis_url())
            .expect("LAG_TEST_REDIS_URL is a Redis URL")
            .prefix(&self.prefix)
    }

    /// A connection of its own, as another process would have.
    fn redis(&self) -> Redis {
        Redis::open(self.config()).unwrap()
    }

    /// Deletes every key under the prefix.
    async fn clean(self) {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut connection)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(keys)
                .query_async::<()>(&mut connection)
                .await
                .unwrap();
        }
    }
}

/// A webhook replica of the demo robot on a free loopback port, sharing `space`. lag-sim's
/// robot uses long-poll, so every delivery is posted by hand.
fn replica(world: &World, space: &Space) -> Robot {
    let webhook = WebhookConfig::new(secrets(&world.demo.robot.secrets))
        .listen("127.0.0.1:0".parse().unwrap());
    world
        .builder(webhook)
        .redis(space.config())
        .build()
        .expect("replica builds")
}

/// Posts a signed delivery to a replica's receiver, as Lag does; answers the status.
async fn deliver(world: &World, handle: &RobotHandle, id: &str, body: &[u8]) -> u16 {
    let ts = now();
    let response = reqwest::Client::new()
        .post(format!("http://{}/webhook", handle.local_addr().unwrap()))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            sign(world.demo.robot.secret(), id, ts, body),
        )
        .body(body.to_vec())
        .send();
    within("the receiver's answer", response)
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn join(user: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "member.join",
        "serverId": "srv",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {"userId": user, "username": user},
    }))
    .unwrap()
}

async fn stop_all(handles: Vec<RobotHandle>) {
    for handle in handles {
        within("a replica to stop", handle.shutdown())
            .await
            .expect("the replica stops cleanly");
    }
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn a_delivery_redelivered_to_two_replicas_runs_once() {
    let space = Space::new().await;
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let a = replica(&world, &space).on(recorder_of_joins(&seen)).start();
    let b = replica(&world, &space).on(recorder_of_joins(&seen)).start();
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    for i in 0..20 {
        let id = format!("evt_shared_{i}");
        let body = join(&format!("u_{i}"));
        let (to_a, to_b) = tokio::join!(
            deliver(&world, &a, &id, &body),
            deliver(&world, &b, &id, &body)
        );
        assert_eq!((to_a, to_b), (200, 200), "both acknowledge delivery {i}");
    }
    stop_all(vec![a, b]).await;
    let mut handled = seen.all();
    handled.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("u_{i}")).collect();
    expected.sort();
    assert_eq!(handled, expected, "each delivery ran once, on one replica");
    world.sim.shutdown().await;
    space.clean().await;
}

fn recorder_of_joins(seen: &Seen) -> lag_bot::Listener {
    let seen = seen.clone();
    lag_bot::Listener::new(move |_ctx: Ctx, join: lag_bot::events::MemberJoin| {
        let seen = seen.clone();
        async move { seen.push(join.user_id) }
    })
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn three_replicas_flooding_sends_share_one_budget_and_meet_no_429() {
    // Lag's clock runs 10x faster: ten sends per second for the three replicas together.
    let space = Space::new().await;
    let world = world_with(scaled(10.0), lag_sim::Transport::LongPoll).await;
    let replicas: Vec<(Robot, Metrics)> = (0..3)
        .map(|_| {
            let metrics = Metrics::new();
            let robot = world
                .builder(WebhookConfig::new(secrets(&world.demo.robot.secrets)))
                .metrics(metrics.clone())
                .redis(space.config())
                .build()
                .unwrap();
            (robot, metrics)
        })
        .collect();
    let started = tokio::time::Instant::now();
    let general = &world.demo.general;
    let sends: Vec<_> = replicas
        .iter()
        .enumerate()
        .flat_map(|(r, (robot, _))| {
            (0..10).map(move |i| {
                let client = robot.client().clone();
                let room = general.clone();
                tokio::spawn(async move { client.send(&room, format!("r{r} m{i}")).await })
            })
        })
        .collect();
    for send in sends {
        within("a send", send).await.unwrap().unwrap();
    }
    let took = started.elapsed();
    for (_, metrics) in &replicas {
        assert_eq!(
            exported(metrics, "lag_bot_rate_limited_total"),
            Some(0.0),
            "no replica was ever answered 429"
        );
    }
    let stored: BTreeSet<String> = world
        .sim
        .messages(&world.demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(stored.len(), 30, "every send arrived once");
    // Thirty sends at ten per (scaled) ten seconds fill three windows back to back: the
    // replicas together went at Lag's rate, not three times it.
    let floor = RateLimits::lag().time_scale(10.0).min_time_for_sends(30);
    assert!(took >= floor, "30 sends took {took:?}, less than {floor:?}");
    world.sim.shutdown().await;
    space.clean().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Whatever the limits and however many replicas call at once, sends and reads paced by
    /// the shared limiter fit lag-sim's windows (the same limits): lag-sim never answers 429.
    #[test]
    #[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
    fn concurrent_replicas_never_exceed_the_windows(
        messages in 2usize..6,
        requests in 4usize..12,
        calls in proptest::collection::vec(proptest::collection::vec(any::<bool>(), 1..6), 2..4),
    ) {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            never_exceeds(messages, requests, calls).await;
        });
    }
}

async fn never_exceeds(messages: usize, requests: usize, calls: Vec<Vec<bool>>) {
    let space = Space::new().await;
    let scale = 50.0;
    let limits = lag_sim::RateLimits {
        requests,
        messages,
        ..lag_sim::RateLimits::default()
    };
    let world = world_with(
        lag_sim::SimConfig {
            rate_limits: limits,
            ..scaled(scale)
        },
        lag_sim::Transport::LongPoll,
    )
    .await;
    let paced = RateLimits::lag()
        .requests(Some(lag_bot::client::Window::new(
            requests as u32,
            Duration::from_secs(60),
        )))
        .messages(Some(lag_bot::client::Window::new(
            messages as u32,
            Duration::from_secs(10),
        )))
        .time_scale(scale);
    let metrics = Metrics::new();
    let mut tasks = Vec::new();
    for (replica, sends) in calls.into_iter().enumerate() {
        let client = lag_bot::Client::builder(&world.demo.robot.key)
            .base_url(world.sim.base_url())
            .rate_limiter(Arc::new(RedisLimiter::new(space.redis(), paced)))
            .metrics(metrics.clone())
            .build()
            .unwrap();
        for (i, send) in sends.into_iter().enumerate() {
            let client = client.clone();
            let room = world.demo.general.clone();
            tasks.push(tokio::spawn(async move {
                if send {
                    client
                        .send(&room, format!("r{replica} c{i}"))
                        .await
                        .map(drop)
                } else {
                    client.rooms().await.map(drop)
                }
            }));
        }
    }
    for task in tasks {
        within("a call", task).await.unwrap().unwrap();
    }
    assert_eq!(
        exported(&metrics, "lag_bot_rate_limited_total"),
        Some(0.0),
        "lag-sim never answered 429"
    );
    world.sim.shutdown().await;
    space.clean().await;
}

/// Rolls a die (always four).
#[command("!roll")]
async fn roll(_ctx: Ctx) -> &'static str {
    "You rolled 4."
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn a_cooldown_started_on_one_replica_holds_on_the_other() {
    let space = Space::new().await;
    let world = world(lag_sim::Transport::LongPoll).await;
    let cooled = || roll().cooldown(Cooldown::per_user(Duration::from_secs(3600)));
    let a = replica(&world, &space)
        .command(cooled())
        .start()
        .await
        .unwrap();
    let b = replica(&world, &space)
        .command(cooled())
        .start()
        .await
        .unwrap();
    let first = world.message_body("m_1", "!roll");
    assert_eq!(deliver(&world, &a, "evt_r1", &first).await, 200);
    eventually("the roll", || {
        (world.robot_messages(&world.demo.general).len() == 1).then_some(())
    })
    .await;
    let second = world.message_body("m_2", "!roll");
    assert_eq!(deliver(&world, &b, "evt_r2", &second).await, 200);
    let replies = eventually("the second answer", || {
        let replies = world.robot_messages(&world.demo.general);
        (replies.len() == 2).then_some(replies)
    })
    .await;
    assert_eq!(replies[0].content, "You rolled 4.");
    assert!(
        replies[1]
            .content
            .starts_with("Slow down! `!roll` can be used again in"),
        "the other replica refused: {}",
        replies[1].content
    );
    stop_all(vec![a, b]).await;
    world.sim.shutdown().await;
    space.clean().await;
}

/// Counts how often it was asked, in the robot's key-value store.
#[command("!count")]
async fn count(ctx: Ctx) -> lag_bot::Result<String> {
    let n = ctx.kv().increment("asked", 1).await?;
    ctx.kv()
        .set(
            "last",
            &json!({"by": ctx.message().map(|m| m.sender_name.clone())}),
        )
        .await?;
    Ok(format!("Asked {n} times."))
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn the_key_value_store_is_one_for_every_replica() {
    let space = Space::new().await;
    let world = world(lag_sim::Transport::LongPoll).await;
    let a = replica(&world, &space)
        .command(count())
        .start()
        .await
        .unwrap();
    let b = replica(&world, &space)
        .command(count())
        .start()
        .await
        .unwrap();
    for (i, handle) in [&a, &b, &a].into_iter().enumerate() {
        let body = world.message_body(&format!("m_{i}"), "!count");
        assert_eq!(
            deliver(&world, handle, &format!("evt_c{i}"), &body).await,
            200
        );
        eventually("the answer", || {
            (world.robot_messages(&world.demo.general).len() == i + 1).then_some(())
        })
        .await;
    }
    let replies: Vec<String> = world
        .robot_messages(&world.demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(
        replies,
        ["Asked 1 times.", "Asked 2 times.", "Asked 3 times."]
    );
    stop_all(vec![a, b]).await;

    // The same values through a store of the test's own, under the same prefix.
    let kv = Kv::new(Arc::new(RedisKv::new(space.redis())));
    assert_eq!(kv.get::<i64>("asked").await.unwrap(), Some(3));
    assert_eq!(
        kv.get::<serde_json::Value>("last").await.unwrap(),
        Some(json!({"by": "alice"}))
    );
    world.sim.shutdown().await;
    space.clean().await;
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn the_redis_key_value_store_behaves_like_the_memory_one() {
    let space = Space::new().await;
    let store = RedisKv::new(space.redis());
    let kv = Kv::new(Arc::new(store.clone()));
    assert_eq!(kv.get::<String>("missing").await.unwrap(), None);
    kv.set("name", "Ada").await.unwrap();
    assert_eq!(
        kv.get::<String>("name").await.unwrap().as_deref(),
        Some("Ada")
    );
    assert_eq!(
        kv.get::<u32>("name").await.unwrap_err().kind(),
        &ErrorKind::Decode
    );
    let err = kv.increment("name", 1).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidInput);
    assert!(err.message().contains("`name`"), "{err}");
    kv.increment("n", i64::MAX).await.unwrap();
    let err = kv.increment("n", 1).await.unwrap_err();
    assert!(err.message().contains("overflows"), "{err}");
    assert_eq!(kv.get::<i64>("n").await.unwrap(), Some(i64::MAX));
    assert_eq!(kv.increment("m", -2).await.unwrap(), -2);
    kv.set_bytes("raw", &[0, 159, 146, 150], None)
        .await
        .unwrap();
    assert_eq!(
        kv.get_bytes("raw").await.unwrap(),
        Some(vec![0, 159, 146, 150])
    );
    assert!(kv.delete("raw").await.unwrap());
    assert!(!kv.delete("raw").await.unwrap());
    kv.set_for("brief", &1, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(
        store.increment("brief", 1).await.unwrap(),
        2,
        "an increment keeps the expiry"
    );
    let expired = within("the value to expire", async {
        loop {
            if kv.get::<i64>("brief").await.unwrap().is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    expired.await;
    space.clean().await;
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn the_redis_stores_keep_their_contracts() {
    let space = Space::new().await;
    let dedup = RedisDedup::new(space.redis());
    let claims = futures_util::future::join_all((0..8).map(|_| dedup.claim("evt_1"))).await;
    assert_eq!(
        claims.into_iter().filter(|c| *c.as_ref().unwrap()).count(),
        1,
        "of concurrent claims, exactly one wins"
    );
    dedup.release("evt_1").await.unwrap();
    assert!(
        dedup.claim("evt_1").await.unwrap(),
        "a released id can be claimed again"
    );
    let short = RedisDedup::new(space.redis()).window(Duration::from_millis(30));
    assert!(short.claim("evt_2").await.unwrap());
    within("the id to expire", async {
        while !short.claim("evt_2").await.unwrap() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    let cooldowns = RedisCooldowns::new(space.redis());
    let hour = Duration::from_secs(3600);
    assert_eq!(
        cooldowns.try_start("roll user u", hour).await.unwrap(),
        None
    );
    let left = cooldowns
        .try_start("roll user u", hour)
        .await
        .unwrap()
        .unwrap();
    assert!(
        left <= hour && left > hour - Duration::from_secs(60),
        "{left:?}"
    );
    assert_eq!(
        cooldowns.try_start("roll user v", hour).await.unwrap(),
        None
    );
    assert_eq!(
        cooldowns.try_start("zero", Duration::ZERO).await.unwrap(),
        None
    );
    assert_eq!(
        cooldowns.try_start("zero", Duration::ZERO).await.unwrap(),
        None
    );

    let jobs = RedisJobStore::new(space.redis());
    let t1 = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
    let t2 = t1 + Duration::from_secs(60);
    assert_eq!(jobs.last_run("tick").await.unwrap(), None);
    assert!(jobs.claim_run("tick", None, t1).await.unwrap());
    assert!(
        !jobs.claim_run("tick", None, t1).await.unwrap(),
        "claimed once"
    );
    let last = jobs.last_run("tick").await.unwrap();
    assert!(
        jobs.claim_run("tick", last, t2).await.unwrap(),
        "a claim on what was read"
    );
    assert!(
        !jobs.claim_run("tick", Some(t1), t2).await.unwrap(),
        "a stale claim fails"
    );
    jobs.record_run("other", t1).await.unwrap();
    assert!(jobs.last_run("other").await.unwrap().is_some());

    let limiter = RedisLimiter::new(space.redis(), RateLimits::lag());
    limiter.pause(Duration::from_millis(200)).await.unwrap();
    let other = RedisLimiter::new(space.redis(), RateLimits::lag());
    let started = tokio::time::Instant::now();
    other
        .acquire(CallClass::Request)
        .await
        .unwrap()
        .settle(Settlement::Unsent);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "a 429's pause on one replica holds the other"
    );
    space.clean().await;
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn a_job_in_three_replicas_runs_once_per_tick() {
    let space = Space::new().await;
    let world = world(lag_sim::Transport::LongPoll).await;
    // Each run notes the time it was claimed for, as the store says.
    let runs: Arc<Mutex<Vec<SystemTime>>> = Arc::default();
    let job = |runs: Arc<Mutex<Vec<SystemTime>>>, store: RedisJobStore| {
        Job::new(
            "tick",
            Schedule::every(Duration::from_secs(1)),
            move |_ctx: Ctx| {
                let (runs, store) = (Arc::clone(&runs), store.clone());
                async move {
                    let at = store.last_run("tick").await.unwrap().expect("claimed");
                    runs.lock().unwrap().push(at);
                }
            },
        )
    };
    let mut handles = Vec::new();
    for _ in 0..3 {
        let robot =
            replica(&world, &space).job(job(Arc::clone(&runs), RedisJobStore::new(space.redis())));
        handles.push(robot.start().await.unwrap());
        // Replicas start apart, so their own schedules would not line up.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eventually("five runs", || {
        (runs.lock().unwrap().len() >= 5).then_some(())
    })
    .await;
    stop_all(handles).await;
    let runs = runs.lock().unwrap().clone();
    let ticks: BTreeSet<SystemTime> = runs.iter().copied().collect();
    assert_eq!(ticks.len(), runs.len(), "no tick ran twice: {runs:?}");
    let first = *ticks.first().unwrap();
    for tick in &ticks {
        let since = tick.duration_since(first).unwrap();
        assert_eq!(
            since.as_micros() % 1_000_000,
            0,
            "every run is on one schedule, whichever replica ran it: {ticks:?}"
        );
    }
    world.sim.shutdown().await;
    space.clean().await;
}

#[test]
fn a_robot_built_from_the_environment_shares_through_the_redis_it_names() {
    // Building connects nothing, so no Redis is needed here.
    let robot = Robot::builder()
        .key("lag_robot_abcd1234_secret")
        .build_from_vars([("LAG_REDIS_URL", "redis://127.0.0.1:6379/")])
        .unwrap();
    let redis = robot.redis().expect("the robot shares through Redis");
    assert_eq!(
        redis.prefix(),
        "lag-bot:abcd1234",
        "the default prefix names the robot"
    );
    let chosen = Robot::builder()
        .key("lag_robot_abcd1234_secret")
        .build_from_vars([
            ("LAG_REDIS_URL", "redis://127.0.0.1:6379/"),
            ("LAG_REDIS_PREFIX", "team:helper"),
        ])
        .unwrap();
    assert_eq!(chosen.redis().unwrap().prefix(), "team:helper");
    let alone = Robot::builder()
        .key("lag_robot_abcd1234_secret")
        .build_from_vars([("LAG_TRANSPORT", "sse")])
        .unwrap();
    assert!(alone.redis().is_none(), "no URL, no Redis");
    let err = Robot::builder()
        .key("lag_robot_abcd1234_secret")
        .build_from_vars([("LAG_REDIS_URL", "rediss://cache.example:6380/")])
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.message().contains("LAG_REDIS_URL"), "{err}");
    assert!(err.message().contains("rediss://"), "{err}");
}

#[tokio::test]
async fn a_robot_whose_redis_does_not_answer_fails_to_start_with_a_store_error() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let robot = Robot::builder()
        .key("lag_robot_abcd1234_secret")
        .base_url("http://127.0.0.1:9")
        .redis(RedisConfig::new("redis://127.0.0.1:1/").unwrap())
        .build()
        .unwrap();
    let err = within("the start to fail", robot.start())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Store, "{err}");
    assert!(err.message().contains("redis://127.0.0.1:1/"), "{err}");
}
