//! The robot: settings, handlers and state, and the runtime that feeds it events.
//!
//! A [`Robot`] is built from the environment ([`Robot::from_env`]) or explicitly
//! ([`Robot::builder`]), given handlers ([`on`](Robot::on), [`command`](Robot::command),
//! [`hear`](Robot::hear)) and state ([`state`](Robot::state)), then [`run`](Robot::run) until
//! SIGINT/SIGTERM. [`start`](Robot::start) runs it in the background instead and returns a
//! [`RobotHandle`], for tests and for embedding in a larger program.
//!
//! Whatever the transport, events flow through one dispatcher:
//!
//! - a redelivered event (same id) runs once;
//! - the robot never reacts to its own messages, and by default not to other robots';
//! - events of one room run one after another, in the order Lag sent them; different rooms
//!   run in parallel, up to a bound on concurrent handlers;
//! - a handler's error or panic goes to the error hook with its context, and the robot keeps
//!   running;
//! - on shutdown the robot stops taking events and finishes the ones it accepted.

mod config;
mod dispatch;
mod error_hook;
mod lanes;
mod shutdown;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error_hook::ErrorContext;
pub use shutdown::Shutdown;

use crate::client::{Client, RateLimits};
use crate::command::router::CommandRouter;
use crate::command::{Command, CommandOptions, Hear};
use crate::listener::Listener;
use crate::metrics::Metrics;
use crate::model::RobotInfo;
use crate::router::Router;
use crate::transport::server::{self, Routes};
use crate::transport::webhook::Listen;
use crate::transport::{self, DedupStore, Intake, MemoryDedup, Transport, WebhookService};
use crate::{Error, ErrorKind, Result};
use dispatch::{Dispatcher, Shared};
use error_hook::ErrorHook;

/// Sets up how a robot connects to Lag: key, API base, transport. Made by [`Robot::builder`].
///
/// ```
/// use lag_bot::Robot;
/// use lag_bot::transport::SseConfig;
///
/// let robot = Robot::builder()
///     .key("lag_robot_abcd1234_secret")
///     .base_url("http://127.0.0.1:4000")
///     .transport(SseConfig::new())
///     .build()?;
/// # let _ = robot;
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Default)]
pub struct RobotBuilder {
    key: Option<String>,
    base_url: Option<String>,
    transport: Option<Transport>,
    client: Option<Client>,
    rate_limits: Option<RateLimits>,
    metrics: Option<Metrics>,
}

impl RobotBuilder {
    /// The robot's API key (`lag_robot_...`).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The API base URL (default Lag's; point it at a local Lag in tests).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How the robot receives events (default SSE).
    pub fn transport(mut self, transport: impl Into<Transport>) -> Self {
        self.transport = Some(transport.into());
        self
    }

    /// Uses a client built elsewhere (custom timeouts, retry policy, user agent) instead of
    /// building one from the key and base URL. See [`metrics`](Self::metrics) to keep its
    /// limiter statistics.
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The limits outgoing calls are paced under (default Lag's). Ignored with [`client`](Self::client).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    /// Records into `metrics` instead of a fresh set. With [`client`](Self::client), build the
    /// client with the same metrics (`ClientBuilder::metrics`) so limiter waits and 429s show
    /// up next to the robot's series.
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds the robot, with no handlers and `()` state yet.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when neither a key nor a client was given, the key or URL is
    /// unusable, or the transport's settings are incomplete (e.g. a webhook without secrets).
    pub fn build(self) -> Result<Robot<()>> {
        let metrics = self.metrics.unwrap_or_default();
        let client = match self.client {
            Some(client) => client,
            None => {
                let key = self.key.ok_or_else(|| {
                    Error::new(
                        ErrorKind::Config,
                        "the robot needs an API key (or a client)",
                    )
                })?;
                let mut builder = Client::builder(key).metrics(metrics.clone());
                if let Some(url) = self.base_url {
                    builder = builder.base_url(url);
                }
                if let Some(limits) = self.rate_limits {
                    builder = builder.rate_limits(limits);
                }
                builder.build()?
            }
        };
        let transport = self
            .transport
            .unwrap_or_else(|| Transport::Sse(transport::SseConfig::new()));
        if let Transport::Webhook(webhook) = &transport {
            webhook.validate()?;
        }
        Ok(Robot {
            client,
            transport,
            metrics,
            metrics_listen: None,
            state: Arc::new(()),
            listeners: Vec::new(),
            commands: Vec::new(),
            hears: Vec::new(),
            command_options: CommandOptions::default(),
            error_hook: error_hook::log_error(),
            max_handlers: Robot::<()>::DEFAULT_MAX_HANDLERS,
            queue_capacity: Robot::<()>::DEFAULT_QUEUE_CAPACITY,
            allow_robots: false,
            dedup: Arc::new(MemoryDedup::default()),
            shutdown: Shutdown::new(),
            custom_error_hook: false,
            dropped_handlers: 0,
        })
    }
}

impl fmt::Debug for RobotBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RobotBuilder")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("transport", &self.transport)
            .field("client", &self.client)
            .finish()
    }
}

