//! Per-key ordered execution: jobs with the same key run one after another in the order they
//! were pushed, jobs with different keys (or none) run in parallel.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use tokio_util::task::TaskTracker;

pub(crate) use crate::events::lane_key;

type Runner<J> = Arc<dyn Fn(J) -> BoxFuture<'static, ()> + Send + Sync>;

pub(crate) struct Lanes<J> {
    waiting: Arc<Mutex<HashMap<String, VecDeque<J>>>>,
    run: Runner<J>,
    tracker: TaskTracker,
}

impl<J: Send + 'static> Lanes<J> {
    pub(crate) fn new(
        tracker: TaskTracker,
        run: impl Fn(J) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        Self {
            waiting: Arc::default(),
            run: Arc::new(run),
            tracker,
        }
    }

    pub(crate) fn push(&self, key: Option<String>, job: J) {
        let Some(key) = key else {
            self.tracker.spawn(contained((self.run)(job)));
            return;
        };
        {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(queue) = waiting.get_mut(&key) {
                queue.push_back(job);
                return;
            }
            waiting.insert(key.clone(), VecDeque::new());
        }
        let waiting = Arc::clone(&self.waiting);
        let run = Arc::clone(&self.run);
        self.tracker.spawn(async move {
            let mut job = job;
            loop {
                contained(run(job)).await;
                // Most jobs finish without awaiting anything: yield now and then, so that a
                // busy room's lane shares its thread with the receiver.
                tokio::task::consume_budget().await;
                let mut lanes = waiting.lock().unwrap_or_else(PoisonError::into_inner);
                match lanes.get_mut(&key).and_then(VecDeque::pop_front) {
                    Some(next) => job = next,
                    None => {
                        lanes.remove(&key);
                        break;
                    }
                }
            }
        });
    }
}

/// Runs a job so that a panic in it cannot stop its lane: the next job of the key still runs.
async fn contained(job: BoxFuture<'static, ()>) {
    if AssertUnwindSafe(job).catch_unwind().await.is_err() {
        tracing::error!("an event's dispatch panicked; its lane goes on");
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::{mpsc, oneshot};

    use super::*;

    #[tokio::test]
    async fn one_key_runs_in_order_and_other_keys_in_parallel() {
        let tracker = TaskTracker::new();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
        type Job = (String, Option<oneshot::Receiver<()>>);
        let lanes: Lanes<Job> = Lanes::new(tracker.clone(), move |(name, gate): Job| {
            let done = done_tx.clone();
            Box::pin(async move {
                if let Some(gate) = gate {
                    let _ = gate.await;
                }
                let _ = done.send(name);
            })
        });

        let (open_a1, gate_a1) = oneshot::channel();
        lanes.push(Some("room_a".into()), ("a1".into(), Some(gate_a1)));
        lanes.push(Some("room_a".into()), ("a2".into(), None));
        lanes.push(Some("room_b".into()), ("b1".into(), None));
        lanes.push(None, ("free".into(), None));

        // a1 is held open, yet b1 and the keyless job finish: lanes do not block each other.
        let mut early = vec![done_rx.recv().await.unwrap(), done_rx.recv().await.unwrap()];
        early.sort();
        assert_eq!(early, ["b1", "free"]);
        assert!(done_rx.try_recv().is_err(), "a2 must wait for a1");

        open_a1.send(()).unwrap();
        assert_eq!(done_rx.recv().await.unwrap(), "a1");
        assert_eq!(done_rx.recv().await.unwrap(), "a2");

        tracker.close();
        tracker.wait().await;
        assert!(lanes.waiting.lock().unwrap().is_empty());
    }
}
