//! Run with: `cargo run --example welcome` (a local Lag starts in-process; type `/help`)
//!
//! A welcome robot. It greets every member who joins the server in the `welcome` room (or the
//! room named by `WELCOME_ROOM`), says goodbye when one leaves, and tells people who say hello
//! to it in any room how many members it has welcomed so far.
//!
//! With no `LAG_ROBOT_API_KEY` set it runs against a local Lag started in-process: type
//! `/join dave` to see the greeting. With the key set it is configured like any `lag-bot`
//! robot, from `LAG_ROBOT_API_KEY`, `LAG_API_BASE`, `LAG_TRANSPORT` and, for webhooks,
//! `LAG_WEBHOOK_SECRET` and `LAG_LISTEN`. Stop it with Ctrl-C: it finishes the greetings it has
//! started, then exits.

#[path = "support/local.rs"]
mod local;

use std::sync::atomic::{AtomicU64, Ordering};

use lag_bot::events::{MemberJoin, MemberLeave, RobotMentioned};
use lag_bot::{Ctx, Error, ErrorContext, ErrorKind, Robot, on};

/// What the handlers share.
struct Welcome {
    /// Where greetings go.
    room_id: String,
    /// Members greeted since the robot started.
    greeted: AtomicU64,
}

/// Greets a new member in the welcome room.
#[on(member_join)]
async fn greet(ctx: Ctx<Welcome>, join: MemberJoin) -> lag_bot::Result<()> {
    let welcome = ctx.state();
    let count = welcome.greeted.fetch_add(1, Ordering::Relaxed) + 1;
    ctx.send(
        &welcome.room_id,
        format!(
            "Welcome, **{}**! You are member number {count} I have greeted. Say hi in any room!",
            join.username
        ),
    )
    .await?;
    Ok(())
}

/// Says goodbye when a member leaves.
#[on(member_leave)]
async fn farewell(ctx: Ctx<Welcome>, leave: MemberLeave) -> lag_bot::Result<()> {
    ctx.send(
        &ctx.state().room_id,
        format!("Goodbye, {}.", leave.username),
    )
    .await?;
    Ok(())
}

/// Answers `@Robot` mentions (in whatever room they were made) with a short status.
#[on(robot_mentioned)]
async fn status(ctx: Ctx<Welcome>, mention: RobotMentioned) -> String {
    let greeted = ctx.state().greeted.load(Ordering::Relaxed);
    format!(
        "Hi {}! I have welcomed {greeted} new member(s) since I started.",
        mention.sender_name
    )
}

async fn report(error: Error, cx: ErrorContext<Welcome>) {
    tracing::error!(
        handler = cx.handler(),
        event = cx.event_type(),
        panicked = cx.panicked(),
        %error,
        "a handler failed"
    );
}

#[tokio::main]
async fn main() -> lag_bot::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let lag = local::connect().await?;
    let wanted = std::env::var("WELCOME_ROOM").unwrap_or_else(|_| "welcome".to_owned());
    let room = lag
        .client()
        .rooms()
        .await?
        .into_iter()
        .find(|room| room.name.as_deref() == Some(wanted.as_str()))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!("the server has no room named {wanted:?} (set WELCOME_ROOM)"),
            )
        })?;
    tracing::info!(room = room.id, name = wanted, "greeting new members");

    let state = Welcome {
        room_id: room.id,
        greeted: AtomicU64::new(0),
    };
    lag.robot(Robot::builder().state(state))?
        .on(greet())
        .on(farewell())
        .on(status())
        .on_error(report)
        .run()
        .await
}
