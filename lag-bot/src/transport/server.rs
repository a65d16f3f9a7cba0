//! The robot's own HTTP listener: the webhook endpoint, the metrics endpoint and the robot's
//! own routes, in any combination, with the limits that keep it standing under hostile clients
//! (see `WebhookConfig`): a deadline for each request's head, a cap on open connections, and a
//! number of requests per connection.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::future::BoxFuture;
use http::header::{CONNECTION, HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::webhook::WebhookService;
use crate::metrics::{Dropped, Metrics};
use crate::{Error, ErrorKind, Result};

/// The most a request's head (request line and headers) may take; past it the answer is 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The answer to a connection past the cap when every open one is mid-request, written
/// without reading anything from it.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\n\
retry-after: 5\r\n\
connection: close\r\n\
content-length: 25\r\n\
\r\n\
too many open connections";

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

/// Serves `routes` on `listener` until `stop` fires, then closes the connections between
/// requests at once and lets the ones mid-request finish their answer.
pub(crate) async fn serve(
    listener: TcpListener,
    routes: Routes,
    stop: CancellationToken,
) -> Result<()> {
    let limits = routes
        .webhook
        .as_ref()
        .map(|(_, service)| service.connection_limits())
        .unwrap_or_default();
    let metrics = routes
        .webhook
        .as_ref()
        .map(|(_, service)| service.metrics().clone())
        .or_else(|| routes.metrics.as_ref().map(|(_, metrics)| metrics.clone()))
        .unwrap_or_default();
    let router = router(routes);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let open = Connections::new(limits.max_connections, metrics.clone());
    let tasks = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        let Some(conn) = open.admit() else {
            refuse(stream);
            metrics.connection_dropped(Dropped::Refused);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = PerConnection {
            router: router.clone(),
            conn: Arc::clone(&conn),
            max_requests: limits.max_requests,
        };
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let (open, stop, metrics) = (open.clone(), stop.clone(), metrics.clone());
        tasks.spawn(async move {
            drive(connection, &conn, &stop, &metrics).await;
            open.remove(conn.id);
        });
    }
    drop(listener);
    tasks.close();
    tasks.wait().await;
    Ok(())
}

fn router(routes: Routes) -> Router {
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
    router
}

/// Runs one connection until it ends, is evicted, or the listener stops.
async fn drive(
    connection: http1::Connection<TokioIo<TcpStream>, PerConnection>,
    conn: &Conn,
    stop: &CancellationToken,
    metrics: &Metrics,
) {
    tokio::pin!(connection);
    tokio::select! {
        ended = connection.as_mut() => {
            if let Err(err) = ended {
                if err.is_timeout() {
                    metrics.connection_dropped(Dropped::HeaderTimeout);
                }
                tracing::debug!(error = %err, "webhook connection ended");
            }
            return;
        }
        () = conn.evicted.cancelled() => {
            metrics.connection_dropped(Dropped::Evicted);
            return;
        }
        () = stop.cancelled() => {}
    }
    if conn.close_if_idle() {
        return;
    }
    connection.as_mut().graceful_shutdown();
    if let Err(err) = connection.await {
        tracing::debug!(error = %err, "webhook connection ended while stopping");
    }
}

/// Logs a failed `accept`; waits a moment when it is the process's limit of open files or
/// another error that would repeat at once.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind as Io;
    if matches!(
        err.kind(),
        Io::ConnectionRefused | Io::ConnectionAborted | Io::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %err, "cannot accept a connection; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Answers a connection past the cap with 503 without reading it, and closes it.
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(REFUSAL);
}

/// In-flight count of a connection that takes no more requests.
const CLOSED: usize = usize::MAX;

/// One open connection as the registry sees it.
struct Conn {
    id: u64,
    in_flight: AtomicUsize,
    served: AtomicUsize,
    evicted: CancellationToken,
}

impl Conn {
    /// Marks a request in flight, unless the connection was closed to new requests.
    fn begin(self: &Arc<Self>) -> Option<InFlight> {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                n.checked_add(1).filter(|_| n != CLOSED)
            })
            .ok()
            .map(|_| InFlight(Arc::clone(self)))
    }

    /// Closes the connection to new requests when none is in flight; whether it did.
    fn close_if_idle(&self) -> bool {
        self.in_flight
            .compare_exchange(0, CLOSED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// A request in flight on a connection; the connection cannot be evicted while it lives.
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, oldest first, under the cap.
#[derive(Clone)]
struct Connections {
    inner: Arc<Mutex<Registry>>,
    max: usize,
    metrics: Metrics,
}

struct Registry {
    next_id: u64,
    open: BTreeMap<u64, Arc<Conn>>,
}

impl Connections {
    fn new(max: usize, metrics: Metrics) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Registry {
                next_id: 0,
                open: BTreeMap::new(),
            })),
            max: max.max(1),
            metrics,
        }
    }

    /// Registers a new connection; at the cap, first evicts the oldest one with no request in
    /// flight. `None` when every open connection is mid-request.
    fn admit(&self) -> Option<Arc<Conn>> {
        let mut registry = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if registry.open.len() >= self.max {
            let oldest_idle = registry
                .open
                .values()
                .find(|conn| conn.close_if_idle())
                .map(|conn| conn.id)?;
            if let Some(evicted) = registry.open.remove(&oldest_idle) {
                evicted.evicted.cancel();
                self.metrics.connections_open().dec();
            }
        }
        let id = registry.next_id;
        registry.next_id += 1;
        let conn = Arc::new(Conn {
            id,
            in_flight: AtomicUsize::new(0),
            served: AtomicUsize::new(0),
            evicted: CancellationToken::new(),
        });
        registry.open.insert(id, Arc::clone(&conn));
        self.metrics.connections_open().inc();
        Some(conn)
    }

    /// Forgets a connection that ended (evicted ones are already gone).
    fn remove(&self, id: u64) {
        let mut registry = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if registry.open.remove(&id).is_some() {
            self.metrics.connections_open().dec();
        }
    }
}

