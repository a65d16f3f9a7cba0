//! The world: servers, members, rooms, messages, robots and their event queues.
//!
//! Everything here is synchronous and runs under the one world lock; nothing awaits. Delivery
//! tasks and HTTP handlers take the lock for short critical sections only.
//!
//! This file holds the state; each child module adds one group of [`World`]'s methods: lookups
//! and views, the event queue, the robot API, messages, member actions, world building, robots.

mod building;
mod events;
mod lookups;
mod members;
mod messages;
mod robot_api;
mod robots;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, watch};

use crate::clock::Clock;
use crate::config::SimConfig;
use crate::error::{Error, Result};
use crate::event::EventRecord;
use crate::feed::{FEED_CAPACITY, WorldEvent};
use crate::limiter::Limiter;
use crate::log::DeliveryRecord;
use crate::spec::{RobotCredentials, RobotDetails, Transport};
use crate::wire::{EventType, Permission, RobotInfo, Role, RoomMessage, UserStatus};

/// Lag's limit on active robots per server.
pub(crate) const MAX_ACTIVE_ROBOTS: usize = 10;
/// Message content limits, in characters.
pub(crate) const MAX_CONTENT_CHARS: usize = 2000;
const MAX_NAME_CHARS: usize = 32;
const MAX_ROOM_NAME_CHARS: usize = 100;
const MAX_SERVER_NAME_CHARS: usize = 100;

/// The settings the world needs from [`SimConfig`], resolved once.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) config: SimConfig,
    pub(crate) clock: Clock,
}

#[derive(Debug)]
struct User {
    id: String,
    username: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    status: UserStatus,
}

#[derive(Debug)]
struct Membership {
    user_id: String,
    role: Role,
    joined_at: String,
}

#[derive(Debug)]
struct ServerState {
    id: String,
    name: String,
    icon_url: Option<String>,
    icon_emoji: Option<String>,
    owner_id: Option<String>,
    created_at: String,
    members: Vec<Membership>,
    rooms: Vec<String>,
    robots: Vec<String>,
}

#[derive(Debug)]
struct VoiceSeat {
    user_id: String,
    joined_at: String,
    since: Instant,
}

#[derive(Debug)]
struct StoredMessage {
    message: RoomMessage,
    created_ms: i64,
}

#[derive(Debug)]
struct RoomState {
    id: String,
    server_id: String,
    name: String,
    created_by: String,
    created_at: String,
    voice: Vec<VoiceSeat>,
    /// Oldest first.
    messages: Vec<StoredMessage>,
}

#[derive(Debug)]
struct Secret {
    text: String,
    key: Vec<u8>,
    expires: Option<Instant>,
}

/// A robot and its delivery state.
#[derive(Debug)]
pub(crate) struct RobotState {
    pub(crate) id: String,
    pub(crate) name: String,
    server_id: String,
    avatar_url: Option<String>,
    key: String,
    permissions: BTreeSet<Permission>,
    subscriptions: BTreeSet<EventType>,
    pub(crate) transport: Transport,
    secrets: Vec<Secret>,
    pub(crate) active: bool,
    created_at: String,
    /// Bumped whenever scheduled webhook retries must stop (disable, transport change).
    pub(crate) epoch: u64,
    /// Retained events, oldest first.
    outbox: VecDeque<Arc<EventRecord>>,
    /// Highest event sequence number already handed to the robot.
    handed_out: u64,
    notify: watch::Sender<u64>,
    webhook: mpsc::UnboundedSender<(Arc<EventRecord>, u64)>,
    limiter: Limiter,
    log: VecDeque<DeliveryRecord>,
    /// The world's feed of delivery-log entries, for the playground's live inspector.
    log_feed: broadcast::Sender<Arc<DeliveryRecord>>,
}

impl RobotState {
    fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether this robot gets events of `kind` that need the `needed` permission.
    fn receives(&self, kind: EventType, needed: Option<Permission>) -> bool {
        self.active && self.subscriptions.contains(&kind) && needed.is_none_or(|p| self.has(p))
    }

    /// The webhook URL and current signing keys, if this robot should receive webhooks now.
    pub(crate) fn webhook_target(&self, now: Instant) -> Option<(String, Vec<Vec<u8>>)> {
        match &self.transport {
            Transport::Webhook { url } if self.active => Some((
                url.clone(),
                self.live_secrets(now).map(|s| s.key.clone()).collect(),
            )),
            _ => None,
        }
    }

