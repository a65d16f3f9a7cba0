//! The world: servers, members, rooms, messages, robots and their event queues.
//!
//! Everything here is synchronous and runs under the one world lock; nothing awaits. Delivery
//! tasks and HTTP handlers take the lock for short critical sections only.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::clock::{self, Clock};
use crate::config::SimConfig;
use crate::error::{Error, Result};
use crate::event::EventRecord;
use crate::limiter::Limiter;
use crate::log::{DeliveryOutcome, DeliveryRecord};
use crate::spec::{
    RobotCredentials, RobotDetails, RobotSpec, RobotUpdate, ServerUpdate, Transport, TransportKind,
};
use crate::wire::{
    EventBody, EventType, Mention, MentionType, Participant, Permission, ReplyTo, Role, Room,
    RoomMessage, Server, ServerMember, UserStatus,
};

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
}

impl RobotState {
    fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
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

    pub(crate) fn info(&self) -> crate::wire::RobotInfo {
        crate::wire::RobotInfo {
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

    pub(crate) fn push_log(&mut self, record: DeliveryRecord, max: usize) {
        self.log.push_back(record);
        while self.log.len() > max.max(1) {
            self.log.pop_front();
        }
    }
}

/// Who writes a message.
#[derive(Debug, Clone, Copy)]
enum Author<'a> {
    User(&'a str),
    Robot(&'a str),
}

/// What an SSE connection gets when it (re)connects.
#[derive(Debug)]
pub(crate) struct SseStart {
    pub(crate) backlog: Vec<Arc<EventRecord>>,
    pub(crate) cursor: u64,
    pub(crate) notify: watch::Receiver<u64>,
}

/// A robot freshly created, with the receiving end of its webhook queue for the delivery task.
pub(crate) struct NewRobot {
    pub(crate) credentials: RobotCredentials,
    pub(crate) webhook_rx: mpsc::UnboundedReceiver<(Arc<EventRecord>, u64)>,
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
        }
    }

    /// A fresh ULID, strictly greater than every previous one so ids sort in creation order.
    fn ulid(&mut self) -> ulid::Ulid {
        let fresh = ulid::Ulid::new();
        let next = if fresh > self.last_ulid {
            fresh
        } else {
            self.last_ulid.increment().unwrap_or(fresh)
        };
        self.last_ulid = next;
        next
    }

    fn new_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", self.ulid().to_string().to_ascii_lowercase())
    }

    // ----- lookups -------------------------------------------------------------------------

    fn server(&self, id: &str) -> Result<&ServerState> {
        self.servers
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown server {id}")))
    }

