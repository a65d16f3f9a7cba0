//! The dispatcher: takes deliveries from any transport, deduplicates them, gives a member's
//! answers to the conversation waiting for them, finishes at once those no handler wants,
//! holds the rest in a bounded queue, and runs their handlers in per-room order with contained
//! failures.

use std::any::Any;
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, join_all};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use super::error_hook::{ErrorContext, ErrorHook};
use super::handlers::Handlers;
use super::ignore::ignore_reason;
use super::lanes::{Lanes, lane_key};
use crate::client::Client;
use crate::command::conversation::{Conversations, Release, Routed, Talk};
use crate::command::lookup::{Action, Me};
use crate::ctx::Ctx;
use crate::error::ConversationEnd;
use crate::events::{Envelope, Event};
use crate::metrics::Metrics;
use crate::model::RobotInfo;
use crate::reply::Run;
use crate::transport::{Admission, Claim, Dedup, Delivery, Handled, Intake, Offer, OnStoreError};
use crate::{Error, ErrorKind};

/// What every handler run needs, shared by all of them.
pub(crate) struct Shared<S> {
    pub(crate) state: Arc<S>,
    pub(crate) client: Client,
    pub(crate) me: Arc<RobotInfo>,
    pub(crate) handlers: Handlers<S>,
    pub(crate) error_hook: ErrorHook<S>,
    pub(crate) allow_robots: bool,
    pub(crate) handler_permits: Arc<Semaphore>,
    pub(crate) metrics: Metrics,
    /// The conversations waiting for a member's answer.
    pub(crate) conversations: Arc<Conversations>,
    /// The key-value store handlers reach with `Ctx::kv`.
    pub(crate) kv: crate::kv::Kv,
    /// What the test kit watches.
    #[cfg(feature = "testing")]
    pub(crate) probe: Option<Arc<super::probe::Probe>>,
}

struct Job {
    transport: &'static str,
    envelope: Envelope,
    plan: Plan,
    _slot: OwnedSemaphorePermit,
    done: Option<oneshot::Sender<Handled>>,
}

/// What an arriving event is to the robot, decided from the event alone.
enum Arrival {
    /// The robot ignores it (its own message, another robot's).
    Ignored,
    /// No handler wants it; a conversation waiting for its sender may still take it.
    Unwanted,
    /// Handlers want it: it waits for its turn in its room's lane.
    Wanted(Plan),
}

/// What an event asks of the handlers, decided where it arrives, before it waits in its lane.
enum Plan {
    /// These commands and pattern listeners, and the listeners of its type.
    Actions(Vec<Action>),
    /// Deciding panicked (a defect): reported to the error hook when its turn comes.
    Panicked(String),
}

/// What an event starts, decided in its lane before any task is spawned.
enum Start<S> {
    /// No handler started after all: finished at once.
    Nothing,
    /// Choosing its handlers panicked: reported to the error hook.
    Panicked(Error, Ctx<S>),
    /// These handlers run, with this context.
    Runs(Ctx<S>, Vec<Run>),
}

/// What an event holds until it is finished.
struct Finish {
    envelope: Arc<Envelope>,
    _slot: OwnedSemaphorePermit,
    done: Option<oneshot::Sender<Handled>>,
}

/// Feeds deliveries to handlers. The queue is a semaphore of `capacity` slots: a delivery that
/// starts handlers holds a slot from acceptance until they finished, so "full" and "drained"
/// are exact.
pub(crate) struct Dispatcher<S> {
    shared: Arc<Shared<S>>,
    dedup: Dedup,
    slots: Arc<Semaphore>,
    capacity: u32,
    /// Set once by [`close`](Self::close); read on every delivery.
    closed: AtomicBool,
    lanes: Lanes<Job>,
    tracker: TaskTracker,
}

