//! Conversations: a handler asks a member something and waits for their next message in the
//! room, as plain sequential code.
//!
//! ```no_run
//! use lag_bot::{Ctx, Result, command};
//!
//! /// Files a report, asking what happened and where.
//! #[command("!report")]
//! async fn report(ctx: Ctx) -> Result<String> {
//!     let what = ctx.ask("What happened?").await?;
//!     let room = ctx.ask("Which room?").await?;
//!     let urgent: bool = ctx.ask_for("Is it urgent? (yes/no)").await?;
//!     Ok(format!("Thanks, filed: {what} in {room}{}.", if urgent { ", urgent" } else { "" }))
//! }
//! ```
//!
//! While a member has a conversation waiting in a room, their next message there is its answer:
//! it is not also run as a command or matched by pattern listeners, unless it invokes a command
//! explicitly (`!ping`: that command runs, and the conversation keeps waiting). The cancel word
//! (`!cancel`, see [`CommandOptions::cancel_word`]) ends the conversation, as does its timeout
//! ([`CommandOptions::conversation_timeout`], 5 minutes by default). An ended conversation is an
//! error of kind [`ErrorKind::ConversationEnded`](crate::ErrorKind::ConversationEnded): `?`
//! carries it out of the handler, and the robot answers with the [`Texts`] for how it ended
//! instead of calling the error hook.
//!
//! A member has at most one conversation waiting per room: a second `ask` for the same member
//! and room, while the first waits, fails with
//! [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) (so the first is never answered by
//! surprise). A robot holds at most 10,000 waiting conversations; each ends with its timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use super::args::Args;
use super::from_arg::FromArg;
use super::texts::Texts;
use crate::clock::{Clock, IdleMark};
use crate::ctx::Ctx;
use crate::error::{ConversationEnd, Error, ErrorKind, Result};
use crate::events::RoomMessage;

/// How many conversations may wait at once, robot-wide.
const MAX_WAITING: usize = 10_000;

type Filter = Box<dyn Fn(&RoomMessage) -> bool + Send + Sync>;

/// The conversations waiting for an answer, by room and member.
pub(crate) struct Conversations {
    waiting: Mutex<HashMap<(String, String), Waiter>>,
    /// How many wait, read without the lock so that messages outside conversations pay nothing.
    count: AtomicUsize,
    next_id: AtomicU64,
    clock: Clock,
    closed: std::sync::atomic::AtomicBool,
}

struct Waiter {
    id: u64,
    filter: Option<Filter>,
    answer: oneshot::Sender<Answer>,
    /// Held from the moment the question is out until the waiter leaves the map, so that the
    /// handler stops counting as waiting (and as idle) the moment an answer is taken, not when
    /// it wakes.
    parked: Option<(Waiting, IdleMark)>,
}

enum Answer {
    Message(Box<RoomMessage>),
    Ended(ConversationEnd),
}

/// What a message means to the conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routed {
    /// No conversation wanted it: route it as usual.
    NotAnswer,
    /// It answered (or cancelled) a conversation: it is done.
    Taken,
}

