//! What a failure shows: the transcript and the robot's errors, written out only when needed.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use lag_sim::WorldEvent;

use crate::robot::probe::Probe;

/// The transcript and the robot's errors as they stood when a `Message` was taken, kept by
/// reference and written out only if one of its assertions fails.
#[derive(Clone)]
pub(super) struct Witness {
    pub(super) events: Arc<Mutex<Vec<WorldEvent>>>,
    pub(super) seen: usize,
    pub(super) probe: Arc<Probe>,
}

impl Witness {
    pub(super) fn render(&self) -> String {
        let mut out = String::from("Transcript (oldest first):\n");
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        write_transcript(&mut out, events.get(..self.seen).unwrap_or(&events));
        drop(events);
        write_errors(&mut out, &self.probe);
        out
    }
}

pub(super) fn write_transcript(out: &mut String, events: &[WorldEvent]) {
    if events.is_empty() {
        let _ = writeln!(out, "  (nothing happened)");
    }
    for event in events {
        let _ = writeln!(out, "  {}", event.to_string().replace('\n', "\n  "));
    }
}

pub(super) fn write_errors(out: &mut String, probe: &Probe) {
    let errors = probe.errors();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nThe robot's handler errors (latest last):");
        for error in errors {
            let _ = writeln!(out, "  {error}");
        }
    }
}