impl<S: Send + Sync + 'static> Dispatcher<S> {
    pub(crate) fn new(shared: Shared<S>, dedup: Dedup, capacity: u32) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS as u32);
        let shared = Arc::new(shared);
        let tracker = TaskTracker::new();
        let for_lanes = Arc::clone(&shared);
        let for_handlers = tracker.clone();
        let lanes = Lanes::new(tracker.clone(), move |job: Job| {
            let shared = Arc::clone(&for_lanes);
            let tracker = for_handlers.clone();
            Box::pin(async move { shared.handle(job, &tracker).await }) as BoxFuture<'static, ()>
        });
        Self {
            shared,
            dedup,
            slots: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            closed: AtomicBool::new(false),
            lanes,
            tracker,
        }
    }

    /// What every handler run shares; jobs run with it too.
    pub(crate) fn shared(&self) -> Arc<Shared<S>> {
        Arc::clone(&self.shared)
    }

    /// Stops taking deliveries that may be refused (webhook). Deliveries already taken from Lag
    /// (SSE, poll) are still accepted until [`drain`](Self::drain).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Waits until every accepted delivery has finished. Call after [`close`](Self::close) and
    /// after the consumers stopped.
    pub(crate) async fn drain(&self) {
        self.close();
        self.shared.conversations.close();
        if let Ok(all) = self.slots.acquire_many(self.capacity).await {
            drop(all);
        }
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl<S: Send + Sync + 'static> Intake for Dispatcher<S> {
    fn offer(
        &self,
        delivery: Delivery,
        admission: Admission,
        want_done: bool,
    ) -> BoxFuture<'_, Offer> {
        Box::pin(async move {
            if admission == Admission::Now && self.is_closed() {
                return Offer::Closed;
            }
            // Decided first, from the event alone: an event no handler wants (most chat) takes
            // no place in the queue, so a queue full of a busy room's commands refuses none.
            let arrival = self.shared.arrival(&delivery.envelope);
            let slot = match (&arrival, admission) {
                (Arrival::Wanted(_), Admission::Now) => {
                    match Arc::clone(&self.slots).try_acquire_owned() {
                        Ok(slot) => Some(slot),
                        Err(_) if self.is_closed() => return Offer::Closed,
                        Err(_) => return Offer::Full,
                    }
                }
                (Arrival::Wanted(_), Admission::Wait) => {
                    match Arc::clone(&self.slots).acquire_owned().await {
                        Ok(slot) => Some(slot),
                        Err(_) => return Offer::Closed,
                    }
                }
                (Arrival::Ignored | Arrival::Unwanted, _) => None,
            };
            // Checked after taking the slot: `drain` waits for every slot, so a delivery that
            // got one before the robot closed is run before the robot stops.
            if admission == Admission::Now && self.is_closed() {
                return Offer::Closed;
            }
            let on_error = match admission {
                Admission::Now => OnStoreError::Refuse,
                Admission::Wait => OnStoreError::RunAnyway,
            };
            match self.dedup.claim(&delivery.envelope, on_error).await {
                Claim::Fresh => {}
                Claim::Duplicate => return Offer::Duplicate,
                Claim::Failed(err) => return Offer::Failed(err),
            }
            #[cfg(feature = "testing")]
            if let (Some(probe), Some(id)) = (&self.shared.probe, delivery.envelope.id()) {
                probe.received(id);
            }
            let (done, receiver) = if want_done {
                let (tx, rx) = oneshot::channel();
                (Some(tx), Some(rx))
            } else {
                (None, None)
            };
            // An answer to a waiting conversation, and an event no handler wants, finish here:
            // nothing of them waits in the room's lane or starts a task.
            let answer = !matches!(arrival, Arrival::Ignored)
                && self.shared.answers(&delivery.envelope) == Routed::Taken;
            let lane_work = match (arrival, slot) {
                (Arrival::Wanted(plan), Some(slot)) if !answer => Some((plan, slot)),
                _ => None,
            };
            let Some((plan, slot)) = lane_work else {
                #[cfg(feature = "testing")]
                if let (Some(probe), Some(id)) = (&self.shared.probe, delivery.envelope.id()) {
                    probe.finished(id, delivery.envelope.event_type());
                }
                if let Some(done) = done {
                    let _ = done.send(Handled { failed: false });
                }
                return Offer::Accepted(receiver);
            };
            self.shared.metrics.queue_depth().inc();
            let lane = lane_key(delivery.envelope.event());
            self.lanes.push(
                Some(lane),
                Job {
                    transport: delivery.transport,
                    envelope: delivery.envelope,
                    plan,
                    _slot: slot,
                    done,
                },
            );
            Offer::Accepted(receiver)
        })
    }
}

