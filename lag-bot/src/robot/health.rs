//! Liveness and readiness: `/livez` and `/readyz`, served beside `/metrics` for an
//! orchestrator's probes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::future::BoxFuture;
use http::StatusCode;
use tokio::sync::oneshot;

/// The path of the liveness probe.
pub(crate) const LIVE_PATH: &str = "/livez";
/// The path of the readiness probe.
pub(crate) const READY_PATH: &str = "/readyz";

/// How long the readiness probe waits for a dependency's answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

type Check = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// What the probes report: whether the transport was accepted, whether the robot is stopping,
/// and a check of the shared store (Redis) when the robot uses one.
#[derive(Clone, Default)]
pub(crate) struct Health {
    connected: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
    store: Option<Check>,
}

impl Health {
    /// Readiness also asks `check` (e.g. a Redis `PING`) at every probe.
    #[cfg(feature = "redis")]
    pub(crate) fn with_store<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        self.store = Some(Arc::new(move || Box::pin(check())));
        self
    }

    /// The transport is receiving: the webhook listener is bound, or Lag accepted the event
    /// connection (or, replicated, another replica holds it and the worker runs).
    pub(crate) fn connected(&self) {
        self.connected.store(true, Ordering::SeqCst);
    }

    /// Passes Lag's acceptance of the event connection on to `start`, marking the transport
    /// connected on the way.
    pub(crate) fn watch(&self, connected: oneshot::Receiver<()>) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let health = self.clone();
        tokio::spawn(async move {
            if connected.await.is_ok() {
                health.connected();
                let _ = tx.send(());
            }
        });
        rx
    }

    /// The robot stopped taking events.
    pub(crate) fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    async fn readiness(&self) -> Result<(), &'static str> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err("stopping");
        }
        if !self.connected.load(Ordering::SeqCst) {
            return Err("the transport is not connected yet");
        }
        if let Some(check) = &self.store {
            match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(true) => {}
                _ => return Err("Redis does not answer"),
            }
        }
        Ok(())
    }

    /// The two probes, with `rest` for every other path.
    pub(crate) fn routes(&self, rest: Option<Router>) -> Router {
        let health = self.clone();
        let router = Router::new()
            .route(LIVE_PATH, get(|| async { (StatusCode::OK, "alive\n") }))
            .route(
                READY_PATH,
                get(move || {
                    let health = health.clone();
                    async move {
                        match health.readiness().await {
                            Ok(()) => (StatusCode::OK, "ready\n".to_owned()).into_response(),
                            Err(why) => (
                                StatusCode::SERVICE_UNAVAILABLE,
                                format!("not ready: {why}\n"),
                            )
                                .into_response(),
                        }
                    }
                }),
            );
        match rest {
            Some(rest) => router.fallback_service(rest),
            None => router,
        }
    }
}
