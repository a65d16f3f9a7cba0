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
//! permissions = ["read_messages", "send_messages"]   # default: all six
//! subscriptions = ["room.message", "member.join"]    # default: every event type
//! key = "lag_robot_0123abcd_0123456789abcdefghijklmnopqrstuv"  # optional fixed key
//! secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"             # optional fixed secret
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::shared::Shared;
use crate::spec::{RobotDetails, RobotSpec, Transport, TransportKind};
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
    /// Granted permissions (default: all six).
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

/// Creates everything a world file describes; returns the robots created.
pub(crate) fn apply(
    shared: &std::sync::Arc<Shared>,
    file: &WorldFile,
) -> Result<Vec<RobotDetails>> {
    let mut robots = Vec::new();
    for server in &file.servers {
        let context = |e: Error| {
            Error::new(
                e.kind().clone(),
                format!("server {:?}: {}", server.name, e.message()),
            )
        };
        let server_id = {
            let mut world = shared.world.lock();
            let server_id = world.create_server(&server.name).map_err(context)?.id;
            let mut ids = Vec::with_capacity(server.members.len());
            for member in &server.members {
                let user_id = world
                    .add_member(&server_id, &member.username, member.display_name.as_deref())
                    .map_err(context)?
                    .user_id;
                if let Some(status) = member.status {
                    world.set_status(&user_id, status).map_err(context)?;
                }
                ids.push(user_id);
            }
            let roles: Vec<(&String, Role)> = ids
                .iter()
                .zip(&server.members)
                .filter_map(|(id, m)| m.role.map(|role| (id, role)))
                .collect();
            for (user_id, _) in roles.iter().filter(|(_, role)| *role == Role::Owner) {
                world
                    .set_role(&server_id, user_id, Role::Owner)
                    .map_err(context)?;
            }
            for (user_id, role) in roles.iter().filter(|(_, role)| *role != Role::Owner) {
                world
                    .set_role(&server_id, user_id, *role)
                    .map_err(context)?;
            }
            for room in &server.rooms {
                world.create_room(&server_id, room, None).map_err(context)?;
            }
            server_id
        };
        for robot in &server.robots {
            let robot_context = |e: Error| {
                Error::new(
                    e.kind().clone(),
                    format!(
                        "server {:?}, robot {:?}: {}",
                        server.name,
                        robot.name,
                        e.message()
                    ),
                )
            };
            let mut spec = RobotSpec::new(&robot.name);
            let kind = robot.transport.unwrap_or(if robot.webhook_url.is_some() {
                TransportKind::Webhook
            } else {
                TransportKind::LongPoll
            });
            spec = spec.transport(
                Transport::from_parts(kind, robot.webhook_url.clone()).map_err(robot_context)?,
            );
            if let Some(permissions) = &robot.permissions {
                spec = spec.permissions(permissions.iter().copied());
            }
            if let Some(subscriptions) = &robot.subscriptions {
                spec = spec.subscriptions(subscriptions.iter().copied());
            }
            if let Some(key) = &robot.key {
                spec = spec.key(key);
            }
            if let Some(secret) = &robot.secret {
                spec = spec.secret(secret);
            }
            if let Some(url) = &robot.avatar_url {
                spec = spec.avatar_url(url);
            }
            let credentials = shared
                .create_robot(&server_id, spec)
                .map_err(robot_context)?;
            robots.push(shared.world.lock().robot_details(&credentials.id)?);
        }
    }
    Ok(robots)
}