/// The router as one connection's service: it counts the connection's requests, keeps it from
/// being evicted while one is in flight, and asks to close it after its last allowed request.
struct PerConnection {
    router: Router,
    conn: Arc<Conn>,
    max_requests: usize,
}

impl hyper::service::Service<Request<Incoming>> for PerConnection {
    type Response = Response<axum::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, std::result::Result<Self::Response, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let Some(in_flight) = self.conn.begin() else {
            return Box::pin(async { Ok(closing()) });
        };
        let served = self.conn.served.fetch_add(1, Ordering::Relaxed) + 1;
        let last = served >= self.max_requests;
        let mut router = self.router.clone();
        Box::pin(async move {
            let called = tower_service::Service::call(&mut router, request);
            let Ok(mut response) = called.await;
            drop(in_flight);
            if last {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        })
    }
}

/// The answer to a request that reached a connection already being closed.
fn closing() -> Response<axum::body::Body> {
    let mut response = Response::new(axum::body::Body::from("closing this connection"));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_http_answer() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }

    #[test]
    fn the_cap_evicts_the_oldest_idle_connection_and_never_a_busy_one() {
        let open = Connections::new(2, Metrics::new());
        let first = open.admit().unwrap();
        let second = open.admit().unwrap();
        let busy = first.begin().unwrap();
        let third = open.admit().expect("the idle second makes room");
        assert!(second.evicted.is_cancelled());
        assert!(!first.evicted.is_cancelled());
        assert!(
            second.begin().is_none(),
            "an evicted connection takes nothing"
        );
        let also_busy = third.begin().unwrap();
        assert!(
            open.admit().is_none(),
            "every open connection is mid-request"
        );
        drop((busy, also_busy));
        let fourth = open.admit().expect("the first is idle again");
        assert!(first.evicted.is_cancelled());
        assert!(!third.evicted.is_cancelled());
        open.remove(third.id);
        open.remove(fourth.id);
        assert_eq!(open.metrics.connections_open().get(), 0);
    }
}
