//! What the test kit sees of a running robot: which events it has received and finished, and
//! its errors.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::clock::Activity;
use crate::command::conversation::Release;

/// How many of the robot's latest errors are kept.
const KEPT_ERRORS: usize = 20;

/// Records each event the dispatcher has finished with (handled, ignored or failed) and each
/// handler error, and bumps a counter on every change.
#[derive(Debug)]
pub(crate) struct Probe {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    /// The handler and job runs under way, and which wait only on time.
    pub(crate) activity: Arc<Activity>,
}

#[derive(Debug, Default)]
struct State {
    /// Events the dispatcher has received (routed to handlers or to a conversation).
    received: HashSet<String>,
    finished: HashSet<String>,
    /// Events whose handlers run, with what tells whether they all wait for an answer.
    running: HashMap<String, Arc<Release>>,
    /// Finished events in order: (event id, wire type).
    order: Vec<(String, String)>,
    errors: VecDeque<String>,
    /// Job runs under way.
    jobs_running: usize,
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            changes: watch::Sender::new(0),
            activity: Arc::default(),
        }
    }
}

impl Probe {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// The dispatcher has received event `id` (it is past deduplication).
    pub(crate) fn received(&self, id: &str) {
        self.state().received.insert(id.to_owned());
        self.changed();
    }

    /// Whether the dispatcher has received event `id`.
    pub(crate) fn has_received(&self, id: &str) -> bool {
        self.state().received.contains(id)
    }

    /// The handlers of event `id` run; `release` tells when they all wait for an answer.
    pub(crate) fn running(&self, id: &str, release: &Arc<Release>) {
        self.state()
            .running
            .insert(id.to_owned(), Arc::clone(release));
    }

    /// Whether every unfinished handler of event `id` waits for a member's answer.
    pub(crate) fn parked(&self, id: &str) -> bool {
        self.state().running.get(id).is_some_and(|r| r.parked())
    }

    /// The dispatcher is done with event `id` of type `event_type`.
    pub(crate) fn finished(&self, id: &str, event_type: &str) {
        {
            let mut state = self.state();
            state.running.remove(id);
            if state.finished.insert(id.to_owned()) {
                state.order.push((id.to_owned(), event_type.to_owned()));
            }
        }
        self.changed();
    }

    /// A handler failed.
    pub(crate) fn failed(&self, handler: &str, panicked: bool, error: &crate::Error) {
        {
            let mut state = self.state();
            if state.errors.len() == KEPT_ERRORS {
                state.errors.pop_front();
            }
            let how = if panicked { "panicked" } else { "failed" };
            state
                .errors
                .push_back(format!("`{handler}` {how}: {error}"));
        }
        self.changed();
    }

    /// A job run starts; it ends when the guard is dropped.
    pub(crate) fn job_run(self: &Arc<Self>) -> JobRun {
        self.state().jobs_running += 1;
        self.changed();
        JobRun(Arc::clone(self))
    }

    /// How many job runs are under way.
    pub(crate) fn jobs_running(&self) -> usize {
        self.state().jobs_running
    }

    /// Whether the dispatcher is done with event `id`.
    pub(crate) fn has_finished(&self, id: &str) -> bool {
        self.state().finished.contains(id)
    }

    /// The finished events from position `from` on, in the order they finished.
    pub(crate) fn finished_since(&self, from: usize) -> Vec<(String, String)> {
        self.state().order.get(from..).unwrap_or_default().to_vec()
    }

    /// The latest handler errors, oldest first.
    pub(crate) fn errors(&self) -> Vec<String> {
        self.state().errors.iter().cloned().collect()
    }

    /// Wakes on every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

/// A job run under way, as the probe counts it.
pub(crate) struct JobRun(Arc<Probe>);

impl Drop for JobRun {
    fn drop(&mut self) {
        {
            let mut state = self.0.state();
            state.jobs_running = state.jobs_running.saturating_sub(1);
        }
        self.0.changed();
    }
}
