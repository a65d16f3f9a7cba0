//! The context a handler runs with.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::client::Client;
use crate::events::{Envelope, Event, RoomMessage};
use crate::kv::Kv;
use crate::model::{Message, RobotInfo, SendMessage};
use crate::{Error, Result};

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
    client: Client,
    me: Arc<RobotInfo>,
    envelope: Arc<Envelope>,
    kv: Kv,
    /// What conversations need (`command::conversation`), opaque here because `ctx` sits
    /// below `command` in the layering; set for the handlers of a room message.
    conversation: Option<Arc<dyn Any + Send + Sync>>,
}

impl<S> Ctx<S> {
    pub(crate) fn new(
        state: Arc<S>,
        client: Client,
        me: Arc<RobotInfo>,
        envelope: Arc<Envelope>,
        kv: Kv,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                state,
                client,
                me,
                envelope,
                kv,
                conversation: None,
            }),
        }
    }

    /// The same context, able to hold conversations with `conversation`.
    pub(crate) fn with_conversation(self, conversation: Arc<dyn Any + Send + Sync>) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            state: Arc::clone(&shared.state),
            client: shared.client.clone(),
            me: Arc::clone(&shared.me),
            envelope: Arc::clone(&shared.envelope),
            kv: shared.kv.clone(),
            conversation: None,
        });
        Self {
            inner: Arc::new(Inner {
                conversation: Some(conversation),
                ..inner
            }),
        }
    }

    /// What conversations need, when the context can hold them.
    pub(crate) fn conversation(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.inner.conversation.as_deref()
    }

    /// The robot's user state.
    pub fn state(&self) -> &S {
        &self.inner.state
    }

    /// The REST client, shared by the whole robot (one rate limiter for every handler).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The robot's own identity, as Lag reported it at startup.
    pub fn me(&self) -> &RobotInfo {
        &self.inner.me
    }

    /// The robot's key-value store: values that outlive a handler, shared by the robot's
    /// replicas when it runs on Redis (see [`kv`](crate::kv)).
    ///
    /// ```
    /// use lag_bot::{Ctx, command};
    ///
    /// /// Counts how often it was asked.
    /// #[command("!count")]
    /// async fn count(ctx: Ctx) -> lag_bot::Result<String> {
    ///     let n = ctx.kv().increment("count", 1).await?;
    ///     Ok(format!("Asked {n} times."))
    /// }
    /// # let _ = count();
    /// ```
    pub fn kv(&self) -> &Kv {
        &self.inner.kv
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

    /// Posts `content` in `room_id`.
    ///
    /// # Errors
    ///
    /// Whatever the client's `send` reports: empty or over-long content, a missing permission,
    /// an unknown room, or a network failure.
    pub async fn send(&self, room_id: &str, content: impl Into<String>) -> Result<Message> {
        self.inner.client.send(room_id, content).await
    }

    /// Posts `content` in the room the event happened in.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the event has no room
    /// (e.g. `member.join`), else as [`send`](Self::send).
    pub async fn say(&self, content: impl Into<String>) -> Result<Message> {
        let room = self.require_room("say")?;
        self.inner.client.send(room, content).await
    }

    /// Answers the triggering message as a reply, in its room. For events without a message
    /// (e.g. `voice.join`) it posts a plain message in the event's room.
    ///
    /// # Errors
    ///
    /// As [`say`](Self::say).
    pub async fn reply(&self, content: impl Into<String>) -> Result<Message> {
        let room = self.require_room("reply")?;
        let mut message = SendMessage::new(content);
        if let Some(id) = self.message().and_then(|m| m.message_id.as_deref()) {
            message = message.reply_to(id);
        }
        self.inner.client.send_message(room, message).await
    }

    fn require_room(&self, what: &str) -> Result<&str> {
        self.room_id().ok_or_else(|| {
            Error::invalid_input(format!(
                "cannot {what}: a `{}` event has no room; use `send` with a room id",
                self.event().event_type()
            ))
        })
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
