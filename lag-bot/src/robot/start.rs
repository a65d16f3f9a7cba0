//! Starting a robot: asking Lag who it is, indexing its handlers, binding its listeners and
//! spawning its transport; then supervising it until it stops.

use std::sync::{Arc, Mutex, PoisonError};

use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::{Dispatcher, Shared};
use super::handle::joined;
use super::handlers::Handlers;
use super::health::Health;
use super::jobs::Scheduler;
use super::{Robot, RobotHandle, Shutdown};
use crate::command::conversation::Conversations;
use crate::routes::RouteCtx;
use crate::transport::server::{self, Routes};
use crate::transport::webhook::Listen;
use crate::transport::{
    self, Dedup, DedupBackend, Intake, Ready, Transport, WebhookConfig, WebhookService,
};
use crate::{Error, ErrorKind, Result};

impl<S: Send + Sync + 'static> Robot<S> {
    /// Connects and starts receiving events in the background.
    ///
    /// It asks Lag who the robot is (so a bad key fails here, not at the first event), checks
    /// the handlers (two commands claiming one trigger is an error), binds the webhook listener
    /// when there is one (unless it was bound already: a listener given to
    /// [`WebhookConfig::listener`](crate::transport::WebhookConfig::listener), or dev mode's,
    /// bound when the robot was built), binds the listener of its own [routes](crate::routes)
    /// when they need one, and for SSE and long-poll waits until Lag accepted the
    /// event connection (up to 10 s; then it keeps trying in the background).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`] for a rejected key, [`ErrorKind::Config`] for conflicting
    /// handlers, [`ErrorKind::Transport`] when the listen address cannot be bound, the error of
    /// the identity call, and Lag's refusal of the event connection when retrying cannot help
    /// ([`ErrorKind::Conflict`] for a robot set up in Lag for another transport), and
    /// `ErrorKind::Store` when the robot shares its state through a Redis that does not answer.
    pub async fn start(self) -> Result<RobotHandle> {
        #[cfg(feature = "redis")]
        let durable = match &self.redis {
            Some(redis) => {
                redis.ping().await?;
                Some(super::replicated::Durable::connect(redis, self.intake, &self.metrics).await?)
            }
            None => None,
        };
        let asked = std::time::Instant::now();
        let me = Arc::new(self.client.me().await?);
        let round_trip = asked.elapsed();
        if !me.active {
            tracing::warn!(
                robot = me.id,
                "Lag reports this robot as disabled; it will receive nothing until re-enabled"
            );
        }
        let handlers = Handlers::new(
            self.listeners,
            self.commands,
            self.hears,
            self.command_options,
            self.cooldowns,
        )?;
        super::jobs::check(&self.jobs)?;
        let (listeners, commands, hears) = handlers.counts();
        tracing::info!(
            robot = me.id,
            name = me.name,
            transport = self.transport.name(),
            listeners,
            commands,
            hears,
            jobs = self.jobs.len(),
            "robot starting"
        );
        for job in &self.jobs {
            tracing::info!(job = %job.name, schedule = %job.schedule, "job");
        }
        let kv = crate::kv::Kv::new(self.kv);
        let mut app = self.routes.map(|routes| {
            routes.with_state(RouteCtx::new(
                Arc::clone(&self.state),
                self.client.clone(),
                Arc::clone(&me),
                kv.clone(),
            ))
        });
        let shared = Shared {
            state: self.state,
            client: self.client.clone(),
            me: Arc::clone(&me),
            handlers,
            error_hook: self.error_hook,
            allow_robots: self.allow_robots,
            handler_permits: Arc::new(Semaphore::new(self.max_handlers)),
            metrics: self.metrics.clone(),
            conversations: Arc::new(Conversations::new(self.clock.clone())),
            kv,
            #[cfg(feature = "testing")]
            probe: self.probe,
        };
        let capacity = u32::try_from(self.queue_capacity).unwrap_or(u32::MAX);
        // With the durable intake, deliveries are deduplicated as they are appended.
        #[cfg(feature = "redis")]
        let dedup = match &durable {
            Some(_) => Dedup::upstream(),
            None => Dedup::new(DedupBackend::of(self.dedup)),
        };
        #[cfg(not(feature = "redis"))]
        let dedup = Dedup::new(DedupBackend::of(self.dedup));
        let dispatcher = Arc::new(Dispatcher::new(shared, dedup, capacity));
        let intake: Arc<dyn Intake> = dispatcher.clone();
        #[cfg(feature = "redis")]
        let intake = match &durable {
            Some(durable) => durable.appender(),
            None => intake,
        };

        // Bind every listener before anything runs, so a taken port fails `start` cleanly.
        let webhook_listener = match &self.transport {
            Transport::Webhook(config) => match &config.listen {
                Listen::Addr(addr) => Some(server::bind(*addr).await?),
                Listen::Bound(cell) => {
                    let taken = cell.lock().unwrap_or_else(PoisonError::into_inner).take();
                    let std_listener = taken.ok_or_else(|| {
                        Error::config(
                            "the webhook's bound listener was already used by another robot",
                        )
                    })?;
                    Some(server::adopt(std_listener)?)
                }
                Listen::Mounted => None,
            },
            Transport::Sse(_) | Transport::Poll(_) => None,
        };
        let routes_listener = match (&app, &webhook_listener) {
            (Some(_), None) => Some(
                server::bind(self.routes_listen.unwrap_or(WebhookConfig::DEFAULT_LISTEN)).await?,
            ),
            _ => None,
        };
        let metrics_listener = match self.metrics_listen {
            Some(addr) => Some(server::bind(addr).await?),
            None => None,
        };
        let local_addr = webhook_listener.as_ref().and_then(|l| l.local_addr().ok());
        let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
        let routes_addr = match (&app, &routes_listener) {
            (Some(_), Some(listener)) => listener.local_addr().ok(),
            (Some(_), None) => local_addr,
            (None, _) => None,
        };

        let stop_consumer = self.shutdown.token().child_token();
        let stop_server = CancellationToken::new();
        let last_event_id = Arc::new(Mutex::new(None));
        let mut webhook = None;
        let mut servers = Vec::new();
        let health = Health::default();
        let (ready, connected) = Ready::new();
        let connected = health.watch(connected);
        // Replicated, the worker and the event connection's holder are the consumer.
        #[cfg(feature = "redis")]
        let (ready, replicated, health) = match &durable {
            Some(durable) => {
                let consumers = super::replicated::Consumers {
                    client: self.client.clone(),
                    metrics: self.metrics.clone(),
                    last_event_id: Arc::clone(&last_event_id),
                    accepted_after: transport::poll::accepted_after(round_trip),
                    ready,
                    stop: stop_consumer.clone(),
                };
                let consumer = durable.spawn(self.transport.clone(), dispatcher.clone(), consumers);
                (
                    Ready::new().0,
                    Some(consumer),
                    health.with_store(durable.check()),
                )
            }
            None => (ready, None, health),
        };
        #[cfg(not(feature = "redis"))]
        let replicated: Option<JoinHandle<Result<()>>> = None;
        let is_replicated = replicated.is_some();
        let mut consumer: Option<JoinHandle<Result<()>>> = match self.transport {
            Transport::Webhook(config) => {
                let service =
                    WebhookService::new(&config, Arc::clone(&intake), self.metrics.clone());
                if let Some(listener) = webhook_listener {
                    // The probes sit beside the metrics, when the receiver serves them.
                    let app = match &config.metrics_path {
                        Some(_) => Some(health.routes(app.take())),
                        None => app.take(),
                    };
                    let routes = Routes {
                        webhook: Some((config.path.clone(), service.clone())),
                        metrics: config
                            .metrics_path
                            .clone()
                            .map(|p| (p, self.metrics.clone())),
                        app,
                    };
                    tracing::info!(addr = ?local_addr, path = config.path, "webhook receiver listening");
                    servers.push(tokio::spawn(server::serve(
                        listener,
                        routes,
                        stop_server.clone(),
                    )));
                }
                health.connected();
                webhook = Some(service);
                replicated
            }
            Transport::Sse(_) | Transport::Poll(_) if is_replicated => replicated,
            Transport::Sse(config) => Some(tokio::spawn(transport::sse::run(
                self.client.clone(),
                config,
                Arc::clone(&intake),
                self.metrics.clone(),
                Arc::clone(&last_event_id),
                ready,
                stop_consumer.clone(),
            ))),
            Transport::Poll(config) => Some(tokio::spawn(transport::poll::run(
                self.client.clone(),
                config,
                Arc::clone(&intake),
                self.metrics.clone(),
                ready,
                transport::poll::accepted_after(round_trip),
                stop_consumer.clone(),
            ))),
        };
        if let Some(listener) = metrics_listener {
            let routes = Routes {
                webhook: None,
                metrics: Some(("/metrics".to_owned(), self.metrics.clone())),
                app: Some(health.routes(None)),
            };
            tracing::info!(addr = ?metrics_addr, "metrics listening");
            servers.push(tokio::spawn(server::serve(
                listener,
                routes,
                stop_server.clone(),
            )));
        }

        if let (Some(listener), Some(app)) = (routes_listener, app) {
            let routes = Routes {
                webhook: None,
                metrics: None,
                app: Some(app),
            };
            tracing::info!(addr = ?routes_addr, "the robot's routes listening");
            servers.push(tokio::spawn(server::serve(
                listener,
                routes,
                stop_server.clone(),
            )));
        }

        if let Some(handle) = consumer.as_mut()
            && let Some(stopped) = first_connection(handle, connected).await
        {
            consumer = None;
            if let Err(err) = stopped {
                stop_server.cancel();
                for server in servers {
                    let _ = joined(server.await);
                }
                return Err(err);
            }
        }

        let jobs = TaskTracker::new();
        Scheduler {
            shared: dispatcher.shared(),
            clock: self.clock,
            store: self.job_store,
            stop: self.shutdown.token().clone(),
        }
        .spawn(self.jobs, &jobs);
        jobs.close();

        let shutdown = self.shutdown.clone();
        #[cfg(feature = "dev")]
        let dev = self
            .dev
            .map(|lag| lag.open(&me.name, routes_addr, self.shutdown.token().clone()));
        let supervised = supervise(
            shutdown.clone(),
            consumer,
            servers,
            jobs,
            dispatcher,
            stop_server,
            health,
        );
        let supervisor = tokio::spawn(async move {
            let outcome = supervised.await;
            #[cfg(feature = "dev")]
            if let Some(session) = dev {
                session.close().await;
            }
            outcome
        });
        Ok(RobotHandle {
            me,
            client: self.client,
            metrics: self.metrics,
            shutdown,
            local_addr,
            metrics_addr,
            routes_addr,
            webhook,
            last_event_id,
            supervisor,
        })
    }
}

