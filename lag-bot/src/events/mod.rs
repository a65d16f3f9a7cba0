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

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::model::{Mention, MentionKind, ServerRole, Timestamp, UserStatus, json_kind};
use crate::model::{empty_as_none, null_as_default};
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

/// The payload of `room.message`: a message posted in a room.
///
/// Beyond Lag's event field names (`messageId`, `senderId`, `senderName`) the decoder also
/// accepts a full REST message (`id`, `userId`, `username`/`displayName`), so either shape works.
///
/// ```
/// use lag_bot::events::RoomMessage;
/// use lag_bot::model::{Mention, MentionKind};
/// // Building one by hand, e.g. to unit-test a handler:
/// let msg = RoomMessage::new("room_1", "@Helper hi")
///     .message_id("msg_1")
///     .sender("u_1", "alice")
///     .mention(Mention::new(MentionKind::Robot, "rob_1", "Helper"));
/// assert!(msg.mentions_robot("rob_1"));
/// assert!(!msg.is_bot);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RoomMessageWire")]
#[non_exhaustive]
pub struct RoomMessage {
    /// The room it was posted in.
    pub room_id: String,
    /// The message id (to reply to, edit or delete it).
    pub message_id: Option<String>,
    /// The human sender; `None` for robot messages (Lag sends `null` or `""`).
    pub sender_id: Option<String>,
    /// The sender's display name (a robot's name for robot messages).
    pub sender_name: String,
    /// The text.
    pub content: String,
    /// When it was posted.
    pub created_at: Option<Timestamp>,
    /// True when a robot sent it.
    pub is_bot: bool,
    /// The robot that sent it, for robot messages.
    pub robot_id: Option<String>,
    /// Members and robots mentioned in the content.
    pub mentions: Vec<Mention>,
    /// The message this one replies to.
    pub reply_to_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoomMessageWire {
    room_id: String,
    #[serde(default, deserialize_with = "empty_as_none")]
    message_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    sender_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    user_id: Option<String>,
    #[serde(default)]
    sender_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    robot_name: Option<String>,
    content: String,
    #[serde(default)]
    created_at: Option<Timestamp>,
    #[serde(default)]
    is_bot: Option<bool>,
    #[serde(default, deserialize_with = "empty_as_none")]
    robot_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    mentions: Vec<Mention>,
    #[serde(default, deserialize_with = "empty_as_none")]
    reply_to_id: Option<String>,
}

impl From<RoomMessageWire> for RoomMessage {
    fn from(wire: RoomMessageWire) -> Self {
        let sender_name = [
            wire.sender_name,
            wire.display_name,
            wire.username,
            wire.robot_name,
        ]
        .into_iter()
        .flatten()
        .find(|name| !name.is_empty())
        .unwrap_or_default();
        Self {
            room_id: wire.room_id,
            message_id: wire.message_id.or(wire.id),
            sender_id: wire.sender_id.or(wire.user_id),
            sender_name,
            content: wire.content,
            created_at: wire.created_at,
            is_bot: wire.is_bot.unwrap_or(wire.robot_id.is_some()),
            robot_id: wire.robot_id,
            mentions: wire.mentions,
            reply_to_id: wire.reply_to_id,
        }
    }
}

impl RoomMessage {
    /// A message with `content` in `room_id` and nothing else set; add the rest with the
    /// builder methods. Meant for tests; robots receive these from Lag.
    pub fn new(room_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            room_id: room_id.into(),
            message_id: None,
            sender_id: None,
            sender_name: String::new(),
            content: content.into(),
            created_at: None,
            is_bot: false,
            robot_id: None,
            mentions: Vec::new(),
            reply_to_id: None,
        }
    }

    /// Sets the message id.
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// Makes a member the sender.
    pub fn sender(mut self, user_id: impl Into<String>, name: impl Into<String>) -> Self {
        self.sender_id = Some(user_id.into());
        self.sender_name = name.into();
        self.is_bot = false;
        self.robot_id = None;
        self
    }

    /// Makes a robot the sender.
    pub fn robot(mut self, robot_id: impl Into<String>, name: impl Into<String>) -> Self {
        self.sender_id = None;
        self.sender_name = name.into();
        self.is_bot = true;
        self.robot_id = Some(robot_id.into());
        self
    }

    /// Adds a mention.
    pub fn mention(mut self, mention: Mention) -> Self {
        self.mentions.push(mention);
        self
    }

