//! The robot's outgoing notifications: a bounded queue, and one task that posts them, paced.
//!
//! The endpoint answers as soon as a notification is queued, so a sender is never held while
//! the robot waits for room under Lag's message limit (10 messages per 10 seconds). The task
//! posts what is queued; when notifications arrive faster than Lag takes messages, the ones
//! that pile up meanwhile go out together, as few messages as fit (2000 characters each), so
//! a burst of alerts becomes a handful of grouped messages instead of a 429 or a dropped alert.
//! A full queue answers 503, and the sender retries; on shutdown the queue is closed and what
//! it holds is still posted.

use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use lag_bot::model::MAX_CONTENT_CHARS;
use lag_bot::{Client, Shutdown};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A notification waiting to be posted.
#[derive(Debug)]
pub struct Note {
    /// The room's id.
    pub room_id: String,
    /// The rendered text.
    pub text: String,
}

/// Why a notification was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: the sender should retry later.
    Full,
    /// The robot is stopping.
    Closed,
}

/// The queue's sending side, kept in the robot's state.
#[derive(Debug)]
pub struct Outbox {
    queue: mpsc::Sender<Note>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Outbox {
    /// At most this many notifications wait at once.
    pub const CAPACITY: usize = 1024;

    /// Starts the posting task on the current runtime; it stops, after posting what is
    /// queued, once `shutdown` is triggered.
    pub fn start(client: Client, shutdown: Shutdown) -> Self {
        let (queue, notes) = mpsc::channel(Self::CAPACITY);
        let worker = tokio::spawn(post_all(notes, client, shutdown));
        Self {
            queue,
            worker: Mutex::new(Some(worker)),
        }
    }

    /// Queues `note`, or says why not.
    pub fn push(&self, note: Note) -> Result<(), Refused> {
        self.queue.try_send(note).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => Refused::Full,
            mpsc::error::TrySendError::Closed(_) => Refused::Closed,
        })
    }

    /// Waits until the posting task has posted everything it was given and stopped (after
    /// the robot's shutdown).
    pub async fn drained(&self) {
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
    }
}

async fn post_all(mut notes: mpsc::Receiver<Note>, client: Client, shutdown: Shutdown) {
    let mut batch = Vec::new();
    let mut closed = false;
    loop {
        tokio::select! {
            received = notes.recv_many(&mut batch, Outbox::CAPACITY) => {
                if received == 0 {
                    break;
                }
            }
            () = shutdown.triggered(), if !closed => {
                // Refuse new notes; `recv_many` still hands over the queued ones, then 0.
                notes.close();
                closed = true;
                continue;
            }
        }
        for (room_id, text) in group(batch.drain(..)) {
            if let Err(error) = client.send_split(&room_id, &text).await {
                tracing::error!(room = room_id, %error, text, "could not post a notification");
            }
        }
    }
}

/// Packs notes into as few messages per room as fit Lag's message size, keeping their order.
fn group(notes: impl Iterator<Item = Note>) -> Vec<(String, String)> {
    let mut messages: Vec<(String, String)> = Vec::new();
    for note in notes {
        let fits = messages
            .iter_mut()
            .rev()
            .find(|(room, _)| *room == note.room_id);
        match fits {
            Some((_, text))
                if text.chars().count() + 2 + note.text.chars().count() <= MAX_CONTENT_CHARS =>
            {
                text.push_str("\n\n");
                text.push_str(&note.text);
            }
            _ => messages.push((note.room_id, note.text)),
        }
    }
    messages
}

/// The delivery ids seen within a time window, at most `capacity` of them: a redelivery
/// inside the window is a duplicate; the same content after it is news again.
#[derive(Debug)]
pub struct Seen {
    window: Duration,
    capacity: usize,
    inner: Mutex<SeenInner>,
}

#[derive(Debug, Default)]
struct SeenInner {
    order: VecDeque<(Instant, String)>,
    ids: HashSet<String>,
}

impl Seen {
    /// Remembers ids for `window`, and at most `capacity` of them (the oldest go first).
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// Records `id`; `true` when it is new, `false` for a duplicate.
    pub fn claim(&self, id: &str) -> bool {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((at, _)) = inner.order.front() {
            if now.duration_since(*at) < self.window && inner.order.len() < self.capacity {
                break;
            }
            if let Some((_, old)) = inner.order.pop_front() {
                inner.ids.remove(&old);
            }
        }
        if !inner.ids.insert(id.to_owned()) {
            return false;
        }
        inner.order.push_back((now, id.to_owned()));
        true
    }

    /// Forgets `id`, for a delivery that was claimed and then not accepted.
    pub fn release(&self, id: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.ids.remove(id) {
            inner.order.retain(|(_, seen)| seen != id);
        }
    }
}
