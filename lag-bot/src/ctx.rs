//! The context a handler runs with.

use std::fmt;
use std::sync::Arc;

use crate::events::{Envelope, Event, RoomMessage};
use crate::model::RobotInfo;

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
    me: Arc<RobotInfo>,
    envelope: Arc<Envelope>,
}

impl<S> Ctx<S> {
    pub(crate) fn new(state: Arc<S>, me: Arc<RobotInfo>, envelope: Arc<Envelope>) -> Self {
        Self {
            inner: Arc::new(Inner {
                state,
                me,
                envelope,
            }),
        }
    }

    /// The robot's user state.
    pub fn state(&self) -> &S {
        &self.inner.state
    }

    /// The robot's own identity, as Lag reported it at startup.
    pub fn me(&self) -> &RobotInfo {
        &self.inner.me
    }

    /// The event being handled, typed.
    pub fn event(&self) -> &Event {
        self.inner.envelope.event()
    }

    /// The event with its delivery id, server, time and raw `data`.
    pub fn envelope(&self) -> &Envelope {
        &self.inner.envelope
    }

    /// The delivery id of the event being handled, when the transport gave one.
    pub fn event_id(&self) -> Option<&str> {
        self.inner.envelope.id()
    }

    /// The room the event happened in, for events that have one.
    pub fn room_id(&self) -> Option<&str> {
        self.event().room_id()
    }

    /// The posted message, for `room.message` and `robot.mentioned` events.
    pub fn message(&self) -> Option<&RoomMessage> {
        self.event().message()
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
        f.debug_struct("Ctx")
            .field("robot", &self.inner.me.id)
            .field("event_id", &self.event_id())
            .field("event_type", &self.inner.envelope.event_type())
            .field("room_id", &self.room_id())
            .finish_non_exhaustive()
    }
}
