//! The robot's own identity and permissions.

use serde::{Deserialize, Serialize};

use super::{Timestamp, null_as_default, open_enum};

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

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
}
