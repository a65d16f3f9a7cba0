//! The context a handler runs with.

use std::fmt;
use std::sync::Arc;

/// What a handler gets besides its event: the robot's shared state, the REST client, the robot's
/// own identity and the event being handled, with helpers to answer in the same room.
///
/// `Ctx` is a cheap handle (one `Arc`), so clone it freely into spawned tasks. `S` is the robot's
/// user state, set with the robot builder's `state`; it is shared, not cloned, between handlers,
/// so put interior mutability (a `Mutex`, an atomic) inside it where handlers need to write.
pub struct Ctx<S = ()> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    state: Arc<S>,
}

impl<S> Ctx<S> {
    pub(crate) fn new(state: Arc<S>) -> Self {
        Self {
            inner: Arc::new(Inner { state }),
        }
    }

    /// The robot's user state.
    pub fn state(&self) -> &S {
        &self.inner.state
    }
}

impl<S> Clone for Ctx<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> fmt::Debug for Ctx<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx").finish_non_exhaustive()
    }
}
