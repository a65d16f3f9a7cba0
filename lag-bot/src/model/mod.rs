//! The data Lag's REST API returns: the robot itself, messages, rooms and members.
//!
//! Field names follow Lag's wire names in `snake_case` (`roomId` is `room_id`). Decoding is
//! lenient the way Lag's own clients are: unknown fields are ignored, a `null` list is an empty
//! list, and an empty `userId` (as some responses send for robot messages) is the same as `null`.
//! Enumerations Lag may extend (statuses, roles, permissions, mention kinds) keep values they do
//! not know in an `Other` variant instead of failing.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The most characters a message may hold.
pub const MAX_CONTENT_CHARS: usize = 2000;

/// The most messages one history page may hold.
pub const MAX_HISTORY_PAGE: u32 = 100;

/// A point in time as Lag sent it: an ISO 8601 string such as `2024-01-15T12:30:00.000Z`.
///
/// The original text is kept, so nothing is lost when Lag's format varies; [`to_datetime`]
/// parses it on demand.
///
/// ```
/// use lag_bot::model::Timestamp;
/// let at = Timestamp::new("2024-01-15T12:30:00.000Z");
/// assert_eq!(at.as_str(), "2024-01-15T12:30:00.000Z");
/// assert_eq!(at.to_datetime().unwrap().unix_timestamp(), 1_705_321_800);
/// assert!(Timestamp::new("yesterday").to_datetime().is_none());
/// ```
///
/// [`to_datetime`]: Timestamp::to_datetime
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Wraps a timestamp string.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The timestamp exactly as Lag sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the timestamp as RFC 3339, or `None` when it is not in that form.
    pub fn to_datetime(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of `lag-bot` does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(other) => other,
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )*
                    _ => Self::Other(value),
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                match value {
                    $name::Other(other) => other,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_enum! {
    /// One of the six robot permissions, chosen by the server owner.
    ///
    /// ```
    /// use lag_bot::model::Permission;
    /// assert_eq!(Permission::from("send_messages"), Permission::SendMessages);
    /// assert_eq!(Permission::ReadVoice.as_str(), "read_voice");
    /// assert_eq!(Permission::from("fly"), Permission::Other("fly".into()));
    /// ```
    pub enum Permission {
        /// Read message content; receive message events; read history.
        ReadMessages = "read_messages",
        /// Send, edit and delete the robot's own messages.
        SendMessages = "send_messages",
        /// Read the member list; receive member events.
        ReadMembers = "read_members",
        /// Receive voice join and leave events.
        ReadVoice = "read_voice",
        /// Read the room list; receive room created and deleted events.
        ReadRooms = "read_rooms",
        /// Receive presence updates.
        ReadPresence = "read_presence",
    }
}

open_enum! {
    /// A member's online status; [`Offline`](Self::Offline) when Lag did not say.
    #[derive(Default)]
    pub enum UserStatus {
        /// Connected.
        Online = "online",
        /// Not connected.
        #[default]
        Offline = "offline",
        /// Playing a game.
        InGame = "in-game",
        /// Connected but away.
        Idle = "idle",
    }
}

open_enum! {
    /// A member's coarse role in the server; [`Member`](Self::Member) when Lag did not say.
    #[derive(Default)]
    pub enum ServerRole {
        /// The server's owner.
        Owner = "owner",
        /// An administrator.
        Admin = "admin",
        /// A regular member.
        #[default]
        Member = "member",
    }
}

open_enum! {
    /// Who a mention points at.
    pub enum MentionKind {
        /// A human member.
        User = "user",
        /// A robot.
        Robot = "robot",
    }
}

/// The robot's own identity, from `GET /robots/@me/info`.
///
/// ```
/// use lag_bot::model::{Permission, RobotInfo};
/// let info: RobotInfo = serde_json::from_str(r#"{
///     "id": "rob_1", "name": "Helper", "serverId": "srv_1", "avatarUrl": null,
///     "permissions": ["send_messages"], "active": true, "createdAt": "2026-01-01T00:00:00Z"
/// }"#).unwrap();
/// assert_eq!(info.server_id, "srv_1");
/// assert!(info.has_permission(&Permission::SendMessages));
/// assert!(!info.has_permission(&Permission::ReadMessages));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobotInfo {
    /// The robot's id; equals `robot_id` on the messages it sends.
    pub id: String,
    /// The display name, also what members type after `@` to mention it.
    pub name: String,
    /// The one server the robot belongs to.
    pub server_id: String,
    /// The avatar image, if any.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// What the robot may do.
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: Vec<Permission>,
    /// False while the robot is disabled.
    #[serde(default = "yes")]
    pub active: bool,
    /// When the robot was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

impl RobotInfo {
    /// Whether the robot holds `permission`.
    pub fn has_permission(&self, permission: &Permission) -> bool {
        self.permissions.contains(permission)
    }
}

/// A message in a room's chat, as the REST API returns it.
///
/// ```
/// use lag_bot::model::Message;
/// let msg: Message = serde_json::from_str(r#"{
///     "id": "msg_1", "roomId": "room_1", "userId": "", "username": "Helper",
///     "displayName": "Helper", "avatarUrl": null, "content": "hi",
///     "createdAt": "2024-01-15T12:30:00.000Z", "robotId": "rob_1", "isBot": true,
///     "mentions": null, "somethingNew": 1
/// }"#).unwrap();
/// assert_eq!(msg.user_id, None); // "" and null both mean "no user"
/// assert!(msg.is_bot);
/// assert!(msg.mentions.is_empty());
/// assert_eq!(msg.author_name(), "Helper");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Message {
    /// The message id.
    pub id: String,
    /// The room it was posted in.
    pub room_id: String,
    /// The human author; `None` for robot messages.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub user_id: Option<String>,
    /// The author's username (a robot's name for robot messages).
    #[serde(default)]
    pub username: String,
    /// The author's display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The author's avatar.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// The text, 1 to 2000 characters.
    pub content: String,
    /// When it was posted.
    pub created_at: Timestamp,
    /// When it was last edited, if ever.
    #[serde(default)]
    pub edited_at: Option<Timestamp>,
    /// The robot that sent it, for robot messages.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub robot_id: Option<String>,
    /// The sending robot's name.
    #[serde(default)]
    pub robot_name: Option<String>,
    /// The sending robot's avatar.
    #[serde(default)]
    pub robot_avatar_url: Option<String>,
    /// True for robot messages.
    #[serde(default)]
    pub is_bot: bool,
    /// The event guest that sent it, if a guest did.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub guest_id: Option<String>,
    /// The guest's display name.
    #[serde(default)]
    pub guest_display_name: Option<String>,
    /// True for guest messages.
    #[serde(default)]
    pub is_guest: bool,
    /// The message this one replies to.
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
    /// Members and robots mentioned in the content.
    #[serde(default, deserialize_with = "null_as_default")]
    pub mentions: Vec<Mention>,
    /// An attached image.
    #[serde(default)]
    pub image: Option<MessageImage>,
}

