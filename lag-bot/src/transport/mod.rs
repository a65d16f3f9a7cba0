//! How events reach a robot: a signed webhook receiver, an SSE consumer or a long-poll consumer.
//!
//! All three produce the same thing, a delivery (an id and a decoded event), and feed the one
//! dispatcher of the robot. Verification, acknowledgement and deduplication (the ids, the store
//! and the claim, in `dedup`) are settled here, so that handlers see each event once.

mod backoff;
mod dedup;
pub(crate) mod poll;
pub(crate) mod server;
mod signature;
pub(crate) mod sse;
pub(crate) mod webhook;

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::events::Envelope;
use crate::metrics::{Metrics, Outcome};
use crate::{Error, ErrorKind, Result};

#[cfg(feature = "redis")]
pub(crate) use backoff::Backoff;
#[cfg(feature = "redis")]
pub(crate) use dedup::dedup_keys;
pub(crate) use dedup::{Claim, Dedup, DedupBackend, OnStoreError};
pub use dedup::{DedupStore, MemoryDedup};
pub use poll::PollConfig;
pub use signature::WebhookSecret;
pub use sse::SseConfig;
pub use webhook::{Ack, WebhookConfig, WebhookService};

/// How the robot receives its events: the transport chosen for it in Lag's portal.
///
/// ```
/// use lag_bot::transport::{PollConfig, SseConfig, Transport, WebhookConfig, WebhookSecret};
///
/// let webhook = Transport::from(WebhookConfig::new([WebhookSecret::new("whsec_c2VjcmV0")?]));
/// assert_eq!(webhook.name(), "webhook");
/// assert_eq!(Transport::from(SseConfig::new()).name(), "sse");
/// assert_eq!(Transport::from(PollConfig::new()).name(), "poll");
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Transport {
    /// Lag POSTs each event to the robot's HTTPS endpoint, signed.
    Webhook(WebhookConfig),
    /// The robot holds a Server-Sent Events stream open.
    Sse(SseConfig),
    /// The robot asks for queued events in a loop.
    Poll(PollConfig),
}

impl Transport {
    /// The transport's short name: `webhook`, `sse` or `poll` (as in `LAG_TRANSPORT`).
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Webhook(_) => webhook::TRANSPORT,
            Transport::Sse(_) => sse::TRANSPORT,
            Transport::Poll(_) => poll::TRANSPORT,
        }
    }
}

impl From<WebhookConfig> for Transport {
    fn from(config: WebhookConfig) -> Self {
        Transport::Webhook(config)
    }
}

impl From<SseConfig> for Transport {
    fn from(config: SseConfig) -> Self {
        Transport::Sse(config)
    }
}

impl From<PollConfig> for Transport {
    fn from(config: PollConfig) -> Self {
        Transport::Poll(config)
    }
}

/// Verifies a webhook delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature` and the
/// body) at `now` with the default tolerance; the delivery id when it verifies.
pub(crate) fn verify_signature(
    secrets: &[WebhookSecret],
    [id, timestamp, signature]: [Option<&str>; 3],
    body: &[u8],
    now: std::time::SystemTime,
) -> Option<String> {
    let headers = signature::SignedHeaders {
        id,
        timestamp,
        signature,
    };
    signature::verify(secrets, headers, body, now, signature::DEFAULT_TOLERANCE)
        .ok()
        .map(str::to_owned)
}

/// Errors a reconnecting consumer cannot fix by trying again: a rejected key, or a robot set
/// up for another transport.
pub(crate) fn is_fatal(error: &Error) -> bool {
    matches!(error.kind(), ErrorKind::Unauthorized | ErrorKind::Conflict)
}

/// Hands an event a consumer has taken from Lag (SSE or poll) to the dispatcher, waiting for
/// room, and counts it. A refusal is an error: Lag will not hand the event out again.
pub(crate) async fn hand_over(
    intake: &dyn Intake,
    metrics: &Metrics,
    transport: &'static str,
    envelope: Envelope,
) -> Result<()> {
    let delivery = Delivery {
        transport,
        envelope,
    };
    match intake.offer(delivery, Admission::Wait, false).await {
        Offer::Accepted(_) => metrics.delivery(transport, Outcome::Accepted),
        Offer::Duplicate => metrics.delivery(transport, Outcome::Duplicate),
        refused => {
            return Err(Error::new(
                ErrorKind::Transport,
                format!("the dispatcher refused an event already taken from Lag ({refused:?})"),
            ));
        }
    }
    Ok(())
}

/// Tells the robot's start-up, once, that a consumer's connection was accepted by Lag, so that
/// `Robot::start` returns only when the transport is known to work.
#[derive(Debug)]
pub(crate) struct Ready(Option<oneshot::Sender<()>>);

impl Ready {
    /// A notifier and the receiver `start` waits on.
    pub(crate) fn new() -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (Self(Some(tx)), rx)
    }

    /// The connection is accepted; later calls do nothing.
    pub(crate) fn connected(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }

    /// Whether the start-up still waits to hear.
    pub(crate) fn is_waiting(&self) -> bool {
        self.0.is_some()
    }
}

/// One event as a transport received it.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) transport: &'static str,
    pub(crate) envelope: Envelope,
}

/// How an offered delivery waits for room in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Refuse at once when the queue is full or the robot is stopping (webhook: Lag will
    /// redeliver).
    Now,
    /// Wait for room, even while stopping (SSE and poll: the event was already taken from Lag).
    Wait,
}

/// The answer to an offered delivery.
#[derive(Debug)]
pub(crate) enum Offer {
    /// Queued; with a receiver that fires when its handlers finished, when asked for.
    Accepted(Option<oneshot::Receiver<Handled>>),
    /// Already accepted once.
    Duplicate,
    /// No room in the queue.
    Full,
    /// The robot is stopping.
    Closed,
    /// The dedup store failed.
    Failed(Error),
}

/// How an accepted delivery's handlers ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handled {
    /// Whether a handler failed (an error or a panic; a conversation's end is not a failure).
    pub(crate) failed: bool,
}

/// Where transports hand their deliveries: the robot's dispatcher.
pub(crate) trait Intake: Send + Sync + 'static {
    fn offer(
        &self,
        delivery: Delivery,
        admission: Admission,
        want_done: bool,
    ) -> BoxFuture<'_, Offer>;
}
