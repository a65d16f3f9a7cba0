//! [`EventRecord`]: one event as queued for robots, serialized once.

use std::time::Instant;

use bytes::Bytes;

use crate::wire::{EventBody, EventType, PollEvent};

/// One event as queued for robots; shared by every robot that receives it.
#[derive(Debug)]
pub(crate) struct EventRecord {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) kind: EventType,
    pub(crate) body: EventBody,
    /// The canonical JSON, serialized once so every signature covers the same bytes.
    pub(crate) json: Bytes,
    pub(crate) created_at: String,
    pub(crate) queued: Instant,
    /// Queued again on request, after it was first handed out.
    pub(crate) redelivery: bool,
}

impl EventRecord {
    /// The event as one item of a long-poll response.
    pub(crate) fn poll_item(&self) -> PollEvent {
        PollEvent {
            id: self.id.clone(),
            event_type: self.kind.as_str().to_owned(),
            payload: self.body.clone(),
            created_at: self.created_at.clone(),
        }
    }
}
