//! Start-up of a robot whose events go through the durable intake in Redis: the transports
//! append, the worker feeds the dispatcher, and SSE and long-poll run on one replica at a time.

use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Result;
use crate::client::Client;
use crate::metrics::Metrics;
use crate::redis::{DurableIntake, IntakeConfig, Redis};
use crate::transport::{self, Intake, Ready, Transport};

/// The durable intake of a running robot.
pub(super) struct Durable {
    intake: Arc<DurableIntake>,
}

/// What the consumers of a durable robot run with.
pub(super) struct Consumers {
    pub(super) client: Client,
    pub(super) metrics: Metrics,
    pub(super) last_event_id: Arc<Mutex<Option<String>>>,
    pub(super) accepted_after: std::time::Duration,
    pub(super) ready: Ready,
    pub(super) stop: CancellationToken,
}

impl Durable {
    /// Opens the intake's connections on `redis`.
    pub(super) async fn connect(
        redis: &Redis,
        config: IntakeConfig,
        metrics: &Metrics,
    ) -> Result<Self> {
        config.validate()?;
        let reader = redis.dedicated_connection().await?;
        let intake = DurableIntake::new(
            redis.connection().await?,
            reader,
            redis.prefix(),
            config,
            metrics.clone(),
        );
        Ok(Self {
            intake: Arc::new(intake),
        })
    }

    /// Where the transports hand their deliveries.
    pub(super) fn appender(&self) -> Arc<dyn Intake> {
        self.intake.appender()
    }

    /// The readiness check: Redis answers.
    pub(super) fn check(
        &self,
    ) -> impl Fn() -> futures_util::future::BoxFuture<'static, bool> + Send + Sync + 'static {
        let intake = Arc::clone(&self.intake);
        move || {
            let intake = Arc::clone(&intake);
            Box::pin(async move { intake.ping().await })
        }
    }

    /// Spawns the worker, and for SSE and long-poll the consumer held under the feed lease;
    /// one task that ends when both stopped.
    pub(super) fn spawn(
        &self,
        transport: Transport,
        dispatcher: Arc<dyn Intake>,
        consumers: Consumers,
    ) -> JoinHandle<Result<()>> {
        let Consumers {
            client,
            metrics,
            last_event_id,
            accepted_after,
            ready,
            stop,
        } = consumers;
        let appender = self.appender();
        match transport {
            Transport::Webhook(_) => tokio::spawn(self.intake.work(dispatcher, ready, stop)),
            Transport::Sse(config) => {
                let working = stop.child_token();
                let worker = self
                    .intake
                    .work(dispatcher, Ready::new().0, working.clone());
                let feed = self
                    .intake
                    .hold_feed(ready, stop, move |resume, ready, held| {
                        let mut config = config.clone();
                        if let Some(id) = resume {
                            config = config.resume_from(id);
                        }
                        transport::sse::run(
                            client.clone(),
                            config,
                            Arc::clone(&appender),
                            metrics.clone(),
                            Arc::clone(&last_event_id),
                            ready,
                            held,
                        )
                    });
                tokio::spawn(both(feed, worker, working))
            }
            Transport::Poll(config) => {
                let working = stop.child_token();
                let worker = self
                    .intake
                    .work(dispatcher, Ready::new().0, working.clone());
                let feed = self.intake.hold_feed(ready, stop, move |_, ready, held| {
                    transport::poll::run(
                        client.clone(),
                        config.clone(),
                        Arc::clone(&appender),
                        metrics.clone(),
                        ready,
                        accepted_after,
                        held,
                    )
                });
                tokio::spawn(both(feed, worker, working))
            }
        }
    }
}

/// Runs the feed and the worker together. The feed ends at the robot's stop, or with a
/// failure retrying cannot fix, which stops the worker too (after it finished its entries).
async fn both(
    feed: impl std::future::Future<Output = Result<()>>,
    worker: impl std::future::Future<Output = Result<()>>,
    working: CancellationToken,
) -> Result<()> {
    let stop_worker = async {
        let fed = feed.await;
        working.cancel();
        fed
    };
    let (fed, worked) = tokio::join!(stop_worker, worker);
    fed.and(worked)
}
