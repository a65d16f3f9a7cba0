//! `lag-bot`: declarative robots for Lag.
//!
//! A Lag robot belongs to one server, authenticates with an API key, receives events over
//! HTTP (webhook, SSE or long-poll) and acts through Lag's REST API. `lag-bot` turns that into
//! a handful of annotated async functions:
//!
//! ```no_run
//! use lag_bot::{command, events::MemberJoin, on, Ctx, Robot};
//!
//! /// Replies with pong.                        (doc comments are the help text)
//! #[command("!ping")]
//! async fn ping(_ctx: Ctx) -> &'static str {
//!     "pong"
//! }
//!
//! /// Rolls a die.
//! #[command("!roll", aliases("!dice"))]
//! async fn roll(_ctx: Ctx, sides: Option<u32>) -> String {
//!     format!("You rolled a d{}.", sides.unwrap_or(6))
//! }
//!
//! #[on(member_join)]
//! async fn greet(ctx: Ctx, join: MemberJoin) -> lag_bot::Result<()> {
//!     let rooms = ctx.client().rooms().await?;
//!     if let Some(room) = rooms.iter().find(|room| room.name.as_deref() == Some("welcome")) {
//!         ctx.send(&room.id, format!("Welcome, {}!", join.username)).await?;
//!     }
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> lag_bot::Result<()> {
//!     Robot::from_env()?.command(ping()).command(roll()).on(greet()).run().await
//! }
//! ```
//!
//! # How it fits together
//!
//! Data flows one way: a [`transport`] (webhook receiver, SSE or long-poll consumer) turns each
//! delivery into an [`events::Envelope`], deduplicated by id; the [`Robot`] drops its own
//! messages (and other robots', unless allowed), keeps each room's events in order while rooms
//! run in parallel, and starts the matching [`Listener`]s for every event and, for room
//! messages, the matching [commands](mod@command) and pattern listeners. Handlers get a [`Ctx`]
//! with the event, the robot's identity, its state (whose type is fixed on the
//! [`RobotBuilder`] before any handler is added) and a [`Client`] whose calls are paced under
//! Lag's limits (100 requests per minute, 10 messages per 10 seconds), so a correct robot never
//! sees a 429. Whatever a handler returns takes one [`reply`] path: split to Lag's message
//! size, threaded, posted.
//!
//! - [`command`](mod@command): `#[command]` functions or hand-built [`command::Command`] values, typed
//!   arguments ([`command::FromArg`]), usage replies, `!help`, cooldowns, checks, `#[hear]`,
//!   and the [texts](command::Texts) the framework answers with, replaceable to translate them.
//! - [`reply`]: what handlers return ([`Reply`], [`IntoReply`]) and how it is posted.
//! - [`listener`]: `#[on(event)]` functions or hand-built [`Listener`] values.
//! - [`robot`]: state first, then configuration from the environment or a builder; the error
//!   hook, shutdown, and the stores replicas can share (dedup, cooldowns, pacing).
//! - [`client`] and [`model`]: every robot endpoint of Lag's REST API, with typed models.
//! - [`events`]: a typed struct per event type, unknown types kept as raw JSON.
//! - [`metrics`]: Prometheus counters and histograms of deliveries, handlers and pacing.
//! - [`routes`]: the robot's own HTTP routes, an axum `Router` served next to its event
//!   receiver, whose handlers reach the robot's state and client ([`RouteCtx`]).
//!
//! Every fallible call returns [`Error`], whose [`ErrorKind`] says what went wrong.
//!
//! # Serving your own routes
//!
//! A robot can also be an HTTP service: outside systems post to it, and it speaks in Lag.
//! [`Robot::routes`] mounts an axum `Router` on the robot's webhook listener, or, for an SSE
//! or long-poll robot, on a listener of its own (`LAG_LISTEN`); its handlers take
//! `State<RouteCtx<S>>` with the robot's state, client and identity:
//!
//! ```no_run
//! use axum::{Router, extract::State, routing::get};
//! use lag_bot::{Robot, RouteCtx};
//!
//! async fn whoami(State(robot): State<RouteCtx>) -> String {
//!     format!("I am {} in server {}", robot.me().name, robot.me().server_id)
//! }
//!
//! # async fn run() -> lag_bot::Result<()> {
//! Robot::from_env()?
//!     .routes(Router::new().route("/whoami", get(whoami)))
//!     .run()
//!     .await
//! # }
//! ```
//!
//! The [`routes`] module docs say where the routes listen and how they stop.
//!
//! # Running locally
//!
//! With the `dev` feature (`lag-bot = { version = "0.1", features = ["dev"] }`), a robot built
//! from the environment ([`Robot::from_env`], [`RobotBuilder::build_from_env`]) with no
//! `LAG_ROBOT_API_KEY` runs against a local Lag instead: `lag-sim` with its demo world (server
//! "Demo Server", rooms `general`, `welcome` and `mod-log`, members alice, bob and carol, and
//! the robot "Helper"), started in the same process. Without the feature, a missing key is a
//! configuration error that says so; production builds leave the feature off and compile no
//! emulator in.
//!
//! The local Lag starts while the robot is built, on the current Tokio runtime (so build inside
//! one, as under `#[tokio::main]`), and listens on `127.0.0.1:8090`, or on a free port when that
//! one is taken (`LAG_DEV_LISTEN` picks another address). The robot can call it through
//! [`Robot::client`] before it starts. `LAG_TRANSPORT` chooses the transport as usual; for
//! webhooks the robot's own receiver (`LAG_LISTEN`, default `127.0.0.1:3000`) is bound at once,
//! and the local Lag signs and POSTs real deliveries to it.
//!
//! When the robot starts, it prints the URLs in use, and the terminal becomes a chat: each line
//! is posted in `#general` as alice, and each message posted in the server, the robot's replies
//! included, is printed as a line. `/as NAME` and `/room NAME` change who speaks where,
//! `/join NAME`, `/leave NAME` and `/create NAME` make members join, leave and create rooms,
//! `/help` lists them all. On a terminal the chat has history and line editing; Ctrl-C stops
//! the robot (it finishes the events it accepted), and Ctrl-D or `/quit` stops it once Lag has
//! handed it what was sent. Piped input is read line by line, and at its end the robot runs on
//! until a signal, unless the input ended with `/quit`:
//!
//! ```sh
//! (sleep 5; echo '!help'; echo /quit) | cargo run --example commands
//! ```
//!
//! `LAG_DEV_CHAT=off` leaves the terminal alone; members can then act through the local Lag's
//! admin API (under `/_sim`). The local Lag stops after the robot has stopped.
//!
//! # Testing your robot
//!
//! With the `testing` feature (for tests only: under `[dev-dependencies]`), the test kit
//! `testing::Kit` starts a robot against a local Lag in the test's process, over a real
//! transport, and gives the test the members' side: members say, edit and delete messages,
//! join and leave, and the test expects the robot's replies, its silence, its deletions and the
//! events it received. Time is simulated: a ten-minute cooldown or a burst of paced replies
//! takes milliseconds. Failures print the server's transcript and the robot's errors, and
//! conversations can be written as transcript files. The `lag_bot::testing` module docs are the guide.
//!
//! # Running replicated
//!
//! With the `redis` feature and `LAG_REDIS_URL` set (or `RobotBuilder::redis`), replicas of
//! one robot share what a single process keeps in memory: the deliveries already handled, the
//! rate-limit budget, cooldowns, the jobs' runs and the key-value store of [`Ctx::kv`]. The
//! `lag_bot::redis` module docs say what is shared and how to run it.

#[doc(hidden)]
pub mod __bench;
#[doc(hidden)]
pub mod __fuzz;
#[doc(hidden)]
pub mod __private;
pub mod client;
mod clock;
pub mod command;
pub mod ctx;
#[cfg(feature = "dev")]
mod dev;
pub mod error;
pub mod events;
pub mod job;
pub mod kv;
pub mod listener;
#[cfg(any(feature = "dev", feature = "testing"))]
mod local;
pub mod metrics;
pub mod model;
#[cfg(feature = "redis")]
pub mod redis;
pub mod reply;
pub mod robot;
pub mod routes;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

/// The attribute for implementing the stores a robot can share between replicas
/// ([`DedupStore`](transport::DedupStore), [`CooldownStore`](command::CooldownStore),
/// [`RateLimiter`](client::RateLimiter)) with plain `async fn`s.
pub use async_trait::async_trait;
pub use client::Client;
pub use ctx::Ctx;
pub use error::{BoxError, ConversationEnd, Error, ErrorKind, Result};
pub use events::Event;
pub use lag_bot_macros::{command, cron, every, hear, on};
pub use listener::Listener;
pub use model::SendMessage;
pub use reply::{IntoReply, Reply};
pub use robot::{ErrorContext, Robot, RobotBuilder, RobotHandle, Shutdown};
pub use routes::RouteCtx;
