//! Building a robot: its connection to Lag and, first of all, its state type.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use super::{Robot, config};
use crate::client::{Client, RateLimiter, RateLimits};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::transport::{self, Transport};

/// Sets up a robot before it has handlers: its state, its key, API base and transport.
/// Made by [`Robot::builder`].
///
/// The state comes first: [`state`](Self::state) fixes the type every handler's
/// [`Ctx`](crate::Ctx) carries, so a handler written for another state is a compile error
/// when it is added, not a surprise at run time. A robot without state skips it.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use lag_bot::{Ctx, Listener, Robot, events::MemberJoin};
/// use lag_bot::transport::SseConfig;
///
/// #[derive(Default)]
/// struct Stats { joins: AtomicU64 }
///
/// let robot = Robot::builder()
///     .state(Stats::default())
///     .key("lag_robot_abcd1234_secret")
///     .base_url("http://127.0.0.1:4000")
///     .transport(SseConfig::new())
///     .build()?
///     .on(Listener::new(|ctx: Ctx<Stats>, _join: MemberJoin| async move {
///         ctx.state().joins.fetch_add(1, Ordering::Relaxed);
///     }));
/// # let _ = robot;
/// # Ok::<(), lag_bot::Error>(())
/// ```
///
/// In a program configured by `LAG_*` variables, end with
/// [`build_from_env`](Self::build_from_env) instead of `build`.
pub struct RobotBuilder<S = ()> {
    state: Arc<S>,
    key: Option<String>,
    base_url: Option<String>,
    transport: Option<Transport>,
    client: Option<Client>,
    rate_limits: Option<RateLimits>,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    metrics: Option<Metrics>,
    metrics_listen: Option<SocketAddr>,
    routes_listen: Option<SocketAddr>,
    clock: Clock,
    #[cfg(feature = "redis")]
    redis: Option<crate::redis::RedisConfig>,
    #[cfg(feature = "testing")]
    probe: Option<Arc<super::probe::Probe>>,
}

impl Default for RobotBuilder<()> {
    fn default() -> Self {
        Self {
            state: Arc::new(()),
            key: None,
            base_url: None,
            transport: None,
            client: None,
            rate_limits: None,
            rate_limiter: None,
            metrics: None,
            metrics_listen: None,
            routes_listen: None,
            clock: Clock::default(),
            #[cfg(feature = "redis")]
            redis: None,
            #[cfg(feature = "testing")]
            probe: None,
        }
    }
}

impl RobotBuilder<()> {
    /// Sets the state every handler reaches with `ctx.state()`, and with it the state type
    /// handlers are written for (`Ctx<T>`). It is shared, not cloned, between handlers: put
    /// interior mutability (a `Mutex`, an atomic) inside where handlers need to write.
    pub fn state<T: Send + Sync + 'static>(self, state: T) -> RobotBuilder<T> {
        self.with_state(Arc::new(state))
    }

    /// Like [`state`](Self::state), with state the program keeps a handle on too.
    pub fn with_state<T: Send + Sync + 'static>(self, state: Arc<T>) -> RobotBuilder<T> {
        RobotBuilder {
            state,
            key: self.key,
            base_url: self.base_url,
            transport: self.transport,
            client: self.client,
            rate_limits: self.rate_limits,
            rate_limiter: self.rate_limiter,
            metrics: self.metrics,
            metrics_listen: self.metrics_listen,
            routes_listen: self.routes_listen,
            clock: self.clock,
            #[cfg(feature = "redis")]
            redis: self.redis,
            #[cfg(feature = "testing")]
            probe: self.probe,
        }
    }
}