    /// Makes it a reply to `message_id`.
    pub fn reply_to_id(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to_id = Some(message_id.into());
        self
    }

    /// Whether the message mentions the robot with id `robot_id`.
    pub fn mentions_robot(&self, robot_id: &str) -> bool {
        self.mentions
            .iter()
            .any(|m| m.kind == MentionKind::Robot && m.id == robot_id)
    }

    /// Whether the robot with id `robot_id` sent this message.
    pub fn is_from_robot(&self, robot_id: &str) -> bool {
        self.robot_id.as_deref() == Some(robot_id)
    }
}

/// The payload of `robot.mentioned`: a message that mentions this robot.
///
/// It carries the same data as `room.message`, and dereferences to [`RoomMessage`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
#[non_exhaustive]
pub struct RobotMentioned {
    /// The message that mentions the robot.
    pub message: RoomMessage,
}

impl RobotMentioned {
    /// Wraps the mentioning message.
    pub fn new(message: RoomMessage) -> Self {
        Self { message }
    }
}

impl std::ops::Deref for RobotMentioned {
    type Target = RoomMessage;

    fn deref(&self) -> &RoomMessage {
        &self.message
    }
}

/// The payload of `room.message.edited`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomMessageEdited {
    /// The room.
    pub room_id: String,
    /// The edited message.
    pub message_id: String,
    /// The new text.
    #[serde(default)]
    pub content: String,
    /// Who edited it (a user id, or a robot id for robot edits).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub edited_by: Option<String>,
    /// When.
    #[serde(default)]
    pub edited_at: Option<Timestamp>,
}

/// The payload of `room.message.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomMessageDeleted {
    /// The room.
    pub room_id: String,
    /// The deleted message.
    pub message_id: String,
    /// Who deleted it.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub deleted_by: Option<String>,
}

/// The payload of `voice.join`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VoiceJoin {
    /// The voice room.
    pub room_id: String,
    /// Who joined.
    pub user_id: String,
    /// Their username.
    #[serde(default)]
    pub username: String,
}

/// The payload of `voice.leave`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VoiceLeave {
    /// The voice room.
    pub room_id: String,
    /// Who left.
    pub user_id: String,
    /// Their username.
    #[serde(default)]
    pub username: String,
    /// How long they stayed, when Lag said.
    #[serde(default, deserialize_with = "seconds")]
    pub duration: Option<Duration>,
}

/// The payload of `member.join`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MemberJoin {
    /// The new member.
    pub user_id: String,
    /// Their username.
    #[serde(default)]
    pub username: String,
    /// When they joined.
    #[serde(default)]
    pub joined_at: Option<Timestamp>,
}

/// The payload of `member.leave`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MemberLeave {
    /// The member who left.
    pub user_id: String,
    /// Their username.
    #[serde(default)]
    pub username: String,
}

/// The payload of `member.role_changed`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MemberRoleChanged {
    /// The member.
    pub user_id: String,
    /// Their username, when Lag sent it.
    #[serde(default)]
    pub username: Option<String>,
    /// The role before.
    pub old_role: ServerRole,
    /// The role now.
    pub new_role: ServerRole,
}

/// The payload of `room.created`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomCreated {
    /// The new room.
    pub room_id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Who created it.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub created_by: Option<String>,
}

/// The payload of `room.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomDeleted {
    /// The deleted room.
    pub room_id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// The payload of `presence.update`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PresenceUpdate {
    /// The member.
    pub user_id: String,
    /// Their new status.
    pub status: UserStatus,
}