impl<S: Send + Sync + 'static> Shared<S> {
    /// Gives a member's room message to the conversation they hold there, unless it invokes
    /// a command. Only for events the robot does not ignore (see [`arrival`](Self::arrival)).
    fn answers(&self, envelope: &Envelope) -> Routed {
        let Event::RoomMessage(msg) = envelope.event() else {
            return Routed::NotAnswer;
        };
        let me = Me {
            id: &self.me.id,
            name: &self.me.name,
        };
        self.conversations.route(
            msg,
            |content| self.handlers.is_cancel(content),
            |msg| self.handlers.invokes_command(me, msg),
        )
    }

    /// What `envelope` is to the robot: ignored, wanted by no handler, or what it asks of the
    /// handlers, decided from the event alone.
    fn arrival(&self, envelope: &Envelope) -> Arrival {
        let event = envelope.event();
        if let Some(reason) = ignore_reason(event, &self.me.id, self.allow_robots) {
            tracing::debug!(event_id = envelope.id(), ?reason, "event ignored");
            return Arrival::Ignored;
        }
        let me = Me {
            id: &self.me.id,
            name: &self.me.name,
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.handlers.plan(me, event))) {
            Ok(Some(actions)) => Arrival::Wanted(Plan::Actions(actions)),
            Ok(None) => {
                tracing::trace!(event_id = envelope.id(), "no handler for this event");
                Arrival::Unwanted
            }
            Err(panic) => Arrival::Wanted(Plan::Panicked(panic_message(&*panic).to_owned())),
        }
    }

    /// Runs an event's handlers in a task of their own, and returns when they finished or
    /// when every unfinished one waits in a conversation: the room's next event may start
    /// then. The task holds the event's queue slot until the handlers finish.
    async fn handle(self: Arc<Self>, job: Job, tracker: &TaskTracker) {
        let Job {
            transport,
            envelope,
            plan,
            _slot,
            done,
        } = job;
        let envelope = Arc::new(envelope);
        let span = tracing::info_span!(
            "event",
            event_id = envelope.id(),
            event_type = envelope.event_type(),
            room_id = envelope.event().room_id(),
            transport,
        );
        let release = Arc::new(Release::new());
        #[cfg(feature = "testing")]
        if let (Some(probe), Some(id)) = (&self.probe, envelope.id()) {
            probe.running(id, &release);
        }
        let start = span.in_scope(|| self.start(&envelope, &release, plan));
        let finish = Finish {
            envelope,
            _slot,
            done,
        };
        // Listeners may decline an event of their type: then it finishes here, in the lane,
        // with no task spawned for it.
        if matches!(start, Start::Nothing) {
            self.finish(finish, false);
            return;
        }
        let for_task = Arc::clone(&release);
        let work = tracker.spawn(
            Arc::clone(&self)
                .handle_all(start, for_task, finish)
                .instrument(span),
        );
        tokio::select! {
            _ = work => {}
            () = release.released() => {}
        }
    }

    /// Starts what `plan` decided for an event: its handlers with their context, or nothing
    /// when every listener declined it.
    fn start(&self, envelope: &Arc<Envelope>, release: &Arc<Release>, plan: Plan) -> Start<S> {
        let mut ctx = Ctx::new(
            Arc::clone(&self.state),
            self.client.clone(),
            Arc::clone(&self.me),
            Arc::clone(envelope),
            self.kv.clone(),
        );
        if matches!(envelope.event(), Event::RoomMessage(_)) {
            let options = self.handlers.options();
            ctx = ctx.with_conversation(Arc::new(Talk {
                conversations: Arc::clone(&self.conversations),
                release: Arc::clone(release),
                timeout: options.conversation_timeout_length(),
                attempts: options.answer_attempt_count(),
                texts: options.texts_arc(),
            }));
        }
        let panicked = |message: &str| {
            Error::new(
                ErrorKind::Handler,
                format!("a handler panicked before it started: {message}"),
            )
        };
        let actions = match plan {
            Plan::Actions(actions) => actions,
            Plan::Panicked(message) => return Start::Panicked(panicked(&message), ctx),
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.handlers.runs(&ctx, actions))) {
            Ok(runs) if runs.is_empty() => {
                tracing::trace!("no handler started for this event");
                Start::Nothing
            }
            Ok(runs) => Start::Runs(ctx, runs),
            Err(panic) => Start::Panicked(panicked(panic_message(&*panic)), ctx),
        }
    }

    async fn handle_all(self: Arc<Self>, start: Start<S>, release: Arc<Release>, finish: Finish) {
        let failed = match start {
            Start::Nothing => false,
            Start::Panicked(error, ctx) => {
                self.report("dispatch".into(), error, true, &ctx).await;
                true
            }
            Start::Runs(ctx, runs) => {
                release.start(runs.len());
                let failures = join_all(runs.into_iter().map(|run| async {
                    let failed = self.run(&ctx, run).await;
                    release.finished();
                    failed
                }))
                .await;
                failures.into_iter().any(|failed| failed)
            }
        };
        self.finish(finish, failed);
    }

    /// The event is done: its queue slot is free, and whoever waits for it hears how it went.
    fn finish(&self, finish: Finish, failed: bool) {
        let Finish {
            envelope,
            _slot,
            done,
        } = finish;
        #[cfg(feature = "testing")]
        if let (Some(probe), Some(id)) = (&self.probe, envelope.id()) {
            probe.finished(id, envelope.event_type());
        }
        #[cfg(not(feature = "testing"))]
        drop(envelope);
        self.metrics.queue_depth().dec();
        drop(_slot);
        if let Some(done) = done {
            let _ = done.send(Handled { failed });
        }
    }

    /// Runs one handler (or job) to the end: its permit, metrics, panics and errors. `true`
    /// when it failed (an error or a panic; the end of a conversation is not a failure).
    pub(crate) async fn run(&self, ctx: &Ctx<S>, run: Run) -> bool {
        let name = run.name.clone();
        let span = tracing::info_span!("handler", handler = %name);
        async {
            let Ok(_permit) = self.handler_permits.acquire().await else {
                return false;
            };
            self.metrics.handlers_running().inc();
            let started = Instant::now();
            let finished = AssertUnwindSafe(run.finish(ctx)).catch_unwind();
            #[cfg(feature = "testing")]
            let outcome = match &self.probe {
                Some(probe) => probe.activity.run(finished).await,
                None => finished.await,
            };
            #[cfg(not(feature = "testing"))]
            let outcome = finished.await;
            self.metrics.handlers_running().dec();
            self.metrics.handler_finished(&name, started.elapsed());
            let (error, panicked) = match outcome {
                Ok(Ok(())) => return false,
                Ok(Err(error)) if error.conversation_end().is_some() => {
                    self.conversation_ended(ctx, &name, &error).await;
                    return false;
                }
                Ok(Err(error)) => (error, false),
                Err(panic) => {
                    let error = Error::new(
                        ErrorKind::Handler,
                        format!("handler `{name}` panicked: {}", panic_message(&*panic)),
                    );
                    (error, true)
                }
            };
            self.report(name.clone(), error, panicked, ctx).await;
            true
        }
        .instrument(span)
        .await
    }

    /// Tells the room that a conversation ended without an answer; not a failure.
    async fn conversation_ended(&self, ctx: &Ctx<S>, handler: &str, error: &Error) {
        let texts = self.handlers.options().text_set();
        let again = self.handlers.is_command_run(handler).then_some(handler);
        let text = match error.conversation_end() {
            Some(ConversationEnd::Cancelled) => texts.conversation_cancelled(),
            Some(ConversationEnd::TimedOut) => texts.conversation_timed_out(again),
            Some(ConversationEnd::TooManyAttempts) => texts.conversation_gave_up(again),
            _ => return,
        };
        tracing::debug!(handler, %error, "conversation ended");
        if text.is_empty() {
            return;
        }
        if let Err(error) = ctx.say(text).await {
            tracing::warn!(handler, %error, "could not say how the conversation ended");
        }
    }

    /// Gives a handler's failure to the metrics and the error hook.
    pub(crate) async fn report(
        &self,
        handler: Cow<'static, str>,
        error: Error,
        panicked: bool,
        ctx: &Ctx<S>,
    ) {
        self.metrics.handler_failed(&handler, panicked);
        #[cfg(feature = "testing")]
        if let Some(probe) = &self.probe {
            probe.failed(&handler, panicked, &error);
        }
        let context = ErrorContext::new(handler, panicked, ctx.clone());
        let hook = AssertUnwindSafe(|| (self.error_hook)(error, context));
        let report = match std::panic::catch_unwind(hook) {
            Ok(report) => report,
            Err(_) => {
                tracing::error!("the error hook panicked");
                return;
            }
        };
        if AssertUnwindSafe(report).catch_unwind().await.is_err() {
            tracing::error!("the error hook panicked");
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "a non-text panic payload"
    }
}
