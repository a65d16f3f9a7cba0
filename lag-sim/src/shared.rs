//! State shared by the HTTP handlers, delivery tasks and the [`Sim`](crate::Sim) handle.

use std::future::Future;
use std::sync::Arc;

use parking_lot::Mutex;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::SimConfig;
use crate::error::{Error, Result};
use crate::world::{Settings, World};

/// The emulator's shared core.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) clock: Clock,
    pub(crate) world: Mutex<World>,
    pub(crate) http: reqwest::Client,
    runtime: Handle,
    pub(crate) tasks: TaskTracker,
    pub(crate) shutdown: CancellationToken,
    /// Bumped by `cut_streams`; open SSE streams and long-polls abort their connection.
    pub(crate) cut: watch::Sender<u64>,
    /// The token the page and the admin API need, if they need one ([`crate::AdminAccess`]).
    pub(crate) admin_token: Option<String>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig) -> Result<Arc<Self>> {
        let runtime = Handle::try_current()
            .map_err(|_| Error::internal("lag-sim must be started inside a Tokio runtime"))?;
        let admin_token = config
            .admin_access
            .needs_token(config.bind.ip())
            .then(new_token);
        let clock = Clock::new(config.time_scale, config.clock.clone());
        let http = reqwest::Client::builder()
            .user_agent("Lag-Webhooks/1.0")
            .timeout(config.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal(format!("cannot build the webhook client: {e}")))?;
        let world = World::new(Settings {
            config: config.clone(),
            clock: clock.clone(),
        });
        Ok(Arc::new(Self {
            config,
            clock,
            world: Mutex::new(world),
            http,
            runtime,
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            cut: watch::Sender::new(0),
            admin_token,
        }))
    }

    /// Runs a background task that [`Sim::shutdown`](crate::Sim::shutdown) waits for.
    pub(crate) fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn_on(future, &self.runtime);
    }

    /// Drops every open SSE stream and held long-poll; queued events stay.
    pub(crate) fn cut_streams(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }
}

/// 32 random letters and digits (about 190 bits): the admin token of one run.
fn new_token() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}
