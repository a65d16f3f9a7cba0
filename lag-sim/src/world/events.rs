//! The event queue: recording events, queueing them for robots, handing them out.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::clock;
use crate::error::Result;
use crate::event::EventRecord;
use crate::feed::WorldEvent;
use crate::log::{DeliveryOutcome, DeliveryRecord, SentRequest};
use crate::spec::{Transport, TransportKind};
use crate::wire::{EventBody, EventType, Permission};

use super::World;

/// What an SSE connection gets when it (re)connects.
#[derive(Debug)]
pub(crate) struct SseStart {
    pub(crate) backlog: Vec<Arc<EventRecord>>,
    pub(crate) cursor: u64,
    pub(crate) notify: watch::Receiver<u64>,
}

impl World {
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
            queued: self.settings.clock.now(),
            redelivery: false,
        })
    }

    /// Queues an event for every robot of the server that subscribed to it and may see it.
    pub(super) fn emit(&mut self, server_id: &str, kind: EventType, data: Value) {
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
                self.robots
                    .get(*id)
                    .is_some_and(|robot| robot.receives(kind, needed))
            })
            .cloned()
            .collect();
        let record = self.record(server_id, kind, data);
        self.publish(&record);
        for robot_id in recipients {
            self.enqueue(&robot_id, Arc::clone(&record));
        }
    }

    /// A receiver of every event from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<WorldEvent>> {
        self.feed.subscribe()
    }

    /// Hands an event to the feeds, with the names its ids stand for right now.
    fn publish(&self, record: &EventRecord) {
        if self.feed.receiver_count() == 0 {
            return;
        }
        let data = &record.body.data;
        let text = |key: &str| data.get(key).and_then(Value::as_str);
        let room_name = text("roomId")
            .and_then(|id| self.rooms.get(id))
            .map(|room| room.name.clone())
            .or_else(|| text("name").map(str::to_owned));
        let actor_name = [
            "senderId",
            "editedBy",
            "deletedBy",
            "createdBy",
            "updatedBy",
            "userId",
        ]
        .into_iter()
        .filter_map(text)
        .find_map(|id| {
            self.users
                .get(id)
                .map(|user| user.username.clone())
                .or_else(|| self.robots.get(id).map(|robot| robot.name.clone()))
        });
        let server_name = self
            .servers
            .get(&record.body.server_id)
            .map(|server| server.name.clone())
            .unwrap_or_default();
        let event = WorldEvent {
            id: record.id.clone(),
            kind: record.kind,
            body: record.body.clone(),
            server_name,
            room_name,
            actor_name,
        };
        let _ = self.feed.send(Arc::new(event));
    }

    /// Sends `robot.mentioned` to one robot; without `read_messages` its content is blanked.
    pub(super) fn emit_mention(&mut self, robot_id: &str, data: &Value) {
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
        if !robot.receives(EventType::RobotMentioned, needed) {
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

    pub(super) fn enqueue(&mut self, robot_id: &str, record: Arc<EventRecord>) {
        let retention = self.settings.clock.span(self.settings.config.retention);
        let now = self.settings.clock.now();
        let max_events = self.settings.config.max_retained_events.max(1);
        let max_log = self.settings.config.max_delivery_log;
        let Some(robot) = self.robots.get_mut(robot_id) else {
            return;
        };
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
        let now = self.settings.clock.now();
        let Some(robot) = self.robots.get_mut(robot_id) else {
            return;
        };
        let transport = robot.transport.kind();
        for record in records {
            let outcome = if record.seq <= previous {
                DeliveryOutcome::Replayed
            } else {
                DeliveryOutcome::Delivered
            };
            let mut entry = DeliveryRecord::new(record, transport, 1, outcome);
            entry.request = Some(SentRequest {
                url: None,
                headers: Vec::new(),
                body: String::from_utf8_lossy(&record.json).into_owned(),
            });
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
}
