//! The test kit: test a robot as you would a function, against a real local Lag.
//!
//! Enable the `testing` feature for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! lag-bot = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! # Testing your robot
//!
//! A [`Kit`] starts a local Lag (lag-sim, in the test's process) with the demo server, and
//! your robot connected to it over a real transport: real HTTP on loopback, signed webhooks,
//! the paced client, the dispatcher, all as in production. The test acts as the members and
//! checks what the robot does:
//!
//! ```
//! use lag_bot::testing::Kit;
//! use lag_bot::{Ctx, command};
//!
//! /// Answers "pong".
//! #[command("!ping")]
//! async fn ping(_ctx: Ctx) -> &'static str {
//!     "pong"
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> lag_bot::Result<()> {
//! // In a test: #[tokio::test] async fn answers_ping() -> lag_bot::Result<()> { ... }
//! let kit = Kit::start(|lag| Ok(lag.build()?.command(ping()))).await?;
//! let alice = kit.member("alice");
//!
//! alice.say("!ping");
//! kit.reply().await.assert_text("pong");
//!
//! alice.say("ping without the bang");
//! kit.no_reply().await;
//! kit.stop().await
//! # }
//! ```
//!
//! [`Kit::start`] takes a function from a [`RobotBuilder`] (already pointed at the local Lag)
//! to your robot. Write your robot's setup as such a function, and `main` and the tests share
//! it: `main` passes `Robot::builder()` and the tests let the kit pass its own. Leave the key,
//! the URL and the transport to the builder you are given (`build_from_env` keeps them);
//! choose the transport with [`KitBuilder::via`].
//!
//! ```
//! use lag_bot::{Robot, RobotBuilder};
//!
//! pub struct Greetings { pub room: String }
//!
//! /// The robot, as `main` and the tests build it.
//! pub fn robot(lag: RobotBuilder) -> lag_bot::Result<Robot<Greetings>> {
//!     let robot = lag.state(Greetings { room: "welcome".into() }).build_from_env()?;
//!     Ok(robot /* .command(...).on(...) */)
//! }
//!
//! // main:  robot(Robot::builder())?.run().await
//! // tests: Kit::start(robot).await?
//! ```
//!
//! ## Acting as members
//!
//! [`Kit::member`] gives a [`Member`] of the demo server (`alice` owns it, `bob` is an admin,
//! `carol` is a member) and [`Kit::join`] a newcomer. Members [`say`](Member::say),
//! [`reply_to`](Member::reply_to), [`edit`](Member::edit) and [`delete`](Member::delete)
//! messages, [`leave`](Member::leave), join and leave voice, change status and role, and create
//! rooms. They act in `#general` unless moved with [`in_room`](Member::in_room). The rooms are
//! `general`, `welcome` and `mod-log`.
//!
//! ## Expecting
//!
//! - [`reply`](Kit::reply): the robot's next message in the room a member last spoke in
//!   ([`reply_in`](Kit::reply_in) for another room), returned as a [`Message`] with
//!   assertions ([`assert_text`](Message::assert_text), [`assert_like`](Message::assert_like)
//!   with `*` for any text, [`assert_reply_to`](Message::assert_reply_to), ...). Replies are
//!   taken in order: each call returns the next one.
//! - [`no_reply`](Kit::no_reply): the robot handled everything and said nothing more there.
//! - [`replies`](Kit::replies): everything the robot said there, once it handled everything,
//!   for a conversation checked as a whole.
//! - [`deleted`](Kit::deleted): a message was deleted.
//! - [`received`](Kit::received): the robot has handled an event of a given type, returned
//!   typed (`kit.received::<MemberJoin>()`).
//!
//! The kit knows when the robot is done: it sees every event Lag queued for the robot and
//! every event the robot's dispatcher finished. So `no_reply` is exact, not a guess after a
//! pause, and an expected reply that cannot come any more fails at once. A failing expectation
//! panics with the server's transcript (who said what, in order), the robot's latest handler
//! errors and the deliveries Lag could not make. Nothing waits longer than the kit's patience
//! ([`KitBuilder::patience`], 5 s of real time by default).
//!
//! ## Simulated time
//!
//! The robot and the local Lag share one simulated clock, a [`ManualClock`].
//! It drives what a robot waits on: command cooldowns, the pacing of outgoing calls under Lag's
//! rate limits (and Lag's own windows), the client's retry waits and Lag's webhook retry
//! schedule. It moves only in two ways:
//!
//! - [`Kit::advance`] moves it by as much as the test says: a ten-minute cooldown is over at
//!   once.
//! - While an expectation waits and the robot has nothing left to do but wait on the clock
//!   (a reply paced behind Lag's message limit, a webhook retry), the kit moves it to the
//!   moment the earliest waiter wants. Thirty replies under a limit of ten messages per ten
//!   seconds take twenty simulated seconds and a few milliseconds.
//!
//! Everything else stays real: connection timeouts, keepalives, and the timestamps Lag writes
//! on messages and signatures. Stores of your own ([`CooldownStore`](crate::command::CooldownStore),
//! [`RateLimiter`](crate::client::RateLimiter)) read their own clock; the in-memory ones the
//! robot uses by default follow the kit's.
//!
//! ## Transcripts
//!
//! A conversation can live in a text file, replayed and checked by [`Kit::transcript`] or
//! [`Kit::transcript_file`]:
//!
//! ```text
//! // Rolling dice (lines starting with // are comments).
//! alice: !roll 6
//! Helper: You rolled * (1-6).
//! alice: !roll
//! Helper: Usage: !roll <sides>
//! ```
//!
//! See [`Transcript`] for the syntax. A mismatch panics with a diff of what was expected
//! against what happened.
//!
//! ## Many kits at once
//!
//! Each kit has its own local Lag on a free port, its own clock and its own robot, and no
//! global state: tests that use kits run in parallel in one test binary.

mod builder;
mod member;
mod message;
mod transcript;
mod watch;
mod witness;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use lag_sim::{Demo, EventType, ManualClock, Sim};

pub use builder::{KitBuilder, Via};
pub use member::Member;
pub use message::Message;
pub use transcript::Transcript;

use watch::{Record, data_text};

use crate::events::{Event, EventPayload};
use crate::robot::probe::Probe;
use crate::{Client, Result, Robot, RobotBuilder, RobotHandle};

/// How long an expectation waits, in real time, unless told otherwise.
const PATIENCE: Duration = Duration::from_secs(5);

/// How long the kit lets nothing happen before it moves simulated time to the next waiter.
const STEP: Duration = Duration::from_millis(2);

/// How long a robot that has handled everything, with nothing scheduled, may stay silent before
/// an expected reply fails: room for work a handler spawned on its own.
const GRACE: Duration = Duration::from_millis(100);

/// A robot under test, connected to a local Lag in this process. See the [module docs](self).
///
/// Dropping a kit stops its robot and its local Lag; [`stop`](Self::stop) does it gracefully
/// and reports how the robot ended.
pub struct Kit {
    sim: Sim,
    demo: Demo,
    clock: ManualClock,
    probe: Arc<Probe>,
    record: Record,
    handle: Option<RobotHandle>,
    robot_name: String,
    patience: Duration,
    cursors: Mutex<Cursors>,
}

/// Where the expectations are in the world's history.
struct Cursors {
    /// The room a member last spoke in.
    room: Option<String>,
    /// Per room id: where the next reply is looked for in the record.
    read: HashMap<String, usize>,
    /// How many of the events the robot finished `received` has looked at.
    received: usize,
    /// Where transcripts look for the robot's next messages, in any room.
    all: usize,
}

impl Kit {
    /// Starts a kit with the default settings: the robot receives over SSE. `robot` is given a
    /// builder pointed at the local Lag and returns the robot, with its handlers.
    ///
    /// ```
    /// use lag_bot::testing::Kit;
    /// use lag_bot::{Ctx, Listener};
    /// use lag_bot::events::MemberJoin;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> lag_bot::Result<()> {
    /// let kit = Kit::start(|lag| {
    ///     Ok(lag.build()?.on(Listener::new(|ctx: Ctx, join: MemberJoin| async move {
    ///         let welcome = ctx.client().room_named("welcome").await?;
    ///         ctx.send(&welcome.id, format!("Welcome, {}!", join.username)).await?;
    ///         Ok::<(), lag_bot::Error>(())
    ///     })))
    /// })
    /// .await?;
    ///
    /// kit.join("dave");
    /// kit.reply_in("welcome").await.assert_text("Welcome, dave!");
    /// # kit.stop().await
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`KitBuilder::start`].
    pub async fn start<S, F>(robot: F) -> Result<Kit>
    where
        S: Send + Sync + 'static,
        F: FnOnce(RobotBuilder) -> Result<Robot<S>>,
    {
        Self::builder().start(robot).await
    }

    /// Sets up a kit with another transport or patience.
    pub fn builder() -> KitBuilder {
        KitBuilder::default()
    }

    // ----- the world ---------------------------------------------------------------------

    /// Member `username` of the server (`alice`, `bob`, `carol`, or one who joined), acting
    /// in `#general`.
    ///
    /// # Panics
    ///
    /// When the server has no such member.
    #[track_caller]
    pub fn member(&self, username: &str) -> Member<'_> {
        let members = self.act("list members", self.sim.members(&self.demo.server_id));
        let Some(member) = members.iter().find(|m| m.username == username) else {
            let names: Vec<&str> = members.iter().map(|m| m.username.as_str()).collect();
            panic!(
                "the server has no member {username:?}; it has {}",
                names.join(", ")
            );
        };
        self.member_in(member.user_id.clone(), username)
    }

    /// A new member `username` joins the server (emits `member.join`).
    #[track_caller]
    pub fn join(&self, username: &str) -> Member<'_> {
        let user_id = self.act(
            "add a member",
            self.sim.add_member(&self.demo.server_id, username),
        );
        self.member_in(user_id, username)
    }

    fn member_in(&self, user_id: String, username: &str) -> Member<'_> {
        Member {
            kit: self,
            user_id,
            name: username.to_owned(),
            room_id: self.demo.general.clone(),
        }
    }

    /// The local Lag, for anything the kit has no shortcut for: robot settings, the delivery
    /// log, faults.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The ids of the demo world: server, rooms, members and the robot's credentials.
    pub fn demo(&self) -> &Demo {
        &self.demo
    }

    /// The robot's client, to call Lag as the robot.
    pub fn client(&self) -> &Client {
        self.handle().client()
    }

    /// The running robot.
    ///
    /// # Panics
    ///
    /// After [`stop_robot`](Self::stop_robot).
    pub fn handle(&self) -> &RobotHandle {
        self.handle
            .as_ref()
            .expect("the robot was stopped with `stop_robot`")
    }

    /// The robot's latest handler errors (up to 20), oldest first, as `` `handler` failed:
    /// error `` lines.
    pub fn errors(&self) -> Vec<String> {
        self.probe.errors()
    }

    // ----- time --------------------------------------------------------------------------

    /// The simulated wall-clock time now (what cron jobs read).
    pub fn now(&self) -> SystemTime {
        self.clock.now_system()
    }

    /// How much simulated time has passed since the kit started.
    pub fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }

    /// Moves simulated time forward by `by`, then waits until the robot has handled whatever
    /// that set off (a cooldown ending sets off nothing; a webhook retry coming due does).
    ///
    /// # Panics
    ///
    /// When the robot does not finish within the kit's patience.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.settle().await;
    }

    /// Waits until the robot has handled every event Lag queued for it, moving simulated time
    /// while the robot only waits on it.
    ///
    /// A handler that asked a member something ([`Ctx::ask`](crate::Ctx::ask)) and waits for
    /// the answer counts as done: the robot can do nothing more until the test speaks, so
    /// `settle` (and [`replies`](Self::replies), [`no_reply`](Self::no_reply)) returns without
    /// moving time to the conversation's timeout. [`reply`](Self::reply) still moves time
    /// there when the timeout's message is the only one that can come.
    ///
    /// # Panics
    ///
    /// When the robot does not finish within the kit's patience.
    pub async fn settle(&self) {
        self.wait("the robot to handle every event Lag queued for it", |kit| {
            kit.settled().then_some(())
        })
        .await;
    }

    // ----- expectations ------------------------------------------------------------------

    /// The robot's next message in the room a member last spoke in (`#general` at first).
    ///
    /// # Panics
    ///
    /// When no message comes: at once when the robot has handled everything and nothing is
    /// scheduled, else after the kit's patience. The message has the transcript.
    pub async fn reply(&self) -> Message {
        let room_id = self.current_room();
        self.next_reply(&room_id).await
    }

    /// The robot's next message in room `room` (a name such as `"welcome"`).
    ///
    /// # Panics
    ///
    /// As [`reply`](Self::reply), and when the server has no such room.
    pub async fn reply_in(&self, room: &str) -> Message {
        let room_id = self.room_id(room);
        self.next_reply(&room_id).await
    }

    async fn next_reply(&self, room_id: &str) -> Message {
        let room = self.room_name(room_id);
        let what = format!("a message from {} in #{room}", self.robot_name);
        self.wait(&what, |kit| kit.take_reply(room_id)).await
    }

    /// Everything the robot has said in the room a member last spoke in since the replies
    /// already taken, once it has handled every event: for a conversation checked as a whole.
    ///
    /// ```no_run
    /// # async fn run(kit: lag_bot::testing::Kit) {
    /// let carol = kit.member("carol");
    /// for line in ["!roll 6", "!roll six", "hello"] {
    ///     carol.say(line);
    /// }
    /// let said: Vec<String> = kit.replies().await.iter().map(|m| m.text().to_owned()).collect();
    /// assert_eq!(said.len(), 2, "no answer to hello");
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the robot does not finish within the kit's patience.
    pub async fn replies(&self) -> Vec<Message> {
        let room_id = self.current_room();
        self.replies_at(&room_id).await
    }

    /// Like [`replies`](Self::replies), in room `room`.
    ///
    /// # Panics
    ///
    /// As [`replies`](Self::replies), and when the server has no such room.
    pub async fn replies_in(&self, room: &str) -> Vec<Message> {
        let room_id = self.room_id(room);
        self.replies_at(&room_id).await
    }

    async fn replies_at(&self, room_id: &str) -> Vec<Message> {
        self.settle().await;
        std::iter::from_fn(|| self.take_reply(room_id)).collect()
    }

    /// Checks that the robot, once it has handled every event, has said nothing more in the
    /// room a member last spoke in than the replies already taken.
    ///
    /// # Panics
    ///
    /// When it has: the message shows what it said, with the transcript.
    pub async fn no_reply(&self) {
        let room_id = self.current_room();
        self.no_reply_at(&room_id).await;
    }

    /// Like [`no_reply`](Self::no_reply), in room `room`.
    ///
    /// # Panics
    ///
    /// As [`no_reply`](Self::no_reply), and when the server has no such room.
    pub async fn no_reply_in(&self, room: &str) {
        let room_id = self.room_id(room);
        self.no_reply_at(&room_id).await;
    }

    async fn no_reply_at(&self, room_id: &str) {
        self.settle().await;
        if let Some(message) = self.take_reply(room_id) {
            self.fail(&format!(
                "expected no more messages from {} in #{}, but it said: {:?}",
                self.robot_name, message.room, message.text
            ));
        }
    }

    /// Waits until `message` has been deleted (by the robot or anyone else).
    ///
    /// # Panics
    ///
    /// When it is not deleted within the kit's patience (or at once, when the robot has handled
    /// everything and nothing is scheduled).
    pub async fn deleted(&self, message: &Message) {
        let what = format!(
            "{}'s message {:?} to be deleted",
            message.author, message.text
        );
        self.wait(&what, |kit| {
            kit.record.find(0, |event| {
                (event.kind == EventType::RoomMessageDeleted
                    && data_text(event, "messageId") == Some(message.id()))
                .then_some(())
            })
        })
        .await;
    }

    /// The next event of type `T` the robot has finished handling, as it received it. Each call
    /// returns a later one.
    ///
    /// ```no_run
    /// use lag_bot::events::MemberJoin;
    /// # async fn run(kit: lag_bot::testing::Kit) {
    /// kit.join("dave");
    /// let join: MemberJoin = kit.received().await;
    /// assert_eq!(join.username, "dave");
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the robot does not handle one (it may not subscribe to the type, or lack the
    /// permission Lag requires for it): at once when it has handled everything else and nothing
    /// is scheduled, else after the kit's patience.
    pub async fn received<T: EventPayload>(&self) -> T {
        let what = format!("the robot to receive a {} event", T::EVENT_TYPE);
        self.wait(&what, |kit| kit.take_received::<T>()).await
    }

    fn take_received<T: EventPayload>(&self) -> Option<T> {
        let mut cursors = self.cursors();
        let finished = self.probe.finished_since(cursors.received);
        let position = finished
            .iter()
            .position(|(_, kind)| kind == T::EVENT_TYPE)?;
        cursors.received += position + 1;
        drop(cursors);
        let id = &finished[position].0;
        let item = self
            .sim
            .events(&self.demo.robot.id)
            .into_iter()
            .find(|item| &item.id == id)?;
        let event = Event::from_parts(&item.event_type, item.payload.data).ok()?;
        T::from_event(&event).cloned()
    }

    // ----- transcripts -------------------------------------------------------------------

    /// Replays `transcript` (the text of a transcript file) against the robot and checks it.
    /// See [`Transcript`].
    ///
    /// # Panics
    ///
    /// When the text is not a valid transcript, or the robot's messages differ: the message
    /// has a diff of the expected and the actual transcript.
    pub async fn transcript(&self, transcript: &str) {
        let parsed = Transcript::parse(transcript).unwrap_or_else(|err| panic!("{err}"));
        parsed.check(self).await;
    }

    /// Like [`transcript`](Self::transcript), with the transcript read from `path` (relative
    /// paths from the directory `cargo test` runs in: the package's root).
    ///
    /// # Panics
    ///
    /// As [`transcript`](Self::transcript), and when the file cannot be read.
    pub async fn transcript_file(&self, path: impl AsRef<std::path::Path>) {
        let path = path.as_ref();
        let parsed = Transcript::from_file(path).unwrap_or_else(|err| panic!("{err}"));
        parsed.check(self).await;
    }

    // ----- stopping ----------------------------------------------------------------------

    /// Stops the robot gracefully (it finishes the events it accepted, and its running jobs
    /// get their grace), then the local Lag.
    ///
    /// # Errors
    ///
    /// How the robot ended, as [`RobotHandle::shutdown`] reports it.
    pub async fn stop(mut self) -> Result<()> {
        let ended = self.stop_robot().await;
        self.sim.shutdown().await;
        ended
    }

    /// Stops the robot gracefully and keeps the local Lag, to check what the robot did while
    /// stopping (through [`sim`](Self::sim), [`errors`](Self::errors) and the expectations).
    /// Simulated time moves while the robot only waits on it, so a job's grace period passes.
    /// Later calls do nothing.
    ///
    /// # Errors
    ///
    /// How the robot ended, as [`RobotHandle::shutdown`] reports it.
    pub async fn stop_robot(&mut self) -> Result<()> {
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        // A graceful stop waits for a held long-poll to answer, or for an SSE stream to stay
        // quiet: Lag ends them at once, since nothing more happens in the test.
        handle.shutdown_handle().trigger();
        tokio::task::yield_now().await;
        self.sim.cut_streams();
        let mut ended = std::pin::pin!(handle.wait());
        loop {
            tokio::select! {
                ended = &mut ended => return ended,
                () = tokio::time::sleep(STEP) => {
                    if self.may_advance() {
                        self.clock.advance_to_next();
                    }
                }
            }
        }
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.shutdown_handle().trigger();
        }
    }
}

impl fmt::Debug for Kit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kit")
            .field("lag", &self.sim.base_url())
            .field("robot", &self.robot_name)
            .field("elapsed", &self.clock.elapsed())
            .finish_non_exhaustive()
    }
}
