//! Replicas: several processes of one robot sharing a durable intake and a rate-limit budget
//! in Redis, against one lag-sim. They need a Redis (`LAG_TEST_REDIS_URL`), so they are
//! ignored unless run with `-- --ignored` (see README, Testing).

pub mod harness;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use lag_sim::{RobotSpec, Sim, SimConfig};

use self::harness::{Balancer, Replica, ReplicaSetup, TestRedis};

/// Lag's clock runs this much faster: rate windows of 3 s (requests) and 0.5 s (messages).
const TIME_SCALE: f64 = 20.0;

/// How long a whole flood may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(90);

/// A lease short enough that a killed replica's partitions move on within a second or two.
const LEASE_MS: &str = "1200";

struct Cluster {
    sim: Sim,
    robot_id: String,
    server_id: String,
    alice: String,
    setup: ReplicaSetup,
    balancer: Balancer,
    redis: TestRedis,
}

impl Cluster {
    async fn new(extra: &[(&str, &str)]) -> Self {
        Self::over("webhook", extra).await
    }

    /// A cluster whose robot Lag serves over `transport` (`webhook` or `sse`).
    async fn over(transport: &'static str, extra: &[(&str, &str)]) -> Self {
        let redis = TestRedis::connect().await;
        let balancer = Balancer::start().await;
        let lag_transport = match transport {
            "webhook" => lag_sim::Transport::Webhook {
                url: balancer.url.clone(),
            },
            _ => lag_sim::Transport::Sse,
        };
        let sim = Sim::start(SimConfig {
            time_scale: TIME_SCALE,
            ..SimConfig::default()
        })
        .await
        .expect("lag-sim starts");
        let demo = sim
            .seed_demo_with(RobotSpec::new("Helper").transport(lag_transport))
            .expect("demo world");
        let setup = ReplicaSetup {
            key: demo.robot.key.clone(),
            base_url: sim.base_url(),
            secret: demo
                .robot
                .secrets
                .first()
                .cloned()
                .expect("a signing secret"),
            redis_url: redis.url.clone(),
            redis_prefix: redis.prefix.clone(),
            record: redis.record(),
            time_scale: TIME_SCALE,
            transport,
            replicated: true,
            extra: extra
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        };
        Self {
            robot_id: demo.robot.id.clone(),
            server_id: demo.server_id.clone(),
            alice: demo.alice.clone(),
            sim,
            setup,
            balancer,
            redis,
        }
    }

    /// Starts `n` replicas, waits until each is ready, and puts them behind the balancer.
    async fn replicas(&self, n: usize) -> Vec<Replica> {
        let mut replicas: Vec<Replica> = (0..n).map(|_| Replica::spawn(&self.setup)).collect();
        for replica in &mut replicas {
            replica.ready(Duration::from_secs(30)).await;
        }
        self.balancer.serve(&replicas);
        replicas
    }

    fn rooms(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.sim
                    .create_room(&self.server_id, &format!("flood-{i}"))
                    .expect("room created")
            })
            .collect()
    }

    fn post(&self, room_id: &str, content: &str) {
        self.sim
            .post(&self.alice, room_id, content)
            .expect("alice posts");
    }

    /// Waits until every room's record has its expected length.
    async fn handled_all(&self, expected: &ByRoom) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let mut missing = 0;
            for (room, contents) in expected {
                missing += contents
                    .len()
                    .saturating_sub(self.redis.handled(room).await.len());
            }
            if missing == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{missing} events were still unhandled after {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(self, replicas: Vec<Replica>) {
        for replica in replicas {
            replica.stop(Duration::from_secs(20)).await;
        }
        self.sim.shutdown().await;
    }
}

/// Contents by room, in the order they were posted.
type ByRoom = BTreeMap<String, Vec<String>>;

