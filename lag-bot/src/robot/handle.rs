//! A robot running in the background.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::JoinHandle;

use super::Shutdown;
use crate::client::Client;
use crate::metrics::Metrics;
use crate::model::RobotInfo;
use crate::transport::WebhookService;
use crate::{Error, ErrorKind, Result};

/// A robot running in the background, made by [`Robot::start`](crate::Robot::start).
///
/// Dropping the handle does not stop the robot; call [`shutdown`](Self::shutdown), or trigger
/// the [`Shutdown`] handle and [`wait`](Self::wait).
///
/// ```no_run
/// use lag_bot::{Ctx, Listener, Robot};
/// use lag_bot::events::RoomMessage;
///
/// # async fn run() -> lag_bot::Result<()> {
/// let handle = Robot::from_env()?
///     .on(Listener::new(|ctx: Ctx, msg: RoomMessage| async move {
///         ctx.reply(format!("you said {}", msg.content)).await.map(drop)
///     }))
///     .start()
///     .await?;
/// println!("running as {}", handle.me().name);
/// // ... the rest of the program ...
/// handle.shutdown().await?; // finishes accepted events first
/// # Ok(())
/// # }
/// ```
pub struct RobotHandle {
    pub(super) me: Arc<RobotInfo>,
    pub(super) client: Client,
    pub(super) metrics: Metrics,
    pub(super) shutdown: Shutdown,
    pub(super) local_addr: Option<SocketAddr>,
    pub(super) metrics_addr: Option<SocketAddr>,
    pub(super) routes_addr: Option<SocketAddr>,
    pub(super) webhook: Option<WebhookService>,
    pub(super) last_event_id: Arc<Mutex<Option<String>>>,
    pub(super) supervisor: JoinHandle<Result<()>>,
}

impl RobotHandle {
    /// The robot's identity, as Lag reported it at startup.
    pub fn me(&self) -> &RobotInfo {
        &self.me
    }

    /// The REST client the robot uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The robot's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Where the webhook receiver listens (with the real port when configured with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Where the extra metrics listener (`metrics_listen`) listens.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Where the robot's own [routes](crate::routes) listen: the webhook receiver's address
    /// when they share it, else their own listener's. `None` for a robot without routes.
    pub fn routes_addr(&self) -> Option<SocketAddr> {
        self.routes_addr
    }

    /// The webhook endpoint as an HTTP service, to mount in the application's own server
    /// (see `WebhookConfig::mounted`). `None` for SSE and long-poll robots.
    pub fn webhook_service(&self) -> Option<WebhookService> {
        self.webhook.clone()
    }

    /// The id of the last SSE event received, to resume from in a later run
    /// (`SseConfig::resume_from`). `None` before the first event and for other transports.
    pub fn last_event_id(&self) -> Option<String> {
        self.last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// From now on answers every verified webhook delivery with 410 Gone, which makes Lag
    /// disable the robot. For retiring a robot for good: only the owner can re-enable it.
    /// Does nothing for SSE and long-poll robots.
    pub fn retire(&self) {
        if let Some(webhook) = &self.webhook {
            tracing::warn!(
                "retiring: webhook deliveries now get 410 Gone and Lag disables the robot"
            );
            webhook.retire();
        }
    }

    /// A handle that stops the robot gracefully.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Waits until the robot stopped: after a shutdown was triggered and every accepted event
    /// finished, or after a failure retrying cannot fix.
    ///
    /// # Errors
    ///
    /// The failure that stopped the robot, if one did.
    pub async fn wait(self) -> Result<()> {
        joined(self.supervisor.await)
    }

    /// Stops the robot gracefully and waits until it stopped.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    pub async fn shutdown(self) -> Result<()> {
        self.shutdown.trigger();
        self.wait().await
    }
}

impl fmt::Debug for RobotHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RobotHandle")
            .field("robot", &self.me.id)
            .field("local_addr", &self.local_addr)
            .field("metrics_addr", &self.metrics_addr)
            .field("routes_addr", &self.routes_addr)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

/// A robot task's outcome, with a task that panicked or was cancelled as a transport error.
pub(super) fn joined(
    result: std::result::Result<Result<()>, tokio::task::JoinError>,
) -> Result<()> {
    result.unwrap_or_else(|err| {
        Err(Error::new(
            ErrorKind::Transport,
            format!("a robot task failed: {err}"),
        ))
    })
}
