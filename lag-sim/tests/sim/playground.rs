//! The playground and what it stands on: the page at `/` with nothing from elsewhere, the live
//! feed at `/_sim/feed`, the delivery log's recorded requests and answers, redelivery, and
//! robot settings through the admin API taking effect at once.

use lag_sim::{Demo, RobotSpec, Sim, Transport};
use serde_json::{Value, json};

use crate::support::{self, Api, Receiver, SseReader, log_len, verify, webhook_robot};

async fn webhook_demo(receiver: &Receiver) -> (Sim, Demo, Api) {
    let sim = support::sim().await;
    let demo = sim.seed_demo_with(webhook_robot(receiver)).unwrap();
    let admin = Api::anonymous(&sim);
    (sim, demo, admin)
}

/// Waits for the next feed frame of `kind` that `pick` accepts, skipping the others.
async fn next_of(feed: &mut SseReader, kind: &str, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = feed.next_event().await.expect("the feed stays open");
        if frame.event.as_deref() == Some(kind) {
            let data = frame.json();
            if pick(&data) {
                return data;
            }
        }
    }
}

#[tokio::test]
async fn the_page_is_served_with_nothing_from_elsewhere() {
    let sim = support::sim().await;
    let admin = Api::anonymous(&sim);
    let page = admin.get("/").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let policy = page.header("content-security-policy").expect("a CSP");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert_eq!(sim.playground_url(), format!("{}/", sim.base_url()));

    let mut assets = vec![("/".to_owned(), page.text.clone())];
    for (path, kind) in [
        ("/playground/style.css", "text/css; charset=utf-8"),
        ("/playground/app.js", "text/javascript; charset=utf-8"),
        ("/playground/chat.js", "text/javascript; charset=utf-8"),
        ("/playground/inspector.js", "text/javascript; charset=utf-8"),
        ("/playground/live.js", "text/javascript; charset=utf-8"),
    ] {
        assert!(page.text.contains(path), "the page links {path}");
        let asset = admin.get(path).await;
        assert_eq!(asset.status, 200, "{path}");
        assert_eq!(asset.header("content-type"), Some(kind), "{path}");
        assets.push((path.to_owned(), asset.text));
    }
    for (path, text) in &assets {
        let lower = text.to_lowercase();
        let markup = !path.ends_with(".js");
        for external in [
            "http://",
            "https://",
            "src=\"//",
            "href=\"//",
            "@import",
            "url(",
        ] {
            if !markup && matches!(external, "@import" | "url(") {
                continue;
            }
            assert!(
                !lower.contains(external),
                "{path} refers to {external:?}: only relative, same-origin references are allowed"
            );
        }
    }
    let script: String = assets
        .iter()
        .filter(|(path, _)| path.ends_with(".js"))
        .map(|(_, text)| text.as_str())
        .collect();
    for endpoint in ["'/_sim' + path", "/_sim/feed", "/redeliver"] {
        assert!(script.contains(endpoint), "the script uses {endpoint}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_feed_streams_a_posted_message_and_its_delivery() {
    let receiver = Receiver::start().await;
    let (sim, demo, admin) = webhook_demo(&receiver).await;
    let mut feed = SseReader::open(&admin, "/_sim/feed", None).await;
    assert_eq!(
        feed.headers.get("content-type").unwrap(),
        "text/event-stream"
    );
    assert_eq!(
        feed.next_frame().await.unwrap().comment.as_deref(),
        Some("open"),
        "the feed opens with a comment, before anything happens"
    );

    let posted = admin
        .post(
            &format!("/_sim/rooms/{}/messages", demo.general),
            &json!({ "userId": demo.alice, "content": "hello @Hooked" }),
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    let message_id = posted.json()["id"].as_str().unwrap().to_owned();

    let event = next_of(&mut feed, "world", |e| e["kind"] == "room.message").await;
    assert_eq!(event["text"], "#general alice: hello @Hooked");
    assert_eq!(event["roomName"], "general");
    assert_eq!(event["actorName"], "alice");
    assert_eq!(event["body"]["data"]["messageId"], message_id.as_str());
    let event_id = event["id"].as_str().unwrap().to_owned();

    let delivery = next_of(&mut feed, "delivery", |d| d["eventId"] == event_id.as_str()).await;
    assert_eq!(delivery["robotId"], demo.robot.id.as_str());
    assert_eq!(delivery["eventType"], "room.message");
    assert_eq!(delivery["transport"], "webhook");
    assert_eq!(delivery["outcome"], "delivered");
    assert_eq!(delivery["status"], 200);
    assert_eq!(delivery["attempt"], 1);
    assert_eq!(delivery["redelivery"], false);
    assert!(delivery["latencyMs"].is_u64(), "{delivery}");

    let request = &delivery["request"];
    assert_eq!(request["url"], receiver.url.as_str());
    let headers: Vec<(String, String)> =
        serde_json::from_value(request["headers"].clone()).unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} is recorded: {headers:?}"))
    };
    let hook = receiver.wait_for(1).await.remove(0);
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        assert_eq!(header(name), hook.header(name), "{name} as sent");
    }
    assert_eq!(header("user-agent"), "Lag-Webhooks/1.0");
    assert_eq!(
        request["body"].as_str().unwrap().as_bytes(),
        &hook.body[..],
        "the body as sent, byte for byte"
    );
    assert_eq!(verify(&hook, &demo.robot.secrets), demo.robot.secrets);
    assert_eq!(delivery["response"]["status"], 200);
    assert_eq!(delivery["response"]["truncated"], false);

    // The robot's mention arrives as its own event, delivered too.
    let mention = next_of(&mut feed, "delivery", |d| {
        d["eventType"] == "robot.mentioned"
    })
    .await;
    assert_eq!(mention["outcome"], "delivered");

    // A member joining is in the feed as well, as the page needs it to refresh its member list.
    admin
        .post(
            &format!("/_sim/servers/{}/members", demo.server_id),
            &json!({ "username": "dave" }),
        )
        .await;
    let join = next_of(&mut feed, "world", |e| e["kind"] == "member.join").await;
    assert_eq!(join["text"], "* dave joined Demo Server");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_feed_ends_when_the_emulator_shuts_down() {
    let sim = support::sim().await;
    let admin = Api::anonymous(&sim);
    let mut feed = SseReader::open(&admin, "/_sim/feed", None).await;
    assert!(feed.next_frame().await.is_some());
    sim.shutdown().await;
    while feed.next_frame().await.is_some() {}
}

#[tokio::test]
async fn a_failed_answer_is_recorded_with_its_body() {
    let receiver = Receiver::start().await;
    receiver.script([500]);
    let (sim, demo, _admin) = webhook_demo(&receiver).await;
    sim.post(&demo.alice, &demo.general, "fails once").unwrap();
    let log = log_len(&sim, &demo.robot.id, 1).await;
    let first = &log[0];
    assert_eq!(first.status, Some(500));
    let response = first.response.as_ref().expect("the answer is recorded");
    assert_eq!(response.status, 500);
    assert!(first.next_attempt_in_ms.is_some());
    let request = first.request.as_ref().expect("the request is recorded");
    assert_eq!(request.url.as_deref(), Some(receiver.url.as_str()));
    sim.shutdown().await;
}

#[tokio::test]
async fn redelivery_sends_the_same_event_again() {
    let receiver = Receiver::start().await;
    let (sim, demo, admin) = webhook_demo(&receiver).await;
    sim.post(&demo.alice, &demo.general, "once more").unwrap();
    let first = receiver.wait_for(1).await.remove(0);
    let event_id = first.header("webhook-id").to_owned();
    log_len(&sim, &demo.robot.id, 1).await;

    let path = format!("/_sim/robots/{}/events/{event_id}/redeliver", demo.robot.id);
    let reply = admin.post(&path, &json!({})).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.json()["eventId"], event_id.as_str());

    let again = receiver.wait_for(2).await.remove(1);
    assert_eq!(
        again.header("webhook-id"),
        event_id,
        "the same id, so the robot can dedup"
    );
    assert_eq!(again.body, first.body, "the same body");
    assert_eq!(verify(&again, &demo.robot.secrets), demo.robot.secrets);
    let log = log_len(&sim, &demo.robot.id, 2).await;
    assert!(!log[0].redelivery);
    assert!(log[1].redelivery, "the log marks the redelivery: {log:#?}");
    assert_eq!(log[1].event_id, event_id);

    // Bad requests get a clear error.
    let unknown_event = format!("/_sim/robots/{}/events/01JNOPE/redeliver", demo.robot.id);
    let message = admin
        .post(&unknown_event, &json!({}))
        .await
        .assert_error(404);
    assert!(message.contains("not retained"), "{message}");
    admin
        .post(
            &format!("/_sim/robots/rob_nope/events/{event_id}/redeliver"),
            &json!({}),
        )
        .await
        .assert_error(404);
    admin.get(&path).await.assert_error(405);
    sim.set_active(&demo.robot.id, false).unwrap();
    let message = admin.post(&path, &json!({})).await.assert_error(409);
    assert!(message.contains("disabled"), "{message}");
    sim.shutdown().await;
}