impl Message {
    /// The name to show for the author: the display name when set, else the username.
    pub fn author_name(&self) -> &str {
        self.display_name
            .as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(&self.username)
    }

    /// Whether the message mentions the robot with id `robot_id`.
    pub fn mentions_robot(&self, robot_id: &str) -> bool {
        self.mentions
            .iter()
            .any(|m| m.kind == MentionKind::Robot && m.id == robot_id)
    }
}

/// The message a reply points at, as embedded in the reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReplyTo {
    /// The replied-to message's id.
    pub id: String,
    /// Its human author, if any.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub user_id: Option<String>,
    /// Its author's username.
    #[serde(default)]
    pub username: String,
    /// Its author's display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its text.
    #[serde(default)]
    pub content: String,
    /// Its robot author, if any.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub robot_id: Option<String>,
    /// Its robot author's name.
    #[serde(default)]
    pub robot_name: Option<String>,
    /// True when a robot wrote it.
    #[serde(default)]
    pub is_bot: bool,
}

/// A mention of a member or robot inside a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Mention {
    /// Whether a member or a robot is mentioned.
    #[serde(rename = "type")]
    pub kind: MentionKind,
    /// The user id or robot id.
    pub id: String,
    /// The name as written.
    #[serde(default)]
    pub name: String,
}

impl Mention {
    /// Builds a mention, e.g. to construct events in tests.
    pub fn new(kind: MentionKind, id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
            name: name.into(),
        }
    }
}

/// An image attached to a message (only members can attach images).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageImage {
    /// The image id.
    pub id: String,
    /// Where to fetch it.
    #[serde(default)]
    pub url: Option<String>,
    /// Width in pixels.
    #[serde(default)]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default)]
    pub height: Option<u32>,
    /// A blurhash placeholder.
    #[serde(default)]
    pub blurhash: Option<String>,
    /// The MIME type.
    #[serde(default)]
    pub content_type: String,
    /// Resized versions by name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub variants: BTreeMap<String, ImageVariant>,
}