impl<S: Send + Sync + 'static> RobotBuilder<S> {
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

    /// Paces outgoing calls with `limiter` instead of an in-memory one, e.g. one shared by
    /// several replicas of the robot (Lag counts its limits per key). Ignored with
    /// [`client`](Self::client).
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Records into `metrics` instead of a fresh set. With [`client`](Self::client), build the
    /// client with the same metrics (`ClientBuilder::metrics`) so limiter waits and 429s show
    /// up next to the robot's series.
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Where the robot's own [routes](crate::routes) listen when its transport has no listener
    /// to share (SSE, long-poll, or a webhook mounted in another server); default
    /// `LAG_LISTEN` with [`build_from_env`](Self::build_from_env), else `127.0.0.1:3000`. Port
    /// 0 picks a free port (see [`RobotHandle::routes_addr`](crate::RobotHandle::routes_addr)).
    /// A webhook robot serves its routes on the webhook's listener instead.
    pub fn routes_listen(mut self, addr: SocketAddr) -> Self {
        self.routes_listen = Some(addr);
        self
    }

    /// Shares the robot's state with its other replicas through the Redis `config` names
    /// (default `LAG_REDIS_URL` with [`build_from_env`](Self::build_from_env)): delivery
    /// dedup, the rate-limit budget (unless [`rate_limiter`](Self::rate_limiter) or
    /// [`client`](Self::client) is given), cooldowns, the jobs' runs and the key-value store.
    /// See [`redis`](crate::redis) for what is shared and how to run replicated.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, config: crate::redis::RedisConfig) -> Self {
        self.redis = Some(config);
        self
    }

    /// Builds the robot from what was set, with no handlers yet.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when neither a key nor a client was
    /// given, the key or URL is unusable, the transport's settings are incomplete (e.g. a
    /// webhook without secrets), or Redis is configured with neither a key nor a prefix.
    pub fn build(self) -> Result<Robot<S>> {
        #[cfg(feature = "redis")]
        let redis = match self.redis {
            Some(config) => {
                let config = match &self.key {
                    Some(key) => config.default_prefix_for(key),
                    None => config,
                };
                Some(crate::redis::Redis::open(config)?)
            }
            None => None,
        };
        let metrics = self.metrics.unwrap_or_default();
        let client = match self.client {
            Some(client) => client,
            None => {
                let key = self
                    .key
                    .ok_or_else(|| Error::config("the robot needs an API key (or a client)"))?;
                let mut builder = Client::builder(key)
                    .metrics(metrics.clone())
                    .clock(self.clock.clone());
                if let Some(url) = self.base_url {
                    builder = builder.base_url(url);
                }
                if let Some(limits) = self.rate_limits {
                    builder = builder.rate_limits(limits);
                }
                #[cfg(feature = "redis")]
                let limiter = self.rate_limiter.or_else(|| {
                    let limits = self.rate_limits.unwrap_or_default();
                    redis.as_ref().map(|redis| {
                        Arc::new(crate::redis::RedisLimiter::new(redis.clone(), limits))
                            as Arc<dyn RateLimiter>
                    })
                });
                #[cfg(not(feature = "redis"))]
                let limiter = self.rate_limiter;
                if let Some(limiter) = limiter {
                    builder = builder.rate_limiter(limiter);
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
        #[allow(unused_mut)]
        let mut robot = Robot::new(
            client,
            transport,
            metrics,
            self.metrics_listen,
            self.routes_listen,
            self.state,
            &self.clock,
        );
        #[cfg(feature = "testing")]
        {
            robot.probe = self.probe;
        }
        #[cfg(feature = "redis")]
        if let Some(redis) = redis {
            robot.use_redis(redis);
        }
        Ok(robot)
    }

    /// Builds the robot with the settings of the `LAG_*` environment variables (see
    /// [`Robot::from_env`]) wherever the builder did not set them.
    ///
    /// With lag-bot's `dev` feature, a robot given no key (here or in `LAG_ROBOT_API_KEY`)
    /// runs against a local Lag started in this process instead: see
    /// [Running locally](crate#running-locally). That Lag starts on the current Tokio runtime,
    /// so call this inside one (`#[tokio::main]`).
    ///
    /// ```no_run
    /// use lag_bot::{Ctx, Robot, command};
    ///
    /// struct Rooms { welcome: String }
    ///
    /// /// Says where newcomers are greeted.
    /// #[command("!where")]
    /// async fn where_(ctx: Ctx<Rooms>) -> String {
    ///     format!("Newcomers are greeted in {}.", ctx.state().welcome)
    /// }
    ///
    /// # async fn run() -> lag_bot::Result<()> {
    /// Robot::builder()
    ///     .state(Rooms { welcome: "welcome".into() })
    ///     .build_from_env()?
    ///     .command(where_())
    ///     .run()
    ///     .await
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Robot::from_env`] and [`build`](Self::build).
    pub fn build_from_env(self) -> Result<Robot<S>> {
        self.build_from(&|name| std::env::var(name).ok())
    }

    /// Like [`build_from_env`](Self::build_from_env), with the variables given here instead of
    /// read from the process environment: for configuration kept elsewhere, and for tests,
    /// which share one environment.
    ///
    /// ```
    /// use lag_bot::{ErrorKind, Robot};
    ///
    /// let err = Robot::builder()
    ///     .key("lag_robot_abcd1234_secret")
    ///     .build_from_vars([("LAG_TRANSPORT", "carrier-pigeon")])
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), &ErrorKind::Config);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`build_from_env`](Self::build_from_env).
    pub fn build_from_vars<K, V>(self, vars: impl IntoIterator<Item = (K, V)>) -> Result<Robot<S>>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        self.build_from(&|name| vars.get(name).cloned())
    }

    fn build_from(mut self, var: &dyn Fn(&str) -> Option<String>) -> Result<Robot<S>> {
        #[cfg(feature = "redis")]
        {
            let redis = config::redis(var)?;
            self.redis = self.redis.or(redis);
        }
        #[cfg(not(feature = "redis"))]
        config::redis(var)?;
        let need_key = self.key.is_none() && self.client.is_none();
        #[cfg(feature = "dev")]
        if need_key && !config::has_key(var) {
            return self.build_dev(var);
        }
        let env = config::from_vars(var, need_key)?;
        self.key = self.key.or(env.key);
        self.base_url = self.base_url.or(env.base_url);
        self.transport = self.transport.or(Some(env.transport));
        self.metrics_listen = self.metrics_listen.or(env.metrics_listen);
        self.routes_listen = self.routes_listen.or(env.listen);
        self.build()
    }

    /// Builds the robot against a local Lag started here (dev mode).
    #[cfg(feature = "dev")]
    fn build_dev(mut self, var: &dyn Fn(&str) -> Option<String>) -> Result<Robot<S>> {
        let (mut settings, metrics_listen) = config::dev_from_vars(var)?;
        self.routes_listen = self.routes_listen.or(config::listen(var)?);
        if let Some(transport) = self.transport.take() {
            settings.transport = transport;
        }
        let (lag, connection) = crate::dev::DevLag::start(settings)?;
        self.key = Some(connection.key);
        self.base_url = Some(connection.base_url);
        self.transport = Some(connection.transport);
        self.metrics_listen = self.metrics_listen.or(metrics_listen);
        let mut robot = self.build()?;
        robot.dev = Some(lag);
        Ok(robot)
    }
}

#[cfg(feature = "testing")]
impl RobotBuilder<()> {
    /// A builder whose robot runs on the test kit's simulated time and reports to its probe,
    /// and serves its own routes, if it has any, on a free loopback port.
    pub(crate) fn for_kit(clock: Clock, probe: Arc<super::probe::Probe>) -> Self {
        Self {
            clock,
            probe: Some(probe),
            routes_listen: Some(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0))),
            ..Self::default()
        }
    }
}

impl<S> fmt::Debug for RobotBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RobotBuilder")
            .field("state", &std::any::type_name::<S>())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("transport", &self.transport)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}