/// How long `start` waits for Lag to accept the event connection before it lets the consumer
/// go on retrying in the background.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

/// Waits until Lag accepted the consumer's connection; `Some` with the consumer's outcome when
/// it stopped first. A refusal that retrying cannot fix (a robot set up for another transport,
/// a revoked key) is such an outcome, so that `start` fails instead of the robot dying in the
/// background; failures that may pass are left to the consumer's retries.
async fn first_connection(
    consumer: &mut JoinHandle<Result<()>>,
    connected: oneshot::Receiver<()>,
) -> Option<Result<()>> {
    tokio::select! {
        result = consumer => Some(joined(result)),
        Ok(()) = connected => None,
        () = tokio::time::sleep(CONNECT_PATIENCE) => {
            tracing::warn!(
                "Lag has not accepted the event connection yet; retrying in the background"
            );
            None
        }
    }
}

async fn supervise<S: Send + Sync + 'static>(
    shutdown: Shutdown,
    mut consumer: Option<JoinHandle<Result<()>>>,
    mut servers: Vec<JoinHandle<Result<()>>>,
    jobs: TaskTracker,
    dispatcher: Arc<Dispatcher<S>>,
    stop_server: CancellationToken,
    health: Health,
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
    health.stopping();
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
    tracing::info!("robot stopping: finishing accepted events and running jobs");
    jobs.wait().await;
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
