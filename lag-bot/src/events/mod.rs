//! Lag's events, typed: one struct per event type, the [`Event`] enum over them, and the
//! [`Envelope`] that carries an event's id, server, time and raw data.
//!
//! Lag delivers the same event in three shapes, and each has a decoder here:
//!
//! | transport | decoder |
//! |---|---|
//! | webhook body (+ the `webhook-id` header) | [`Envelope::from_webhook`] |
//! | SSE frame (`id`, `event`, `data`) | [`Envelope::from_sse`] |
//! | long-poll response / one item of it | [`decode_poll`] / [`Envelope::from_poll_item`] |
//!
//! An event type this version does not know becomes [`Event::Unknown`] with its type name and
//! raw JSON, so an event Lag adds tomorrow does not break a robot today. Input that is not an
//! event at all (bad JSON, no type, a known type whose data lacks its required fields) is an
//! [`ErrorKind::Decode`](crate::ErrorKind::Decode) error, never a panic.
//!
//! ```
//! use lag_bot::events::{Envelope, Event};
//! let body = br#"{"type":"member.join","serverId":"srv_1","timestamp":"2026-01-01T00:00:00Z",
//!                 "data":{"userId":"u_1","username":"alice","joinedAt":"2026-01-01T00:00:00Z"}}"#;
//! let envelope = Envelope::from_webhook(Some("evt_1"), body)?;
//! assert_eq!(envelope.id(), Some("evt_1"));
//! match envelope.event() {
//!     Event::MemberJoin(join) => assert_eq!(join.username, "alice"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), lag_bot::Error>(())
//! ```

mod envelope;
mod lane;
mod payloads;
mod webhook_body;
mod wire;

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

pub use envelope::Envelope;
pub(crate) use lane::lane_key;
pub use payloads::{
    MemberJoin, MemberLeave, MemberRoleChanged, PresenceUpdate, RobotMentioned, RoomCreated,
    RoomDeleted, RoomMessage, RoomMessageDeleted, RoomMessageEdited, ServerUpdated, VoiceJoin,
    VoiceLeave,
};
pub use wire::decode_poll;

use crate::model::json_kind;
use crate::{Error, Result};

/// A typed event payload: names its wire type and finds itself inside an [`Event`].
///
/// Implemented by every event struct in this module; `#[on(...)]` listeners use it to pick
/// their events.
///
/// ```
/// use lag_bot::events::{Event, EventPayload, MemberLeave, RoomMessage};
/// assert_eq!(MemberLeave::EVENT_TYPE, "member.leave");
/// let event = Event::from_parts("room.message", serde_json::json!({"roomId": "r", "content": "hi"}))?;
/// assert_eq!(RoomMessage::from_event(&event).unwrap().content, "hi");
/// assert!(MemberLeave::from_event(&event).is_none());
/// # Ok::<(), lag_bot::Error>(())
/// ```
pub trait EventPayload: fmt::Debug + Clone + Send + Sync + 'static {
    /// The event's `type` on the wire, e.g. `"room.message"`.
    const EVENT_TYPE: &'static str;

    /// This payload, when `event` is of this type.
    fn from_event(event: &Event) -> Option<&Self>;

    /// Wraps this payload in an [`Event`].
    fn into_event(self) -> Event;
}

macro_rules! events {
    ( $( $(#[$doc:meta])* $variant:ident = $wire:literal, )* ) => {
        /// One event from Lag, typed by its `type`.
        ///
        /// New event types will be added, so match with a wildcard arm; types this version
        /// does not know arrive as [`Event::Unknown`].
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* $variant($variant), )*
            /// An event type this version of `lag-bot` does not know.
            Unknown(UnknownEvent),
        }

        /// Every event type this version knows, by wire name.
        pub const EVENT_TYPES: &[&str] = &[ $( $wire, )* ];

        impl Event {
            /// Decodes the `data` of an event of type `event_type`.
            ///
            /// Unknown types become [`Event::Unknown`]; a known type whose data lacks a
            /// required field is a decode error.
            pub fn from_parts(event_type: &str, data: Value) -> Result<Self> {
                Self::decode_known(event_type, &data).unwrap_or_else(|| {
                    Ok(Event::Unknown(UnknownEvent {
                        event_type: event_type.to_owned(),
                        data,
                    }))
                })
            }

            /// Decodes `data` when `event_type` is a known type; `None` for an unknown one.
            /// Reads the data in place, so a caller keeping the raw JSON need not copy it.
            fn decode_known(event_type: &str, data: &Value) -> Option<Result<Self>> {
                match event_type {
                    $( $wire => Some(decode_data::<$variant>(data).map(Event::$variant)), )*
                    _ => None,
                }
            }

            /// Whether `event_type` is a type this version decodes into its own variant.
            fn is_known(event_type: &str) -> bool {
                matches!(event_type, $( $wire )|*)
            }

            /// Decodes the data of a known type straight from the map a deserializer is
            /// reading (the webhook body's `data`), with no JSON value in between; `None` for
            /// an unknown type.
            fn decode_known_map<'de, A: serde::de::MapAccess<'de>>(
                event_type: &str,
                map: A,
            ) -> Option<std::result::Result<Self, A::Error>> {
                let map = serde::de::value::MapAccessDeserializer::new(map);
                match event_type {
                    $( $wire => Some($variant::deserialize(map).map(Event::$variant)), )*
                    _ => None,
                }
            }

            /// The event's `type` on the wire.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Event::$variant(_) => $wire, )*
                    Event::Unknown(unknown) => &unknown.event_type,
                }
            }
        }

        $(
            impl EventPayload for $variant {
                const EVENT_TYPE: &'static str = $wire;

                fn from_event(event: &Event) -> Option<&Self> {
                    match event {
                        Event::$variant(payload) => Some(payload),
                        _ => None,
                    }
                }

                fn into_event(self) -> Event {
                    Event::$variant(self)
                }
            }

            impl From<$variant> for Event {
                fn from(payload: $variant) -> Self {
                    Event::$variant(payload)
                }
            }
        )*
    };
}