#[tokio::test]
async fn redelivery_queues_the_event_again_for_a_polling_robot() {
    let (sim, demo, robot) = support::demo_with(
        support::short_polls(200),
        RobotSpec::new("Poller").transport(Transport::LongPoll),
    )
    .await;
    sim.post(&demo.alice, &demo.general, "poll me twice")
        .unwrap();
    let first = robot.poll_until(1).await;
    let event_id = first[0]["id"].as_str().unwrap().to_owned();
    assert!(robot.poll().await.is_empty(), "consumed");

    sim.redeliver(&demo.robot.id, &event_id).unwrap();
    let again = robot.poll_until(1).await;
    assert_eq!(again[0]["id"], event_id.as_str());
    assert_eq!(again[0]["payload"], first[0]["payload"]);
    let log = sim.deliveries(&demo.robot.id);
    let last = log.last().unwrap();
    assert!(last.redelivery && last.event_id == event_id, "{log:#?}");
    let sent = last.request.as_ref().expect("the event as handed out");
    assert!(sent.url.is_none() && sent.headers.is_empty());
    assert!(sent.body.contains("poll me twice"));
    sim.shutdown().await;
}

#[tokio::test]
async fn settings_changed_through_the_admin_api_take_effect_at_once() {
    let (sim, demo, robot) = support::demo_with(
        support::short_polls(200),
        RobotSpec::new("Poller").transport(Transport::LongPoll),
    )
    .await;
    let admin = Api::anonymous(&sim);
    let meta = admin.get("/_sim/meta").await.json();
    assert!(
        meta["eventTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("room.message"))
    );
    assert!(
        meta["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("manage_messages"))
    );
    assert!(
        !meta["lagPermissions"]
            .as_array()
            .unwrap()
            .contains(&json!("manage_messages"))
    );
    assert_eq!(meta["transports"], json!(["webhook", "sse", "longpoll"]));

    // Unsubscribed from messages: the next message is not queued for the robot.
    let path = format!("/_sim/robots/{}", demo.robot.id);
    let changed = admin
        .patch(&path, &json!({ "subscriptions": ["member.join"] }))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json()["subscriptions"], json!(["member.join"]));
    sim.post(&demo.alice, &demo.general, "not for the robot")
        .unwrap();
    assert!(robot.poll().await.is_empty());

    // Subscribed again: the very next message is.
    admin
        .patch(&path, &json!({ "subscriptions": ["room.message"] }))
        .await;
    sim.post(&demo.alice, &demo.general, "for the robot")
        .unwrap();
    let events = robot.poll_until(1).await;
    assert_eq!(events[0]["payload"]["data"]["content"], "for the robot");

    // Without read_messages the robot cannot read history.
    admin
        .patch(&path, &json!({ "permissions": ["send_messages"] }))
        .await;
    robot
        .get(&support::messages_path(&demo.server_id, &demo.general))
        .await
        .assert_error(403);

    // Disabled: every call is refused; a new key replaces the old one at once.
    admin.patch(&path, &json!({ "active": false })).await;
    robot.get("/robots/@me/info").await.assert_error(403);
    admin.patch(&path, &json!({ "active": true })).await;
    let fresh = admin
        .post(&format!("{path}/regenerate-key"), &json!({}))
        .await
        .json();
    robot.get("/robots/@me/info").await.assert_error(401);
    let key = fresh["key"].as_str().unwrap();
    let info = Api::robot(&sim, key).get("/robots/@me/info").await;
    assert_eq!(info.status, 200, "{}", info.text);

    // Bad settings get a 400 with a message, and change nothing.
    let message = admin
        .patch(&path, &json!({ "permissions": ["fly"] }))
        .await
        .assert_error(400);
    assert!(message.contains("fly"), "{message}");
    admin
        .patch(
            &path,
            &json!({ "transportType": "webhook", "webhookUrl": "not a url" }),
        )
        .await
        .assert_error(400);
    assert_eq!(admin.get(&path).await.json()["transportType"], "longpoll");
    sim.shutdown().await;
}
