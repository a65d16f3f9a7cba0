//! The HTTP listener: a plain accept loop so that a restart can drop every connection at once.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::error::{Error, Result};
use crate::http;
use crate::shared::Shared;

/// One bound listener and the connections it accepted.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) addr: SocketAddr,
    stop: CancellationToken,
    connections: TaskTracker,
}

impl Listener {
    /// Binds `addr` and starts serving on the current Tokio runtime.
    pub(crate) fn start(shared: &Arc<Shared>, addr: SocketAddr) -> Result<Self> {
        let listener = bind(addr)?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::internal(format!("cannot read the bound address: {e}")))?;
        let stop = shared.shutdown.child_token();
        let connections = TaskTracker::new();
        let router = http::router(Arc::clone(shared));
        let accept = accept_loop(listener, router, stop.clone(), connections.clone());
        connections.spawn(accept);
        Ok(Self {
            addr,
            stop,
            connections,
        })
    }

    /// Closes the listener and every open connection, and waits until they are gone.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        self.connections.close();
        self.connections.wait().await;
    }
}

fn bind(addr: SocketAddr) -> Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| Error::internal(format!("cannot create a socket: {e}")))?;
    socket
        .set_reuseaddr(true)
        .map_err(|e| Error::internal(format!("cannot set SO_REUSEADDR: {e}")))?;
    socket
        .bind(addr)
        .map_err(|e| Error::internal(format!("cannot bind {addr}: {e}")))?;
    socket
        .listen(1024)
        .map_err(|e| Error::internal(format!("cannot listen on {addr}: {e}")))
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    stop: CancellationToken,
    connections: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::debug!(%error, "accept failed");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(std::time::Duration::from_millis(20)) => continue,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let stop = stop.clone();
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                () = stop.cancelled() => {}
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                }
            }
        });
    }
}