/// A resized version of a [`MessageImage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImageVariant {
    /// Where to fetch it.
    pub url: String,
    /// Width in pixels.
    #[serde(default)]
    pub width: u32,
    /// Height in pixels.
    #[serde(default)]
    pub height: u32,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
}

/// A room of the robot's server: a voice room with a text chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Room {
    /// The room id.
    pub id: String,
    /// The server it belongs to.
    #[serde(default)]
    pub server_id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user who created it.
    #[serde(default)]
    pub created_by: String,
    /// The voice capacity, when limited.
    #[serde(default)]
    pub max_participants: Option<u32>,
    /// Who is in the voice room now.
    #[serde(default, deserialize_with = "null_as_default")]
    pub participants: Vec<RoomParticipant>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// Someone in a room's voice channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomParticipant {
    /// Their user id.
    pub user_id: String,
    /// Their username.
    #[serde(default)]
    pub username: String,
    /// Their display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Their avatar.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Microphone muted.
    #[serde(default)]
    pub is_muted: bool,
    /// Sound off.
    #[serde(default)]
    pub is_deafened: bool,
    /// Talking right now.
    #[serde(default)]
    pub is_speaking: bool,
    /// When they joined the voice room.
    #[serde(default)]
    pub joined_at: Option<Timestamp>,
}

/// A member of the robot's server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Member {
    /// Their user id.
    pub user_id: String,
    /// Their username.
    #[serde(default)]
    pub username: String,
    /// Their display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Their avatar.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Their coarse role.
    #[serde(default)]
    pub role: ServerRole,
    /// Their custom role, if any.
    #[serde(default)]
    pub role_id: Option<String>,
    /// Their online status.
    #[serde(default)]
    pub status: UserStatus,
    /// When they joined the server.
    #[serde(default)]
    pub joined_at: Option<Timestamp>,
}

impl Member {
    /// The name to show: the display name when set, else the username.
    pub fn name(&self) -> &str {
        self.display_name
            .as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(&self.username)
    }
}

/// One page of a room's history, newest message first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HistoryPage {
    /// The messages, newest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist.
    #[serde(default)]
    pub has_more: bool,
    /// Pass this as the cursor to get the next (older) page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Which history page to fetch.
///
/// ```
/// use lag_bot::model::HistoryQuery;
/// let query = HistoryQuery::new().limit(20).before("2026-01-01T00:00:00Z");
/// assert_eq!(query.limit, Some(20));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryQuery {
    /// Page size, 1 to 100; Lag's default (50) when `None`.
    pub limit: Option<u32>,
    /// Only messages created before this cursor (a `next_cursor` from a previous page).
    pub cursor: Option<String>,
}

impl HistoryQuery {
    /// The newest page, Lag's default size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size (1 to 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts before `cursor`, a `next_cursor` from an earlier page.
    pub fn before(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

/// A message to send: the content and, optionally, the message it replies to.
///
/// `&str` and `String` convert into it, so simple calls need not name it.
///
/// ```
/// use lag_bot::SendMessage;
/// let reply = SendMessage::new("pong").reply_to("msg_1");
/// assert_eq!(reply.reply_to.as_deref(), Some("msg_1"));
/// let plain: SendMessage = "hello".into();
/// assert_eq!(plain.content, "hello");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SendMessage {
    /// The text, 1 to 2000 characters.
    pub content: String,
    /// The id of a message in the same room to reply to.
    #[serde(rename = "replyToId", skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

impl SendMessage {
    /// A message with `content` and no reply.
    pub fn new(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            reply_to: None,
        }
    }

    /// Makes it a reply to message `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to = Some(message_id.into());
        self
    }
}

impl From<&str> for SendMessage {
    fn from(content: &str) -> Self {
        Self::new(content)
    }
}

impl From<String> for SendMessage {
    fn from(content: String) -> Self {
        Self::new(content)
    }
}

impl From<&String> for SendMessage {
    fn from(content: &String) -> Self {
        Self::new(content.as_str())
    }
}

/// The answer to an edit.
///
/// Lag documents a partial object (`id`, `roomId`, `content`, `editedAt`) while some servers
/// return the whole message; both decode, and [`message`](Self::message) holds the whole
/// message when it was sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EditedMessage {
    /// The message id.
    pub id: String,
    /// The room, when Lag said.
    pub room_id: Option<String>,
    /// The new text.
    pub content: String,
    /// When the edit happened.
    pub edited_at: Option<Timestamp>,
    /// The full message, when the response carried one.
    pub message: Option<Message>,
}