/// The payload of `server.updated`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServerUpdated {
    /// The changed settings by wire name, with their new values.
    #[serde(default, deserialize_with = "null_as_default")]
    pub changes: Map<String, Value>,
    /// Who changed them.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub updated_by: Option<String>,
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let secs = Option::<f64>::deserialize(deserializer)?;
    Ok(secs.and_then(|s| Duration::try_from_secs_f64(s).ok()))
}

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

    /// Decodes a webhook request body: the canonical event object
    /// `{"type", "serverId", "timestamp", "data"}`. `webhook_id` is the `webhook-id` header.
    pub fn from_webhook(webhook_id: Option<&str>, body: &[u8]) -> Result<Self> {
        let value: Value =
            serde_json::from_slice(body).map_err(|err| Error::json("webhook body", err))?;
        let Value::Object(object) = value else {
            return Err(Error::decode(format!(
                "webhook body: expected an event object, got {}",
                json_kind(&value)
            )));
        };
        Self::from_canonical(webhook_id.map(str::to_owned), object, None, None)
            .map_err(|err| err.context("webhook body"))
    }

    /// Decodes one SSE frame from its `id`, `event` and `data` fields.
    ///
    /// `data` may be the whole canonical event or only its inner `data` object (then the
    /// frame's `event` names the type). Keep-alives (an `event: ping`, or a frame with no
    /// data) give `Ok(None)`.
    pub fn from_sse(id: Option<&str>, event: Option<&str>, data: &str) -> Result<Option<Self>> {
        let event = event.filter(|name| !name.is_empty());
        if event == Some("ping") || data.trim().is_empty() {
            return Ok(None);
        }
        let value: Value =
            serde_json::from_str(data).map_err(|err| Error::json("SSE data", err))?;
        let Value::Object(object) = value else {
            return Err(Error::decode(format!(
                "SSE data: expected an object, got {}",
                json_kind(&value)
            )));
        };
        let id = id.filter(|id| !id.is_empty()).map(str::to_owned);
        if is_canonical(&object) {
            return Self::from_canonical(id, object, None, None)
                .map(Some)
                .map_err(|err| err.context("SSE data"));
        }
        let Some(event_type) = event.filter(|name| *name != "message") else {
            return Err(Error::decode(
                "SSE frame: the data has no `type` and the frame names no event",
            ));
        };
        Self::new(id, event_type, None, None, Value::Object(object)).map(Some)
    }

    /// Decodes one item of a long-poll response:
    /// `{"id", "eventType", "payload": {"type", "data", ...}, "createdAt"}`.
    ///
    /// The payload may or may not carry `serverId` and `timestamp`; without a timestamp the
    /// item's `createdAt` stands in.
    pub fn from_poll_item(item: Value) -> Result<Self> {
        let Value::Object(mut item) = item else {
            return Err(Error::decode(format!(
                "poll item: expected an object, got {}",
                json_kind(&item)
            )));
        };
        let id = item.get("id").and_then(id_string);
        let event_type = item
            .get("eventType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let created_at = item
            .get("createdAt")
            .and_then(Value::as_str)
            .map(Timestamp::new);
        match item.remove("payload") {
            Some(Value::Object(payload)) if is_canonical(&payload) => {
                Self::from_canonical(id, payload, event_type, created_at)
            }
            Some(Value::Object(data)) => match event_type {
                Some(event_type) => {
                    Self::new(id, &event_type, None, created_at, Value::Object(data))
                }
                None => Err(Error::decode(
                    "poll item: no `eventType` and no `payload.type`",
                )),
            },
            Some(other) => Err(Error::decode(format!(
                "poll item: expected `payload` to be an object, got {}",
                json_kind(&other)
            ))),
            None => Err(Error::decode("poll item: missing field `payload`")),
        }
        .map_err(|err| match item.get("id").and_then(id_string) {
            Some(id) => err.context(&format!("poll item {id}")),
            None => err,
        })
    }

    fn from_canonical(
        id: Option<String>,
        mut object: Map<String, Value>,
        fallback_type: Option<String>,
        fallback_time: Option<Timestamp>,
    ) -> Result<Self> {
        let event_type = match object.remove("type") {
            Some(Value::String(t)) if !t.is_empty() => t,
            Some(other) if !other.is_null() => {
                return Err(Error::decode(format!(
                    "expected `type` to be a string, got {}",
                    json_kind(&other)
                )));
            }
            _ => fallback_type.ok_or_else(|| Error::decode("missing field `type`"))?,
        };
        let server_id = object
            .get("serverId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let timestamp = object
            .get("timestamp")
            .and_then(Value::as_str)
            .map(Timestamp::new)
            .or(fallback_time);
        let data = object.remove("data").unwrap_or(Value::Null);
        Self::new(id, &event_type, server_id, timestamp, data)
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

/// Decodes a whole long-poll response: a list of items (or `{"events": [...]}`).
///
/// The outer result fails only when the body is not a list of items; each item decodes on
/// its own, so one malformed item does not lose the others.
///
/// ```
/// use lag_bot::events::decode_poll;
/// let body = br#"[
///   {"id":"e1","eventType":"member.join","payload":{"type":"member.join","data":{"userId":"u","username":"alice"}},"createdAt":"2026-01-01T00:00:00Z"},
///   {"id":"e2","eventType":"room.message","payload":{"type":"room.message","data":{}}},
///   {"id":"e3","eventType":"galaxy.exploded","payload":{"type":"galaxy.exploded","data":{"x":1}}}
/// ]"#;
/// let items = decode_poll(body)?;
/// assert_eq!(items.len(), 3);
/// assert_eq!(items[0].as_ref().unwrap().timestamp().unwrap().as_str(), "2026-01-01T00:00:00Z");
/// assert!(items[1].is_err()); // room.message without roomId/content
/// assert_eq!(items[2].as_ref().unwrap().event_type(), "galaxy.exploded");
/// assert!(decode_poll(b"[]")?.is_empty());
/// # Ok::<(), lag_bot::Error>(())
/// ```
pub fn decode_poll(body: &[u8]) -> Result<Vec<Result<Envelope>>> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| Error::json("poll response", err))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("events") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(Error::decode(
                    "poll response: expected a list or an object with an `events` list",
                ));
            }
        },
        other => {
            return Err(Error::decode(format!(
                "poll response: expected a list, got {}",
                json_kind(&other)
            )));
        }
    };
    Ok(items.into_iter().map(Envelope::from_poll_item).collect())
}

