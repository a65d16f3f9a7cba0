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
//!
//! Every fallible call returns [`Error`], whose [`ErrorKind`] says what went wrong.

#[doc(hidden)]
pub mod __private;
pub mod client;
pub mod command;
pub mod ctx;
pub mod error;
pub mod events;
pub mod listener;
pub mod metrics;
pub mod model;
pub mod reply;
pub mod robot;
pub mod transport;

/// The attribute for implementing the stores a robot can share between replicas
/// ([`DedupStore`](transport::DedupStore), [`CooldownStore`](command::CooldownStore),
/// [`RateLimiter`](client::RateLimiter)) with plain `async fn`s.
pub use async_trait::async_trait;
pub use client::Client;
pub use ctx::Ctx;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use events::Event;
pub use lag_bot_macros::{command, hear, on};
pub use listener::Listener;
pub use model::SendMessage;
pub use reply::{IntoReply, Reply};
pub use robot::{ErrorContext, Robot, RobotBuilder, RobotHandle, Shutdown};