impl EditedMessage {
    pub(crate) fn from_json(value: serde_json::Value) -> crate::Result<Self> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Partial {
            id: String,
            #[serde(default)]
            room_id: Option<String>,
            content: String,
            #[serde(default)]
            edited_at: Option<Timestamp>,
        }
        let message = serde_json::from_value::<Message>(value.clone()).ok();
        let partial: Partial = serde_json::from_value(value)
            .map_err(|err| crate::Error::json("edit response", err))?;
        Ok(Self {
            id: partial.id,
            room_id: partial.room_id,
            content: partial.content,
            edited_at: partial.edited_at,
            message,
        })
    }
}

fn yes() -> bool {
    true
}

/// Treats `null` like a missing field.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Treats `""` like `null`: Lag sends either for "no such id".
pub(crate) fn empty_as_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

/// Reads a list Lag may send bare (`[...]`) or wrapped (`{"<key>": [...]}`).
pub(crate) fn decode_list<T>(
    what: &str,
    key: &str,
    value: serde_json::Value,
) -> crate::Result<Vec<T>>
where
    T: for<'de> Deserialize<'de>,
{
    let list = match value {
        serde_json::Value::Array(_) => value,
        serde_json::Value::Object(mut map) => match map.remove(key) {
            Some(list @ serde_json::Value::Array(_)) => list,
            Some(serde_json::Value::Null) => return Ok(Vec::new()),
            _ => {
                return Err(crate::Error::decode(format!(
                    "{what}: expected a list or an object with a `{key}` list"
                )));
            }
        },
        other => {
            return Err(crate::Error::decode(format!(
                "{what}: expected a list, got {}",
                json_kind(&other)
            )));
        }
    };
    serde_json::from_value(list).map_err(|err| crate::Error::json(what, err))
}

/// Reads a history page, accepting a bare list of messages as a last page.
pub(crate) fn decode_history(value: serde_json::Value) -> crate::Result<HistoryPage> {
    match value {
        serde_json::Value::Array(_) => Ok(HistoryPage {
            messages: decode_list("history", "messages", value)?,
            has_more: false,
            next_cursor: None,
        }),
        other => {
            let mut page: HistoryPage = serde_json::from_value(other)
                .map_err(|err| crate::Error::json("history page", err))?;
            if page.next_cursor.as_deref() == Some("") {
                page.next_cursor = None;
            }
            Ok(page)
        }
    }
}

pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message_json() -> serde_json::Value {
        json!({
            "id": "msg_abc123", "roomId": "room_xyz", "userId": null,
            "username": "My Bot", "displayName": "My Bot", "avatarUrl": null,
            "content": "Hello from the robot!", "createdAt": "2024-01-15T12:30:00.000Z",
            "editedAt": null, "robotId": "robot_abc123"
        })
    }

    #[test]
    fn documented_message_decodes() {
        let msg: Message = serde_json::from_value(message_json()).unwrap();
        assert_eq!(msg.id, "msg_abc123");
        assert_eq!(msg.user_id, None);
        assert_eq!(msg.robot_id.as_deref(), Some("robot_abc123"));
        assert!(!msg.is_bot);
        assert!(msg.mentions.is_empty());
        assert_eq!(msg.reply_to, None);
    }

    #[test]
    fn full_message_with_reply_mentions_and_image_decodes() {
        let value = json!({
            "id": "m2", "roomId": "r", "userId": "u1", "username": "alice",
            "displayName": null, "avatarUrl": null, "content": "@Helper hi",
            "createdAt": "2026-01-01T00:00:00Z", "isBot": false, "isGuest": false,
            "guestId": "", "replyTo": {"id": "m1", "userId": "", "username": "Helper",
            "displayName": null, "content": "hello", "robotId": "rob_1", "isBot": true},
            "mentions": [{"type": "robot", "id": "rob_1", "name": "Helper"},
                         {"type": "channel", "id": "x", "name": "here"}],
            "image": {"id": "img", "url": null, "width": 10, "height": null, "blurhash": null,
                      "contentType": "image/png", "variants": {"thumb": {"url": "u", "width": 1,
                      "height": 1, "size": 3}}}
        });
        let msg: Message = serde_json::from_value(value).unwrap();
        assert_eq!(msg.author_name(), "alice");
        assert_eq!(msg.guest_id, None);
        let reply = msg.reply_to.as_ref().unwrap();
        assert_eq!(reply.user_id, None);
        assert_eq!(reply.robot_id.as_deref(), Some("rob_1"));
        assert!(msg.mentions_robot("rob_1"));
        assert!(!msg.mentions_robot("rob_2"));
        assert_eq!(msg.mentions[1].kind, MentionKind::Other("channel".into()));
        assert_eq!(msg.image.as_ref().unwrap().variants["thumb"].size, 3);
    }

    #[test]
    fn message_without_required_fields_is_an_error() {
        let err = serde_json::from_value::<Message>(json!({"id": "m"})).unwrap_err();
        assert!(err.to_string().contains("roomId"), "{err}");
    }

    #[test]
    fn open_enums_keep_unknown_values_and_round_trip() {
        let member: Member = serde_json::from_value(json!({
            "userId": "u", "username": "bob", "displayName": "", "avatarUrl": null,
            "role": "moderator", "roleId": null, "status": "in-game", "joinedAt": "x"
        }))
        .unwrap();
        assert_eq!(member.role, ServerRole::Other("moderator".into()));
        assert_eq!(member.status, UserStatus::InGame);
        assert_eq!(member.name(), "bob");
        let back = serde_json::to_value(&member).unwrap();
        assert_eq!(back["role"], "moderator");
        assert_eq!(back["status"], "in-game");
    }

    #[test]
    fn robot_info_defaults_active_and_keeps_unknown_permissions() {
        let info: RobotInfo = serde_json::from_value(json!({
            "id": "rob_1", "name": "Helper", "serverId": "srv_1",
            "permissions": ["read_messages", "teleport"], "future": {"x": 1}
        }))
        .unwrap();
        assert!(info.active);
        assert_eq!(info.permissions[1], Permission::Other("teleport".into()));
    }

    #[test]
    fn lists_decode_bare_or_wrapped() {
        let room = json!({"id": "r1", "serverId": "s", "name": "general", "createdBy": "u",
            "maxParticipants": null, "participants": [], "createdAt": "t"});
        let bare: Vec<Room> = decode_list("rooms", "rooms", json!([room.clone()])).unwrap();
        let wrapped: Vec<Room> = decode_list("rooms", "rooms", json!({"rooms": [room]})).unwrap();
        assert_eq!(bare, wrapped);
        assert_eq!(bare[0].name.as_deref(), Some("general"));
        let err = decode_list::<Room>("rooms", "rooms", json!({"members": []})).unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Decode);
        let err = decode_list::<Room>("rooms", "rooms", json!("nope")).unwrap_err();
        assert!(err.message().contains("a string"), "{err}");
    }

    #[test]
    fn history_decodes_page_or_bare_list() {
        let page = decode_history(json!({
            "messages": [message_json()], "hasMore": true, "nextCursor": "2024-01-15T12:30:00.000Z"
        }))
        .unwrap();
        assert!(page.has_more);
        assert_eq!(
            page.next_cursor.as_deref(),
            Some("2024-01-15T12:30:00.000Z")
        );
        let bare = decode_history(json!([message_json()])).unwrap();
        assert_eq!(bare.messages.len(), 1);
        assert!(!bare.has_more);
        assert!(decode_history(json!({"messages": 3})).is_err());
    }

    #[test]
    fn edit_response_partial_or_full() {
        let partial = EditedMessage::from_json(json!({
            "id": "msg_abc123", "roomId": "room_xyz", "content": "new",
            "editedAt": "2024-01-15T12:35:00.000Z"
        }))
        .unwrap();
        assert_eq!(partial.content, "new");
        assert!(partial.message.is_none());
        let mut full = message_json();
        full["editedAt"] = json!("2024-01-15T12:35:00.000Z");
        let full = EditedMessage::from_json(full).unwrap();
        assert!(full.message.is_some());
        assert_eq!(full.edited_at.unwrap().as_str(), "2024-01-15T12:35:00.000Z");
        assert!(EditedMessage::from_json(json!({"id": "m"})).is_err());
    }

    #[test]
    fn send_message_serializes_reply_only_when_set() {
        let plain = serde_json::to_value(SendMessage::new("hi")).unwrap();
        assert_eq!(plain, json!({"content": "hi"}));
        let reply = serde_json::to_value(SendMessage::new("hi").reply_to("m1")).unwrap();
        assert_eq!(reply, json!({"content": "hi", "replyToId": "m1"}));
    }
}
