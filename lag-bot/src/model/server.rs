//! The robot's server: its rooms and members.

use serde::{Deserialize, Serialize};

use super::{Timestamp, null_as_default, open_enum};

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
}
