//! A webhook robot against lag-sim: lag-sim signs and POSTs each event, the robot verifies,
//! queues and handles it, and its reply appears in the room.

use std::time::Duration;

use lag_bot::transport::{WebhookConfig, WebhookSecret};
use lag_sim::DeliveryOutcome;

use crate::support::{
    Seen, World, eventually, replying_recorder, reserve, secrets, stop, within, world,
};

async fn replied(world: &World, room: &str, content: &str) {
    let wanted = format!("echo: {content}");
    eventually("the robot's reply", || {
        world
            .robot_messages(room)
            .iter()
            .any(|m| m.content == wanted)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_message_reaches_a_listener_and_the_reply_appears_in_the_room() {
    let (listener, url) = reserve();
    let world = world(lag_sim::Transport::Webhook { url }).await;
    let seen = Seen::default();
    let handle = world
        .robot(WebhookConfig::new(secrets(&world.demo.robot.secrets)).listener(listener))
        .on(replying_recorder(&seen))
        .start()
        .await
        .expect("robot starts");

    let posted = world.post("hello robot");
    replied(&world, &world.demo.general, "hello robot").await;
    let reply = world.robot_messages(&world.demo.general).remove(0);
    assert_eq!(
        reply.reply_to.map(|r| r.id),
        Some(posted.id),
        "ctx.reply answers the triggering message"
    );
    let log = world.sim.deliveries(&world.demo.robot.id);
    assert!(
        log.iter()
            .all(|r| r.outcome == DeliveryOutcome::Delivered && r.status == Some(200)),
        "every attempt was answered 200 at once: {log:?}"
    );

    let addr = handle.local_addr().unwrap();
    let metrics = within(
        "the metrics scrape",
        reqwest::get(format!("http://{addr}/metrics")),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        metrics.contains(r#"lag_bot_deliveries_total{transport="webhook",outcome="accepted"}"#)
    );

    stop(handle, world).await;
    assert_eq!(seen.all(), ["hello robot"]);
}

#[tokio::test]
async fn deliveries_verify_during_a_secret_rotation() {
    // Lag signs with the new and the old secret while they overlap: a robot still configured
    // with only the old one keeps working.
    let (listener, url) = reserve();
    let world = world(lag_sim::Transport::Webhook { url }).await;
    let old = world.demo.robot.secrets.clone();
    let rotated = world
        .sim
        .rotate_secret_with_overlap(&world.demo.robot.id, Duration::from_secs(3600))
        .unwrap();
    assert_eq!(
        rotated.secrets.len(),
        2,
        "both secrets sign during the overlap"
    );
    let seen = Seen::default();
    let handle = world
        .robot(WebhookConfig::new(secrets(&old)).listener(listener))
        .on(replying_recorder(&seen))
        .start()
        .await
        .unwrap();
    world.post("during overlap");
    replied(&world, &world.demo.general, "during overlap").await;
    stop(handle, world).await;

    // Once the old secret is retired, a robot configured with several secrets (old and new,
    // as `LAG_WEBHOOK_SECRET` lists them mid-rotation) matches the new one.
    let (listener, url) = reserve();
    let world = crate::support::world(lag_sim::Transport::Webhook { url }).await;
    let old = world.demo.robot.secrets[0].clone();
    let rotated = world
        .sim
        .rotate_secret_with_overlap(&world.demo.robot.id, Duration::ZERO)
        .unwrap();
    assert_eq!(rotated.secrets.len(), 1);
    let both = WebhookSecret::parse_list(&format!("{old},{}", rotated.secret())).unwrap();
    let handle = world
        .robot(WebhookConfig::new(both).listener(listener))
        .on(replying_recorder(&seen))
        .start()
        .await
        .unwrap();
    world.post("after rotation");
    replied(&world, &world.demo.general, "after rotation").await;
    stop(handle, world).await;
    assert_eq!(seen.all(), ["during overlap", "after rotation"]);
}

#[tokio::test]
async fn the_receiver_mounts_in_an_application_router() {
    let (listener, url) = reserve();
    let world = world(lag_sim::Transport::Webhook { url }).await;
    let seen = Seen::default();
    let handle = world
        .robot(WebhookConfig::new(secrets(&world.demo.robot.secrets)).mounted())
        .on(replying_recorder(&seen))
        .start()
        .await
        .unwrap();
    assert_eq!(
        handle.local_addr(),
        None,
        "a mounted receiver binds nothing"
    );

    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route_service("/webhook", handle.webhook_service().unwrap());
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    world
        .sim
        .post(&world.demo.carol, &world.demo.welcome, "via the app")
        .unwrap();
    replied(&world, &world.demo.welcome, "via the app").await;

    stop(handle, world).await;
    server.abort();
    assert_eq!(seen.all(), ["via the app"]);
}
