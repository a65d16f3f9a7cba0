//! Messages: what the REST API returns, what a robot sends, and what an edit answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Timestamp, empty_as_none, null_as_default, open_enum};

/// The most characters a message may hold.
pub const MAX_CONTENT_CHARS: usize = 2000;

open_enum! {
    /// Who a mention points at.
    pub enum MentionKind {
        /// A human member.
        User = "user",
        /// A robot.
        Robot = "robot",
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::tests::message_json;

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
