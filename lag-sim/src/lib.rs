//! `lag-sim`: a local, in-memory Lag that speaks the robot side of Lag's API.
//!
//! It serves the robot REST API under `/robots/@me` (identity, messages, history, rooms,
//! members), delivers events over all three transports (signed webhooks with Lag's retry
//! schedule, Server-Sent Events with replay, long-poll), enforces Lag's permissions and rate
//! limits, and lets a person or a test act as server members through an admin API under
//! `/_sim` or through [`Sim`]'s methods.
//!
//! Start one in-process on a random loopback port and drive it from Rust:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use lag_sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::default()).await?;
//! let demo = sim.seed_demo()?;
//!
//! // The robot's view, over real HTTP.
//! let info: serde_json::Value = reqwest::Client::new()
//!     .get(format!("{}/robots/@me/info", sim.base_url()))
//!     .header("Authorization", format!("Robot {}", demo.robot.key))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(info["name"], "Helper");
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`Sim::subscribe`] follows everything that happens (messages, edits, members joining, ...)
//! as it happens, for a transcript or a test that waits for a robot's answer.
//!
//! Or run it as a program: `cargo run -p lag-sim` (see the crate's README).
//!
//! One permission is an **emulator extension that Lag does not have today**:
//! [`Permission::ManageMessages`] lets a robot delete anyone's message in its server, where Lag
//! answers 403 (a robot deletes only its own messages there). It is off by default
//! ([`Permission::LAG`] is what robots get) and is granted through a world file, the admin API
//! or [`Sim::set_permissions`], so that a moderation robot's deletion path can be tried locally.
//!
//! Time-dependent behaviour (webhook retries, rate-limit windows, SSE keepalives, long-poll
//! holds) follows [`SimConfig::time_scale`], so tests can run Lag's 24-hour retry schedule in
//! seconds.

#[doc(hidden)]
pub mod __fuzz;
mod clock;
mod config;
mod delivery;
mod error;
mod event;
mod feed;
mod http;
mod limiter;
mod log;
mod provision;
mod server;
mod shared;
mod sim;
mod spec;
pub mod wire;
mod world;
pub mod worldfile;

pub use clock::ManualClock;
pub use config::{AdminAccess, RateLimits, SimConfig};
pub use error::{Error, ErrorKind, Result};
pub use feed::{EventFeed, WorldEvent};
pub use log::{DeliveryOutcome, DeliveryRecord, SentRequest, WebhookResponse};
pub use sim::Sim;
pub use spec::{
    DEMO_TRANSPORT, Demo, RobotCredentials, RobotDetails, RobotSpec, RobotUpdate, ServerUpdate,
    Transport, TransportKind,
};
pub use wire::{
    EventBody, EventType, HistoryPage, Mention, MentionType, Participant, Permission, PollEvent,
    ReplyTo, RobotInfo, Role, Room, RoomMessage, Server, ServerMember, UserStatus,
};
