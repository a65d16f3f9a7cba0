//! Builders and results for configuring robots and worlds from Rust.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::wire::{EventType, Permission};

/// How a robot receives its events.
///
/// ```
/// use lag_sim::Transport;
/// let hook = Transport::Webhook { url: "http://127.0.0.1:3000/lag".into() };
/// assert_eq!(hook.kind().as_str(), "webhook");
/// assert_eq!(Transport::LongPoll.kind().as_str(), "longpoll");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// Lag POSTs each event to `url`, signed, with retries.
    Webhook {
        /// Where to deliver (`http` or `https`).
        url: String,
    },
    /// The robot holds `GET /robots/@me/events/sse` open.
    Sse,
    /// The robot calls `GET /robots/@me/events/poll` in a loop.
    LongPoll,
}

impl Transport {
    /// The transport's kind, without its settings.
    pub fn kind(&self) -> TransportKind {
        match self {
            Transport::Webhook { .. } => TransportKind::Webhook,
            Transport::Sse => TransportKind::Sse,
            Transport::LongPoll => TransportKind::LongPoll,
        }
    }

    /// The webhook URL, for webhook robots.
    pub fn webhook_url(&self) -> Option<&str> {
        match self {
            Transport::Webhook { url } => Some(url),
            _ => None,
        }
    }

    /// Builds a transport from its wire name (`webhook`, `sse`, `longpoll`) and a webhook URL.
    pub fn from_parts(kind: TransportKind, webhook_url: Option<String>) -> Result<Self> {
        match kind {
            TransportKind::Webhook => match webhook_url {
                Some(url) => Ok(Transport::Webhook { url }),
                None => Err(Error::bad_request("a webhook robot needs a webhookUrl")),
            },
            TransportKind::Sse => Ok(Transport::Sse),
            TransportKind::LongPoll => Ok(Transport::LongPoll),
        }
    }
}

/// The kind of a [`Transport`], as spelled on the wire (`transportType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TransportKind {
    /// `webhook`
    #[serde(rename = "webhook")]
    Webhook,
    /// `sse`
    #[serde(rename = "sse")]
    Sse,
    /// `longpoll`
    #[serde(rename = "longpoll")]
    LongPoll,
}

impl TransportKind {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Webhook => "webhook",
            TransportKind::Sse => "sse",
            TransportKind::LongPoll => "longpoll",
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TransportKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "webhook" => Ok(TransportKind::Webhook),
            "sse" => Ok(TransportKind::Sse),
            "longpoll" => Ok(TransportKind::LongPoll),
            other => Err(Error::bad_request(format!(
                "unknown transport {other:?} (expected webhook, sse or longpoll)"
            ))),
        }
    }
}

/// Everything needed to create a robot.
///
/// Defaults: Lag's six permissions ([`Permission::LAG`], so not the `manage_messages`
/// extension), every event type subscribed, long-poll transport, a fresh
/// random key and webhook secret.
///
/// ```
/// use lag_sim::{EventType, Permission, RobotSpec, Transport};
/// let spec = RobotSpec::new("Helper")
///     .transport(Transport::Sse)
///     .permissions([Permission::ReadMessages, Permission::SendMessages])
///     .subscriptions([EventType::RoomMessage]);
/// assert_eq!(spec.name(), "Helper");
/// ```
#[derive(Debug, Clone)]
pub struct RobotSpec {
    pub(crate) name: String,
    pub(crate) avatar_url: Option<String>,
    pub(crate) permissions: BTreeSet<Permission>,
    pub(crate) subscriptions: BTreeSet<EventType>,
    pub(crate) transport: Transport,
    pub(crate) key: Option<String>,
    pub(crate) secret: Option<String>,
}

impl RobotSpec {
    /// A robot called `name` (1-32 characters, unique in its server) with the defaults.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            avatar_url: None,
            permissions: Permission::LAG.iter().copied().collect(),
            subscriptions: EventType::ALL.iter().copied().collect(),
            transport: Transport::LongPoll,
            key: None,
            secret: None,
        }
    }

    /// The robot's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Replaces the granted permissions.
    pub fn permissions(mut self, permissions: impl IntoIterator<Item = Permission>) -> Self {
        self.permissions = permissions.into_iter().collect();
        self
    }

    /// Replaces the subscribed event types.
    pub fn subscriptions(mut self, subscriptions: impl IntoIterator<Item = EventType>) -> Self {
        self.subscriptions = subscriptions.into_iter().collect();
        self
    }

    /// Sets how events are delivered.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Sets the avatar URL.
    pub fn avatar_url(mut self, url: impl Into<String>) -> Self {
        self.avatar_url = Some(url.into());
        self
    }

    /// Uses a fixed API key (`lag_robot_<prefix>_<secret>`) instead of a random one, so a robot's
    /// configuration survives emulator restarts.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Uses a fixed webhook signing secret (`whsec_<base64>`) instead of a random one.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }
}

