//! The JSON shapes of Lag's robot API, exactly as the emulator sends them.
//!
//! These types serialize to the wire format (camelCase keys, `null` for absent optional values)
//! and deserialize from it, so tests can decode responses into them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err(Error::bad_request(format!(
                        "unknown {} {other:?} (expected one of: {})",
                        $what,
                        [$($wire),+].join(", ")
                    ))),
                }
            }
        }
    };
}

wire_enum! {
    /// A robot permission: one of Lag's six, or the emulator's `manage_messages` extension.
    ///
    /// [`Permission::LAG`] lists the six that Lag has; they are what a robot gets unless told
    /// otherwise. [`Permission::ManageMessages`] is an **emulator extension that Lag does not
    /// have today**: on Lag a robot may delete only its own messages (the API notes, gap G17),
    /// and the extension lets a moderation robot's deletion path be tried locally. It is never
    /// granted by default.
    ///
    /// ```
    /// use lag_sim::Permission;
    /// assert_eq!("read_voice".parse::<Permission>().unwrap(), Permission::ReadVoice);
    /// assert_eq!(Permission::LAG.len(), 6);
    /// assert!(!Permission::LAG.contains(&Permission::ManageMessages));
    /// assert!(Permission::ManageMessages.is_extension());
    /// ```
    Permission, "permission" {
        /// Read message content, history and message events.
        ReadMessages = "read_messages",
        /// Send, edit and delete the robot's own messages.
        SendMessages = "send_messages",
        /// The member list and member events.
        ReadMembers = "read_members",
        /// Voice join/leave events.
        ReadVoice = "read_voice",
        /// The room list and room events.
        ReadRooms = "read_rooms",
        /// Presence events.
        ReadPresence = "read_presence",
        /// Emulator extension, not in Lag today: delete any member's or robot's message in the
        /// robot's own server (editing stays limited to the robot's own messages).
        ManageMessages = "manage_messages",
    }
}

impl Permission {
    /// The six permissions Lag has, in declaration order: what a robot is granted by default.
    pub const LAG: &'static [Permission] = &[
        Permission::ReadMessages,
        Permission::SendMessages,
        Permission::ReadMembers,
        Permission::ReadVoice,
        Permission::ReadRooms,
        Permission::ReadPresence,
    ];

    /// Whether this permission is an emulator extension that Lag does not have.
    pub fn is_extension(self) -> bool {
        !Self::LAG.contains(&self)
    }
}

wire_enum! {
    /// An event type a robot can subscribe to.
    ///
    /// ```
    /// use lag_sim::EventType;
    /// assert_eq!(EventType::RoomMessageEdited.as_str(), "room.message.edited");
    /// assert_eq!(EventType::ALL.len(), 13);
    /// ```
    #[non_exhaustive]
    EventType, "event type" {
        /// A message was posted in a room.
        RoomMessage = "room.message",
        /// A message was edited.
        RoomMessageEdited = "room.message.edited",
        /// A message was deleted.
        RoomMessageDeleted = "room.message.deleted",
        /// A member joined a voice room.
        VoiceJoin = "voice.join",
        /// A member left a voice room.
        VoiceLeave = "voice.leave",
        /// A member joined the server.
        MemberJoin = "member.join",
        /// A member left the server.
        MemberLeave = "member.leave",
        /// A member's role changed.
        MemberRoleChanged = "member.role_changed",
        /// A room was created.
        RoomCreated = "room.created",
        /// A room was deleted.
        RoomDeleted = "room.deleted",
        /// A member's online status changed.
        PresenceUpdate = "presence.update",
        /// Server settings changed.
        ServerUpdated = "server.updated",
        /// The robot was @mentioned.
        RobotMentioned = "robot.mentioned",
    }
}

impl EventType {
    /// The permission a robot needs to receive this event, if any.
    ///
    /// `robot.mentioned` needs none (its content is blanked without `read_messages`), and neither
    /// does `server.updated`.
    pub fn required_permission(self) -> Option<Permission> {
        match self {
            EventType::RoomMessage
            | EventType::RoomMessageEdited
            | EventType::RoomMessageDeleted => Some(Permission::ReadMessages),
            EventType::VoiceJoin | EventType::VoiceLeave => Some(Permission::ReadVoice),
            EventType::MemberJoin | EventType::MemberLeave | EventType::MemberRoleChanged => {
                Some(Permission::ReadMembers)
            }
            EventType::RoomCreated | EventType::RoomDeleted => Some(Permission::ReadRooms),
            EventType::PresenceUpdate => Some(Permission::ReadPresence),
            EventType::ServerUpdated | EventType::RobotMentioned => None,
        }
    }
}

wire_enum! {
    /// A member's coarse role in a server.
    Role, "role" {
        /// The server owner.
        Owner = "owner",
        /// An administrator.
        Admin = "admin",
        /// A regular member.
        Member = "member",
    }
}

wire_enum! {
    /// A member's online status.
    UserStatus, "status" {
        /// Online.
        Online = "online",
        /// Offline.
        Offline = "offline",
        /// Playing a game.
        InGame = "in-game",
        /// Idle.
        Idle = "idle",
    }
}

