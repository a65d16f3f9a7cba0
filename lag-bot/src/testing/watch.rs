//! How the kit watches the robot: the record of the world, which events the robot finished,
//! when simulated time may move, waiting for an expectation, and the failure report.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lag_sim::{EventType, Sim, WorldEvent};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::witness::{Witness, write_errors, write_transcript};
use super::{Cursors, GRACE, Kit, Message, STEP};

impl Kit {
    pub(super) fn cursors(&self) -> MutexGuard<'_, Cursors> {
        self.cursors.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn current_room(&self) -> String {
        self.cursors()
            .room
            .clone()
            .unwrap_or_else(|| self.demo.general.clone())
    }

    pub(super) fn said_in(&self, room_id: &str) {
        self.cursors().room = Some(room_id.to_owned());
    }

    /// Unwraps the result of an action in the local Lag, or panics with Lag's error.
    #[track_caller]
    pub(super) fn act<T>(&self, what: &str, result: lag_sim::Result<T>) -> T {
        result.unwrap_or_else(|err| panic!("Lag refused to {what}: {err}"))
    }

    /// The id of room `name` (with or without `#`).
    #[track_caller]
    pub(super) fn room_id(&self, name: &str) -> String {
        let name = name.strip_prefix('#').unwrap_or(name);
        let rooms = self.act("list rooms", self.sim.rooms(&self.demo.server_id));
        if let Some(room) = rooms.iter().find(|r| r.name.as_deref() == Some(name)) {
            return room.id.clone();
        }
        let names: Vec<String> = rooms
            .iter()
            .filter_map(|r| r.name.as_ref().map(|n| format!("#{n}")))
            .collect();
        panic!(
            "the server has no room #{name}; it has {}",
            names.join(", ")
        );
    }

