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
    /// The robot this entry belongs to.
    pub robot_id: String,
    /// True when the event was sent again on request ([`Sim::redeliver`](crate::Sim::redeliver)
    /// or the admin API), with its original id so the robot can recognise it.
    pub redelivery: bool,
    /// What was sent: for a webhook the URL, the signed headers and the body; for SSE and
    /// long-poll the event as the robot got it.
    pub request: Option<SentRequest>,
    /// What the robot's webhook answered, when it answered.
    pub response: Option<WebhookResponse>,
}

/// What one delivery attempt sent, as recorded in a [`DeliveryRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SentRequest {
    /// The webhook URL; `None` for SSE and long-poll.
    pub url: Option<String>,
    /// The request's headers in the order they were set, signature included (webhooks only).
    pub headers: Vec<(String, String)>,
    /// The body: the event's canonical JSON.
    pub body: String,
}

/// A webhook's answer to one attempt, as recorded in a [`DeliveryRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response's headers.
    pub headers: Vec<(String, String)>,
    /// The start of the body as text (up to 4 KiB; invalid UTF-8 replaced).
    pub body: String,
    /// Whether the body was longer than what `body` keeps.
    pub truncated: bool,
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
            robot_id: String::new(),
            redelivery: event.redelivery,
            request: None,
            response: None,
        }
    }
}
