//! Dev mode: a robot built from the environment with no key runs against a local Lag
//! (`lag-sim` with its demo world) started in this process, and the terminal is a chat with it.
//!
//! The local Lag starts while the robot is built, because the robot's client needs its URL and
//! key: `Sim::spawn` binds at once and serves on the current Tokio runtime, so the synchronous
//! `build_from_env` works under `#[tokio::main]`, and the program may call Lag through
//! `Robot::client` before the robot starts. The chat opens when the robot has started, and the
//! local Lag stops after the robot has finished its last event. See the crate docs, "Running
//! locally", for what a user sees.

mod chat;
mod input;

use std::net::SocketAddr;
use std::sync::Arc;

use lag_sim::{Demo, Sim, SimConfig};
use tokio_util::sync::CancellationToken;

use crate::local::{self, Connection, Seeded, sim_error};
use crate::transport::Transport;
use crate::{Error, Result};

/// Where the local Lag listens unless told otherwise: the port `cargo run -p lag-sim` uses.
const PREFERRED: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8090);

/// How dev mode runs, as `LAG_*` variables and the builder say.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The robot's transport; a webhook's secrets are replaced by the local Lag's.
    pub(crate) transport: Transport,
    /// Where the local Lag listens; `None` for 127.0.0.1:8090, or a free port when it is taken.
    pub(crate) lag_listen: Option<SocketAddr>,
    /// Whether the terminal is a chat.
    pub(crate) chat: bool,
}

/// A local Lag with the demo world, its robot reserved for the robot being built.
#[derive(Debug)]
pub(crate) struct DevLag {
    sim: Arc<Sim>,
    demo: Demo,
    /// Where Lag delivers webhooks, for a webhook robot.
    webhook_url: Option<String>,
    transport: &'static str,
    chat: bool,
}

impl DevLag {
    /// Starts the local Lag on the current Tokio runtime and creates the demo world, with its
    /// robot set up for `settings.transport`. A webhook robot's receiver is bound here, so
    /// that Lag knows where to deliver before the robot starts.
    pub(crate) fn start(settings: Settings) -> Result<(Self, Connection)> {
        tokio::runtime::Handle::try_current().map_err(|_| {
            Error::config(
                "dev mode starts a local Lag on the current Tokio runtime: build the robot \
                 inside one (e.g. in a `#[tokio::main]` function)",
            )
        })?;
        let sim = start_sim(settings.lag_listen)?;
        let name = settings.transport.name();
        let Seeded {
            demo,
            connection,
            webhook_url,
        } = local::seed_demo(&sim, settings.transport)?;
        let lag = Self {
            sim: Arc::new(sim),
            demo,
            webhook_url,
            transport: name,
            chat: settings.chat,
        };
        Ok((lag, connection))
    }

    /// Prints what runs where and, unless the chat is off, opens the chat on this terminal.
    /// `stop` stops the robot gracefully (the chat's Ctrl-C, Ctrl-D and `/quit`).
    pub(crate) fn open(
        self,
        robot: &str,
        routes: Option<SocketAddr>,
        stop: CancellationToken,
    ) -> Session {
        let base = self.sim.base_url();
        let playground = self.sim.playground_link();
        let mut banner = format!(
            "\nDev mode: no LAG_ROBOT_API_KEY is set, so this robot runs against a local Lag.\n\
             \x20 Lag's robot API  {base}   (admin API: {base}/_sim/world)\n\
             \x20 playground       {playground}   (chat, every delivery, robot settings)\n\
             \x20 robot            {robot} in \"Demo Server\", receiving events over {}\n",
            self.transport
        );
        if let Some(url) = &self.webhook_url {
            banner.push_str(&format!(
                "  webhooks         Lag signs each event and POSTs it to {url}\n"
            ));
        }
        if let Some(addr) = routes {
            banner.push_str(&format!("  robot's routes   http://{addr}\n"));
        }
        if self.chat {
            banner.push_str(
                "You are alice in #general: type a message (try !help), or /help for the chat's \
                 commands.\n",
            );
        } else {
            banner.push_str(
                "The chat is off (LAG_DEV_CHAT=off): act as members through the admin API.\n",
            );
        }
        println!("{banner}");
        let chat = self
            .chat
            .then(|| chat::Chat::open(Arc::clone(&self.sim), &self.demo, stop));
        Session {
            sim: self.sim,
            chat,
        }
    }
}

/// Dev mode while the robot runs: the chat, and the local Lag to stop after the robot.
#[derive(Debug)]
pub(crate) struct Session {
    sim: Arc<Sim>,
    chat: Option<chat::Chat>,
}

impl Session {
    /// Called once the robot has stopped: prints its last messages, closes the chat and stops
    /// the local Lag.
    pub(crate) async fn close(self) {
        if let Some(chat) = self.chat {
            chat.close().await;
        }
        self.sim.shutdown().await;
    }
}

/// Starts lag-sim on `listen`, or on 127.0.0.1:8090 and else a free port.
fn start_sim(listen: Option<SocketAddr>) -> Result<Sim> {
    let config = |bind| SimConfig {
        bind,
        ..SimConfig::default()
    };
    let started = match listen {
        Some(addr) => Sim::spawn(config(addr)),
        None => Sim::spawn(config(PREFERRED))
            .or_else(|_| Sim::spawn(config(SocketAddr::new(PREFERRED.ip(), 0)))),
    };
    started.map_err(|e| sim_error("cannot start the local Lag", e))
}
