//! World files: a TOML description of servers, rooms, members and robots to load at start.
//!
//! ```toml
//! [[servers]]
//! name = "Acme"
//! rooms = ["general", "welcome", "mod-log"]
//!
//! [[servers.members]]
//! username = "alice"          # the first member owns the server
//! display_name = "Alice"
//!
//! [[servers.members]]
//! username = "bob"
//! role = "admin"              # owner | admin | member
//! status = "idle"             # online | offline | in-game | idle
//!
//! [[servers.robots]]
//! name = "Helper"
//! transport = "webhook"       # webhook | sse | longpoll (default longpoll)
//! webhook_url = "http://127.0.0.1:3000/lag"
//! permissions = ["read_messages", "send_messages"]   # default: Lag's six (not manage_messages)
//! subscriptions = ["room.message", "member.join"]    # default: every event type
//! key = "lag_robot_0123abcd_0123456789abcdefghijklmnopqrstuv"  # optional fixed key
//! secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"             # optional fixed secret
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::spec::TransportKind;
use crate::wire::{EventType, Permission, Role, UserStatus};

/// A parsed world file.
///
/// ```
/// use lag_sim::worldfile::WorldFile;
/// let file = WorldFile::parse(r#"
///     [[servers]]
///     name = "Acme"
///     rooms = ["general"]
///     members = [{ username = "alice" }]
///     robots = [{ name = "Helper", transport = "sse" }]
/// "#).unwrap();
/// assert_eq!(file.servers[0].robots[0].name, "Helper");
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WorldFile {
    /// The servers to create, in order.
    #[serde(default)]
    pub servers: Vec<ServerEntry>,
}

/// One server of a world file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerEntry {
    /// Server name.
    pub name: String,
    /// Room names, created in order.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Members, added in order; the first one owns the server.
    #[serde(default)]
    pub members: Vec<MemberEntry>,
    /// Robots.
    #[serde(default)]
    pub robots: Vec<RobotEntry>,
}

/// One member of a world-file server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemberEntry {
    /// Username (letters, digits, `_`, `-`, `.`; 1-32 characters).
    pub username: String,
    /// Display name (defaults to the username).
    pub display_name: Option<String>,
    /// Role (the first member owns the server unless another member is named owner).
    pub role: Option<Role>,
    /// Online status (default online).
    pub status: Option<UserStatus>,
}

/// One robot of a world-file server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RobotEntry {
    /// Robot name.
    pub name: String,
    /// `webhook`, `sse` or `longpoll` (default `longpoll`).
    pub transport: Option<TransportKind>,
    /// Delivery URL, required for webhook robots.
    pub webhook_url: Option<String>,
    /// Granted permissions (default: Lag's six, [`Permission::LAG`]; `manage_messages`, an
    /// emulator extension, only when listed).
    pub permissions: Option<Vec<Permission>>,
    /// Subscribed event types (default: all).
    pub subscriptions: Option<Vec<EventType>>,
    /// A fixed API key, so the robot's configuration survives restarts.
    pub key: Option<String>,
    /// A fixed webhook signing secret.
    pub secret: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
}

impl WorldFile {
    /// Parses a world file from TOML text.
    pub fn parse(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::bad_request(format!("invalid world file: {e}")))
    }

    /// Reads and parses a world file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::bad_request(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text)
            .map_err(|e| Error::bad_request(format!("{}: {}", path.display(), e.message())))
    }
}
