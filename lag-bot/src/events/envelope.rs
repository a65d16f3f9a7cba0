//! The [`Envelope`]: one delivered event with its id, server, time and raw data.

use serde_json::Value;

use super::{Event, UnknownEvent};
use crate::Result;
use crate::model::Timestamp;

/// An event with everything Lag sent alongside it: its delivery id, server, time and raw data.
///
/// ```
/// use lag_bot::events::{Envelope, Event};
/// let frame = r#"{"roomId":"room_1","content":"hi","senderName":"alice"}"#;
/// let envelope = Envelope::from_sse(Some("01J0"), Some("room.message"), frame)?.unwrap();
/// assert_eq!(envelope.event_type(), "room.message");
/// assert_eq!(envelope.data()["senderName"], "alice");
/// assert_eq!(envelope.event().room_id(), Some("room_1"));
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    id: Option<String>,
    server_id: Option<String>,
    timestamp: Option<Timestamp>,
    data: Value,
    event: Event,
}

impl Envelope {
    /// Builds an envelope from an event's parts, decoding `data` by `event_type`.
    pub fn new(
        id: Option<String>,
        event_type: &str,
        server_id: Option<String>,
        timestamp: Option<Timestamp>,
        data: Value,
    ) -> Result<Self> {
        let event = match Event::decode_known(event_type, &data) {
            Some(event) => event?,
            None => Event::Unknown(UnknownEvent {
                event_type: event_type.to_owned(),
                data: data.clone(),
            }),
        };
        Ok(Self {
            id,
            server_id,
            timestamp,
            data,
            event,
        })
    }

    /// The delivery id: the `webhook-id`, SSE `id` or poll item `id`. Use it to drop
    /// duplicate deliveries.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The event's `type` on the wire.
    pub fn event_type(&self) -> &str {
        self.event.event_type()
    }

    /// The server the event happened in, when the delivery said.
    pub fn server_id(&self) -> Option<&str> {
        self.server_id.as_deref()
    }

    /// When the event happened, when the delivery said.
    pub fn timestamp(&self) -> Option<&Timestamp> {
        self.timestamp.as_ref()
    }

    /// The event's `data` exactly as sent, for fields the typed event does not (yet) have.
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// The typed event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// Takes the typed event out.
    pub fn into_event(self) -> Event {
        self.event
    }
}
