//! The [`Envelope`]: one delivered event with its id, server, time and raw data.

use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
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
#[derive(Clone)]
pub struct Envelope {
    id: Option<String>,
    server_id: Option<String>,
    timestamp: Option<Timestamp>,
    data: RawData,
    event: Event,
}

/// An event's `data` as sent: already a JSON value, or still inside the webhook body it came
/// in, read into a value only when someone asks (most robots never do, so a delivery's data is
/// decoded once, into the typed event).
#[derive(Clone)]
enum RawData {
    Value(Value),
    Body {
        body: Box<[u8]>,
        data: OnceLock<Value>,
    },
}

impl RawData {
    fn get(&self) -> &Value {
        match self {
            RawData::Value(value) => value,
            RawData::Body { body, data } => data.get_or_init(|| data_of(body)),
        }
    }
}

/// The `data` member of a webhook body that has already been decoded once (so it is valid
/// JSON with at most one `data`); `null` when it has none.
fn data_of(body: &[u8]) -> Value {
    #[derive(Deserialize)]
    struct DataOnly {
        #[serde(default)]
        data: Value,
    }
    serde_json::from_slice::<DataOnly>(body).map_or(Value::Null, |only| only.data)
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
            data: RawData::Value(data),
            event,
        })
    }

    /// An envelope whose typed event was decoded straight from a webhook `body`; the body is
    /// kept to answer [`data`](Self::data) when asked.
    pub(super) fn with_body(
        id: Option<String>,
        server_id: Option<String>,
        timestamp: Option<Timestamp>,
        body: &[u8],
        event: Event,
    ) -> Self {
        Self {
            id,
            server_id,
            timestamp,
            data: RawData::Body {
                body: body.into(),
                data: OnceLock::new(),
            },
            event,
        }
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
    ///
    /// A webhook delivery's data is decoded into this value on the first call only: the
    /// typed event is read straight from the body.
    pub fn data(&self) -> &Value {
        self.data.get()
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

impl PartialEq for Envelope {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.server_id == other.server_id
            && self.timestamp == other.timestamp
            && self.event == other.event
            && self.data() == other.data()
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("id", &self.id)
            .field("server_id", &self.server_id)
            .field("timestamp", &self.timestamp)
            .field("data", self.data())
            .field("event", &self.event)
            .finish()
    }
}
