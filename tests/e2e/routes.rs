//! A robot's own HTTP routes (`Robot::routes`): served on the webhook listener of a webhook
//! robot and on a listener of their own for SSE and long-poll robots, with the robot's state,
//! client, identity and key-value store in their handlers, and stopping with the robot.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use lag_bot::testing::{Kit, Via};
use lag_bot::{Ctx, ErrorKind, Robot, RobotBuilder, RouteCtx, command};

/// What the routes and the command share.
#[derive(Default)]
struct Counter {
    hits: AtomicU64,
}

/// Says how often the route was called.
#[command("!hits")]
async fn hits(ctx: Ctx<Counter>) -> String {
    format!("{} hits", ctx.state().hits.load(Ordering::Relaxed))
}

/// Says the note left through the route, kept in the robot's key-value store.
#[command("!note")]
async fn note(ctx: Ctx<Counter>) -> lag_bot::Result<String> {
    let note: Option<String> = ctx.kv().get("note").await?;
    Ok(note.unwrap_or_else(|| "No note.".to_owned()))
}

async fn leave_note(State(robot): State<RouteCtx<Counter>>, body: String) -> StatusCode {
    match robot.kv().set("note", &body).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn whoami(State(robot): State<RouteCtx<Counter>>) -> String {
    robot.state().hits.fetch_add(1, Ordering::Relaxed);
    format!("{} in {}", robot.me().name, robot.me().server_id)
}

/// Posts the body in the room named by the path.
async fn announce(
    State(robot): State<RouteCtx<Counter>>,
    axum::extract::Path(room): axum::extract::Path<String>,
    body: String,
) -> (StatusCode, String) {
    let room = match robot.client().room_named(&room).await {
        Ok(room) => room,
        Err(error) if error.kind() == &ErrorKind::NotFound => {
            return (StatusCode::NOT_FOUND, error.message().to_owned());
        }
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()),
    };
    match robot.send(&room.id, body).await {
        Ok(message) => (StatusCode::CREATED, message.id),
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()),
    }
}

fn robot(lag: RobotBuilder) -> lag_bot::Result<Robot<Counter>> {
    let routes = Router::new()
        .route("/whoami", get(whoami))
        .route("/announce/{room}", post(announce))
        .route("/note", post(leave_note));
    Ok(lag
        .state(Counter::default())
        .build_from_env()?
        .command(hits())
        .command(note())
        .routes(routes))
}

async fn exercise(kit: &Kit, base: &str) {
    let http = reqwest::Client::new();
    let me = kit.handle().me();
    let answer = http.get(format!("{base}/whoami")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.text().await.unwrap(),
        format!("{} in {}", me.name, me.server_id)
    );

    let posted = http
        .post(format!("{base}/announce/welcome"))
        .body("Deploy finished.")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);
    let id = posted.text().await.unwrap();
    let message = kit.reply_in("welcome").await;
    message.assert_text("Deploy finished.");
    assert_eq!(message.id(), id);

    let missing = http
        .post(format!("{base}/announce/nowhere"))
        .body("lost")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let unknown = http.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let wrong_method = http.get(format!("{base}/announce/welcome")).send().await;
    assert_eq!(wrong_method.unwrap().status(), 405);

    // The event handlers see the state the route changed, and the key-value store.
    kit.member("carol").say("!hits");
    kit.reply().await.assert_text("1 hits");
    kit.member("carol").say("!note");
    kit.reply().await.assert_text("No note.");
    let noted = http
        .post(format!("{base}/note"))
        .body("Deploy at noon.")
        .send()
        .await
        .unwrap();
    assert_eq!(noted.status(), 204);
    kit.member("carol").say("!note");
    kit.reply().await.assert_text("Deploy at noon.");
}

#[tokio::test]
async fn an_sse_robot_serves_its_routes_on_a_listener_of_its_own() -> lag_bot::Result<()> {
    let kit = Kit::start(robot).await?;
    let handle = kit.handle();
    assert_eq!(
        handle.local_addr(),
        None,
        "an SSE robot has no webhook listener"
    );
    let addr = handle.routes_addr().expect("the routes listen");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    exercise(&kit, &format!("http://{addr}")).await;
    kit.stop().await?;

    let after = reqwest::get(format!("http://{addr}/whoami")).await;
    assert!(after.is_err(), "the routes stop with the robot: {after:?}");
    Ok(())
}

#[tokio::test]
async fn a_long_poll_robot_serves_them_too() -> lag_bot::Result<()> {
    let kit = Kit::builder().via(Via::LongPoll).start(robot).await?;
    let addr = kit.handle().routes_addr().expect("the routes listen");
    exercise(&kit, &format!("http://{addr}")).await;
    kit.stop().await
}

#[tokio::test]
async fn a_webhook_robot_serves_them_next_to_the_webhook_and_metrics() -> lag_bot::Result<()> {
    let kit = Kit::builder().via(Via::Webhook).start(robot).await?;
    let handle = kit.handle();
    let addr = handle.routes_addr().expect("the routes listen");
    assert_eq!(Some(addr), handle.local_addr(), "one listener for both");
    exercise(&kit, &format!("http://{addr}")).await;

    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("lag_bot_"));
    // The webhook path is still the receiver's: an unsigned POST is refused, not routed.
    let unsigned = reqwest::Client::new()
        .post(format!("http://{addr}/webhook"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    kit.stop().await
}

#[tokio::test]
async fn a_taken_routes_port_fails_start_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let result = Kit::start(|lag| robot(lag.routes_listen(addr))).await;
    let error = result.expect_err("the port is taken");
    assert_eq!(error.kind(), &ErrorKind::Transport);
    assert!(error.message().contains(&addr.to_string()), "{error}");
}

#[tokio::test]
async fn a_robot_without_routes_binds_nothing_for_them() -> lag_bot::Result<()> {
    let kit = Kit::start(|lag| Ok(lag.state(Counter::default()).build()?.command(hits()))).await?;
    assert_eq!(kit.handle().routes_addr(), None);
    kit.stop().await
}
