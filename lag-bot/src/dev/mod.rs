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

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, PoisonError};

use lag_sim::{Demo, RobotSpec, Sim, SimConfig};
use tokio_util::sync::CancellationToken;

use crate::transport::webhook::Listen;
use crate::transport::{Transport, WebhookConfig, WebhookSecret};
use crate::{Error, ErrorKind, Result};

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

/// What the robot connects with.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) key: String,
    pub(crate) base_url: String,
    pub(crate) transport: Transport,
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
        let (transport, receiver) = match settings.transport {
            Transport::Webhook(config) => {
                let (config, url) = bind_receiver(config)?;
                (
                    Transport::Webhook(config),
                    lag_sim::Transport::Webhook { url },
                )
            }
            Transport::Sse(config) => (Transport::Sse(config), lag_sim::Transport::Sse),
            Transport::Poll(config) => (Transport::Poll(config), lag_sim::Transport::LongPoll),
        };
        let webhook_url = receiver.webhook_url().map(str::to_owned);
        let demo = sim
            .seed_demo_with(RobotSpec::new("Helper").transport(receiver))
            .map_err(|e| sim_error("cannot create the demo world", e))?;
        let transport = match transport {
            Transport::Webhook(mut config) => {
                config.secrets = vec![WebhookSecret::new(demo.robot.secret())?];
                Transport::Webhook(config)
            }
            other => other,
        };
        let connection = Connection {
            key: demo.robot.key.clone(),
            base_url: sim.base_url(),
            transport,
        };
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
    pub(crate) fn open(self, robot: &str, stop: CancellationToken) -> Session {
        let base = self.sim.base_url();
        let mut banner = format!(
            "\nDev mode: no LAG_ROBOT_API_KEY is set, so this robot runs against a local Lag.\n\
             \x20 Lag's robot API  {base}   (admin API: {base}/_sim/world)\n\
             \x20 robot            {robot} in \"Demo Server\", receiving events over {}\n",
            self.transport
        );
        if let Some(url) = &self.webhook_url {
            banner.push_str(&format!(
                "  webhooks         Lag signs each event and POSTs it to {url}\n"
            ));
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

/// Binds the webhook receiver now, so that its address (with the real port, for port 0) is
/// where Lag delivers; the robot serves on that listener when it starts.
fn bind_receiver(config: WebhookConfig) -> Result<(WebhookConfig, String)> {
    let url = |addr: SocketAddr| format!("http://{addr}{}", config.path);
    let addr = match &config.listen {
        Listen::Addr(addr) => *addr,
        Listen::Bound(cell) => {
            let taken = cell.lock().unwrap_or_else(PoisonError::into_inner);
            let listener = taken.as_ref().ok_or_else(|| {
                Error::config("the webhook's bound listener was already used by another robot")
            })?;
            let url = url(listener.local_addr()?);
            drop(taken);
            return Ok((config, url));
        }
        Listen::Mounted => {
            return Err(Error::config(
                "dev mode delivers webhooks to the robot's own receiver: a mounted webhook \
                 service has none (give the transport a listen address, e.g. LAG_LISTEN)",
            ));
        }
    };
    let listener = TcpListener::bind(addr).map_err(|err| {
        Error::new(
            ErrorKind::Transport,
            format!(
                "cannot listen on {addr} for webhooks (set LAG_LISTEN to another address): {err}"
            ),
        )
        .with_source(err)
    })?;
    let url = url(listener.local_addr()?);
    Ok((config.listener(listener), url))
}

fn sim_error(what: &str, error: lag_sim::Error) -> Error {
    Error::new(ErrorKind::Transport, format!("dev mode: {what}: {error}"))
}