fn is_canonical(object: &Map<String, Value>) -> bool {
    object.get("type").is_some_and(Value::is_string) && object.contains_key("data")
}

fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_data() -> Vec<(&'static str, Value)> {
        vec![
            (
                "room.message",
                json!({"roomId": "r1", "messageId": "m1", "senderId": "u1", "senderName": "alice",
                       "content": "hi", "createdAt": "2026-01-01T00:00:00.000Z", "isBot": false,
                       "robotId": null, "mentions": [], "replyToId": null}),
            ),
            (
                "room.message.edited",
                json!({"roomId": "r1", "messageId": "m1", "content": "hey", "editedBy": "u1",
                       "editedAt": "2026-01-01T00:00:01.000Z"}),
            ),
            (
                "room.message.deleted",
                json!({"roomId": "r1", "messageId": "m1", "deletedBy": "u1"}),
            ),
            (
                "voice.join",
                json!({"roomId": "r1", "userId": "u1", "username": "alice"}),
            ),
            (
                "voice.leave",
                json!({"roomId": "r1", "userId": "u1", "username": "alice", "duration": 42}),
            ),
            (
                "member.join",
                json!({"userId": "u1", "username": "alice", "joinedAt": "2026-01-01T00:00:00Z"}),
            ),
            ("member.leave", json!({"userId": "u1", "username": "alice"})),
            (
                "member.role_changed",
                json!({"userId": "u1", "oldRole": "member", "newRole": "admin"}),
            ),
            (
                "room.created",
                json!({"roomId": "r2", "name": "games", "createdBy": "u1"}),
            ),
            ("room.deleted", json!({"roomId": "r2", "name": "games"})),
            ("presence.update", json!({"userId": "u1", "status": "idle"})),
            (
                "server.updated",
                json!({"changes": {"name": "New name"}, "updatedBy": "u1"}),
            ),
            (
                "robot.mentioned",
                json!({"roomId": "r1", "messageId": "m3", "senderId": "u1", "senderName": "alice",
                       "content": "@Helper hi", "createdAt": "2026-01-01T00:00:00.000Z",
                       "isBot": false, "robotId": null,
                       "mentions": [{"type": "robot", "id": "rob_1", "name": "Helper"}],
                       "replyToId": null}),
            ),
        ]
    }

    fn check_typed(event: &Event) {
        match event {
            Event::RoomMessage(m) => {
                assert_eq!(m.message_id.as_deref(), Some("m1"));
                assert_eq!(m.sender_id.as_deref(), Some("u1"));
                assert_eq!(m.sender_name, "alice");
                assert!(!m.is_bot);
            }
            Event::RoomMessageEdited(e) => assert_eq!(e.content, "hey"),
            Event::RoomMessageDeleted(e) => assert_eq!(e.deleted_by.as_deref(), Some("u1")),
            Event::VoiceJoin(e) => assert_eq!(e.username, "alice"),
            Event::VoiceLeave(e) => assert_eq!(e.duration, Some(Duration::from_secs(42))),
            Event::MemberJoin(e) => assert_eq!(e.user_id, "u1"),
            Event::MemberLeave(e) => assert_eq!(e.username, "alice"),
            Event::MemberRoleChanged(e) => {
                assert_eq!(e.old_role, ServerRole::Member);
                assert_eq!(e.new_role, ServerRole::Admin);
            }
            Event::RoomCreated(e) => assert_eq!(e.name.as_deref(), Some("games")),
            Event::RoomDeleted(e) => assert_eq!(e.room_id, "r2"),
            Event::PresenceUpdate(e) => assert_eq!(e.status, UserStatus::Idle),
            Event::ServerUpdated(e) => assert_eq!(e.changes["name"], "New name"),
            Event::RobotMentioned(e) => assert!(e.mentions_robot("rob_1")),
            Event::Unknown(e) => panic!("decoded as unknown: {e:?}"),
        }
    }

    #[test]
    fn samples_cover_every_known_type() {
        let names: Vec<_> = sample_data().iter().map(|(t, _)| *t).collect();
        assert_eq!(names, EVENT_TYPES);
    }

    #[test]
    fn every_type_decodes_from_all_three_shapes() {
        for (event_type, data) in sample_data() {
            let canonical = json!({"type": event_type, "serverId": "srv_1",
                                   "timestamp": "2026-01-01T00:00:00Z", "data": data});
            let body = serde_json::to_vec(&canonical).unwrap();

            let hook = Envelope::from_webhook(Some("wh_1"), &body).unwrap();
            let full_sse = Envelope::from_sse(Some("1"), Some(event_type), &canonical.to_string())
                .unwrap()
                .unwrap();
            let inner_sse = Envelope::from_sse(Some("1"), Some(event_type), &data.to_string())
                .unwrap()
                .unwrap();
            let poll_item = json!({"id": "1", "eventType": event_type, "payload": canonical,
                                   "createdAt": "2026-01-01T00:00:05Z"});
            let poll = Envelope::from_poll_item(poll_item).unwrap();
            let poll_bare = Envelope::from_poll_item(json!({
                "id": "1", "eventType": event_type,
                "payload": {"type": event_type, "data": data},
                "createdAt": "2026-01-01T00:00:05Z"
            }))
            .unwrap();

            for envelope in [&hook, &full_sse, &inner_sse, &poll, &poll_bare] {
                assert_eq!(envelope.event_type(), event_type);
                assert_eq!(envelope.data(), &data);
                check_typed(envelope.event());
            }
            assert_eq!(hook.id(), Some("wh_1"));
            assert_eq!(hook.server_id(), Some("srv_1"));
            assert_eq!(full_sse.server_id(), Some("srv_1"));
            assert_eq!(inner_sse.server_id(), None);
            assert_eq!(poll.timestamp().unwrap().as_str(), "2026-01-01T00:00:00Z");
            assert_eq!(
                poll_bare.timestamp().unwrap().as_str(),
                "2026-01-01T00:00:05Z"
            );
            assert_eq!(poll_bare.server_id(), None);
            assert_eq!(hook.event(), poll.event());
        }
    }

    #[test]
    fn unknown_types_and_fields_are_kept() {
        let body = br#"{"type":"stage.started","serverId":"s","timestamp":"t","data":{"roomId":"r9","x":[1]},"extra":true}"#;
        let envelope = Envelope::from_webhook(None, body).unwrap();
        let Event::Unknown(unknown) = envelope.event() else {
            panic!("expected unknown")
        };
        assert_eq!(unknown.event_type, "stage.started");
        assert_eq!(unknown.data["x"], json!([1]));
        assert_eq!(envelope.event().room_id(), Some("r9"));

        let data = json!({"userId": "u1", "username": "a", "future": {"deep": 1}});
        let event = Event::from_parts("member.leave", data).unwrap();
        assert_eq!(MemberLeave::from_event(&event).unwrap().user_id, "u1");
    }

    #[test]
    fn null_and_empty_ids_mean_none() {
        for sender in [json!(null), json!("")] {
            let data = json!({"roomId": "r", "messageId": "m", "senderId": sender,
                              "senderName": "Bot", "content": "x", "robotId": "rob_9"});
            let event = Event::from_parts("room.message", data).unwrap();
            let msg = event.message().unwrap();
            assert_eq!(msg.sender_id, None);
            assert!(msg.is_bot, "a robot id implies a robot sender");
            assert!(msg.is_from_robot("rob_9"));
        }
        let data = json!({"roomId": "r", "content": "x", "senderName": "a", "robotId": ""});
        let msg = Event::from_parts("room.message", data).unwrap();
        assert_eq!(msg.message().unwrap().robot_id, None);
    }

    #[test]
    fn room_message_accepts_the_rest_message_shape() {
        let data = json!({"id": "m1", "roomId": "r", "userId": "u1", "username": "alice",
                          "displayName": "Alice A.", "content": "hi", "createdAt": "t"});
        let event = Event::from_parts("room.message", data).unwrap();
        let msg = event.message().unwrap();
        assert_eq!(msg.message_id.as_deref(), Some("m1"));
        assert_eq!(msg.sender_id.as_deref(), Some("u1"));
        assert_eq!(msg.sender_name, "Alice A.");
    }

    #[test]
    fn documented_minimal_frame_decodes() {
        let frame = r#"{"type":"room.message","serverId":"srv_1","timestamp":"...","data":{"roomId":"room_1","content":"hi","senderName":"alice"}}"#;
        let envelope = Envelope::from_sse(Some("01J"), Some("room.message"), frame)
            .unwrap()
            .unwrap();
        let msg = envelope.event().message().unwrap();
        assert_eq!(msg.sender_name, "alice");
        assert_eq!(msg.message_id, None);
    }

    #[test]
    fn keepalives_are_not_events() {
        assert!(
            Envelope::from_sse(None, Some("ping"), "{}")
                .unwrap()
                .is_none()
        );
        assert!(Envelope::from_sse(None, None, "").unwrap().is_none());
        assert!(
            Envelope::from_sse(None, Some("room.message"), "  ")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_input_is_a_decode_error() {
        let cases: Vec<Result<Envelope>> = vec![
            Envelope::from_webhook(None, b"not json"),
            Envelope::from_webhook(None, b"[1,2]"),
            Envelope::from_webhook(None, br#"{"data":{}}"#),
            Envelope::from_webhook(None, br#"{"type":7,"data":{}}"#),
            Envelope::from_webhook(None, br#"{"type":"member.join","data":{"username":"a"}}"#),
            Envelope::from_webhook(None, br#"{"type":"member.join","data":"alice"}"#),
            Envelope::from_webhook(None, br#"{"type":"member.join"}"#),
            Envelope::from_webhook(
                None,
                br#"{"type":"presence.update","data":{"userId":"u","status":5}}"#,
            ),
            Envelope::from_webhook(None, &[0xff, 0xfe, 0x00]),
            Envelope::from_sse(None, None, r#"{"roomId":"r","content":"x"}"#).map(Option::unwrap),
            Envelope::from_sse(None, Some("message"), r#"{"roomId":"r"}"#).map(Option::unwrap),
            Envelope::from_sse(None, Some("room.message"), "{").map(Option::unwrap),
            Envelope::from_sse(None, Some("room.message"), "[]").map(Option::unwrap),
            Envelope::from_poll_item(json!("x")),
            Envelope::from_poll_item(json!({"id": "1"})),
            Envelope::from_poll_item(json!({"id": "1", "payload": []})),
            Envelope::from_poll_item(json!({"id": "1", "payload": {"userId": "u"}})),
        ];
        for (i, case) in cases.into_iter().enumerate() {
            let err = case.expect_err(&format!("case {i} should fail"));
            assert_eq!(err.kind(), &crate::ErrorKind::Decode, "case {i}: {err}");
        }
        assert!(decode_poll(b"{}").is_err());
        assert!(decode_poll(b"\"events\"").is_err());
        assert!(decode_poll(b"").is_err());
    }

    #[test]
    fn poll_errors_name_the_item() {
        let items = decode_poll(br#"{"events":[{"id":"e7","eventType":"member.join","payload":{"type":"member.join","data":{}}}]}"#).unwrap();
        let err = items.into_iter().next().unwrap().unwrap_err();
        assert!(
            err.message().starts_with("poll item e7: member.join data"),
            "{err}"
        );
    }

    #[test]
    fn poll_item_with_numeric_id_and_bare_payload() {
        let envelope = Envelope::from_poll_item(json!({
            "id": 17, "eventType": "member.leave", "payload": {"userId": "u", "username": "a"}
        }))
        .unwrap();
        assert_eq!(envelope.id(), Some("17"));
        assert!(matches!(envelope.event(), Event::MemberLeave(_)));
    }

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
