//! How events reach a robot: a signed webhook receiver, an SSE consumer or a long-poll consumer.
//!
//! All three produce the same thing, a delivery (an id and a decoded event), and feed the one
//! dispatcher of the robot; verification, deduplication and acknowledgement are settled here so
//! that handlers see each event once.

mod backoff;
mod dedup;
pub(crate) mod server;
mod signature;
pub(crate) mod webhook;

use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::Error;
use crate::events::Envelope;

pub use dedup::{DedupStore, MemoryDedup};
pub use signature::WebhookSecret;
pub use webhook::{Ack, WebhookConfig, WebhookService};

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
    Accepted(Option<oneshot::Receiver<()>>),
    /// Already accepted once.
    Duplicate,
    /// No room in the queue.
    Full,
    /// The robot is stopping.
    Closed,
    /// The dedup store failed.
    Failed(Error),
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