/// A Lag robot: its connection, handlers and state. See the [module docs](self).
///
/// ```no_run
/// use lag_bot::{Ctx, Listener, Robot};
/// use lag_bot::events::MemberJoin;
///
/// #[tokio::main]
/// async fn main() -> lag_bot::Result<()> {
///     Robot::from_env()?
///         .on(Listener::new(|ctx: Ctx, join: MemberJoin| async move {
///             tracing::info!(user = join.username, robot = ctx.me().name, "member joined");
///         }))
///         .run()
///         .await
/// }
/// ```
pub struct Robot<S = ()> {
    client: Client,
    transport: Transport,
    metrics: Metrics,
    metrics_listen: Option<SocketAddr>,
    state: Arc<S>,
    listeners: Vec<Listener<S>>,
    commands: Vec<Command<S>>,
    hears: Vec<Hear<S>>,
    command_options: CommandOptions,
    error_hook: ErrorHook<S>,
    max_handlers: usize,
    queue_capacity: usize,
    allow_robots: bool,
    dedup: Arc<dyn DedupStore>,
    shutdown: Shutdown,
    custom_error_hook: bool,
    dropped_handlers: usize,
}

impl Robot<()> {
    /// At most this many handlers run at once by default.
    pub const DEFAULT_MAX_HANDLERS: usize = 64;
    /// At most this many accepted events wait or run at once by default; beyond it a webhook
    /// answers 503 and SSE/poll consumers wait.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

    /// Starts an explicit configuration.
    pub fn builder() -> RobotBuilder {
        RobotBuilder::default()
    }

    /// A robot configured by environment variables:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `LAG_ROBOT_API_KEY` | the API key (required) |
    /// | `LAG_API_BASE` | the API base URL (default Lag's) |
    /// | `LAG_TRANSPORT` | `webhook`, `sse` or `poll` (default `webhook` when a secret is set, else `sse`) |
    /// | `LAG_WEBHOOK_SECRET` | webhook signing secrets, comma-separated during a rotation |
    /// | `LAG_LISTEN` | the webhook receiver's `host:port` (default `127.0.0.1:3000`; path `/webhook`) |
    /// | `LAG_METRICS_LISTEN` | an extra `host:port` serving `/metrics` (optional) |
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] naming the variable that is missing or malformed.
    pub fn from_env() -> Result<Self> {
        let settings = config::from_vars(|name| std::env::var(name).ok())?;
        let mut builder = Robot::builder()
            .key(settings.key)
            .transport(settings.transport);
        if let Some(url) = settings.base_url {
            builder = builder.base_url(url);
        }
        let mut robot = builder.build()?;
        robot.metrics_listen = settings.metrics_listen;
        Ok(robot)
    }
}

