use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::Error;
use crate::ctx::Ctx;

pub(crate) type ErrorHook<S> =
    Arc<dyn Fn(Error, ErrorContext<S>) -> BoxFuture<'static, ()> + Send + Sync>;

/// Where a handler failure happened, given to the robot's error hook with the error.
///
/// It names the handler, tells whether it panicked, and carries the handler's [`Ctx`], so the
/// hook can log the event, or tell the room that something went wrong.
///
/// ```no_run
/// use lag_bot::{Robot, ErrorContext, Error};
///
/// # fn build() -> lag_bot::Result<()> {
/// let robot = Robot::from_env()?.on_error(|error: Error, cx: ErrorContext| async move {
///     tracing::error!(handler = cx.handler(), event = ?cx.event_id(), %error, "handler failed");
///     if cx.room_id().is_some() {
///         let _ = cx.ctx().say("Sorry, that went wrong.").await;
///     }
/// });
/// # Ok(())
/// # }
/// ```
pub struct ErrorContext<S = ()> {
    handler: Cow<'static, str>,
    panicked: bool,
    ctx: Ctx<S>,
}

impl<S> ErrorContext<S> {
    pub(crate) fn new(handler: Cow<'static, str>, panicked: bool, ctx: Ctx<S>) -> Self {
        Self {
            handler,
            panicked,
            ctx,
        }
    }

    /// The failed handler's name: a listener's name, a command's trigger as written (`!roll`,
    /// `!help` for the built-in help), or a pattern listener's name.
    pub fn handler(&self) -> &str {
        &self.handler
    }

    /// Whether the handler panicked (the panic was contained; the robot keeps running).
    pub fn panicked(&self) -> bool {
        self.panicked
    }

    /// The context the handler ran with.
    pub fn ctx(&self) -> &Ctx<S> {
        &self.ctx
    }

    /// The delivery id of the event being handled.
    pub fn event_id(&self) -> Option<&str> {
        self.ctx.event_id()
    }

    /// The event's wire type.
    pub fn event_type(&self) -> &str {
        self.ctx.event().event_type()
    }

    /// The event's room, when it has one.
    pub fn room_id(&self) -> Option<&str> {
        self.ctx.room_id()
    }
}

impl<S> fmt::Debug for ErrorContext<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorContext")
            .field("handler", &self.handler)
            .field("panicked", &self.panicked)
            .field("event_id", &self.event_id())
            .field("event_type", &self.event_type())
            .field("room_id", &self.room_id())
            .finish()
    }
}

/// The default hook: one error-level log line with the whole context.
pub(crate) fn log_error<S: Send + Sync + 'static>() -> ErrorHook<S> {
    Arc::new(|error: Error, cx: ErrorContext<S>| {
        tracing::error!(
            handler = cx.handler(),
            panicked = cx.panicked(),
            event_id = cx.event_id(),
            event_type = cx.event_type(),
            room_id = cx.room_id(),
            %error,
            "handler failed"
        );
        Box::pin(async {})
    })
}
