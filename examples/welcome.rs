//! Run with: `cargo run --example welcome` (with no key it runs against a local Lag; type `/join dave`)
//!
//! A welcome robot. It greets every member who joins the server in the `welcome` room (or the
//! room named by `WELCOME_ROOM`), says goodbye when one leaves, and tells people who say hello
//! to it in any room how many members it has welcomed so far.
//!
//! It is configured like any `lag-bot` robot, from `LAG_ROBOT_API_KEY`, `LAG_API_BASE`,
//! `LAG_TRANSPORT` and, for webhooks, `LAG_WEBHOOK_SECRET` and `LAG_LISTEN`. With no
//! `LAG_ROBOT_API_KEY` set, lag-bot's `dev` feature runs it against a local Lag in this
//! process: type `/join dave` to see the greeting. Stop it with Ctrl-C: it finishes the
//! greetings it has started, then exits.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lag_bot::events::{MemberJoin, MemberLeave, RobotMentioned};
use lag_bot::{Client, Ctx, Error, ErrorContext, ErrorKind, Robot, on};
use tokio::sync::OnceCell;

/// What the handlers share.
struct Welcome {
    /// The name of the room greetings go to.
    room_name: String,
    /// That room's id, looked up once.
    room_id: OnceCell<String>,
    /// Members greeted since the robot started.
    greeted: AtomicU64,
}

impl Welcome {
    fn new(room_name: String) -> Self {
        Self {
            room_name,
            room_id: OnceCell::new(),
            greeted: AtomicU64::new(0),
        }
    }

    /// The id of the room greetings go to, asked of Lag the first time.
    async fn room(&self, client: &Client) -> lag_bot::Result<&str> {
        let id = self
            .room_id
            .get_or_try_init(|| async {
                match client.room_named(&self.room_name).await {
                    Ok(room) => Ok(room.id),
                    Err(error) if error.kind() == &ErrorKind::NotFound => Err(Error::new(
                        ErrorKind::Config,
                        format!("{}; set WELCOME_ROOM to one of them", error.message()),
                    )),
                    Err(error) => Err(error),
                }
            })
            .await?;
        Ok(id)
    }
}

/// Greets a new member in the welcome room.
#[on(member_join)]
async fn greet(ctx: Ctx<Welcome>, join: MemberJoin) -> lag_bot::Result<()> {
    let welcome = ctx.state();
    let room = welcome.room(ctx.client()).await?;
    let count = welcome.greeted.fetch_add(1, Ordering::Relaxed) + 1;
    ctx.send(
        room,
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
    let room = ctx.state().room(ctx.client()).await?;
    ctx.send(room, format!("Goodbye, {}.", leave.username))
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
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let room = std::env::var("WELCOME_ROOM").unwrap_or_else(|_| "welcome".to_owned());
    let welcome = Arc::new(Welcome::new(room));
    let robot = Robot::builder()
        .with_state(Arc::clone(&welcome))
        .build_from_env()?;
    // Look the room up now, so that a missing one stops the robot before it starts.
    let room = welcome.room(robot.client()).await?;
    tracing::info!(room, name = welcome.room_name, "greeting new members");

    robot
        .on(greet())
        .on(farewell())
        .on(status())
        .on_error(report)
        .run()
        .await
}
