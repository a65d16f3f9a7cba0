//! The robot's own HTTP listener: the webhook endpoint, the metrics endpoint and the robot's
//! own routes, in any combination.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::webhook::WebhookService;
use crate::metrics::Metrics;
use crate::{Error, ErrorKind, Result};

/// What the listener serves.
pub(crate) struct Routes {
    pub(crate) webhook: Option<(String, WebhookService)>,
    pub(crate) metrics: Option<(String, Metrics)>,
    /// The robot's own routes, for every path the two above do not take.
    pub(crate) app: Option<Router>,
}

/// Binds `addr`, failing with a transport error that names the address.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|err| {
        Error::new(
            ErrorKind::Transport,
            format!("cannot listen on {addr}: {err}"),
        )
        .with_source(err)
    })
}

/// Adopts an already bound standard listener.
pub(crate) fn adopt(listener: std::net::TcpListener) -> Result<TcpListener> {
    listener.set_nonblocking(true)?;
    Ok(TcpListener::from_std(listener)?)
}

/// Serves `routes` on `listener` until `stop` fires, then closes idle connections and waits for
/// the ones mid-request.
pub(crate) async fn serve(
    listener: TcpListener,
    routes: Routes,
    stop: CancellationToken,
) -> Result<()> {
    let mut router = Router::new();
    if let Some((path, service)) = routes.webhook {
        router = router.route_service(&path, service);
    }
    if let Some((path, metrics)) = routes.metrics {
        router = router.route(
            &path,
            get(move || {
                let metrics = metrics.clone();
                async move {
                    ([(CONTENT_TYPE, Metrics::CONTENT_TYPE)], metrics.encode()).into_response()
                }
            }),
        );
    }
    if let Some(app) = routes.app {
        router = router.fallback_service(app);
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
        .map_err(|err| {
            Error::new(ErrorKind::Transport, format!("HTTP server failed: {err}")).with_source(err)
        })
}