impl Conversations {
    /// No conversations yet; their timeouts run on `clock`.
    pub(crate) fn new(clock: Clock) -> Self {
        Self {
            waiting: Mutex::default(),
            count: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            clock,
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn waiting(&self) -> MutexGuard<'_, HashMap<(String, String), Waiter>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `msg` to the conversation its author holds in its room, if any: `cancel` ends
    /// it; a message that `invokes_command` is left to be routed (the conversation keeps
    /// waiting); any other message that passes the conversation's filter answers it.
    pub(crate) fn route(
        &self,
        msg: &RoomMessage,
        cancel: impl FnOnce(&str) -> bool,
        invokes_command: impl FnOnce(&RoomMessage) -> bool,
    ) -> Routed {
        if self.count.load(Ordering::SeqCst) == 0 {
            return Routed::NotAnswer;
        }
        let Some(sender) = &msg.sender_id else {
            return Routed::NotAnswer;
        };
        let key = (msg.room_id.clone(), sender.clone());
        let mut waiting = self.waiting();
        let Some(waiter) = waiting.get(&key) else {
            return Routed::NotAnswer;
        };
        let answer = if cancel(&msg.content) {
            Answer::Ended(ConversationEnd::Cancelled)
        } else if invokes_command(msg) || waiter.filter.as_ref().is_some_and(|f| !f(msg)) {
            return Routed::NotAnswer;
        } else {
            Answer::Message(Box::new(msg.clone()))
        };
        if let Some(waiter) = waiting.remove(&key) {
            self.count.fetch_sub(1, Ordering::SeqCst);
            let _ = waiter.answer.send(answer);
        }
        Routed::Taken
    }

    /// Ends every waiting conversation and refuses new ones: the robot is stopping.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let mut waiting = self.waiting();
        for (_, waiter) in waiting.drain() {
            let _ = waiter.answer.send(Answer::Ended(ConversationEnd::Stopped));
        }
        self.count.store(0, Ordering::SeqCst);
    }

    fn register(
        self: &Arc<Self>,
        room: &str,
        member: &str,
        filter: Option<Filter>,
    ) -> Result<Registration> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::conversation_ended(ConversationEnd::Stopped));
        }
        let key = (room.to_owned(), member.to_owned());
        let mut waiting = self.waiting();
        if waiting.contains_key(&key) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("member {member} already has a conversation waiting in room {room}"),
            ));
        }
        if waiting.len() >= MAX_WAITING {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("{MAX_WAITING} conversations are already waiting"),
            ));
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (answer, receiver) = oneshot::channel();
        waiting.insert(
            key.clone(),
            Waiter {
                id,
                filter,
                answer,
                parked: None,
            },
        );
        self.count.fetch_add(1, Ordering::SeqCst);
        Ok(Registration {
            conversations: Arc::clone(self),
            key,
            id,
            receiver: Some(receiver),
        })
    }
}

impl Registration {
    /// The question is out: the handler now only waits for the answer (or its timeout), and
    /// counts as waiting in `release` until the answer is taken.
    fn park(&self, release: &Arc<Release>) {
        let idle = self.conversations.clock.mark_idle();
        let mut waiting = self.conversations.waiting();
        if let Some(waiter) = waiting.get_mut(&self.key).filter(|w| w.id == self.id) {
            waiter.parked = Some((release.waits(), idle));
        }
    }
}