/// `GET /robots/@me/info`: who the robot is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobotInfo {
    /// Robot id (equals `robotId` on its messages).
    pub id: String,
    /// Display name, 1-32 characters.
    pub name: String,
    /// The one server the robot acts in.
    pub server_id: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Granted permissions.
    pub permissions: Vec<Permission>,
    /// False once disabled (for example after its webhook answered 410).
    pub active: bool,
    /// Creation time.
    pub created_at: String,
}

/// A message in a room's chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoomMessage {
    /// Message id.
    pub id: String,
    /// Room the message is in.
    pub room_id: String,
    /// Author's user id; `null` for robot messages.
    pub user_id: Option<String>,
    /// Author's username (the robot name for robot messages).
    pub username: String,
    /// Author's display name (the robot name for robot messages).
    pub display_name: Option<String>,
    /// Author's avatar.
    pub avatar_url: Option<String>,
    /// Text, 1-2000 characters.
    pub content: String,
    /// Creation time; strictly increasing across the emulator so cursors never skip a message.
    pub created_at: String,
    /// Time of the last edit.
    pub edited_at: Option<String>,
    /// Authoring robot's id.
    pub robot_id: Option<String>,
    /// Authoring robot's name.
    pub robot_name: Option<String>,
    /// Authoring robot's avatar.
    pub robot_avatar_url: Option<String>,
    /// True for robot messages.
    pub is_bot: bool,
    /// Event guest id (never set by the emulator).
    pub guest_id: Option<String>,
    /// Event guest name (never set by the emulator).
    pub guest_display_name: Option<String>,
    /// True for event guests (never set by the emulator).
    pub is_guest: bool,
    /// The message this one replies to.
    pub reply_to: Option<ReplyTo>,
    /// Users and robots @mentioned in `content`.
    pub mentions: Vec<Mention>,
    /// Attached image (robots cannot attach images).
    pub image: Option<Value>,
}

/// The quoted message inside a reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ReplyTo {
    /// Quoted message id.
    pub id: String,
    /// Quoted author's user id (empty for robots).
    pub user_id: String,
    /// Quoted author's username.
    pub username: String,
    /// Quoted author's display name.
    pub display_name: Option<String>,
    /// Quoted text.
    pub content: String,
    /// Quoted robot author.
    pub robot_id: Option<String>,
    /// Quoted robot author's name.
    pub robot_name: Option<String>,
    /// True when a robot wrote the quoted message.
    pub is_bot: bool,
}

/// Kind of a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MentionType {
    /// A member.
    User,
    /// A robot.
    Robot,
}

/// A user or robot @mentioned in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Mention {
    /// User or robot.
    #[serde(rename = "type")]
    pub kind: MentionType,
    /// User id or robot id.
    pub id: String,
    /// Username or robot name.
    pub name: String,
}

/// A room (voice room with a text chat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Room {
    /// Room id.
    pub id: String,
    /// Server the room belongs to.
    pub server_id: String,
    /// Room name.
    pub name: Option<String>,
    /// Creator's user id.
    pub created_by: String,
    /// Voice capacity.
    pub max_participants: Option<u32>,
    /// Members currently in voice.
    pub participants: Vec<Participant>,
    /// Creation time.
    pub created_at: String,
}

/// A member in a room's voice channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Participant {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Avatar.
    pub avatar_url: Option<String>,
    /// Muted.
    pub is_muted: bool,
    /// Deafened.
    pub is_deafened: bool,
    /// Speaking right now.
    pub is_speaking: bool,
    /// When they joined voice.
    pub joined_at: String,
}

/// A member of a server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServerMember {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Avatar.
    pub avatar_url: Option<String>,
    /// Coarse role.
    pub role: Role,
    /// Custom role id (never set by the emulator).
    pub role_id: Option<String>,
    /// Online status.
    pub status: UserStatus,
    /// When they joined the server.
    pub joined_at: String,
}

/// A server (admin API only; robots never see this object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Server {
    /// Server id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Icon URL.
    pub icon_url: Option<String>,
    /// Icon emoji.
    pub icon_emoji: Option<String>,
    /// Owner's user id; `null` until the first member joins.
    pub owner_id: Option<String>,
    /// Number of members.
    pub member_count: usize,
    /// Creation time.
    pub created_at: String,
}

/// `GET .../rooms/:roomId/messages`: one page of history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HistoryPage {
    /// Messages, newest first.
    pub messages: Vec<RoomMessage>,
    /// Whether older messages exist.
    pub has_more: bool,
    /// `createdAt` of the last (oldest) message when `has_more`, else `null`.
    pub next_cursor: Option<String>,
}

/// The canonical event object: a webhook body, an SSE `data:` line, a long-poll `payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventBody {
    /// Event type, e.g. `room.message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The robot's server.
    pub server_id: String,
    /// When the event happened.
    pub timestamp: String,
    /// Type-specific payload.
    pub data: Value,
}

/// One item of a long-poll response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PollEvent {
    /// Event id.
    pub id: String,
    /// Same as `payload.type`.
    pub event_type: String,
    /// The canonical event.
    pub payload: EventBody,
    /// When the event was queued for the robot.
    pub created_at: String,
}