events! {
    /// `room.message`: a message was posted in a room.
    RoomMessage = "room.message",
    /// `room.message.edited`: a message was edited.
    RoomMessageEdited = "room.message.edited",
    /// `room.message.deleted`: a message was deleted.
    RoomMessageDeleted = "room.message.deleted",
    /// `voice.join`: someone joined a voice room.
    VoiceJoin = "voice.join",
    /// `voice.leave`: someone left a voice room.
    VoiceLeave = "voice.leave",
    /// `member.join`: someone joined the server.
    MemberJoin = "member.join",
    /// `member.leave`: someone left the server.
    MemberLeave = "member.leave",
    /// `member.role_changed`: a member's role changed.
    MemberRoleChanged = "member.role_changed",
    /// `room.created`: a room was created.
    RoomCreated = "room.created",
    /// `room.deleted`: a room was deleted.
    RoomDeleted = "room.deleted",
    /// `presence.update`: a member's online status changed.
    PresenceUpdate = "presence.update",
    /// `server.updated`: the server's settings changed.
    ServerUpdated = "server.updated",
    /// `robot.mentioned`: a message mentioned this robot.
    RobotMentioned = "robot.mentioned",
}

impl Event {
    /// The room the event happened in, for events that have one.
    ///
    /// For [`Event::Unknown`] this is the data's `roomId`, when it is a string.
    pub fn room_id(&self) -> Option<&str> {
        match self {
            Event::RoomMessage(e) => Some(&e.room_id),
            Event::RobotMentioned(e) => Some(&e.message.room_id),
            Event::RoomMessageEdited(e) => Some(&e.room_id),
            Event::RoomMessageDeleted(e) => Some(&e.room_id),
            Event::VoiceJoin(e) => Some(&e.room_id),
            Event::VoiceLeave(e) => Some(&e.room_id),
            Event::RoomCreated(e) => Some(&e.room_id),
            Event::RoomDeleted(e) => Some(&e.room_id),
            Event::Unknown(e) => e.data.get("roomId").and_then(Value::as_str),
            Event::MemberJoin(_)
            | Event::MemberLeave(_)
            | Event::MemberRoleChanged(_)
            | Event::PresenceUpdate(_)
            | Event::ServerUpdated(_) => None,
        }
    }

    /// The posted message, for `room.message` and `robot.mentioned`.
    pub fn message(&self) -> Option<&RoomMessage> {
        match self {
            Event::RoomMessage(message) => Some(message),
            Event::RobotMentioned(mention) => Some(&mention.message),
            _ => None,
        }
    }
}

fn decode_data<T: for<'de> Deserialize<'de> + EventPayload>(data: &Value) -> Result<T> {
    if !data.is_object() {
        return Err(Error::decode(format!(
            "{} data: expected an object, got {}",
            T::EVENT_TYPE,
            json_kind(data)
        )));
    }
    T::deserialize(data).map_err(|err| Error::json(&format!("{} data", T::EVENT_TYPE), err))
}

/// An event of a type this version does not know, kept whole.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The event's `type` as sent.
    pub event_type: String,
    /// The event's `data` as sent.
    pub data: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_trait_round_trips() {
        let join =
            Event::from_parts("member.join", json!({"userId": "u", "username": "a"})).unwrap();
        let payload = MemberJoin::from_event(&join).unwrap().clone();
        assert_eq!(payload.clone().into_event(), join);
        assert_eq!(Event::from(payload).event_type(), MemberJoin::EVENT_TYPE);
        let mention = RobotMentioned::new(RoomMessage::new("r", "hi"));
        assert_eq!(mention.content, "hi");
        assert_eq!(mention.into_event().room_id(), Some("r"));
    }
}
