//! The robot: settings, handlers and state, and the runtime that feeds it events.
//!
//! A robot is set up in a fixed order: its state type first, then its connection, then its
//! handlers. [`Robot::builder`] (or [`Robot::from_env`] for a robot without state) gives a
//! [`RobotBuilder`]; [`state`](RobotBuilder::state) fixes the state, [`build`](RobotBuilder::build)
//! or [`build_from_env`](RobotBuilder::build_from_env) connects, and handlers are added with
//! [`on`](Robot::on), [`command`](Robot::command) and [`hear`](Robot::hear). A handler written
//! for another state type does not compile. Then the robot [`run`](Robot::run)s until
//! SIGINT/SIGTERM, or [`start`](Robot::start)s in the background and returns a
//! [`RobotHandle`], for tests and for embedding in a larger program.
//!
//! Whatever the transport, events flow through one dispatcher:
//!
//! - a redelivered event (same id) runs once;
//! - the robot never reacts to its own messages, and by default not to other robots';
//! - events of one room run one after another, in the order Lag sent them; different rooms
//!   run in parallel, up to a bound on concurrent handlers. Precisely: a room's next event
//!   starts when every handler of the previous one has finished, or when each of its
//!   unfinished handlers waits for an answer in a [conversation](crate::Ctx::ask) (those go on
//!   in the background, holding their queue slot until they end), so one member's
//!   conversation never holds up the room;
//! - an event that starts no handler (most chat) is done as it arrives: it neither waits
//!   behind its room's running handlers nor takes a place in the bounded queue, so a room
//!   busy with slow commands still has its chat acknowledged at once;
//! - a member's message in a room where one of the robot's handlers waits for their answer is
//!   given to that handler at once, ahead of the room's queue, and starts nothing else; unless
//!   it invokes a command (which runs as usual, in order, while the conversation keeps
//!   waiting) or is the cancel word (which ends the conversation);
//! - every handler's reply takes the same path: split to Lag's message size, threaded, posted;
//! - a handler's error or panic goes to the error hook with its context, and the robot keeps
//!   running;
//! - on shutdown the robot stops taking events and finishes the ones it accepted.

mod builder;
mod config;
mod dispatch;
mod error_hook;
mod handle;
mod handlers;
mod health;
mod ignore;
mod jobs;
mod lanes;
#[cfg(feature = "testing")]
pub(crate) mod probe;
#[cfg(feature = "redis")]
mod replicated;
mod shutdown;
mod start;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;

pub use builder::RobotBuilder;
pub use error_hook::ErrorContext;
pub use handle::RobotHandle;
pub use shutdown::Shutdown;

use crate::client::Client;
use crate::clock::Clock;
use crate::command::{Command, CommandOptions, CooldownStore, Hear, MemoryCooldowns};
use crate::job::{Job, JobStore, MemoryJobStore};
use crate::kv::{KvStore, MemoryKv};
use crate::listener::Listener;
use crate::metrics::Metrics;
use crate::routes::RouteCtx;
use crate::transport::{DedupStore, Transport};
use crate::{Error, ErrorKind, Result};
use error_hook::ErrorHook;

/// A Lag robot: its connection, state and handlers. See the [module docs](self).
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
    /// The robot's own routes, with where they listen when there is no webhook listener.
    routes: Option<axum::Router<RouteCtx<S>>>,
    routes_listen: Option<SocketAddr>,
    state: Arc<S>,
    listeners: Vec<Listener<S>>,
    commands: Vec<Command<S>>,
    hears: Vec<Hear<S>>,
    command_options: CommandOptions,
    error_hook: ErrorHook<S>,
    max_handlers: usize,
    queue_capacity: usize,
    allow_robots: bool,
    /// A dedup store given to the robot; without one it makes its own in-memory store when
    /// it starts.
    dedup: Option<Arc<dyn DedupStore>>,
    cooldowns: Arc<dyn CooldownStore>,
    jobs: Vec<Job<S>>,
    job_store: Arc<dyn JobStore>,
    kv: Arc<dyn KvStore>,
    clock: Clock,
    shutdown: Shutdown,
    /// The Redis the robot's replicas share, when configured.
    #[cfg(feature = "redis")]
    redis: Option<crate::redis::Redis>,
    /// The durable intake's settings, used when the robot has Redis.
    #[cfg(feature = "redis")]
    intake: crate::redis::IntakeConfig,
    /// The local Lag of dev mode, opened as a chat when the robot starts.
    #[cfg(feature = "dev")]
    dev: Option<crate::dev::DevLag>,
    /// What the test kit watches.
    #[cfg(feature = "testing")]
    probe: Option<Arc<probe::Probe>>,
}

impl Robot<()> {
    /// At most this many handlers run at once by default.
    pub const DEFAULT_MAX_HANDLERS: usize = 64;
    /// At most this many accepted events that start handlers wait or run at once by default;
    /// beyond it a webhook answers 503 and SSE/poll consumers wait. Events no handler wants
    /// take no place.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

    /// Starts an explicit configuration, with the state first if the robot has one.
    pub fn builder() -> RobotBuilder {
        RobotBuilder::default()
    }