    pub(super) fn room_name(&self, room_id: &str) -> String {
        self.sim
            .rooms(&self.demo.server_id)
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.id == room_id)
            .and_then(|r| r.name)
            .unwrap_or_else(|| room_id.to_owned())
    }

    /// Whether `event` is a message posted by the robot under test.
    pub(super) fn is_robot_message(&self, event: &WorldEvent) -> bool {
        event.kind == EventType::RoomMessage
            && data_text(event, "robotId") == Some(self.demo.robot.id.as_str())
    }

    /// Takes the robot's next message in `room_id`, if it has posted one.
    pub(super) fn take_reply(&self, room_id: &str) -> Option<Message> {
        let mut cursors = self.cursors();
        let from = cursors.read.get(room_id).copied().unwrap_or(0);
        let (at, event) = self.record.find(from, |event| {
            (self.is_robot_message(event) && data_text(event, "roomId") == Some(room_id))
                .then(|| event.clone())
        })?;
        cursors.read.insert(room_id.to_owned(), at + 1);
        drop(cursors);
        Some(Message::from_event(&event, Some(self.witness(at + 1))))
    }

    /// Takes every message the robot posted, in any room, since the last call.
    pub(super) fn take_all_replies(&self) -> Vec<Message> {
        let mut cursors = self.cursors();
        let mut messages = Vec::new();
        while let Some((at, event)) = self.record.find(cursors.all, |event| {
            self.is_robot_message(event).then(|| event.clone())
        }) {
            cursors.all = at + 1;
            let message = Message::from_event(&event, Some(self.witness(at + 1)));
            let read = cursors.read.entry(message.room_id.clone()).or_insert(0);
            *read = (*read).max(at + 1);
            messages.push(message);
        }
        messages
    }

    /// Whether the robot has done all it can: no job is running, and every event Lag queued
    /// for it is finished or has handlers that all wait for a member's answer (a conversation
    /// waits for the test's next move, not for its timeout); always once the robot was stopped.
    pub(super) fn settled(&self) -> bool {
        self.handle.is_none()
            || (self.probe.jobs_running() == 0
                && self
                    .unfinished()
                    .iter()
                    .all(|(_, id)| self.probe.parked(id)))
    }

    /// Whether the robot only waits on simulated time: every handler or job run under way waits
    /// on the clock, and no event is on its way to the robot (other than one whose delivery
    /// failed and waits for Lag's retry): with runs under way, every unfinished event has
    /// reached the dispatcher, so that a member's answer is not overtaken by the timeout of the
    /// conversation waiting for it; with none, no job is starting and every event is finished.
    pub(super) fn may_advance(&self) -> bool {
        let activity = &self.probe.activity;
        if !activity.all_idle() {
            return false;
        }
        let running = activity.runs() > 0;
        if !running && self.probe.jobs_running() > 0 {
            return false;
        }
        if self.handle.is_none() {
            return true;
        }
        let unfinished = self.unfinished();
        if unfinished.is_empty() {
            return true;
        }
        let deliveries = self.sim.deliveries(&self.demo.robot.id);
        unfinished.iter().all(|(_, id)| {
            (running && self.probe.has_received(id))
                || deliveries
                    .iter()
                    .rev()
                    .find(|d| &d.event_id == id)
                    .is_some_and(|d| d.outcome == lag_sim::DeliveryOutcome::Failed)
        })
    }

    /// The events Lag queued for the robot that it has not finished: (type, id).
    pub(super) fn unfinished(&self) -> Vec<(EventType, String)> {
        self.sim
            .event_ids(&self.demo.robot.id)
            .into_iter()
            .filter(|(id, _)| !self.probe.has_finished(id))
            .map(|(id, kind)| (kind, id))
            .collect()
    }

    /// Waits until `check` gives a value, moving simulated time while the robot only waits on
    /// it; panics with the transcript when it cannot come.
    pub(super) async fn wait<T>(&self, what: &str, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let started = std::time::Instant::now();
        let mut world = self.record.subscribe();
        let mut robot = self.probe.subscribe();
        let mut quiet_since: Option<std::time::Instant> = None;
        loop {
            world.borrow_and_update();
            robot.borrow_and_update();
            if let Some(value) = check(self) {
                return value;
            }
            let now = std::time::Instant::now();
            if now - started >= self.patience {
                self.fail(&format!(
                    "expected {what} within {:?}, and it did not come",
                    self.patience
                ));
            }
            let moved = tokio::select! {
                _ = world.changed() => true,
                _ = robot.changed() => true,
                () = tokio::time::sleep(STEP) => false,
            };
            if moved || (self.may_advance() && self.clock.advance_to_next().is_some()) {
                quiet_since = None;
                continue;
            }
            if self.settled() {
                let since = *quiet_since.get_or_insert(now);
                if now - since >= GRACE {
                    self.fail(&format!(
                        "expected {what}, and it cannot come: the robot has handled every event \
                         and nothing is scheduled"
                    ));
                }
            }
        }
    }

    #[track_caller]
    pub(super) fn fail(&self, headline: &str) -> ! {
        panic!("{}", self.report(headline));
    }

    /// What a [`Message`] taken now shows if one of its assertions fails: the first `seen`
    /// events of the record and the robot's errors, rendered only then.
    fn witness(&self, seen: usize) -> Witness {
        Witness {
            events: Arc::clone(&self.record.events),
            seen,
            probe: Arc::clone(&self.probe),
        }
    }

    /// A failure message: `headline`, then the transcript, the robot's errors, the deliveries
    /// Lag could not make, and the events the robot has not finished.
    pub(super) fn report(&self, headline: &str) -> String {
        let mut out = String::new();
        if !headline.is_empty() {
            let _ = writeln!(out, "{headline}\n");
        }
        let _ = writeln!(
            out,
            "Transcript of {} (oldest first; {} is the robot; {:?} of simulated time passed):",
            self.sim
                .server(&self.demo.server_id)
                .map(|s| s.name)
                .unwrap_or_default(),
            self.robot_name,
            self.clock.elapsed()
        );
        write_transcript(&mut out, &self.record.events());
        write_errors(&mut out, &self.probe);
        let failed: Vec<String> = self
            .sim
            .deliveries(&self.demo.robot.id)
            .into_iter()
            .filter(|d| {
                !matches!(
                    d.outcome,
                    lag_sim::DeliveryOutcome::Delivered | lag_sim::DeliveryOutcome::Replayed
                )
            })
            .map(|d| {
                format!(
                    "{} {} attempt {}: {:?}{}",
                    d.event_type,
                    d.event_id,
                    d.attempt,
                    d.outcome,
                    d.error.map(|e| format!(" ({e})")).unwrap_or_default()
                )
            })
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(out, "\nDeliveries Lag could not make:");
            for line in failed {
                let _ = writeln!(out, "  {line}");
            }
        }
        let unfinished = self.unfinished();
        if !unfinished.is_empty() {
            let _ = writeln!(out, "\nEvents the robot has not finished:");
            for (kind, id) in unfinished {
                let _ = writeln!(out, "  {kind} {id}");
            }
        }
        out
    }
}

/// Everything that happened in the world since the kit started, as the local Lag reported it.
pub(super) struct Record {
    events: Arc<Mutex<Vec<WorldEvent>>>,
    changes: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl Record {
    pub(super) fn start(sim: &Sim) -> Self {
        let mut feed = sim.subscribe();
        let events = Arc::new(Mutex::new(Vec::new()));
        let (tell, changes) = watch::channel(0);
        let task = tokio::spawn({
            let events = Arc::clone(&events);
            async move {
                while let Some(event) = feed.recv().await {
                    events
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(event);
                    tell.send_modify(|n| *n += 1);
                }
            }
        });
        Self {
            events,
            changes,
            task,
        }
    }

    pub(super) fn events(&self) -> MutexGuard<'_, Vec<WorldEvent>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The first event from position `from` on that `pick` takes, with its position.
    pub(super) fn find<T>(
        &self,
        from: usize,
        mut pick: impl FnMut(&WorldEvent) -> Option<T>,
    ) -> Option<(usize, T)> {
        let events = self.events();
        events
            .iter()
            .enumerate()
            .skip(from)
            .find_map(|(at, event)| pick(event).map(|value| (at, value)))
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) fn data_text<'a>(event: &'a WorldEvent, key: &str) -> Option<&'a str> {
    event.body.data.get(key).and_then(Value::as_str)
}
