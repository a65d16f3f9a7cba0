//! The one path from a handler's return value to messages in a room, for every kind of
//! handler: commands, pattern listeners and event listeners.
//!
//! A handler returns nothing, text, a [`Reply`], or a `Result` of those ([`IntoReply`]). The
//! robot turns that into messages the same way whoever returned it: text longer than one Lag
//! message (2000 characters) is cut into several, in order, at line breaks or spaces; a
//! [`Reply::reply`] threads its first part under the triggering message; [`Reply::in_room`]
//! posts elsewhere; and an `Err` goes to the robot's error hook with the handler's name.

mod send;

use std::borrow::Cow;

use futures_util::future::BoxFuture;

use crate::ctx::Ctx;
use crate::error::{BoxError, Error, Result};

pub(crate) use send::send;

/// A message a handler sends back, built from its return value.
///
/// Plain text (`String`, `&str`) becomes [`Reply::say`]: a message in the room the command came
/// from. `Reply` adds the other choices: answer as a reply to the triggering message, or post
/// in another room. Text longer than one Lag message (2000 characters) is sent as several.
///
/// ```
/// use lag_bot::Reply;
///
/// let reply = Reply::reply("rolled a 4");
/// assert_eq!(reply.content(), "rolled a 4");
/// assert!(reply.is_reply());
///
/// let notice = Reply::say("someone asked for help").in_room("room_modlog");
/// assert_eq!(notice.room_id(), Some("room_modlog"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    content: String,
    reply: bool,
    room_id: Option<String>,
}

impl Reply {
    /// A message in the room the command came from.
    pub fn say(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            reply: false,
            room_id: None,
        }
    }

    /// A reply to the message that triggered the handler, in its room.
    #[expect(clippy::self_named_constructors, reason = "mirrors `Ctx::reply`")]
    pub fn reply(content: impl Into<String>) -> Self {
        Self {
            reply: true,
            ..Self::say(content)
        }
    }

    /// Posts in `room_id` instead (a plain message: Lag only threads replies within a room).
    pub fn in_room(mut self, room_id: impl Into<String>) -> Self {
        self.room_id = Some(room_id.into());
        self.reply = false;
        self
    }

    /// The text.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// Whether it answers the triggering message as a reply.
    pub fn is_reply(&self) -> bool {
        self.reply
    }

    /// The room it goes to, when not the triggering message's room.
    pub fn room_id(&self) -> Option<&str> {
        self.room_id.as_deref()
    }
}

/// A handler's return value, turned into the message to send (if any).
///
/// Implemented for `()` (nothing), `String`, `&str` and `Cow<str>` (a message in the same room;
/// blank text sends nothing), [`Reply`], `Option<T>` and `Result<T, E>` for any of those, where
/// `E` is [`Error`] or any error type: an `Err` goes to the robot's error hook.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a lag-bot handler",
    label = "handlers return `()`, text, a `Reply`, or a `Result` of those",
    note = "return `()` to send nothing, a `String`/`&str`/`Reply` to answer, or `lag_bot::Result<_>` to report errors"
)]
pub trait IntoReply {
    /// The message to send, or `None`.
    ///
    /// # Errors
    ///
    /// The handler's own error, for the robot's error hook.
    fn into_reply(self) -> Result<Option<Reply>>;
}

impl IntoReply for () {
    fn into_reply(self) -> Result<Option<Reply>> {
        Ok(None)
    }
}

impl IntoReply for Reply {
    fn into_reply(self) -> Result<Option<Reply>> {
        Ok((!self.content.trim().is_empty()).then_some(self))
    }
}

impl IntoReply for String {
    fn into_reply(self) -> Result<Option<Reply>> {
        Reply::say(self).into_reply()
    }
}

impl IntoReply for &str {
    fn into_reply(self) -> Result<Option<Reply>> {
        Reply::say(self).into_reply()
    }
}