/// What a newly created robot needs to connect: its id, key and signing secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobotCredentials {
    /// Robot id.
    pub id: String,
    /// Robot name.
    pub name: String,
    /// The robot's server.
    pub server_id: String,
    /// The API key, sent as `Authorization: Robot <key>`.
    pub key: String,
    /// Signing secrets (`whsec_...`) currently in use, newest first.
    pub secrets: Vec<String>,
}

impl RobotCredentials {
    /// The newest signing secret.
    pub fn secret(&self) -> &str {
        self.secrets.first().map(String::as_str).unwrap_or_default()
    }
}

/// A robot's full configuration, as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RobotDetails {
    /// Robot id.
    pub id: String,
    /// Robot name.
    pub name: String,
    /// The robot's server.
    pub server_id: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Granted permissions.
    pub permissions: Vec<Permission>,
    /// Subscribed event types.
    pub subscriptions: Vec<EventType>,
    /// `webhook`, `sse` or `longpoll`.
    pub transport_type: TransportKind,
    /// Delivery URL for webhook robots.
    pub webhook_url: Option<String>,
    /// False once disabled.
    pub active: bool,
    /// Creation time.
    pub created_at: String,
    /// The API key.
    pub key: String,
    /// Signing secrets currently in use, newest first.
    pub secrets: Vec<String>,
    /// Events queued and not yet handed to the robot (SSE and long-poll).
    pub pending_events: usize,
}

/// Changes to a robot; `None` leaves a field as it is.
///
/// ```
/// use lag_sim::{Permission, RobotUpdate};
/// let update = RobotUpdate { permissions: Some(vec![Permission::ReadMessages]), ..RobotUpdate::default() };
/// assert!(update.transport.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct RobotUpdate {
    /// New name.
    pub name: Option<String>,
    /// New permissions.
    pub permissions: Option<Vec<Permission>>,
    /// New subscriptions.
    pub subscriptions: Option<Vec<EventType>>,
    /// New transport.
    pub transport: Option<Transport>,
    /// Enable or disable the robot.
    pub active: Option<bool>,
    /// New avatar URL (`Some(None)` clears it).
    pub avatar_url: Option<Option<String>>,
}

/// Changes to a server's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServerUpdate {
    /// New name.
    pub name: Option<String>,
    /// New icon URL (`Some(None)` clears it).
    pub icon_url: Option<Option<String>>,
    /// New icon emoji (`Some(None)` clears it).
    pub icon_emoji: Option<Option<String>>,
}

/// How the demo robot "Helper" receives its events: Server-Sent Events.
///
/// This is the one place that decides it, for [`Sim::seed_demo`](crate::Sim::seed_demo), the
/// admin API's `POST /_sim/demo` without a `transportType`, and the `lag-sim` program's
/// `--transport` default. SSE is what a robot framework picks when it is given only a key and a
/// base URL (as `lag-bot` does with no `LAG_TRANSPORT`), so such a robot connects to the demo
/// robot at once; and unlike webhooks it needs no address the emulator can reach.
///
/// ```
/// use lag_sim::{DEMO_TRANSPORT, TransportKind};
/// assert_eq!(DEMO_TRANSPORT.kind(), TransportKind::Sse);
/// ```
pub const DEMO_TRANSPORT: Transport = Transport::Sse;

/// The ids of the demo world made by [`Sim::seed_demo`](crate::Sim::seed_demo).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Demo {
    /// The demo server.
    pub server_id: String,
    /// Room `general`.
    pub general: String,
    /// Room `welcome`.
    pub welcome: String,
    /// Room `mod-log`.
    pub mod_log: String,
    /// Member `alice`, the server owner.
    pub alice: String,
    /// Member `bob`, an admin.
    pub bob: String,
    /// Member `carol`.
    pub carol: String,
    /// The robot `Helper`.
    pub robot: RobotCredentials,
}
