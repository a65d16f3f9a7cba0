use std::fmt;

use tokio_util::sync::CancellationToken;

/// A handle that stops a running robot gracefully.
///
/// Triggering it makes the robot stop taking new events (webhook deliveries get 503 so Lag
/// redelivers them later, SSE and long-poll consumers disconnect), finish the events it has
/// already accepted, and return from `run`/`wait`. Clones share one signal; triggering twice is
/// harmless. `run()` also triggers it on SIGINT and SIGTERM.
///
/// ```
/// let shutdown = lag_bot::Shutdown::new();
/// let for_later = shutdown.clone();
/// assert!(!for_later.is_triggered());
/// shutdown.trigger();
/// assert!(for_later.is_triggered());
/// ```
#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A new, untriggered signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the robot to stop gracefully.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether shutdown was asked for.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes once shutdown is asked for.
    pub async fn triggered(&self) {
        self.token.cancelled().await;
    }

    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}

/// Waits for SIGINT or (on Unix) SIGTERM.
pub(super) async fn wait_for_signal() {
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