/// A registered conversation; dropping it (a timeout, a dropped handler) takes it back.
struct Registration {
    conversations: Arc<Conversations>,
    key: (String, String),
    id: u64,
    receiver: Option<oneshot::Receiver<Answer>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut waiting = self.conversations.waiting();
        if waiting.get(&self.key).is_some_and(|w| w.id == self.id) {
            waiting.remove(&self.key);
            self.conversations.count.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Lets an event's room lane go on once every unfinished handler of the event waits in a
/// conversation (or all finished), so that a conversation never holds up its room.
#[derive(Debug)]
pub(crate) struct Release {
    /// Handlers of the event still running.
    unfinished: AtomicUsize,
    /// Of those, how many wait for an answer.
    waiting: AtomicUsize,
    notify: Notify,
}

impl Release {
    /// An event whose handlers are not known yet: it holds its lane until they are.
    pub(crate) fn new() -> Self {
        Self {
            unfinished: AtomicUsize::new(1),
            waiting: AtomicUsize::new(0),
            notify: Notify::new(),
        }
    }

    /// The event has `runs` handlers.
    pub(crate) fn start(&self, runs: usize) {
        self.unfinished.store(runs, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// A handler of the event finished.
    pub(crate) fn finished(&self) {
        self.unfinished.fetch_sub(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn waits(self: &Arc<Self>) -> Waiting {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
        Waiting(Arc::clone(self))
    }

    /// Whether the event's handlers have started and every unfinished one waits for an
    /// answer: nothing more happens for the event until a member speaks or time passes.
    #[cfg(feature = "testing")]
    pub(crate) fn parked(&self) -> bool {
        // `unfinished` only falls once the handlers started, so reading it first makes a
        // `true` here true at the moment `waiting` was read.
        let unfinished = self.unfinished.load(Ordering::SeqCst);
        unfinished > 0 && self.waiting.load(Ordering::SeqCst) >= unfinished
    }

    /// Resolves once every unfinished handler waits in a conversation.
    pub(crate) async fn released(&self) {
        loop {
            let notified = self.notify.notified();
            if self.waiting.load(Ordering::SeqCst) >= self.unfinished.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

/// A handler waiting for an answer.
struct Waiting(Arc<Release>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a room message's handlers need to hold conversations.
pub(crate) struct Talk {
    pub(crate) conversations: Arc<Conversations>,
    pub(crate) release: Arc<Release>,
    pub(crate) timeout: Duration,
    pub(crate) attempts: u32,
    pub(crate) texts: Arc<dyn Texts>,
}

impl<S> Ctx<S> {
    fn talk(&self) -> Result<&Talk> {
        self.conversation()
            .and_then(|talk| talk.downcast_ref::<Talk>())
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "cannot hold a conversation in a handler of a `{}` event; conversations \
                     answer room messages",
                    self.event().event_type()
                ))
            })
    }

    /// The room and member of the message being handled.
    fn partner(&self) -> Result<(String, String)> {
        let msg = self.message().ok_or_else(|| {
            Error::invalid_input("cannot hold a conversation without a message to answer")
        })?;
        let sender = msg.sender_id.clone().ok_or_else(|| {
            Error::invalid_input("cannot hold a conversation with a message that has no sender")
        })?;
        Ok((msg.room_id.clone(), sender))
    }

    /// Posts `question` in the room and waits for the member's next message there (within
    /// the robot's [conversation timeout](super::CommandOptions::conversation_timeout));
    /// returns its text, trimmed.
    ///
    /// A dialogue is plain sequential code: ask, then ask again. While the member has a
    /// conversation waiting in the room, their next message there is its answer and starts
    /// nothing else, unless it invokes a command explicitly (that command runs, and the
    /// conversation keeps waiting). The cancel word
    /// ([`CommandOptions::cancel_word`](super::CommandOptions::cancel_word), `!cancel`) ends
    /// it. An ended conversation is an error that `?` carries out of the handler: the robot
    /// answers in the room ("Cancelled.", "No answer in time; start again with `!report`.",
    /// worded by [`Texts`]) and does not call the error hook. The waiting handler does not hold
    /// up its room: other members' messages, and this member's in other rooms, are handled
    /// meanwhile. A member has at most one conversation waiting per room.
    ///
    /// ```no_run
    /// use lag_bot::{Ctx, Result, command};
    ///
    /// /// Files a report.
    /// #[command("!report")]
    /// async fn report(ctx: Ctx) -> Result<String> {
    ///     let what = ctx.ask("What happened?").await?;
    ///     let room = ctx.ask("Which room?").await?;
    ///     Ok(format!("Thanks, filed: {what} in {room}."))
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ConversationEnded`] when the member
    /// cancels, the time runs out, or the robot stops; [`ErrorKind::Conflict`] when the
    /// member already has a conversation waiting in the room; the error of posting the
    /// question; [`ErrorKind::InvalidInput`] in a handler of
    /// anything but a member's room message.
    pub async fn ask(&self, question: impl Into<String>) -> Result<String> {
        let timeout = self.talk()?.timeout;
        let answer = self.converse(Some(question.into()), None, timeout).await?;
        Ok(answer.content.trim().to_owned())
    }

    /// Like [`ask`](Self::ask), and parses the answer as a command argument of type `T` (the
    /// whole answer must be one `T`). A refused answer is asked again with what was wrong, up
    /// to the robot's [answer attempts](super::CommandOptions::answer_attempts) in all.
    ///
    /// ```no_run
    /// # async fn handler(ctx: lag_bot::Ctx) -> lag_bot::Result<()> {
    /// let count: u32 = ctx.ask_for("How many strikes?").await?;
    /// // alice: many    Helper: `many` is not a whole number
    /// //                        How many strikes?
    /// // alice: 2       (count is 2)
    /// # let _ = count;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ask`](Self::ask), and
    /// [`ConversationEnd::TooManyAttempts`] when every attempt was refused.
    pub async fn ask_for<T: FromArg>(&self, question: impl Into<String>) -> Result<T> {
        let talk = self.talk()?;
        let (timeout, attempts, texts) = (talk.timeout, talk.attempts, Arc::clone(&talk.texts));
        let question = question.into();
        let mut asking = question.clone();
        for _ in 0..attempts.max(1) {
            let answer = self.converse(Some(asking), None, timeout).await?;
            let mut args = Args::with_mentions(answer.content.trim(), answer.mentions);
            let parsed = T::from_arg(&mut args).and_then(|value| {
                args.finish()?;
                Ok(value)
            });
            match parsed {
                Ok(value) => return Ok(value),
                Err(error) => asking = texts.ask_again(&error, &question),
            }
        }
        Err(Error::conversation_ended(ConversationEnd::TooManyAttempts))
    }

    /// Waits, without asking anything, for the member's next message in the room that
    /// `filter` accepts, for up to `timeout` (the robot's
    /// [conversation timeout](super::CommandOptions::conversation_timeout) when `None`).
    /// Messages the filter refuses are routed as usual.
    ///
    /// ```no_run
    /// # async fn handler(ctx: lag_bot::Ctx) -> lag_bot::Result<()> {
    /// use std::time::Duration;
    /// ctx.say("Delete all 40 strikes of @carol? (yes/no)").await?;
    /// let answer = ctx
    ///     .next_message(
    ///         |m| matches!(m.content.trim(), "yes" | "no"),
    ///         Some(Duration::from_secs(60)),
    ///     )
    ///     .await?;
    /// # let _ = answer;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ask`](Self::ask).
    pub async fn next_message(
        &self,
        filter: impl Fn(&RoomMessage) -> bool + Send + Sync + 'static,
        timeout: Option<Duration>,
    ) -> Result<RoomMessage> {
        let timeout = match timeout {
            Some(timeout) => timeout,
            None => self.talk()?.timeout,
        };
        self.converse(None, Some(Box::new(filter)), timeout).await
    }

    async fn converse(
        &self,
        question: Option<String>,
        filter: Option<Filter>,
        timeout: Duration,
    ) -> Result<RoomMessage> {
        let talk = self.talk()?;
        let (room, member) = self.partner()?;
        // Registered before the question is posted, so that no answer can come first.
        let mut registration = talk.conversations.register(&room, &member, filter)?;
        if let Some(question) = question {
            self.send(&room, question).await?;
        }
        let Some(receiver) = registration.receiver.take() else {
            return Err(Error::conversation_ended(ConversationEnd::Stopped));
        };
        // Parked, the handler counts as idle until its waiter leaves: an answer taken makes it
        // busy at once, before it wakes, so that the test kit never moves time meanwhile.
        registration.park(&talk.release);
        let clock = &talk.conversations.clock;
        let answer = tokio::select! {
            answer = receiver => answer.ok(),
            () = clock.sleep_unmarked(timeout) => Some(Answer::Ended(ConversationEnd::TimedOut)),
        };
        match answer {
            Some(Answer::Message(message)) => Ok(*message),
            Some(Answer::Ended(end)) => Err(Error::conversation_ended(end)),
            None => Err(Error::conversation_ended(ConversationEnd::Stopped)),
        }
    }
}

/// Whether `content` is the cancel word `word`.
pub(crate) fn is_cancel_word(content: &str, word: &str, case_insensitive: bool) -> bool {
    let content = content.trim();
    if case_insensitive {
        content.eq_ignore_ascii_case(word) || content.to_lowercase() == word.to_lowercase()
    } else {
        content == word
    }
}