/// The messages of a flood (room, content) in the order they are posted, and by room.
fn flood(rooms: &[String], total: usize) -> (Vec<(String, String)>, ByRoom) {
    let mut posts = Vec::with_capacity(total);
    let mut by_room = ByRoom::new();
    for i in 0..total {
        let room = rooms[i % rooms.len()].clone();
        // One message in five is answered: paced calls to Lag that spend the shared budget
        // faster than one replica's pacing alone would allow three replicas to.
        let content = if (i / rooms.len()).is_multiple_of(5) {
            format!("m{i:04}!")
        } else {
            format!("m{i:04}")
        };
        by_room
            .entry(room.clone())
            .or_default()
            .push(content.clone());
        posts.push((room, content));
    }
    (posts, by_room)
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn three_replicas_share_a_flood_and_one_killed_mid_flood_loses_nothing() {
    let cluster = Cluster::new(&[("REPLICA_LEASE_MS", LEASE_MS)]).await;
    let mut replicas = cluster.replicas(3).await;
    let rooms = cluster.rooms(10);
    let (posts, expected) = flood(&rooms, 1000);

    for (room, content) in &posts {
        cluster.post(room, content);
    }
    // Mid-flood: a third handled, the rest appended or on its way.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while cluster.redis.runs().await < 300 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flood did not get going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The victim is the replica with the most events read and not yet finished.
    let pending = cluster.redis.pending_by_consumer(16).await;
    let victim = (0..replicas.len())
        .max_by_key(|i| {
            let pid = format!("{}-", replicas[*i].pid());
            pending
                .iter()
                .filter(|(name, _)| name.starts_with(&pid))
                .map(|(_, n)| *n)
                .sum::<u64>()
        })
        .expect("three replicas");
    let rate_limited_before_kill = replicas[victim].metric("lag_bot_rate_limited_total").await;
    replicas[victim].kill();
    let mut victim_and_survivors = replicas;
    let _killed = victim_and_survivors.remove(victim);
    let replicas = victim_and_survivors;
    cluster.handled_all(&expected).await;

    for (room, contents) in &expected {
        assert_eq!(
            &cluster.redis.handled(room).await,
            contents,
            "room {room}: every event handled once, in the order it was posted"
        );
    }
    let survivors = &replicas;
    let mut claimed = 0.0;
    let mut rate_limited = rate_limited_before_kill;
    for replica in survivors {
        claimed += replica.metric("lag_bot_intake_claimed_total").await;
        rate_limited += replica.metric("lag_bot_rate_limited_total").await;
    }
    assert!(
        claimed >= 1.0,
        "the killed replica's unfinished events were claimed by the others"
    );
    assert_eq!(
        rate_limited, 0.0,
        "one shared budget: Lag never answered 429"
    );
    let replies: usize = rooms
        .iter()
        .map(|room| {
            cluster
                .sim
                .messages(room)
                .iter()
                .filter(|m| m.robot_id.as_deref() == Some(cluster.robot_id.as_str()))
                .count()
        })
        .sum();
    assert!(
        replies >= 200,
        "every fifth message was answered ({replies} replies)"
    );
    let runs = cluster.redis.runs().await;
    assert!(runs >= 1000, "{runs} recorded runs for 1,000 events");
    let delivered_late = cluster
        .sim
        .deliveries(&cluster.robot_id)
        .iter()
        .filter(|d| d.status.is_some_and(|s| s >= 300))
        .count();
    assert_eq!(
        delivered_late, 0,
        "no delivery was refused: the intake took every one"
    );

    cluster.finish(replicas).await;
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn events_acknowledged_before_a_crash_are_handled_after_a_restart() {
    let cluster = Cluster::new(&[("REPLICA_LEASE_MS", LEASE_MS)]).await;
    let mut replicas = cluster.replicas(1).await;
    let rooms = cluster.rooms(2);
    let mut expected = ByRoom::new();
    for i in 0..20 {
        let room = &rooms[i % 2];
        let content = format!("hold {i:02}");
        cluster.post(room, &content);
        expected.entry(room.clone()).or_default().push(content);
    }
    // Lag saw all twenty answered 2xx, while every handler still waits for the release.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let accepted = cluster
            .sim
            .deliveries(&cluster.robot_id)
            .iter()
            .filter(|d| {
                d.event_type == "room.message" && d.status.is_some_and(|s| (200..300).contains(&s))
            })
            .count();
        if accepted >= 20 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Lag saw only {accepted} of 20 deliveries accepted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        cluster.redis.runs().await,
        0,
        "nothing was handled before the crash"
    );
    // Every message is acknowledged now: Lag has nothing left to deliver, so whatever the
    // restarted replica handles comes from Redis.
    let delivered_before_crash = cluster.sim.deliveries(&cluster.robot_id).len();
    replicas[0].kill();
    drop(replicas);

    cluster
        .redis
        .set(&format!("{}:release", cluster.redis.record()), "1")
        .await;
    let restarted = cluster.replicas(1).await;
    cluster.handled_all(&expected).await;
    for (room, contents) in &expected {
        assert_eq!(
            &cluster.redis.handled(room).await,
            contents,
            "room {room}, in order"
        );
    }
    let deliveries = cluster.sim.deliveries(&cluster.robot_id);
    assert_eq!(
        deliveries.len(),
        delivered_before_crash,
        "Lag delivered nothing after the crash: the restarted replica took every event from Redis"
    );
    let mut accepted: HashMap<&str, usize> = HashMap::new();
    for delivery in &deliveries {
        if delivery.event_type == "room.message"
            && delivery.status.is_some_and(|s| (200..300).contains(&s))
        {
            *accepted.entry(delivery.event_id.as_str()).or_default() += 1;
        }
    }
    assert_eq!(accepted.len(), 20, "each of the 20 events was accepted");
    assert!(
        accepted.values().all(|&n| n == 1),
        "each event was accepted once: {accepted:?}"
    );
    cluster.finish(restarted).await;
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn a_poison_event_is_dead_lettered_after_its_attempts_and_reported() {
    let cluster = Cluster::new(&[("REPLICA_ATTEMPTS", "3")]).await;
    let replicas = cluster.replicas(1).await;
    let rooms = cluster.rooms(1);
    cluster.post(&rooms[0], "poison pill");
    cluster.post(&rooms[0], "after the pill");

    let mut expected = BTreeMap::new();
    expected.insert(rooms[0].clone(), vec!["after the pill".to_owned()]);
    cluster.handled_all(&expected).await;
    let dead_key = format!("{}:intake:dead", cluster.redis.prefix);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let entries: Vec<(String, Vec<(String, String)>)> = loop {
        let mut conn = cluster.redis.conn.clone();
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(&dead_key)
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .expect("Redis answers");
        if !entries.is_empty() {
            break entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no dead letter after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(entries.len(), 1, "one dead letter: {entries:?}");
    let fields: BTreeMap<_, _> = entries[0].1.iter().cloned().collect();
    assert_eq!(fields.get("attempts").map(String::as_str), Some("3"));
    assert!(fields["event"].contains("poison pill"), "{fields:?}");
    assert!(fields["reason"].contains("3 attempts"), "{fields:?}");

    let replica = &replicas[0];
    assert_eq!(
        replica.metric("lag_bot_intake_dead_lettered_total").await,
        1.0
    );
    let panics = replica
        .metric(r#"lag_bot_handler_errors_total{handler="room.message",cause="panic"}"#)
        .await;
    assert_eq!(
        panics, 3.0,
        "the handler ran exactly three times before it was given up"
    );
    // Nothing is retried after the dead letter.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        replica
            .metric(r#"lag_bot_handler_errors_total{handler="room.message",cause="panic"}"#)
            .await,
        3.0
    );
    cluster.finish(replicas).await;
}

#[tokio::test]
#[ignore = "needs Redis: set LAG_TEST_REDIS_URL (see README, Testing)"]
async fn the_sse_connection_moves_to_a_standby_replica_when_its_holder_is_killed() {
    let cluster = Cluster::over("sse", &[("REPLICA_LEASE_MS", LEASE_MS)]).await;
    let mut replicas = cluster.replicas(2).await;
    let rooms = cluster.rooms(3);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while cluster.sim.open_streams() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "one replica holds the stream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (before, mut expected) = flood(&rooms, 150);
    for (room, content) in &before {
        cluster.post(room, content);
    }
    cluster.handled_all(&expected).await;

    // The feed lease names the replica holding the stream: kill that one.
    let holder: String = {
        let mut conn = cluster.redis.conn.clone();
        redis::cmd("GET")
            .arg(format!("{}:intake:feed:owner", cluster.redis.prefix))
            .query_async(&mut conn)
            .await
            .expect("a replica holds the feed")
    };
    let victim = replicas
        .iter()
        .position(|r| holder.starts_with(&format!("{}-", r.pid())))
        .expect("the holder is one of the replicas");
    replicas[victim].kill();
    let survivor = replicas.remove(1 - victim);
    drop(replicas);

    let later: Vec<(String, String)> = (0..60)
        .map(|i| (rooms[i % rooms.len()].clone(), format!("after {i:03}")))
        .collect();
    for (room, content) in &later {
        cluster.post(room, content);
        expected
            .get_mut(room)
            .expect("a flooded room")
            .push(content.clone());
    }
    cluster.handled_all(&expected).await;
    for (room, contents) in &expected {
        assert_eq!(
            &cluster.redis.handled(room).await,
            contents,
            "room {room}, once each, in order"
        );
    }
    assert_eq!(
        cluster.sim.open_streams(),
        1,
        "the survivor holds the stream now"
    );
    cluster.finish(vec![survivor]).await;
}
