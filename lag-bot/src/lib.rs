//! `lag-bot`: declarative robots for Lag.
//!
//! A Lag robot belongs to one server, authenticates with an API key, receives events over
//! HTTP (webhook, SSE or long-poll) and acts through Lag's REST API. `lag-bot` turns that into
//! a handful of annotated async functions.

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
pub mod robot;
mod router;
pub mod transport;

pub use client::Client;
pub use ctx::Ctx;
pub use error::{BoxError, Error, ErrorKind, Result};
pub use events::Event;
pub use lag_bot_macros::{command, hear, on};
pub use listener::Listener;
pub use model::SendMessage;
pub use robot::{ErrorContext, Robot, RobotBuilder, RobotHandle, Shutdown};