impl<S: Send + Sync + 'static> Robot<S> {
    /// Sets the state every handler reaches with `ctx.state()`. Call it before adding
    /// handlers: handlers are typed by the state they expect, so handlers added before it
    /// cannot be kept, and [`start`](Self::start) reports them as a configuration error.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use lag_bot::{Ctx, Listener, Robot, events::MemberJoin};
    ///
    /// #[derive(Default)]
    /// struct Stats { joins: AtomicU64 }
    ///
    /// let robot = Robot::builder().key("lag_robot_abcd1234_secret").build()?
    ///     .state(Stats::default())
    ///     .on(Listener::new(|ctx: Ctx<Stats>, _join: MemberJoin| async move {
    ///         ctx.state().joins.fetch_add(1, Ordering::Relaxed);
    ///     }));
    /// # let _ = robot;
    /// # Ok::<(), lag_bot::Error>(())
    /// ```
    pub fn state<T: Send + Sync + 'static>(self, state: T) -> Robot<T> {
        self.with_state(Arc::new(state))
    }

    /// Like [`state`](Self::state), with state the program keeps a handle on too.
    pub fn with_state<T: Send + Sync + 'static>(self, state: Arc<T>) -> Robot<T> {
        let dropped = self.listeners.len()
            + self.commands.len()
            + self.hears.len()
            + usize::from(self.custom_error_hook);
        Robot {
            client: self.client,
            transport: self.transport,
            metrics: self.metrics,
            metrics_listen: self.metrics_listen,
            state,
            listeners: Vec::new(),
            commands: Vec::new(),
            hears: Vec::new(),
            command_options: self.command_options,
            error_hook: error_hook::log_error(),
            max_handlers: self.max_handlers,
            queue_capacity: self.queue_capacity,
            allow_robots: self.allow_robots,
            dedup: self.dedup,
            shutdown: self.shutdown,
            custom_error_hook: false,
            dropped_handlers: self.dropped_handlers + dropped,
        }
    }

    /// Adds an event listener.
    pub fn on(mut self, listener: Listener<S>) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Adds a command.
    pub fn command(mut self, command: Command<S>) -> Self {
        self.commands.push(command);
        self
    }

    /// Adds a pattern listener (runs on room messages matching its pattern).
    pub fn hear(mut self, hear: Hear<S>) -> Self {
        self.hears.push(hear);
        self
    }

    /// Sets robot-wide command behaviour: prefixes, case, `@Robot` addressing, help.
    pub fn commands(mut self, options: CommandOptions) -> Self {
        self.command_options = options;
        self
    }

    /// Sets the hook every handler failure goes to (an `Err` or a panic), with its context.
    /// The default logs an error line.
    pub fn on_error<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Error, ErrorContext<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.error_hook =
            Arc::new(move |error, cx| Box::pin(hook(error, cx)) as BoxFuture<'static, ()>);
        self.custom_error_hook = true;
        self
    }

    /// Bounds how many handlers run at once (default 64, at least 1).
    pub fn max_concurrent_handlers(mut self, max: usize) -> Self {
        self.max_handlers = max.max(1);
        self
    }

    /// Bounds how many accepted events may wait or run at once (default 1024, at least 1).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Also handles messages sent by other robots (default: ignored, to keep robots from
    /// talking to each other forever). The robot's own messages are always ignored.
    pub fn allow_robots(mut self, allow: bool) -> Self {
        self.allow_robots = allow;
        self
    }

    /// Also serves `/metrics` on `addr`; for SSE and long-poll robots, which have no webhook
    /// listener to serve them on (port 0 picks a free port; see `RobotHandle::metrics_addr`).
    pub fn metrics_listen(mut self, addr: SocketAddr) -> Self {
        self.metrics_listen = Some(addr);
        self
    }

    /// Replaces the in-memory dedup store, e.g. with one shared by several replicas.
    pub fn dedup_store(mut self, store: Arc<dyn DedupStore>) -> Self {
        self.dedup = store;
        self
    }

    /// A handle that stops the robot gracefully once it runs.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// The robot's metrics (also served at `/metrics` by a webhook robot).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The REST client the robot and its handlers use.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs until SIGINT or SIGTERM (or the [`shutdown_handle`](Self::shutdown_handle)), then
    /// stops taking events, finishes the ones it accepted, and returns. A second signal while
    /// finishing returns at once, with an error.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start), and a transport failure that retrying cannot fix (a revoked
    /// key, a robot set up for another transport).
    pub async fn run(self) -> Result<()> {
        let handle = self.start().await?;
        let shutdown = handle.shutdown_handle();
        let signals = async move {
            wait_for_signal().await;
            tracing::info!(
                "stop signal received; finishing accepted events (signal again to stop at once)"
            );
            shutdown.trigger();
            wait_for_signal().await;
        };
        tokio::select! {
            result = handle.wait() => result,
            () = signals => Err(Error::new(
                ErrorKind::Transport,
                "stopped by a second signal before the accepted events finished",
            )),
        }
    }

    /// Connects and starts receiving events in the background.
    ///
    /// It asks Lag who the robot is (so a bad key fails here, not at the first event), checks
    /// the handlers (two commands claiming one trigger is an error), and binds the webhook
    /// listener when there is one.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`] for a rejected key, [`ErrorKind::Config`] for conflicting
    /// handlers or handlers added before the state, [`ErrorKind::Transport`] when the listen address cannot be bound, or the
    /// error of the identity call.
    pub async fn start(self) -> Result<RobotHandle> {
        if self.dropped_handlers > 0 {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "`state` was set after {} handler(s) or error hook had been added; set the state first, then add them",
                    self.dropped_handlers
                ),
            ));
        }
        let me = Arc::new(self.client.me().await?);
        if !me.active {
            tracing::warn!(
                robot = me.id,
                "Lag reports this robot as disabled; it will receive nothing until re-enabled"
            );
        }
        let commands = if self.commands.is_empty() && self.hears.is_empty() {
            None
        } else {
            Some(CommandRouter::new(
                self.commands,
                self.hears,
                self.command_options,
            )?)
        };
        let router = Router::new(self.listeners, commands);
        tracing::info!(
            robot = me.id,
            name = me.name,
            transport = self.transport.name(),
            listeners = router.listener_count(),
            "robot starting"
        );
        let shared = Shared {
            state: self.state,
            client: self.client.clone(),
            me: Arc::clone(&me),
            router,
            error_hook: self.error_hook,
            allow_robots: self.allow_robots,
            handler_permits: Arc::new(Semaphore::new(self.max_handlers)),
            metrics: self.metrics.clone(),
        };
        let capacity = u32::try_from(self.queue_capacity).unwrap_or(u32::MAX);
        let dispatcher = Arc::new(Dispatcher::new(shared, self.dedup, capacity));
        let intake: Arc<dyn Intake> = dispatcher.clone();

        // Bind every listener before anything runs, so a taken port fails `start` cleanly.
        let webhook_listener = match &self.transport {
            Transport::Webhook(config) => match &config.listen {
                Listen::Addr(addr) => Some(server::bind(*addr).await?),
                Listen::Bound(cell) => {
                    let taken = cell.lock().unwrap_or_else(PoisonError::into_inner).take();
                    let std_listener = taken.ok_or_else(|| {
                        Error::new(
                            ErrorKind::Config,
                            "the webhook's bound listener was already used by another robot",
                        )
                    })?;
                    Some(server::adopt(std_listener)?)
                }
                Listen::Mounted => None,
            },
            Transport::Sse(_) | Transport::Poll(_) => None,
        };
        let metrics_listener = match self.metrics_listen {
            Some(addr) => Some(server::bind(addr).await?),
            None => None,
        };
        let local_addr = webhook_listener.as_ref().and_then(|l| l.local_addr().ok());
        let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());

        let stop_consumer = self.shutdown.token().child_token();
        let stop_server = CancellationToken::new();
        let last_event_id = Arc::new(Mutex::new(None));
        let mut webhook = None;
        let mut servers = Vec::new();
        let consumer: Option<JoinHandle<Result<()>>> = match self.transport {
            Transport::Webhook(config) => {
                let service =
                    WebhookService::new(&config, Arc::clone(&intake), self.metrics.clone());
                if let Some(listener) = webhook_listener {
                    let routes = Routes {
                        webhook: Some((config.path.clone(), service.clone())),
                        metrics: config
                            .metrics_path
                            .clone()
                            .map(|p| (p, self.metrics.clone())),
                    };
                    tracing::info!(addr = ?local_addr, path = config.path, "webhook receiver listening");
                    servers.push(tokio::spawn(server::serve(
                        listener,
                        routes,
                        stop_server.clone(),
                    )));
                }
                webhook = Some(service);
                None
            }
            Transport::Sse(config) => Some(tokio::spawn(transport::sse::run(
                self.client.clone(),
                config,
                Arc::clone(&intake),
                self.metrics.clone(),
                Arc::clone(&last_event_id),
                stop_consumer.clone(),
            ))),
            Transport::Poll(config) => Some(tokio::spawn(transport::poll::run(
                self.client.clone(),
                config,
                Arc::clone(&intake),
                self.metrics.clone(),
                stop_consumer.clone(),
            ))),
        };
        if let Some(listener) = metrics_listener {
            let routes = Routes {
                webhook: None,
                metrics: Some(("/metrics".to_owned(), self.metrics.clone())),
            };
            tracing::info!(addr = ?metrics_addr, "metrics listening");
            servers.push(tokio::spawn(server::serve(
                listener,
                routes,
                stop_server.clone(),
            )));
        }

        let shutdown = self.shutdown.clone();
        let supervisor = tokio::spawn(supervise(
            shutdown.clone(),
            consumer,
            servers,
            dispatcher,
            stop_server,
        ));
        Ok(RobotHandle {
            me,
            client: self.client,
            metrics: self.metrics,
            shutdown,
            local_addr,
            metrics_addr,
            webhook,
            last_event_id,
            supervisor,
        })
    }
}

