//! Listeners: handlers for kinds of events.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::ctx::Ctx;
use crate::events::{Event, EventPayload};
use crate::reply::{IntoReply, ReplyFuture, Run, boxed};

type Handler<S> = Arc<dyn Fn(Ctx<S>) -> Option<ReplyFuture> + Send + Sync>;

/// A handler for one kind of event (or for all of them), registered with the robot's `on`.
///
/// The handler gets the [`Ctx`] and the typed payload. What it returns works as for commands
/// (see [`reply`](crate::reply)): `()` sends nothing, text or a [`Reply`](crate::Reply) is
/// posted in the event's room, split into several messages when long (events without a room
/// report that as an error instead, unless the reply names a room), and an `Err` goes to the
/// robot's error hook. The
/// `#[on(...)]` attribute builds the same value from an `async fn`.
///
/// ```
/// use lag_bot::events::MemberJoin;
/// use lag_bot::{Ctx, Listener};
///
/// struct State { welcome_room: String }
///
/// let welcome = Listener::new(|ctx: Ctx<State>, join: MemberJoin| async move {
///     let room = ctx.state().welcome_room.clone();
///     ctx.send(&room, format!("Welcome, {}!", join.username)).await?;
///     Ok::<_, lag_bot::Error>(())
/// })
/// .named("welcome");
/// assert_eq!(welcome.name(), "welcome");
/// assert_eq!(welcome.event_type(), Some("member.join"));
/// ```
pub struct Listener<S = ()> {
    name: Cow<'static, str>,
    event_type: Option<Cow<'static, str>>,
    handler: Handler<S>,
}

impl<S: Send + Sync + 'static> Listener<S> {
    /// Listens for events whose payload is `T` (e.g. [`MemberJoin`](crate::events::MemberJoin)).
    pub fn new<T, F, Fut>(handler: F) -> Self
    where
        T: EventPayload,
        F: Fn(Ctx<S>, T) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReply,
    {
        Self {
            name: Cow::Borrowed(T::EVENT_TYPE),
            event_type: Some(Cow::Borrowed(T::EVENT_TYPE)),
            handler: Arc::new(move |ctx: Ctx<S>| {
                let payload = T::from_event(ctx.event())?.clone();
                Some(boxed(handler(ctx, payload)))
            }),
        }
    }

    /// Listens for events by wire type name, including types this version does not know
    /// (they arrive as [`Event::Unknown`] with their raw data).
    ///
    /// ```
    /// use lag_bot::{Ctx, Listener, events::Event};
    ///
    /// let audit = Listener::of_type("galaxy.exploded", |_ctx: Ctx, event: Event| async move {
    ///     println!("{event:?}");
    /// });
    /// assert_eq!(audit.event_type(), Some("galaxy.exploded"));
    /// ```
    pub fn of_type<F, Fut>(event_type: impl Into<Cow<'static, str>>, handler: F) -> Self
    where
        F: Fn(Ctx<S>, Event) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReply,
    {
        let event_type = event_type.into();
        let wanted = event_type.clone();
        Self {
            name: event_type.clone(),
            event_type: Some(event_type),
            handler: Arc::new(move |ctx: Ctx<S>| {
                if ctx.event().event_type() != wanted {
                    return None;
                }
                let event = ctx.event().clone();
                Some(boxed(handler(ctx, event)))
            }),
        }
    }

    /// Listens for every event the robot receives.
    ///
    /// ```
    /// use lag_bot::{Ctx, Listener, events::Event};
    ///
    /// let log = Listener::any(|ctx: Ctx, event: Event| async move {
    ///     tracing::info!(id = ?ctx.event_id(), kind = event.event_type(), "event");
    /// });
    /// assert_eq!(log.event_type(), None);
    /// ```
    pub fn any<F, Fut>(handler: F) -> Self
    where
        F: Fn(Ctx<S>, Event) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReply,
    {
        Self {
            name: Cow::Borrowed("any"),
            event_type: None,
            handler: Arc::new(move |ctx: Ctx<S>| {
                let event = ctx.event().clone();
                Some(boxed(handler(ctx, event)))
            }),
        }
    }
}

impl<S> Listener<S> {
    /// Names the listener, for logs, metrics and the error hook (the default is the event
    /// type). `#[on]` uses the function's name.
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The listener's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wire type it listens for; `None` for [`Listener::any`].
    pub fn event_type(&self) -> Option<&str> {
        self.event_type.as_deref()
    }

    /// Whether the listener wants `event`.
    pub(crate) fn wants(&self, event: &Event) -> bool {
        self.event_type
            .as_deref()
            .is_none_or(|wanted| wanted == event.event_type())
    }

    /// Starts the handler for the event in `ctx`; `None` when the event is not its kind.
    pub(crate) fn start(&self, ctx: Ctx<S>) -> Option<Run> {
        Some(Run::new(self.name.clone(), (self.handler)(ctx)?))
    }
}

impl<S> Clone for Listener<S> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            event_type: self.event_type.clone(),
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<S> fmt::Debug for Listener<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("name", &self.name)
            .field("event_type", &self.event_type)
            .finish_non_exhaustive()
    }
}
