//! A local Lag for a robot in this process: the demo world, with its robot set up for the
//! transport the robot uses. Shared by dev mode and the test kit.

use std::net::{SocketAddr, TcpListener};
use std::sync::PoisonError;

use lag_sim::{Demo, RobotSpec, Sim};

use crate::transport::webhook::Listen;
use crate::transport::{Transport, WebhookConfig, WebhookSecret};
use crate::{Error, ErrorKind, Result};

/// What the robot connects with.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) key: String,
    pub(crate) base_url: String,
    pub(crate) transport: Transport,
}

/// The demo world in a local Lag, and how its robot connects.
#[derive(Debug)]
pub(crate) struct Seeded {
    pub(crate) demo: Demo,
    pub(crate) connection: Connection,
    /// Where Lag delivers webhooks, for a webhook robot.
    #[cfg_attr(not(feature = "dev"), allow(dead_code))]
    pub(crate) webhook_url: Option<String>,
}

/// Creates the demo world in `sim`, with its robot "Helper" receiving over `transport`. A
/// webhook robot's receiver is bound here, so that Lag knows where to deliver before the
/// robot starts, and its secrets are replaced by the ones Lag signs with.
pub(crate) fn seed_demo(sim: &Sim, transport: Transport) -> Result<Seeded> {
    let (transport, receiver) = match transport {
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
    Ok(Seeded {
        demo,
        connection,
        webhook_url,
    })
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
                "a local Lag delivers webhooks to the robot's own receiver: a mounted webhook \
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

/// An error of the local Lag, as one of ours.
pub(crate) fn sim_error(what: &str, error: lag_sim::Error) -> Error {
    Error::new(ErrorKind::Transport, format!("local Lag: {what}: {error}"))
}
