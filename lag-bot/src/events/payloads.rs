//! One struct per event type: the `data` of each event Lag sends.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::model::{Mention, MentionKind, ServerRole, Timestamp, UserStatus};
use crate::model::{empty_as_none, null_as_default};

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::events::Event;

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
}