    fn server_mut(&mut self, id: &str) -> Result<&mut ServerState> {
        self.servers
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("unknown server {id}")))
    }

    fn user(&self, id: &str) -> Result<&User> {
        self.users
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown user {id}")))
    }

    fn room(&self, id: &str) -> Result<&RoomState> {
        self.rooms
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown room {id}")))
    }

    pub(crate) fn robot(&self, id: &str) -> Result<&RobotState> {
        self.robots
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown robot {id}")))
    }

    pub(crate) fn robot_mut(&mut self, id: &str) -> Result<&mut RobotState> {
        self.robots
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("unknown robot {id}")))
    }

    fn membership(&self, server_id: &str, user_id: &str) -> Result<&Membership> {
        self.server(server_id)?
            .members
            .iter()
            .find(|m| m.user_id == user_id)
            .ok_or_else(|| {
                Error::forbidden(format!(
                    "user {user_id} is not a member of server {server_id}"
                ))
            })
    }

    fn member_view(&self, membership: &Membership) -> Option<ServerMember> {
        let user = self.users.get(&membership.user_id)?;
        Some(ServerMember {
            user_id: user.id.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
            role: membership.role,
            role_id: None,
            status: user.status,
            joined_at: membership.joined_at.clone(),
        })
    }

    fn room_view(&self, room: &RoomState) -> Room {
        Room {
            id: room.id.clone(),
            server_id: room.server_id.clone(),
            name: Some(room.name.clone()),
            created_by: room.created_by.clone(),
            max_participants: None,
            participants: room
                .voice
                .iter()
                .filter_map(|seat| {
                    let user = self.users.get(&seat.user_id)?;
                    Some(Participant {
                        user_id: user.id.clone(),
                        username: user.username.clone(),
                        display_name: user.display_name.clone(),
                        avatar_url: user.avatar_url.clone(),
                        is_muted: false,
                        is_deafened: false,
                        is_speaking: false,
                        joined_at: seat.joined_at.clone(),
                    })
                })
                .collect(),
            created_at: room.created_at.clone(),
        }
    }

    fn server_view(&self, server: &ServerState) -> Server {
        Server {
            id: server.id.clone(),
            name: server.name.clone(),
            icon_url: server.icon_url.clone(),
            icon_emoji: server.icon_emoji.clone(),
            owner_id: server.owner_id.clone(),
            member_count: server.members.len(),
            created_at: server.created_at.clone(),
        }
    }

    // ----- events --------------------------------------------------------------------------

    fn record(&mut self, server_id: &str, kind: EventType, data: Value) -> Arc<EventRecord> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = self.ulid().to_string();
        let now = clock::now_iso();
        let body = EventBody {
            kind: kind.as_str().to_owned(),
            server_id: server_id.to_owned(),
            timestamp: now.clone(),
            data,
        };
        let json = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        Arc::new(EventRecord {
            seq,
            id,
            kind,
            body,
            json,
            created_at: now,
            queued: Instant::now(),
        })
    }

    /// Queues an event for every robot of the server that subscribed to it and may see it.
    fn emit(&mut self, server_id: &str, kind: EventType, data: Value) {
        let Some(server) = self.servers.get(server_id) else {
            return;
        };
        let needed = self
            .settings
            .config
            .event_permissions
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.required_permission());
        let recipients: Vec<String> = server
            .robots
            .iter()
            .filter(|id| {
                self.robots.get(*id).is_some_and(|robot| {
                    robot.active
                        && robot.subscriptions.contains(&kind)
                        && needed.is_none_or(|p| robot.has(p))
                })
            })
            .cloned()
            .collect();
        if recipients.is_empty() {
            return;
        }
        let record = self.record(server_id, kind, data);
        for robot_id in recipients {
            self.enqueue(&robot_id, Arc::clone(&record));
        }
    }

    /// Sends `robot.mentioned` to one robot; without `read_messages` its content is blanked.
    fn emit_mention(&mut self, robot_id: &str, data: &Value) {
        let Some(robot) = self.robots.get(robot_id) else {
            return;
        };
        let needed = self
            .settings
            .config
            .event_permissions
            .get(&EventType::RobotMentioned)
            .copied()
            .flatten();
        if !robot.active
            || !robot.subscriptions.contains(&EventType::RobotMentioned)
            || needed.is_some_and(|p| !robot.has(p))
        {
            return;
        }
        let mut data = data.clone();
        if !robot.has(Permission::ReadMessages) {
            data["content"] = Value::String(String::new());
        }
        let server_id = robot.server_id.clone();
        let record = self.record(&server_id, EventType::RobotMentioned, data);
        self.enqueue(robot_id, record);
    }

    fn enqueue(&mut self, robot_id: &str, record: Arc<EventRecord>) {
        let retention = self.settings.clock.real(self.settings.config.retention);
        let max_events = self.settings.config.max_retained_events.max(1);
        let max_log = self.settings.config.max_delivery_log;
        let Some(robot) = self.robots.get_mut(robot_id) else {
            return;
        };
        let now = Instant::now();
        robot.outbox.push_back(Arc::clone(&record));
        while let Some(front) = robot.outbox.front() {
            let too_many = robot.outbox.len() > max_events;
            let too_old = now.duration_since(front.queued) > retention;
            if !too_many && !too_old {
                break;
            }
            let Some(dropped) = robot.outbox.pop_front() else {
                break;
            };
            if dropped.seq > robot.handed_out {
                tracing::warn!(robot = %robot.id, event = %dropped.id, "event expired before delivery");
                let mut entry = DeliveryRecord::new(
                    &dropped,
                    robot.transport.kind(),
                    1,
                    DeliveryOutcome::Expired,
                );
                entry.error = Some("retention exceeded before the robot fetched it".to_owned());
                robot.push_log(entry, max_log);
                robot.handed_out = robot.handed_out.max(dropped.seq);
            }
        }
        if matches!(robot.transport, Transport::Webhook { .. }) {
            robot.handed_out = record.seq;
            let _ = robot.webhook.send((Arc::clone(&record), robot.epoch));
        }
        robot.notify.send_replace(record.seq);
    }

    fn log_handout(&mut self, robot_id: &str, records: &[Arc<EventRecord>], previous: u64) {
        let max_log = self.settings.config.max_delivery_log;
        let Some(robot) = self.robots.get_mut(robot_id) else {
            return;
        };
        let now = Instant::now();
        let transport = robot.transport.kind();
        for record in records {
            let outcome = if record.seq <= previous {
                DeliveryOutcome::Replayed
            } else {
                DeliveryOutcome::Delivered
            };
            let mut entry = DeliveryRecord::new(record, transport, 1, outcome);
            entry.latency_ms = Some(clock::millis(now.duration_since(record.queued)));
            robot.push_log(entry, max_log);
        }
    }

    /// Hands up to `max` queued events to a long-poll request.
    pub(crate) fn take_pending(&mut self, robot_id: &str, max: usize) -> Vec<Arc<EventRecord>> {
        let Some(robot) = self.robots.get_mut(robot_id) else {
            return Vec::new();
        };
        let taken: Vec<_> = robot.pending().take(max).cloned().collect();
        let previous = robot.handed_out;
        if let Some(last) = taken.last() {
            robot.handed_out = last.seq;
        }
        self.log_handout(robot_id, &taken, previous);
        taken
    }

    /// Subscribes to new events for a robot's long-poll or SSE stream.
    pub(crate) fn watch(&self, robot_id: &str) -> Result<watch::Receiver<u64>> {
        Ok(self.robot(robot_id)?.notify.subscribe())
    }

    /// Starts an SSE connection: the replay after `last_event_id`, or everything not yet handed out.
    pub(crate) fn sse_start(
        &mut self,
        robot_id: &str,
        last_event_id: Option<&str>,
    ) -> Result<SseStart> {
        let robot = self.robot_mut(robot_id)?;
        let mut notify = robot.notify.subscribe();
        notify.borrow_and_update();
        let backlog: Vec<_> = match last_event_id {
            Some(last) => robot
                .outbox
                .iter()
                .filter(|e| e.id.as_str() > last)
                .cloned()
                .collect(),
            None => robot.pending().cloned().collect(),
        };
        let previous = robot.handed_out;
        let cursor = backlog
            .last()
            .map_or_else(|| robot.outbox.back().map_or(0, |e| e.seq), |e| e.seq)
            .max(previous);
        robot.handed_out = robot.handed_out.max(cursor);
        self.log_handout(robot_id, &backlog, previous);
        Ok(SseStart {
            backlog,
            cursor,
            notify,
        })
    }

    /// Events after `cursor` for a live SSE connection; `None` once the robot is gone or disabled.
    pub(crate) fn sse_next(
        &mut self,
        robot_id: &str,
        cursor: u64,
    ) -> Option<Vec<Arc<EventRecord>>> {
        let robot = self.robots.get_mut(robot_id)?;
        if !robot.active || robot.transport.kind() != TransportKind::Sse {
            return None;
        }
        let fresh: Vec<_> = robot
            .outbox
            .iter()
            .filter(|e| e.seq > cursor)
            .cloned()
            .collect();
        let previous = robot.handed_out;
        if let Some(last) = fresh.last() {
            robot.handed_out = robot.handed_out.max(last.seq);
        }
        self.log_handout(robot_id, &fresh, previous);
        Some(fresh)
    }

    // ----- robot API -----------------------------------------------------------------------

    /// Resolves an API key to an active robot, checking the rate limits.
    pub(crate) fn authenticate(&mut self, key: &str, is_message: bool) -> Result<String> {
        let robot_id = self
            .keys
            .get(key)
            .cloned()
            .ok_or_else(|| Error::unauthorized("invalid API key"))?;
        let robot = self.robot_mut(&robot_id)?;
        if !robot.active {
            return Err(Error::forbidden("this robot is disabled"));
        }
        robot.limiter.hit(Instant::now(), is_message).map_err(|wait| {
            Error::new(
                crate::error::ErrorKind::RateLimited { retry_after: wait },
                if is_message {
                    "rate limit exceeded: at most 10 messages per 10 seconds and 100 requests per minute"
                } else {
                    "rate limit exceeded: at most 100 requests per minute"
                },
            )
        })?;
        Ok(robot_id)
    }

    pub(crate) fn robot_info(&self, robot_id: &str) -> Result<crate::wire::RobotInfo> {
        Ok(self.robot(robot_id)?.info())
    }

    /// The checks every server-scoped robot endpoint shares: own server, permission, room.
    fn robot_scope(
        &self,
        robot_id: &str,
        server_id: &str,
        permission: Permission,
        room_id: Option<&str>,
    ) -> Result<&RobotState> {
        let robot = self.robot(robot_id)?;
        if robot.server_id != server_id {
            return Err(Error::forbidden(format!(
                "this robot belongs to server {}, not {server_id}",
                robot.server_id
            )));
        }
        if !robot.has(permission) {
            return Err(Error::forbidden(format!(
                "this robot lacks the {permission} permission"
            )));
        }
        if let Some(room_id) = room_id {
            match self.rooms.get(room_id) {
                Some(room) if room.server_id == server_id => {}
                _ => return Err(Error::not_found(format!("unknown room {room_id}"))),
            }
        }
        Ok(robot)
    }

    pub(crate) fn robot_send(
        &mut self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<RoomMessage> {
        self.robot_scope(robot_id, server_id, Permission::SendMessages, Some(room_id))?;
        self.create_message(Author::Robot(robot_id), room_id, content, reply_to)
    }

    pub(crate) fn robot_scope_check(
        &self,
        robot_id: &str,
        server_id: &str,
        permission: Permission,
        room_id: Option<&str>,
    ) -> Result<()> {
        self.robot_scope(robot_id, server_id, permission, room_id)
            .map(|_| ())
    }

    pub(crate) fn robot_edit(
        &mut self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        self.robot_scope(robot_id, server_id, Permission::SendMessages, Some(room_id))?;
        self.edit_message(Author::Robot(robot_id), room_id, message_id, content)
    }

    pub(crate) fn robot_delete(
        &mut self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        message_id: &str,
    ) -> Result<()> {
        self.robot_scope(robot_id, server_id, Permission::SendMessages, Some(room_id))?;
        self.delete_message(Author::Robot(robot_id), room_id, message_id)
    }

    pub(crate) fn robot_history(
        &self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        limit: usize,
        cursor_ms: Option<i64>,
    ) -> Result<crate::wire::HistoryPage> {
        self.robot_scope(robot_id, server_id, Permission::ReadMessages, Some(room_id))?;
        let room = self.room(room_id)?;
        let mut older = room
            .messages
            .iter()
            .rev()
            .filter(|m| cursor_ms.is_none_or(|cursor| m.created_ms < cursor));
        let messages: Vec<RoomMessage> = older
            .by_ref()
            .take(limit)
            .map(|m| m.message.clone())
            .collect();
        let has_more = older.next().is_some();
        let next_cursor = if has_more {
            messages.last().map(|m| m.created_at.clone())
        } else {
            None
        };
        Ok(crate::wire::HistoryPage {
            messages,
            has_more,
            next_cursor,
        })
    }

    pub(crate) fn robot_rooms(&self, robot_id: &str, server_id: &str) -> Result<Vec<Room>> {
        self.robot_scope(robot_id, server_id, Permission::ReadRooms, None)?;
        Ok(self.rooms_of(server_id))
    }

    pub(crate) fn robot_members(
        &self,
        robot_id: &str,
        server_id: &str,
    ) -> Result<Vec<ServerMember>> {
        self.robot_scope(robot_id, server_id, Permission::ReadMembers, None)?;
        self.members(server_id)
    }

    // ----- messages ------------------------------------------------------------------------

    fn validate_content(content: &str) -> Result<()> {
        let chars = content.chars().count();
        if chars == 0 {
            return Err(Error::bad_request("content must not be empty"));
        }
        if chars > MAX_CONTENT_CHARS {
            return Err(Error::bad_request(format!(
                "content must be at most {MAX_CONTENT_CHARS} characters (got {chars})"
            )));
        }
        Ok(())
    }

    fn create_message(
        &mut self,
        author: Author<'_>,
        room_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<RoomMessage> {
        Self::validate_content(content)?;
        let room = self.room(room_id)?;
        let server_id = room.server_id.clone();
        let reply = match reply_to {
            Some(reply_id) => {
                let quoted = room
                    .messages
                    .iter()
                    .find(|m| m.message.id == reply_id)
                    .ok_or_else(|| {
                        Error::not_found(format!("unknown message {reply_id} in room {room_id}"))
                    })?;
                Some(ReplyTo {
                    id: quoted.message.id.clone(),
                    user_id: quoted.message.user_id.clone().unwrap_or_default(),
                    username: quoted.message.username.clone(),
                    display_name: quoted.message.display_name.clone(),
                    content: quoted.message.content.clone(),
                    robot_id: quoted.message.robot_id.clone(),
                    robot_name: quoted.message.robot_name.clone(),
                    is_bot: quoted.message.is_bot,
                })
            }
            None => None,
        };
        let mentions = self.find_mentions(&server_id, content);
        let created_ms = clock::now_millis().max(self.last_message_ms + 1);
        self.last_message_ms = created_ms;
        let created_at = clock::format_millis(created_ms);
        let id = self.new_id("msg");
        let message = match author {
            Author::User(user_id) => {
                let user = self.user(user_id)?;
                RoomMessage {
                    id,
                    room_id: room_id.to_owned(),
                    user_id: Some(user.id.clone()),
                    username: user.username.clone(),
                    display_name: user.display_name.clone(),
                    avatar_url: user.avatar_url.clone(),
                    content: content.to_owned(),
                    created_at,
                    edited_at: None,
                    robot_id: None,
                    robot_name: None,
                    robot_avatar_url: None,
                    is_bot: false,
                    guest_id: None,
                    guest_display_name: None,
                    is_guest: false,
                    reply_to: reply,
                    mentions,
                    image: None,
                }
            }
            Author::Robot(robot_id) => {
                let robot = self.robot(robot_id)?;
                RoomMessage {
                    id,
                    room_id: room_id.to_owned(),
                    user_id: None,
                    username: robot.name.clone(),
                    display_name: Some(robot.name.clone()),
                    avatar_url: robot.avatar_url.clone(),
                    content: content.to_owned(),
                    created_at,
                    edited_at: None,
                    robot_id: Some(robot.id.clone()),
                    robot_name: Some(robot.name.clone()),
                    robot_avatar_url: robot.avatar_url.clone(),
                    is_bot: true,
                    guest_id: None,
                    guest_display_name: None,
                    is_guest: false,
                    reply_to: reply,
                    mentions,
                    image: None,
                }
            }
        };
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.messages.push(StoredMessage {
                message: message.clone(),
                created_ms,
            });
        }
        let data = json!({
            "roomId": message.room_id,
            "messageId": message.id,
            "senderId": message.user_id.clone().or_else(|| message.robot_id.clone()),
            "senderName": message.username,
            "content": message.content,
            "createdAt": message.created_at,
            "isBot": message.is_bot,
            "robotId": message.robot_id,
            "mentions": message.mentions,
            "replyToId": message.reply_to.as_ref().map(|r| r.id.clone()),
        });
        self.emit(&server_id, EventType::RoomMessage, data.clone());
        let mut mentioned = BTreeSet::new();
        for mention in &message.mentions {
            if mention.kind == MentionType::Robot && mentioned.insert(mention.id.clone()) {
                self.emit_mention(&mention.id, &data);
            }
        }
        Ok(message)
    }

    /// Finds `@name` mentions of the server's robots and members, case-insensitively, longest
    /// name first, each reported once in order of first appearance.
    fn find_mentions(&self, server_id: &str, content: &str) -> Vec<Mention> {
        let Some(server) = self.servers.get(server_id) else {
            return Vec::new();
        };
        let mut candidates: Vec<(MentionType, &str, &str)> = server
            .robots
            .iter()
            .filter_map(|id| self.robots.get(id))
            .map(|r| (MentionType::Robot, r.id.as_str(), r.name.as_str()))
            .chain(server.members.iter().filter_map(|m| {
                self.users
                    .get(&m.user_id)
                    .map(|u| (MentionType::User, u.id.as_str(), u.username.as_str()))
            }))
            .collect();
        candidates.sort_by_key(|(kind, _, name)| {
            (
                std::cmp::Reverse(name.chars().count()),
                *kind != MentionType::Robot,
            )
        });
        let mut found: Vec<Mention> = Vec::new();
        let mut previous: Option<char> = None;
        for (at, c) in content.char_indices() {
            let starts = c == '@' && previous.is_none_or(|p| !is_word_char(p));
            previous = Some(c);
            if !starts {
                continue;
            }
            let rest = &content[at + 1..];
            let hit = candidates.iter().find(|(_, _, name)| {
                prefix_len_ci(rest, name)
                    .is_some_and(|len| rest[len..].chars().next().is_none_or(|n| !is_word_char(n)))
            });
            if let Some((kind, id, name)) = hit
                && !found.iter().any(|m| m.id == *id)
            {
                found.push(Mention {
                    kind: *kind,
                    id: (*id).to_owned(),
                    name: (*name).to_owned(),
                });
            }
        }
        found
    }

    fn find_message(&self, room_id: &str, message_id: &str) -> Result<&StoredMessage> {
        self.room(room_id)?
            .messages
            .iter()
            .find(|m| m.message.id == message_id)
            .ok_or_else(|| {
                Error::not_found(format!("unknown message {message_id} in room {room_id}"))
            })
    }

    fn may_modify(&self, author: Author<'_>, message: &RoomMessage, deleting: bool) -> Result<()> {
        let own = match author {
            Author::User(user_id) => message.user_id.as_deref() == Some(user_id),
            Author::Robot(robot_id) => message.robot_id.as_deref() == Some(robot_id),
        };
        if own {
            return Ok(());
        }
        if deleting && let Author::User(user_id) = author {
            let server_id = &self.room(&message.room_id)?.server_id;
            let role = self.membership(server_id, user_id)?.role;
            if matches!(role, Role::Owner | Role::Admin) {
                return Ok(());
            }
        }
        Err(Error::forbidden(format!(
            "message {} was written by someone else",
            message.id
        )))
    }

    fn edit_message(
        &mut self,
        author: Author<'_>,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        let stored = self.find_message(room_id, message_id)?;
        self.may_modify(author, &stored.message, false)?;
        Self::validate_content(content)?;
        let server_id = self.room(room_id)?.server_id.clone();
        let mentions = self.find_mentions(&server_id, content);
        let edited_at = clock::now_iso();
        let editor = match author {
            Author::User(id) | Author::Robot(id) => id.to_owned(),
        };
        let room = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| Error::not_found(format!("unknown room {room_id}")))?;
        let stored = room
            .messages
            .iter_mut()
            .find(|m| m.message.id == message_id)
            .ok_or_else(|| Error::not_found(format!("unknown message {message_id}")))?;
        stored.message.content = content.to_owned();
        stored.message.edited_at = Some(edited_at.clone());
        stored.message.mentions = mentions;
        let message = stored.message.clone();
        self.emit(
            &server_id,
            EventType::RoomMessageEdited,
            json!({
                "roomId": room_id,
                "messageId": message_id,
                "content": content,
                "editedBy": editor,
                "editedAt": edited_at,
            }),
        );
        Ok(message)
    }

    fn delete_message(
        &mut self,
        author: Author<'_>,
        room_id: &str,
        message_id: &str,
    ) -> Result<()> {
        let stored = self.find_message(room_id, message_id)?;
        self.may_modify(author, &stored.message, true)?;
        let server_id = self.room(room_id)?.server_id.clone();
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.messages.retain(|m| m.message.id != message_id);
        }
        let deleter = match author {
            Author::User(id) | Author::Robot(id) => id.to_owned(),
        };
        self.emit(
            &server_id,
            EventType::RoomMessageDeleted,
            json!({ "roomId": room_id, "messageId": message_id, "deletedBy": deleter }),
        );
        Ok(())
    }

    // ----- member puppet -------------------------------------------------------------------

    fn member_room(&self, user_id: &str, room_id: &str) -> Result<String> {
        self.user(user_id)?;
        let server_id = self.room(room_id)?.server_id.clone();
        self.membership(&server_id, user_id)?;
        Ok(server_id)
    }

    pub(crate) fn post(
        &mut self,
        user_id: &str,
        room_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<RoomMessage> {
        self.member_room(user_id, room_id)?;
        self.create_message(Author::User(user_id), room_id, content, reply_to)
    }

    pub(crate) fn edit(
        &mut self,
        user_id: &str,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        self.member_room(user_id, room_id)?;
        self.edit_message(Author::User(user_id), room_id, message_id, content)
    }

    pub(crate) fn delete(&mut self, user_id: &str, room_id: &str, message_id: &str) -> Result<()> {
        self.member_room(user_id, room_id)?;
        self.delete_message(Author::User(user_id), room_id, message_id)
    }

    pub(crate) fn join_voice(&mut self, user_id: &str, room_id: &str) -> Result<Room> {
        let server_id = self.member_room(user_id, room_id)?;
        if self
            .room(room_id)?
            .voice
            .iter()
            .any(|s| s.user_id == user_id)
        {
            return Err(Error::conflict(format!(
                "user {user_id} is already in voice in {room_id}"
            )));
        }
        let in_other: Vec<String> = self
            .rooms
            .values()
            .filter(|r| r.id != room_id && r.voice.iter().any(|s| s.user_id == user_id))
            .map(|r| r.id.clone())
            .collect();
        for other in in_other {
            self.leave_voice(user_id, &other)?;
        }
        let joined_at = clock::now_iso();
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.voice.push(VoiceSeat {
                user_id: user_id.to_owned(),
                joined_at,
                since: Instant::now(),
            });
        }
        let username = self.user(user_id)?.username.clone();
        self.emit(
            &server_id,
            EventType::VoiceJoin,
            json!({ "roomId": room_id, "userId": user_id, "username": username }),
        );
        Ok(self.room_view(self.room(room_id)?))
    }

    pub(crate) fn leave_voice(&mut self, user_id: &str, room_id: &str) -> Result<Room> {
        let room = self.room(room_id)?;
        let server_id = room.server_id.clone();
        let position = room
            .voice
            .iter()
            .position(|s| s.user_id == user_id)
            .ok_or_else(|| {
                Error::not_found(format!("user {user_id} is not in voice in {room_id}"))
            })?;
        let seat = self
            .rooms
            .get_mut(room_id)
            .map(|r| r.voice.remove(position))
            .ok_or_else(|| Error::not_found(format!("unknown room {room_id}")))?;
        let username = self
            .user(user_id)
            .map(|u| u.username.clone())
            .unwrap_or_default();
        self.emit(
            &server_id,
            EventType::VoiceLeave,
            json!({
                "roomId": room_id,
                "userId": user_id,
                "username": username,
                "duration": seat.since.elapsed().as_secs(),
            }),
        );
        Ok(self.room_view(self.room(room_id)?))
    }

    pub(crate) fn set_status(&mut self, user_id: &str, status: UserStatus) -> Result<()> {
        let user = self
            .users
            .get_mut(user_id)
            .ok_or_else(|| Error::not_found(format!("unknown user {user_id}")))?;
        if user.status == status {
            return Ok(());
        }
        user.status = status;
        let servers: Vec<String> = self
            .server_order
            .iter()
            .filter(|id| {
                self.servers
                    .get(*id)
                    .is_some_and(|s| s.members.iter().any(|m| m.user_id == user_id))
            })
            .cloned()
            .collect();
        for server_id in servers {
            self.emit(
                &server_id,
                EventType::PresenceUpdate,
                json!({ "userId": user_id, "status": status }),
            );
        }
        Ok(())
    }

    pub(crate) fn set_role(
        &mut self,
        server_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<ServerMember> {
        let old = self.membership(server_id, user_id).map_err(|_| {
            Error::not_found(format!(
                "user {user_id} is not a member of server {server_id}"
            ))
        })?;
        let old_role = old.role;
        if old_role != role {
            let previous_owner = self.server(server_id)?.owner_id.clone();
            let mut changes = vec![(user_id.to_owned(), old_role, role)];
            if role == Role::Owner
                && let Some(previous) = previous_owner.filter(|p| p != user_id)
            {
                changes.push((previous, Role::Owner, Role::Admin));
            }
            if old_role == Role::Owner {
                return Err(Error::conflict(
                    "the owner's role changes only by making another member the owner",
                ));
            }
            let server = self.server_mut(server_id)?;
            for (member_id, _, new_role) in &changes {
                if let Some(m) = server.members.iter_mut().find(|m| &m.user_id == member_id) {
                    m.role = *new_role;
                }
            }
            if role == Role::Owner {
                server.owner_id = Some(user_id.to_owned());
            }
            for (member_id, from, to) in changes {
                self.emit(
                    server_id,
                    EventType::MemberRoleChanged,
                    json!({ "userId": member_id, "oldRole": from, "newRole": to }),
                );
            }
        }
        let membership = self.membership(server_id, user_id)?;
        self.member_view(membership)
            .ok_or_else(|| Error::not_found(format!("unknown user {user_id}")))
    }

    // ----- world building ------------------------------------------------------------------

    pub(crate) fn create_server(&mut self, name: &str) -> Result<Server> {
        let name = name.trim();
        check_length("server name", name, MAX_SERVER_NAME_CHARS)?;
        let id = self.new_id("srv");
        let server = ServerState {
            id: id.clone(),
            name: name.to_owned(),
            icon_url: None,
            icon_emoji: None,
            owner_id: None,
            created_at: clock::now_iso(),
            members: Vec::new(),
            rooms: Vec::new(),
            robots: Vec::new(),
        };
        let view = self.server_view(&server);
        self.servers.insert(id.clone(), server);
        self.server_order.push(id);
        Ok(view)
    }

    pub(crate) fn servers(&self) -> Vec<Server> {
        self.server_order
            .iter()
            .filter_map(|id| self.servers.get(id))
            .map(|s| self.server_view(s))
            .collect()
    }

    pub(crate) fn server_info(&self, server_id: &str) -> Result<Server> {
        Ok(self.server_view(self.server(server_id)?))
    }

    pub(crate) fn update_server(
        &mut self,
        server_id: &str,
        update: ServerUpdate,
        by: Option<&str>,
    ) -> Result<Server> {
        let server = self.server(server_id)?;
        let updated_by = match by {
            Some(user_id) => {
                self.membership(server_id, user_id)?;
                Some(user_id.to_owned())
            }
            None => server.owner_id.clone(),
        };
        if let Some(name) = &update.name {
            check_length("server name", name.trim(), MAX_SERVER_NAME_CHARS)?;
        }
        let server = self.server_mut(server_id)?;
        let mut changes = serde_json::Map::new();
        if let Some(name) = update.name {
            let name = name.trim().to_owned();
            if name != server.name {
                changes.insert("name".into(), Value::String(name.clone()));
                server.name = name;
            }
        }
        if let Some(icon_url) = update.icon_url
            && icon_url != server.icon_url
        {
            changes.insert("iconUrl".into(), json!(icon_url));
            server.icon_url = icon_url;
        }
        if let Some(icon_emoji) = update.icon_emoji
            && icon_emoji != server.icon_emoji
        {
            changes.insert("iconEmoji".into(), json!(icon_emoji));
            server.icon_emoji = icon_emoji;
        }
        if !changes.is_empty() {
            self.emit(
                server_id,
                EventType::ServerUpdated,
                json!({ "changes": changes, "updatedBy": updated_by }),
            );
        }
        self.server_info(server_id)
    }

    fn actor_or_owner(&self, server_id: &str, by: Option<&str>) -> Result<String> {
        match by {
            Some(user_id) => {
                self.membership(server_id, user_id)?;
                Ok(user_id.to_owned())
            }
            None => Ok(self
                .server(server_id)?
                .owner_id
                .clone()
                .unwrap_or_else(|| "system".to_owned())),
        }
    }

    pub(crate) fn create_room(
        &mut self,
        server_id: &str,
        name: &str,
        by: Option<&str>,
    ) -> Result<Room> {
        let created_by = self.actor_or_owner(server_id, by)?;
        let name = name.trim();
        check_length("room name", name, MAX_ROOM_NAME_CHARS)?;
        let id = self.new_id("room");
        let room = RoomState {
            id: id.clone(),
            server_id: server_id.to_owned(),
            name: name.to_owned(),
            created_by: created_by.clone(),
            created_at: clock::now_iso(),
            voice: Vec::new(),
            messages: Vec::new(),
        };
        self.rooms.insert(id.clone(), room);
        self.server_mut(server_id)?.rooms.push(id.clone());
        self.emit(
            server_id,
            EventType::RoomCreated,
            json!({ "roomId": id, "name": name, "createdBy": created_by }),
        );
        Ok(self.room_view(self.room(&id)?))
    }

    pub(crate) fn delete_room(&mut self, room_id: &str, by: Option<&str>) -> Result<()> {
        let server_id = self.room(room_id)?.server_id.clone();
        self.actor_or_owner(&server_id, by)?;
        let in_voice: Vec<String> = self
            .room(room_id)?
            .voice
            .iter()
            .map(|s| s.user_id.clone())
            .collect();
        for user_id in in_voice {
            self.leave_voice(&user_id, room_id)?;
        }
        let room = self
            .rooms
            .remove(room_id)
            .ok_or_else(|| Error::not_found(format!("unknown room {room_id}")))?;
        self.server_mut(&server_id)?.rooms.retain(|r| r != room_id);
        self.emit(
            &server_id,
            EventType::RoomDeleted,
            json!({ "roomId": room_id, "name": room.name }),
        );
        Ok(())
    }

    pub(crate) fn rooms_of(&self, server_id: &str) -> Vec<Room> {
        self.servers
            .get(server_id)
            .map(|s| {
                s.rooms
                    .iter()
                    .filter_map(|id| self.rooms.get(id))
                    .map(|r| self.room_view(r))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn room_info(&self, room_id: &str) -> Result<Room> {
        Ok(self.room_view(self.room(room_id)?))
    }

    pub(crate) fn members(&self, server_id: &str) -> Result<Vec<ServerMember>> {
        Ok(self
            .server(server_id)?
            .members
            .iter()
            .filter_map(|m| self.member_view(m))
            .collect())
    }

    pub(crate) fn add_member(
        &mut self,
        server_id: &str,
        username: &str,
        display_name: Option<&str>,
    ) -> Result<ServerMember> {
        self.server(server_id)?;
        validate_username(username)?;
        let existing = self
            .users
            .values()
            .find(|u| u.username.to_lowercase() == username.to_lowercase())
            .map(|u| u.id.clone());
        let user_id = match existing {
            Some(id) => {
                if self
                    .server(server_id)?
                    .members
                    .iter()
                    .any(|m| m.user_id == id)
                {
                    return Err(Error::conflict(format!(
                        "{username} is already a member of server {server_id}"
                    )));
                }
                id
            }
            None => {
                let id = self.new_id("usr");
                self.users.insert(
                    id.clone(),
                    User {
                        id: id.clone(),
                        username: username.to_owned(),
                        display_name: Some(display_name.unwrap_or(username).to_owned()),
                        avatar_url: None,
                        status: UserStatus::Online,
                    },
                );
                id
            }
        };
        let joined_at = clock::now_iso();
        let server = self.server_mut(server_id)?;
        let role = if server.owner_id.is_none() {
            server.owner_id = Some(user_id.clone());
            Role::Owner
        } else {
            Role::Member
        };
        server.members.push(Membership {
            user_id: user_id.clone(),
            role,
            joined_at: joined_at.clone(),
        });
        let username = self.user(&user_id)?.username.clone();
        self.emit(
            server_id,
            EventType::MemberJoin,
            json!({ "userId": user_id, "username": username, "joinedAt": joined_at }),
        );
        let membership = self.membership(server_id, &user_id)?;
        self.member_view(membership)
            .ok_or_else(|| Error::internal("member vanished"))
    }

    pub(crate) fn remove_member(&mut self, server_id: &str, user_id: &str) -> Result<()> {
        let membership = self.membership(server_id, user_id).map_err(|_| {
            Error::not_found(format!(
                "user {user_id} is not a member of server {server_id}"
            ))
        })?;
        if membership.role == Role::Owner {
            return Err(Error::conflict(
                "the server owner cannot leave their server",
            ));
        }
        let voice_rooms: Vec<String> = self
            .server(server_id)?
            .rooms
            .iter()
            .filter(|r| {
                self.rooms
                    .get(*r)
                    .is_some_and(|room| room.voice.iter().any(|s| s.user_id == user_id))
            })
            .cloned()
            .collect();
        for room_id in voice_rooms {
            self.leave_voice(user_id, &room_id)?;
        }
        self.server_mut(server_id)?
            .members
            .retain(|m| m.user_id != user_id);
        let username = self.user(user_id)?.username.clone();
        self.emit(
            server_id,
            EventType::MemberLeave,
            json!({ "userId": user_id, "username": username }),
        );
        Ok(())
    }

    pub(crate) fn messages(&self, room_id: &str) -> Result<Vec<RoomMessage>> {
        Ok(self
            .room(room_id)?
            .messages
            .iter()
            .rev()
            .map(|m| m.message.clone())
            .collect())
    }

    // ----- robots --------------------------------------------------------------------------

    fn active_robots(&self, server: &ServerState, except: Option<&str>) -> usize {
        server
            .robots
            .iter()
            .filter(|id| Some(id.as_str()) != except)
            .filter(|id| self.robots.get(*id).is_some_and(|r| r.active))
            .count()
    }

    fn check_robot_name(&self, server_id: &str, name: &str, except: Option<&str>) -> Result<()> {
        check_length("robot name", name, MAX_NAME_CHARS)?;
        if name.trim() != name || name.chars().any(char::is_control) || name.contains('@') {
            return Err(Error::bad_request(
                "robot name must not start or end with spaces or contain control characters or '@'",
            ));
        }
        let server = self.server(server_id)?;
        let taken = server
            .robots
            .iter()
            .filter(|id| Some(id.as_str()) != except)
            .filter_map(|id| self.robots.get(id))
            .any(|r| r.name.to_lowercase() == name.to_lowercase());
        if taken {
            return Err(Error::conflict(format!(
                "a robot named {name:?} already exists in server {server_id}"
            )));
        }
        Ok(())
    }

    pub(crate) fn create_robot(&mut self, server_id: &str, spec: RobotSpec) -> Result<NewRobot> {
        self.check_robot_name(server_id, &spec.name, None)?;
        let server = self.server(server_id)?;
        if self.active_robots(server, None) >= MAX_ACTIVE_ROBOTS {
            return Err(Error::conflict(format!(
                "server {server_id} already has {MAX_ACTIVE_ROBOTS} active robots"
            )));
        }
        validate_transport(&spec.transport)?;
        let key = match spec.key {
            Some(key) => {
                validate_key(&key)?;
                if self.keys.contains_key(&key) {
                    return Err(Error::conflict("that API key is already in use"));
                }
                key
            }
            None => new_key(),
        };
        let secret = match spec.secret {
            Some(text) => parse_secret(&text)?,
            None => new_secret(),
        };
        let id = self.new_id("rob");
        let (webhook, webhook_rx) = mpsc::unbounded_channel();
        let robot = RobotState {
            id: id.clone(),
            name: spec.name,
            server_id: server_id.to_owned(),
            avatar_url: spec.avatar_url,
            key: key.clone(),
            permissions: spec.permissions,
            subscriptions: spec.subscriptions,
            transport: spec.transport,
            secrets: vec![secret],
            active: true,
            created_at: clock::now_iso(),
            epoch: 0,
            outbox: VecDeque::new(),
            handed_out: 0,
            notify: watch::Sender::new(0),
            webhook,
            limiter: Limiter::new(self.settings.config.rate_limits, self.settings.clock),
            log: VecDeque::new(),
        };
        let credentials = robot.credentials(Instant::now());
        self.robots.insert(id.clone(), robot);
        self.keys.insert(key, id.clone());
        self.server_mut(server_id)?.robots.push(id);
        Ok(NewRobot {
            credentials,
            webhook_rx,
        })
    }

    pub(crate) fn robots_of(&self, server_id: &str) -> Result<Vec<RobotDetails>> {
        let now = Instant::now();
        Ok(self
            .server(server_id)?
            .robots
            .iter()
            .filter_map(|id| self.robots.get(id))
            .map(|r| r.details(now))
            .collect())
    }

    pub(crate) fn robot_details(&self, robot_id: &str) -> Result<RobotDetails> {
        Ok(self.robot(robot_id)?.details(Instant::now()))
    }

    pub(crate) fn update_robot(
        &mut self,
        robot_id: &str,
        update: RobotUpdate,
    ) -> Result<RobotDetails> {
        let robot = self.robot(robot_id)?;
        let server_id = robot.server_id.clone();
        if let Some(name) = &update.name {
            self.check_robot_name(&server_id, name, Some(robot_id))?;
        }
        if let Some(transport) = &update.transport {
            validate_transport(transport)?;
        }
        if update.active == Some(true) && !robot.active {
            let server = self.server(&server_id)?;
            if self.active_robots(server, Some(robot_id)) >= MAX_ACTIVE_ROBOTS {
                return Err(Error::conflict(format!(
                    "server {server_id} already has {MAX_ACTIVE_ROBOTS} active robots"
                )));
            }
        }
        let robot = self.robot_mut(robot_id)?;
        if let Some(name) = update.name {
            robot.name = name;
        }
        if let Some(permissions) = update.permissions {
            robot.permissions = permissions.into_iter().collect();
        }
        if let Some(subscriptions) = update.subscriptions {
            robot.subscriptions = subscriptions.into_iter().collect();
        }
        if let Some(avatar_url) = update.avatar_url {
            robot.avatar_url = avatar_url;
        }
        if let Some(transport) = update.transport {
            let kind_changed = transport.kind() != robot.transport.kind();
            robot.transport = transport;
            if kind_changed {
                robot.epoch += 1;
                if matches!(robot.transport, Transport::Webhook { .. }) {
                    let pending: Vec<_> = robot.pending().cloned().collect();
                    for record in pending {
                        robot.handed_out = record.seq;
                        let _ = robot.webhook.send((record, robot.epoch));
                    }
                }
                robot.notify.send_modify(|_| {});
            }
        }
        if let Some(active) = update.active
            && active != robot.active
        {
            robot.active = active;
            robot.epoch += 1;
            if !active {
                robot.handed_out = robot.outbox.back().map_or(robot.handed_out, |e| e.seq);
            }
            robot.notify.send_modify(|_| {});
        }
        self.robot_details(robot_id)
    }

    /// Disables a robot whose webhook answered 410, dropping what was queued for it.
    pub(crate) fn disable_gone(&mut self, robot_id: &str) {
        if let Some(robot) = self.robots.get_mut(robot_id) {
            robot.active = false;
            robot.epoch += 1;
            robot.handed_out = robot.outbox.back().map_or(robot.handed_out, |e| e.seq);
            robot.notify.send_modify(|_| {});
        }
    }

    pub(crate) fn rotate_secret(
        &mut self,
        robot_id: &str,
        overlap: Option<Duration>,
    ) -> Result<RobotCredentials> {
        let overlap = self
            .settings
            .clock
            .real(overlap.unwrap_or(self.settings.config.secret_overlap));
        let robot = self.robot_mut(robot_id)?;
        let now = Instant::now();
        robot
            .secrets
            .retain(|s| s.expires.is_none_or(|at| at > now));
        for secret in &mut robot.secrets {
            let expires = now + overlap;
            secret.expires = Some(secret.expires.map_or(expires, |at| at.min(expires)));
        }
        robot.secrets.insert(0, new_secret());
        Ok(robot.credentials(now))
    }

    pub(crate) fn regenerate_key(&mut self, robot_id: &str) -> Result<RobotCredentials> {
        let key = new_key();
        let robot = self.robot_mut(robot_id)?;
        let old = std::mem::replace(&mut robot.key, key.clone());
        let credentials = robot.credentials(Instant::now());
        self.keys.remove(&old);
        self.keys.insert(key, robot_id.to_owned());
        Ok(credentials)
    }

    pub(crate) fn credentials(&self, robot_id: &str) -> Result<RobotCredentials> {
        Ok(self.robot(robot_id)?.credentials(Instant::now()))
    }

    pub(crate) fn deliveries(&self, robot_id: &str) -> Result<Vec<DeliveryRecord>> {
        Ok(self.robot(robot_id)?.log.iter().cloned().collect())
    }

    pub(crate) fn push_log(&mut self, robot_id: &str, record: DeliveryRecord) {
        let max = self.settings.config.max_delivery_log;
        if let Some(robot) = self.robots.get_mut(robot_id) {
            robot.push_log(record, max);
        }
    }

    /// Every event retained for a robot, oldest first.
    pub(crate) fn retained(&self, robot_id: &str) -> Result<Vec<Arc<EventRecord>>> {
        Ok(self.robot(robot_id)?.outbox.iter().cloned().collect())
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The byte length of the prefix of `text` that equals `name` ignoring case.
fn prefix_len_ci(text: &str, name: &str) -> Option<usize> {
    let mut text_chars = text.char_indices();
    let mut end = 0;
    for n in name.chars() {
        let (at, t) = text_chars.next()?;
        if !t.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
        end = at + t.len_utf8();
    }
    Some(end)
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

fn validate_username(username: &str) -> Result<()> {
    check_length("username", username, MAX_NAME_CHARS)?;
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::bad_request(
            "username may contain only letters, digits, '_', '-' and '.'",
        ));
    }
    Ok(())
}

fn validate_transport(transport: &Transport) -> Result<()> {
    if let Transport::Webhook { url } = transport {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| Error::bad_request(format!("invalid webhookUrl {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::bad_request(format!(
                "webhookUrl must be an http or https URL, got {url:?}"
            )));
        }
    }
    Ok(())
}

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn new_key() -> String {
    let prefix: String = (0..8)
        .map(|_| char::from(b"0123456789abcdef"[rand::rng().random_range(0..16)]))
        .collect();
    format!("lag_robot_{prefix}_{}", random_text(32))
}

fn validate_key(key: &str) -> Result<()> {
    let valid = key
        .strip_prefix("lag_robot_")
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(prefix, secret)| {
            !prefix.is_empty()
                && !secret.is_empty()
                && prefix.chars().all(|c| c.is_ascii_alphanumeric())
                && secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        });
    if valid {
        Ok(())
    } else {
        Err(Error::bad_request(
            "an API key must look like lag_robot_<prefix>_<secret>",
        ))
    }
}

fn new_secret() -> Secret {
    let key: [u8; 32] = rand::rng().random();
    Secret {
        text: format!("whsec_{}", BASE64.encode(key)),
        key: key.to_vec(),
        expires: None,
    }
}

fn parse_secret(text: &str) -> Result<Secret> {
    let key = text
        .strip_prefix("whsec_")
        .and_then(|b64| BASE64.decode(b64).ok())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| Error::bad_request("a webhook secret must look like whsec_<base64>"))?;
    Ok(Secret {
        text: text.to_owned(),
        key,
        expires: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::new(Settings {
            config: SimConfig::default(),
            clock: Clock::new(1.0),
        })
    }

    #[test]
    fn mentions_prefer_longest_name_and_ignore_case() {
        let mut w = world();
        let server = w.create_server("S").unwrap().id;
        w.add_member(&server, "alice", None).unwrap();
        let short = w
            .create_robot(&server, RobotSpec::new("Mod"))
            .unwrap()
            .credentials
            .id;
        let long = w
            .create_robot(&server, RobotSpec::new("Mod Bot"))
            .unwrap()
            .credentials
            .id;
        let found = w.find_mentions(&server, "hey @mod bot and @MOD, also @ALICE! not@mod @modx");
        let ids: Vec<_> = found.iter().map(|m| m.id.as_str()).collect();
        let alice = w.members(&server).unwrap()[0].user_id.clone();
        assert_eq!(ids, vec![long.as_str(), short.as_str(), alice.as_str()]);
        assert_eq!(found[0].name, "Mod Bot");
        assert_eq!(found[2].kind, MentionType::User);
    }

    #[test]
    fn keys_and_secrets_have_the_documented_shape() {
        let key = new_key();
        assert!(validate_key(&key).is_ok());
        let parts: Vec<_> = key.splitn(4, '_').collect();
        assert_eq!(parts[2].len(), 8);
        assert_eq!(parts[3].len(), 32);
        let secret = new_secret();
        assert_eq!(parse_secret(&secret.text).unwrap().key, secret.key);
        assert!(parse_secret("whsec_!!").is_err());
    }
}
