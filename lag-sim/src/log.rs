//! The delivery log: every hand-over of an event to a robot, attempt by attempt.

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::event::EventRecord;
use crate::spec::TransportKind;

/// What happened to one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// Webhook answered 2xx, SSE frame written, or returned by a long-poll.
    Delivered,
    /// Sent again over SSE because the robot asked for a replay with `Last-Event-ID`.
    Replayed,
    /// The webhook attempt failed; another attempt is scheduled.
    Failed,
    /// The tenth webhook attempt failed; the event is given up.
    GaveUp,
    /// The webhook answered 410 Gone; the robot was disabled.
    Gone,
    /// The delivery stopped because the robot was disabled or changed transport.
    Cancelled,
    /// The event aged out of retention before the robot fetched it.
    Expired,
}

/// One entry of a robot's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// The event id (also the `webhook-id`).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// How it was delivered.
    pub transport: TransportKind,
    /// Attempt number, 1-based (webhooks count retries; SSE and long-poll always 1).
    pub attempt: u32,
    /// When the attempt finished.
    pub at: String,
    /// What happened.
    pub outcome: DeliveryOutcome,
    /// HTTP status the webhook answered with.
    pub status: Option<u16>,
    /// Webhook: the request's round trip. SSE and long-poll: how long the event waited in the queue.
    pub latency_ms: Option<u64>,
    /// Why the attempt failed.
    pub error: Option<String>,
    /// Simulated delay before the next webhook attempt, when one is scheduled.
    pub next_attempt_in_ms: Option<u64>,
}

impl DeliveryRecord {
    /// An attempt at handing `event` over, stamped now, with no status, latency or error yet.
    pub(crate) fn new(
        event: &EventRecord,
        transport: TransportKind,
        attempt: u32,
        outcome: DeliveryOutcome,
    ) -> Self {
        Self {
            event_id: event.id.clone(),
            event_type: event.kind.as_str().to_owned(),
            transport,
            attempt,
            at: clock::now_iso(),
            outcome,
            status: None,
            latency_ms: None,
            error: None,
            next_attempt_in_ms: None,
        }
    }
}