    /// A robot without state, configured by environment variables (for a robot with state:
    /// `Robot::builder().state(..).build_from_env()`):
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `LAG_ROBOT_API_KEY` | the API key (required, unless the `dev` feature runs a [local Lag](crate#running-locally)) |
    /// | `LAG_API_BASE` | the API base URL (default Lag's) |
    /// | `LAG_TRANSPORT` | `webhook`, `sse` or `poll` (default `webhook` when a secret is set, else `sse`) |
    /// | `LAG_WEBHOOK_SECRET` | webhook signing secrets, comma-separated during a rotation |
    /// | `LAG_LISTEN` | the webhook receiver's `host:port` (default `127.0.0.1:3000`; path `/webhook`) |
    /// | `LAG_METRICS_LISTEN` | an extra `host:port` serving `/metrics` (optional) |
    /// | `LAG_WEBHOOK_MAX_CONNECTIONS` | the receiver's connection cap (default 512; see [`WebhookConfig::max_connections`](crate::transport::WebhookConfig::max_connections)) |
    /// | `LAG_WEBHOOK_HEADER_TIMEOUT` | how long a request's headers may take, and a kept-alive connection may idle (default `10s`) |
    /// | `LAG_WEBHOOK_BODY_TIMEOUT` | how long a request's body may take (default `10s`) |
    /// | `LAG_REDIS_URL` | the Redis that replicas of the robot share (the `redis` feature; see `lag_bot::redis`); without the feature, setting it is an error |
    /// | `LAG_REDIS_PREFIX` | the prefix of the robot's Redis keys (default `lag-bot:{robot}`, from the key) |
    /// | `LAG_DEV_LISTEN` | dev mode: where the local Lag listens (default `127.0.0.1:8090`, or a free port when that is taken) |
    /// | `LAG_DEV_CHAT` | dev mode: `off` for no terminal chat (default `on`) |
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] naming the variable that is missing or malformed.
    pub fn from_env() -> Result<Self> {
        Self::builder().build_from_env()
    }
}

impl<S: Send + Sync + 'static> Robot<S> {
    fn new(
        client: Client,
        transport: Transport,
        metrics: Metrics,
        metrics_listen: Option<SocketAddr>,
        routes_listen: Option<SocketAddr>,
        state: Arc<S>,
        clock: &Clock,
    ) -> Self {
        Self {
            client,
            transport,
            metrics,
            metrics_listen,
            routes: None,
            routes_listen,
            state,
            listeners: Vec::new(),
            commands: Vec::new(),
            hears: Vec::new(),
            command_options: CommandOptions::default(),
            error_hook: error_hook::log_error(),
            max_handlers: Robot::DEFAULT_MAX_HANDLERS,
            queue_capacity: Robot::DEFAULT_QUEUE_CAPACITY,
            allow_robots: false,
            dedup: None,
            cooldowns: Arc::new(MemoryCooldowns::with_clock(clock.clone())),
            jobs: Vec::new(),
            job_store: Arc::new(MemoryJobStore::new()),
            kv: Arc::new(MemoryKv::with_clock(clock.clone())),
            clock: clock.clone(),
            shutdown: Shutdown::new(),
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "redis")]
            intake: crate::redis::IntakeConfig::new(),
            #[cfg(feature = "dev")]
            dev: None,
            #[cfg(feature = "testing")]
            probe: None,
        }
    }

    /// Not here: the state is set on the builder, before any handler exists. This method only
    /// turns `Robot::from_env()?.state(..)` into a compile error that says so.
    #[doc(hidden)]
    pub fn state<T: StateGoesOnTheBuilder>(self, state: T) -> Self {
        let _ = state;
        unreachable!("no type implements `StateGoesOnTheBuilder`")
    }

    /// The name of the transport the robot receives over (`sse`, `long-poll`, `webhook`).
    #[cfg(feature = "testing")]
    pub(crate) fn transport_name(&self) -> &'static str {
        self.transport.name()
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

    /// Sets robot-wide command behaviour: prefixes, case, `@Robot` addressing, help, and the
    /// [texts](crate::command::Texts) the framework answers with.
    pub fn command_options(mut self, options: CommandOptions) -> Self {
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
        self
    }

    /// Bounds how many handlers run at once (default 64, at least 1).
    pub fn max_concurrent_handlers(mut self, max: usize) -> Self {
        self.max_handlers = max.max(1);
        self
    }

    /// Bounds how many accepted events that start handlers may wait or run at once (default
    /// 1024, at least 1). Events no handler wants are done as they arrive and take no place.
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

    /// Serves `router` as the robot's own HTTP routes, next to its event receiver: on the
    /// webhook listener of a webhook robot, else on a listener of its own at
    /// [`RobotBuilder::routes_listen`] (`LAG_LISTEN`; default `127.0.0.1:3000`). Handlers take
    /// `State<RouteCtx<S>>`: the robot's state, client and identity. The webhook path and
    /// `/metrics` take precedence over routes of the same path. See [`routes`](crate::routes).
    ///
    /// ```
    /// use axum::{Router, extract::State, routing::get};
    /// use lag_bot::{Robot, RouteCtx};
    ///
    /// struct Counter(std::sync::atomic::AtomicU64);
    ///
    /// async fn count(State(robot): State<RouteCtx<Counter>>) -> String {
    ///     robot.state().0.load(std::sync::atomic::Ordering::Relaxed).to_string()
    /// }
    ///
    /// let robot = Robot::builder()
    ///     .state(Counter(0.into()))
    ///     .key("lag_robot_abcd1234_secret")
    ///     .build()?
    ///     .routes(Router::new().route("/count", get(count)));
    /// # let _ = robot;
    /// # Ok::<(), lag_bot::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Called twice, the routers are merged, and a path both route panics, as axum's
    /// `Router::merge` does.
    pub fn routes(mut self, router: axum::Router<RouteCtx<S>>) -> Self {
        self.routes = Some(match self.routes.take() {
            Some(mounted) => mounted.merge(router),
            None => router,
        });
        self
    }

    /// Replaces the in-memory dedup store, e.g. with one shared by several replicas.
    pub fn dedup_store(mut self, store: Arc<dyn DedupStore>) -> Self {
        self.dedup = Some(store);
        self
    }

    /// Replaces the in-memory cooldown store, e.g. with one shared by several replicas, so a
    /// cooldown holds whichever replica a command reaches.
    pub fn cooldown_store(mut self, store: Arc<dyn CooldownStore>) -> Self {
        self.cooldowns = store;
        self
    }

    /// Adds a scheduled job (see [`job`](crate::job)); it starts with the robot.
    pub fn job(mut self, job: Job<S>) -> Self {
        self.jobs.push(job);
        self
    }

    /// Replaces the in-memory store of the jobs' last runs, e.g. with one on disk, so that a
    /// restarted robot knows which runs it missed (see [`Missed`](crate::job::Missed)).
    pub fn job_store(mut self, store: Arc<dyn JobStore>) -> Self {
        self.job_store = store;
        self
    }

    /// The Redis the robot shares its state through, when it was built with one (see
    /// [`redis`](crate::redis)): for stores of the program's own on the same connection.
    #[cfg(feature = "redis")]
    pub fn redis(&self) -> Option<&crate::redis::Redis> {
        self.redis.as_ref()
    }

    /// Settings of the durable intake a robot with Redis receives its events through:
    /// partitions, attempts before the dead letters, leases (see
    /// [`IntakeConfig`](crate::redis::IntakeConfig)). Without Redis they are not used.
    #[cfg(feature = "redis")]
    pub fn intake(mut self, config: crate::redis::IntakeConfig) -> Self {
        self.intake = config;
        self
    }

    /// Makes `redis` the robot's shared store: dedup, cooldowns, the jobs' runs and the
    /// key-value store are the Redis ones from here on (the builder gave its client the
    /// Redis rate limiter).
    #[cfg(feature = "redis")]
    fn use_redis(&mut self, redis: crate::redis::Redis) {
        use crate::redis::{RedisCooldowns, RedisDedup, RedisJobStore, RedisKv};
        self.dedup = Some(Arc::new(RedisDedup::new(redis.clone())));
        self.cooldowns = Arc::new(RedisCooldowns::new(redis.clone()));
        self.job_store = Arc::new(RedisJobStore::new(redis.clone()));
        self.kv = Arc::new(RedisKv::new(redis.clone()));
        self.redis = Some(redis);
    }

    /// Replaces the in-memory store behind [`Ctx::kv`](crate::Ctx::kv), e.g. with one shared
    /// by several replicas or kept on disk.
    pub fn kv_store(mut self, store: Arc<dyn KvStore>) -> Self {
        self.kv = store;
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
        self.start().await?.run().await
    }
}