async fn supervise<S: Send + Sync + 'static>(
    shutdown: Shutdown,
    mut consumer: Option<JoinHandle<Result<()>>>,
    mut servers: Vec<JoinHandle<Result<()>>>,
    dispatcher: Arc<Dispatcher<S>>,
    stop_server: CancellationToken,
) -> Result<()> {
    enum Woke {
        Shutdown,
        Consumer(Result<()>),
        Server(Result<()>, usize),
    }
    let woke = tokio::select! {
        () = shutdown.triggered() => Woke::Shutdown,
        result = async {
            match consumer.as_mut() {
                Some(handle) => joined(handle.await),
                None => std::future::pending().await,
            }
        } => Woke::Consumer(result),
        (result, index) = async {
            if servers.is_empty() {
                return std::future::pending().await;
            }
            let (result, index, _) = futures_util::future::select_all(servers.iter_mut()).await;
            (joined(result), index)
        } => Woke::Server(result, index),
    };
    shutdown.trigger();
    let mut outcome = Ok(());
    match woke {
        Woke::Shutdown => {}
        Woke::Consumer(result) => {
            consumer = None;
            outcome = result;
        }
        Woke::Server(result, index) => {
            servers.swap_remove(index);
            outcome = result.and(Err(Error::new(
                ErrorKind::Transport,
                "the HTTP listener stopped unexpectedly",
            )));
        }
    }
    if let Err(error) = &outcome {
        tracing::error!(%error, "robot stopping after a failure");
    }
    tracing::info!("robot stopping: finishing accepted events");
    dispatcher.close();
    if let Some(handle) = consumer {
        let result = joined(handle.await);
        if outcome.is_ok() {
            outcome = result;
        }
    }
    dispatcher.drain().await;
    stop_server.cancel();
    for server in servers {
        let result = joined(server.await);
        if outcome.is_ok() {
            outcome = result;
        }
    }
    tracing::info!("robot stopped");
    outcome
}

fn joined(result: std::result::Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
    result.unwrap_or_else(|err| {
        Err(Error::new(
            ErrorKind::Transport,
            format!("a robot task failed: {err}"),
        ))
    })
}

async fn wait_for_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// A robot running in the background, made by [`Robot::start`].
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
    me: Arc<RobotInfo>,
    client: Client,
    metrics: Metrics,
    shutdown: Shutdown,
    local_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    webhook: Option<WebhookService>,
    last_event_id: Arc<Mutex<Option<String>>>,
    supervisor: JoinHandle<Result<()>>,
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
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl<S> fmt::Debug for Robot<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Robot")
            .field("transport", &self.transport)
            .field("listeners", &self.listeners.len())
            .field("commands", &self.commands.len())
            .field("hears", &self.hears.len())
            .field("max_handlers", &self.max_handlers)
            .field("queue_capacity", &self.queue_capacity)
            .field("allow_robots", &self.allow_robots)
            .finish_non_exhaustive()
    }
}
