//! [`WorldEvent`] and [`EventFeed`]: everything that happens in the world, as it happens.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

use crate::wire::{EventBody, EventType};

/// How many events an [`EventFeed`] holds for its reader before it skips the oldest.
pub(crate) const FEED_CAPACITY: usize = 1024;

/// One thing that happened in a server: a message, an edit, a member joining, ...
///
/// It carries the canonical event object robots get for it, whatever any robot subscribed to or
/// may see, plus the names its ids stood for when it happened (so a reader can show a message
/// in a room deleted since, or by a member who left since).
///
/// It displays as one compact, human-readable line, as the `lag-sim` program prints it:
/// `#general alice: !roll 6` for a message, `#general alice (edited): !roll 20`,
/// `#general bob deleted a message`, `* dave joined Demo Server`, ... Continuation lines of a
/// multi-line message are indented by four spaces.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> lag_sim::Result<()> {
/// use lag_sim::{EventType, Sim, SimConfig};
///
/// let sim = Sim::start(SimConfig::default()).await?;
/// let demo = sim.seed_demo()?;
/// let mut feed = sim.subscribe();
/// sim.post(&demo.alice, &demo.general, "!roll 6")?;
/// let event = feed.recv().await.expect("the message");
/// assert_eq!(event.kind, EventType::RoomMessage);
/// assert_eq!(event.room_name.as_deref(), Some("general"));
/// assert_eq!(event.to_string(), "#general alice: !roll 6");
/// sim.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WorldEvent {
    /// The event id; robots that receive this event get the same id.
    pub id: String,
    /// What happened.
    pub kind: EventType,
    /// The canonical event object (`type`, `serverId`, `timestamp`, `data`), with full content.
    pub body: EventBody,
    /// The server's name.
    pub server_name: String,
    /// The name of the room in `data.roomId`, for events in a room.
    pub room_name: Option<String>,
    /// Who the event is by or about: the username of the member, or the name of the robot, in
    /// `data.senderId`, `editedBy`, `deletedBy`, `createdBy`, `updatedBy` or `userId`.
    pub actor_name: Option<String>,
}

impl WorldEvent {
    fn text(&self, key: &str) -> Option<&str> {
        self.body.data.get(key).and_then(Value::as_str)
    }

    fn actor(&self) -> &str {
        self.actor_name
            .as_deref()
            .or_else(|| self.text("senderName"))
            .or_else(|| self.text("username"))
            .unwrap_or("someone")
    }

    fn room(&self) -> &str {
        self.room_name
            .as_deref()
            .or_else(|| self.text("name"))
            .or_else(|| self.text("roomId"))
            .unwrap_or("?")
    }
}

/// Writes `text`, indenting every line after the first.
fn indented(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for (number, line) in text.split('\n').enumerate() {
        if number > 0 {
            f.write_str("\n    ")?;
        }
        f.write_str(line)?;
    }
    Ok(())
}

impl fmt::Display for WorldEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (room, who, server) = (self.room(), self.actor(), &self.server_name);
        match self.kind {
            EventType::RoomMessage | EventType::RobotMentioned => {
                write!(f, "#{room} {who}: ")?;
                indented(f, self.text("content").unwrap_or_default())
            }
            EventType::RoomMessageEdited => {
                write!(f, "#{room} {who} (edited): ")?;
                indented(f, self.text("content").unwrap_or_default())
            }
            EventType::RoomMessageDeleted => write!(f, "#{room} {who} deleted a message"),
            EventType::VoiceJoin => write!(f, "#{room} {who} joined voice"),
            EventType::VoiceLeave => {
                let seconds = self.body.data.get("duration").and_then(Value::as_u64);
                write!(
                    f,
                    "#{room} {who} left voice after {} s",
                    seconds.unwrap_or(0)
                )
            }
            EventType::MemberJoin => write!(f, "* {who} joined {server}"),
            EventType::MemberLeave => write!(f, "* {who} left {server}"),
            EventType::MemberRoleChanged => {
                let role = self.text("newRole").unwrap_or("?");
                let old = self.text("oldRole").unwrap_or("?");
                write!(f, "* {who} is now {role} in {server} (was {old})")
            }
            EventType::RoomCreated => write!(f, "* {who} created #{room} in {server}"),
            EventType::RoomDeleted => write!(f, "* #{room} was deleted from {server}"),
            EventType::PresenceUpdate => {
                write!(f, "* {who} is {}", self.text("status").unwrap_or("?"))
            }
            EventType::ServerUpdated => {
                let changes = self.body.data.get("changes").and_then(Value::as_object);
                let fields: Vec<&str> = changes
                    .map(|c| c.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                write!(f, "* {who} changed {server}: {}", fields.join(", "))
            }
        }
    }
}

/// A live feed of [`WorldEvent`]s, from [`Sim::subscribe`](crate::Sim::subscribe).
///
/// It sees every event after the subscription, in order, whether or not a robot receives it:
/// robots' messages and member actions alike. `robot.mentioned`, a robot's private copy of a
/// `room.message`, is not repeated (the message's `mentions` list who was mentioned).
///
/// The feed holds up to 1024 events for a slow reader; beyond that it skips the oldest and
/// counts them in [`missed`](Self::missed), so a stalled reader never slows the emulator down.
#[derive(Debug)]
pub struct EventFeed {
    receiver: broadcast::Receiver<Arc<WorldEvent>>,
    shutdown: CancellationToken,
    missed: u64,
}

impl EventFeed {
    pub(crate) fn new(
        receiver: broadcast::Receiver<Arc<WorldEvent>>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            receiver,
            shutdown,
            missed: 0,
        }
    }

    /// Waits for the next event. Returns `None` once the emulator has shut down and every event
    /// before that was read.
    pub async fn recv(&mut self) -> Option<WorldEvent> {
        loop {
            let next = if self.shutdown.is_cancelled() {
                match self.receiver.try_recv() {
                    Ok(event) => Ok(event),
                    Err(TryRecvError::Lagged(skipped)) => Err(RecvError::Lagged(skipped)),
                    Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
                }
            } else {
                tokio::select! {
                    biased;
                    next = self.receiver.recv() => next,
                    () = self.shutdown.cancelled() => continue,
                }
            };
            match next {
                Ok(event) => return Some(Arc::unwrap_or_clone(event)),
                Err(RecvError::Lagged(skipped)) => self.missed += skipped,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one already happened, without waiting.
    ///
    /// Events are published before the action that caused them returns, so after
    /// [`Sim::post`](crate::Sim::post) the message is already here.
    pub fn try_recv(&mut self) -> Option<WorldEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok(event) => return Some(Arc::unwrap_or_clone(event)),
                Err(TryRecvError::Lagged(skipped)) => self.missed += skipped,
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// How many events this feed skipped so far because its reader fell more than 1024 events
    /// behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}