impl IntoReply for Cow<'_, str> {
    fn into_reply(self) -> Result<Option<Reply>> {
        Reply::say(self).into_reply()
    }
}

impl<T: IntoReply> IntoReply for Option<T> {
    fn into_reply(self) -> Result<Option<Reply>> {
        self.map_or(Ok(None), IntoReply::into_reply)
    }
}

impl<T, E> IntoReply for std::result::Result<T, E>
where
    T: IntoReply,
    E: Into<BoxError>,
{
    fn into_reply(self) -> Result<Option<Reply>> {
        self.map_err(into_error)?.into_reply()
    }
}

/// What a started handler produces: the reply to send, if any.
pub(crate) type ReplyFuture = BoxFuture<'static, Result<Option<Reply>>>;

/// Boxes a handler's future, turning what it returns into the reply to send.
pub(crate) fn boxed<Fut>(future: Fut) -> ReplyFuture
where
    Fut: std::future::Future + Send + 'static,
    Fut::Output: IntoReply,
{
    Box::pin(async move { future.await.into_reply() })
}

/// One handler started for an event: its name (for logs, metrics and the error hook) and the
/// future that yields its reply.
pub(crate) struct Run {
    pub(crate) name: Cow<'static, str>,
    pub(crate) future: ReplyFuture,
}

impl Run {
    pub(crate) fn new(name: impl Into<Cow<'static, str>>, future: ReplyFuture) -> Self {
        Self {
            name: name.into(),
            future,
        }
    }

    /// A run that only answers with `reply` (a usage error, a suggestion).
    pub(crate) fn answer(name: impl Into<Cow<'static, str>>, reply: Reply) -> Self {
        Self::new(name, Box::pin(async move { Ok(Some(reply)) }))
    }

    /// Runs the handler to the end and sends what it returned.
    pub(crate) async fn finish<S>(self, ctx: &Ctx<S>) -> Result<()> {
        match self.future.await? {
            Some(reply) => send(ctx, reply).await,
            None => Ok(()),
        }
    }
}

/// Keeps a lag-bot [`Error`] as it is; wraps anything else as a handler error.
pub(crate) fn into_error(error: impl Into<BoxError>) -> Error {
    match error.into().downcast::<Error>() {
        Ok(error) => *error,
        Err(other) => Error::handler(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn text_becomes_a_message_in_the_same_room() {
        let reply = "pong".into_reply().unwrap().unwrap();
        assert_eq!(reply, Reply::say("pong"));
        assert_eq!(
            String::from("x").into_reply().unwrap().unwrap().content(),
            "x"
        );
        assert!(!reply.is_reply());
        assert_eq!(reply.room_id(), None);
    }

    #[test]
    fn nothing_and_blank_send_nothing() {
        assert_eq!(().into_reply().unwrap(), None);
        assert_eq!("  \n".into_reply().unwrap(), None);
        assert_eq!(None::<String>.into_reply().unwrap(), None);
    }

    #[test]
    fn in_room_drops_the_reply_thread() {
        let reply = Reply::reply("x").in_room("room_2");
        assert!(!reply.is_reply());
        assert_eq!(reply.room_id(), Some("room_2"));
    }

    #[test]
    fn errors_keep_their_kind_or_become_handler_errors() {
        let ours: Result<&str> = Err(Error::new(ErrorKind::NotFound, "gone"));
        assert_eq!(ours.into_reply().unwrap_err().kind(), &ErrorKind::NotFound);
        let theirs: std::result::Result<String, std::io::Error> =
            Err(std::io::Error::other("disk"));
        let err = theirs.into_reply().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Handler);
        assert_eq!(err.message(), "disk");
        let text: std::result::Result<(), String> = Err("plain".into());
        assert_eq!(text.into_reply().unwrap_err().message(), "plain");
        let ok: std::result::Result<Option<Reply>, Error> = Ok(Some(Reply::reply("hi")));
        assert!(ok.into_reply().unwrap().unwrap().is_reply());
    }
}