    fn live_secrets(&self, now: Instant) -> impl Iterator<Item = &Secret> {
        self.secrets
            .iter()
            .filter(move |s| s.expires.is_none_or(|at| at > now))
    }

    fn credentials(&self, now: Instant) -> RobotCredentials {
        RobotCredentials {
            id: self.id.clone(),
            name: self.name.clone(),
            server_id: self.server_id.clone(),
            key: self.key.clone(),
            secrets: self.live_secrets(now).map(|s| s.text.clone()).collect(),
        }
    }

    pub(crate) fn info(&self) -> RobotInfo {
        RobotInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            server_id: self.server_id.clone(),
            avatar_url: self.avatar_url.clone(),
            permissions: self.permissions.iter().copied().collect(),
            active: self.active,
            created_at: self.created_at.clone(),
        }
    }

    fn details(&self, now: Instant) -> RobotDetails {
        RobotDetails {
            id: self.id.clone(),
            name: self.name.clone(),
            server_id: self.server_id.clone(),
            avatar_url: self.avatar_url.clone(),
            permissions: self.permissions.iter().copied().collect(),
            subscriptions: self.subscriptions.iter().copied().collect(),
            transport_type: self.transport.kind(),
            webhook_url: self.transport.webhook_url().map(str::to_owned),
            active: self.active,
            created_at: self.created_at.clone(),
            key: self.key.clone(),
            secrets: self.live_secrets(now).map(|s| s.text.clone()).collect(),
            pending_events: self.pending().count(),
        }
    }

    fn pending(&self) -> impl Iterator<Item = &Arc<EventRecord>> {
        let handed_out = self.handed_out;
        self.outbox.iter().filter(move |e| e.seq > handed_out)
    }

    pub(crate) fn push_log(&mut self, mut record: DeliveryRecord, max: usize) {
        record.robot_id.clone_from(&self.id);
        if self.log_feed.receiver_count() > 0 {
            let _ = self.log_feed.send(Arc::new(record.clone()));
        }
        self.log.push_back(record);
        while self.log.len() > max.max(1) {
            self.log.pop_front();
        }
    }
}

/// The whole emulated Lag.
#[derive(Debug)]
pub(crate) struct World {
    settings: Settings,
    servers: HashMap<String, ServerState>,
    server_order: Vec<String>,
    users: HashMap<String, User>,
    rooms: HashMap<String, RoomState>,
    robots: HashMap<String, RobotState>,
    keys: HashMap<String, String>,
    last_ulid: ulid::Ulid,
    next_seq: u64,
    last_message_ms: i64,
    /// Every event, for [`EventFeed`](crate::feed::EventFeed)s.
    feed: broadcast::Sender<Arc<WorldEvent>>,
    /// Every delivery-log entry of every robot, as it is written.
    log_feed: broadcast::Sender<Arc<DeliveryRecord>>,
}

impl World {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            servers: HashMap::new(),
            server_order: Vec::new(),
            users: HashMap::new(),
            rooms: HashMap::new(),
            robots: HashMap::new(),
            keys: HashMap::new(),
            last_ulid: ulid::Ulid::nil(),
            next_seq: 1,
            last_message_ms: 0,
            feed: broadcast::Sender::new(FEED_CAPACITY),
            log_feed: broadcast::Sender::new(FEED_CAPACITY),
        }
    }

    /// A fresh ULID, strictly greater than every previous one so ids sort in creation order.
    pub(super) fn ulid(&mut self) -> ulid::Ulid {
        let fresh = ulid::Ulid::new();
        let next = if fresh > self.last_ulid {
            fresh
        } else {
            self.last_ulid.increment().unwrap_or(fresh)
        };
        self.last_ulid = next;
        next
    }

    pub(super) fn new_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", self.ulid().to_string().to_ascii_lowercase())
    }
}

/// A 400 unless `text` has 1 to `max` characters.
fn check_length(what: &str, text: &str, max: usize) -> Result<()> {
    let chars = text.chars().count();
    if chars == 0 || chars > max {
        return Err(Error::bad_request(format!(
            "{what} must be 1-{max} characters"
        )));
    }
    Ok(())
}