impl RobotHandle {
    /// Runs a started robot as [`Robot::run`] does: until SIGINT or SIGTERM (or its
    /// [`shutdown_handle`](Self::shutdown_handle)), then finishes the events it accepted. For a
    /// program that looks at the handle first, e.g. to print where the robot listens.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait), and an error when a second signal stops it before the accepted
    /// events finished.
    pub async fn run(self) -> Result<()> {
        let handle = self;
        let shutdown = handle.shutdown_handle();
        let signals = async move {
            shutdown::wait_for_signal().await;
            tracing::info!(
                "stop signal received; finishing accepted events (signal again to stop at once)"
            );
            shutdown.trigger();
            shutdown::wait_for_signal().await;
        };
        tokio::select! {
            result = handle.wait() => result,
            () = signals => Err(Error::new(
                ErrorKind::Transport,
                "stopped by a second signal before the accepted events finished",
            )),
        }
    }
}

/// Implemented by no type, so that calling `Robot::state` is a compile error with advice.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the state is set on the builder, before the robot has handlers",
    label = "a built robot's state type is already fixed",
    note = "write `Robot::builder().state(..).build_from_env()?` (or `.build()?`), then add the handlers"
)]
pub trait StateGoesOnTheBuilder: sealed::Never {}

mod sealed {
    pub trait Never {}
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
            .field("routes", &self.routes.is_some())
            .finish_non_exhaustive()
    }
}
