//! [`Sim`]: a running emulator, driven from Rust.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[cfg(doc)]
use crate::config::AdminAccess;
use crate::config::SimConfig;
use crate::error::{Error, Result};
use crate::feed::EventFeed;
use crate::log::DeliveryRecord;
use crate::provision;
use crate::server::Listener;
use crate::shared::Shared;
#[cfg(doc)]
use crate::spec::DEMO_TRANSPORT;
use crate::spec::{
    Demo, RobotCredentials, RobotDetails, RobotSpec, RobotUpdate, ServerUpdate, Transport,
};
use crate::wire::{
    EventType, Permission, PollEvent, Role, Room, RoomMessage, Server, ServerMember, UserStatus,
};
use crate::worldfile::WorldFile;

/// A running emulator: an HTTP server on loopback plus the world it serves.
///
/// Every world-building and member action emits the same events a real Lag would, so a robot
/// connected to [`base_url`](Self::base_url) sees them over its transport.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> lag_sim::Result<()> {
/// use lag_sim::{Sim, SimConfig};
///
/// let sim = Sim::start(SimConfig::default()).await?;
/// let demo = sim.seed_demo()?;
/// let message = sim.post(&demo.alice, &demo.general, "hello @Helper")?;
/// assert_eq!(message.mentions[0].id, demo.robot.id);
/// assert_eq!(sim.messages(&demo.general).len(), 1);
/// sim.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    listener: tokio::sync::Mutex<Option<Listener>>,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("addr", &self.addr)
            .field("time_scale", &self.shared.config.time_scale)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Starts an emulator with an empty world, listening on `config.bind`.
    ///
    /// Must be called inside a Tokio runtime; background tasks run on that runtime.
    pub async fn start(config: SimConfig) -> Result<Self> {
        Self::spawn(config)
    }

    /// Like [`start`](Self::start), for synchronous code running inside a Tokio runtime (a
    /// constructor called from `async fn main`, say): it binds `config.bind` at once and serves
    /// on the current runtime, so the emulator answers as soon as that runtime runs its tasks.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> lag_sim::Result<()> {
    /// use lag_sim::{Sim, SimConfig};
    ///
    /// fn local_lag() -> lag_sim::Result<Sim> {
    ///     Sim::spawn(SimConfig::default())
    /// }
    ///
    /// let sim = local_lag()?;
    /// assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    /// sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// When called outside a Tokio runtime, or when `config.bind` cannot be bound.
    pub fn spawn(config: SimConfig) -> Result<Self> {
        let bind = config.bind;
        let shared = Shared::new(config)?;
        let listener = Listener::start(&shared, bind)?;
        let addr = listener.addr;
        tracing::info!(%addr, "lag-sim listening");
        Ok(Self {
            shared,
            addr,
            listener: tokio::sync::Mutex::new(Some(listener)),
        })
    }

    /// The address of the playground page, a web page to chat as any member, inspect every
    /// delivery and change robots' settings (the emulator's root, `/`).
    pub fn playground_url(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// The token the playground and the admin API need, when they need one: `None` when they
    /// are open (listening on loopback with the default [`AdminAccess`]). Send it in the
    /// `X-Lag-Sim-Token` header, or open [`playground_link`](Self::playground_link) in a browser.
    pub fn admin_token(&self) -> Option<&str> {
        self.shared.admin_token.as_deref()
    }

    /// The playground's address to open in a browser: [`playground_url`](Self::playground_url),
    /// with `?token=...` when the page needs the [`admin_token`](Self::admin_token) (opening it
    /// sets a cookie, so the page's own address works from then on in that browser).
    pub fn playground_link(&self) -> String {
        match self.admin_token() {
            Some(token) => format!("{}?token={token}", self.playground_url()),
            None => self.playground_url(),
        }
    }

    /// The API base URL a robot uses (`LAG_API_BASE`), e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration the emulator runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    // ----- world building ------------------------------------------------------------------

    /// Creates everything a [`WorldFile`] describes and returns the robots it made.
    pub fn load_world(&self, file: &WorldFile) -> Result<Vec<RobotDetails>> {
        provision::load_world(&self.shared, file)
    }

    /// Builds the demo world: server "Demo Server", rooms `general`, `welcome`, `mod-log`,
    /// members alice (owner), bob (admin) and carol, and a robot "Helper" with every
    /// permission and subscription that receives its events over [`DEMO_TRANSPORT`] (SSE).
    pub fn seed_demo(&self) -> Result<Demo> {
        provision::seed_demo(&self.shared, provision::demo_robot())
    }

    /// Like [`seed_demo`](Self::seed_demo), with a custom robot.
    pub fn seed_demo_with(&self, robot: RobotSpec) -> Result<Demo> {
        provision::seed_demo(&self.shared, robot)
    }

    /// Creates an empty server and returns its id. Its first member becomes the owner.
    pub fn create_server(&self, name: &str) -> Result<String> {
        Ok(self.shared.world.lock().create_server(name)?.id)
    }

    /// All servers, oldest first.
    pub fn servers(&self) -> Vec<Server> {
        self.shared.world.lock().servers()
    }

    /// One server.
    pub fn server(&self, server_id: &str) -> Result<Server> {
        self.shared.world.lock().server_info(server_id)
    }

    /// Changes server settings as its owner; emits `server.updated` when something changed.
    pub fn update_server(&self, server_id: &str, update: ServerUpdate) -> Result<Server> {
        self.shared
            .world
            .lock()
            .update_server(server_id, update, None)
    }

    /// Creates a room (as the server owner) and returns its id; emits `room.created`.
    pub fn create_room(&self, server_id: &str, name: &str) -> Result<String> {
        Ok(self
            .shared
            .world
            .lock()
            .create_room(server_id, name, None)?
            .id)
    }

    /// Creates a room as a given member; emits `room.created` with `createdBy` = that member.
    pub fn create_room_as(&self, user_id: &str, server_id: &str, name: &str) -> Result<String> {
        Ok(self
            .shared
            .world
            .lock()
            .create_room(server_id, name, Some(user_id))?
            .id)
    }

    /// Deletes a room with its messages; emits `voice.leave` for anyone in it, then `room.deleted`.
    pub fn delete_room(&self, room_id: &str) -> Result<()> {
        self.shared.world.lock().delete_room(room_id, None)
    }

    /// A server's rooms, in creation order.
    pub fn rooms(&self, server_id: &str) -> Result<Vec<Room>> {
        let world = self.shared.world.lock();
        world.server_info(server_id)?;
        Ok(world.rooms_of(server_id))
    }

    /// Adds a member (creating the user if the username is new) and returns the user id;
    /// emits `member.join`.
    pub fn add_member(&self, server_id: &str, username: &str) -> Result<String> {
        Ok(self
            .shared
            .world
            .lock()
            .add_member(server_id, username, None)?
            .user_id)
    }

    /// Removes a member from a server; emits `member.leave` (after `voice.leave` if in voice).
    pub fn remove_member(&self, server_id: &str, user_id: &str) -> Result<()> {
        self.shared.world.lock().remove_member(server_id, user_id)
    }

    /// A server's members, in join order.
    pub fn members(&self, server_id: &str) -> Result<Vec<ServerMember>> {
        self.shared.world.lock().members(server_id)
    }

    /// Changes a member's role; emits `member.role_changed`. Making someone the owner demotes
    /// the previous owner to admin.
    pub fn set_role(&self, server_id: &str, user_id: &str, role: Role) -> Result<()> {
        self.shared
            .world
            .lock()
            .set_role(server_id, user_id, role)
            .map(|_| ())
    }

    /// Changes a user's online status; emits `presence.update` in each of their servers.
    pub fn set_status(&self, user_id: &str, status: UserStatus) -> Result<()> {
        self.shared.world.lock().set_status(user_id, status)
    }

    /// Puts a member in a room's voice channel (leaving any other); emits `voice.join`.
    pub fn join_voice(&self, user_id: &str, room_id: &str) -> Result<()> {
        self.shared
            .world
            .lock()
            .join_voice(user_id, room_id)
            .map(|_| ())
    }

    /// Takes a member out of voice; emits `voice.leave` with the seconds spent.
    pub fn leave_voice(&self, user_id: &str, room_id: &str) -> Result<()> {
        self.shared
            .world
            .lock()
            .leave_voice(user_id, room_id)
            .map(|_| ())
    }

    // ----- member messages -----------------------------------------------------------------

    /// Posts a message as a member; emits `room.message` and `robot.mentioned` for each
    /// @mentioned robot.
    pub fn post(&self, user_id: &str, room_id: &str, content: &str) -> Result<RoomMessage> {
        self.shared
            .world
            .lock()
            .post(user_id, room_id, content, None)
    }

    /// Posts a reply to `reply_to_id` (a message in the same room) as a member.
    pub fn reply(
        &self,
        user_id: &str,
        room_id: &str,
        reply_to_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        self.shared
            .world
            .lock()
            .post(user_id, room_id, content, Some(reply_to_id))
    }

    /// Edits a member's own message; emits `room.message.edited`.
    pub fn edit(
        &self,
        user_id: &str,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        self.shared
            .world
            .lock()
            .edit(user_id, room_id, message_id, content)
    }

    /// Deletes a message as a member (their own, or any as owner/admin); emits
    /// `room.message.deleted`.
    pub fn delete(&self, user_id: &str, room_id: &str, message_id: &str) -> Result<()> {
        self.shared
            .world
            .lock()
            .delete(user_id, room_id, message_id)
    }

    /// A room's messages, newest first (empty for an unknown room).
    pub fn messages(&self, room_id: &str) -> Vec<RoomMessage> {
        self.shared
            .world
            .lock()
            .messages(room_id)
            .unwrap_or_default()
    }

    // ----- robots --------------------------------------------------------------------------

    /// Creates a robot in a server. Names are 1-32 characters and unique in the server
    /// (ignoring case); at most 10 robots per server may be active.
    pub fn create_robot(&self, server_id: &str, spec: RobotSpec) -> Result<RobotCredentials> {
        provision::create_robot(&self.shared, server_id, spec)
    }

    /// A robot's full configuration.
    pub fn robot(&self, robot_id: &str) -> Result<RobotDetails> {
        self.shared.world.lock().robot_details(robot_id)
    }

    /// A robot's current key and secrets.
    pub fn credentials(&self, robot_id: &str) -> Result<RobotCredentials> {
        self.shared.world.lock().credentials(robot_id)
    }

    /// The robots of a server, in creation order.
    pub fn robots(&self, server_id: &str) -> Result<Vec<RobotDetails>> {
        self.shared.world.lock().robots_of(server_id)
    }

    /// Changes a robot's configuration.
    ///
    /// Switching transport stops scheduled webhook retries; events not yet handed out are
    /// delivered over the new transport. Disabling drops what is queued.
    pub fn update_robot(&self, robot_id: &str, update: RobotUpdate) -> Result<RobotDetails> {
        self.shared.world.lock().update_robot(robot_id, update)
    }

    /// Replaces a robot's permissions.
    pub fn set_permissions(
        &self,
        robot_id: &str,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Result<()> {
        let update = RobotUpdate {
            permissions: Some(permissions.into_iter().collect()),
            ..RobotUpdate::default()
        };
        self.update_robot(robot_id, update).map(|_| ())
    }

    /// Replaces a robot's event subscriptions.
    pub fn set_subscriptions(
        &self,
        robot_id: &str,
        subscriptions: impl IntoIterator<Item = EventType>,
    ) -> Result<()> {
        let update = RobotUpdate {
            subscriptions: Some(subscriptions.into_iter().collect()),
            ..RobotUpdate::default()
        };
        self.update_robot(robot_id, update).map(|_| ())
    }

    /// Changes how a robot receives events.
    pub fn set_transport(&self, robot_id: &str, transport: Transport) -> Result<()> {
        let update = RobotUpdate {
            transport: Some(transport),
            ..RobotUpdate::default()
        };
        self.update_robot(robot_id, update).map(|_| ())
    }

    /// Enables or disables a robot. A disabled robot gets 403 on every call and no events.
    pub fn set_active(&self, robot_id: &str, active: bool) -> Result<()> {
        let update = RobotUpdate {
            active: Some(active),
            ..RobotUpdate::default()
        };
        self.update_robot(robot_id, update).map(|_| ())
    }

    /// Issues a new webhook secret. The previous ones keep signing for
    /// [`SimConfig::secret_overlap`], so receivers can switch without losing a delivery.
    pub fn rotate_secret(&self, robot_id: &str) -> Result<RobotCredentials> {
        self.shared.world.lock().rotate_secret(robot_id, None)
    }

    /// Issues a new webhook secret; the previous ones keep signing for `overlap`
    /// (simulated time; zero retires them at once).
    pub fn rotate_secret_with_overlap(
        &self,
        robot_id: &str,
        overlap: Duration,
    ) -> Result<RobotCredentials> {
        self.shared
            .world
            .lock()
            .rotate_secret(robot_id, Some(overlap))
    }

    /// Issues a new API key; the old one stops working at once (401).
    pub fn regenerate_key(&self, robot_id: &str) -> Result<RobotCredentials> {
        self.shared.world.lock().regenerate_key(robot_id)
    }

    /// A robot's delivery log, oldest first (empty for an unknown robot).
    pub fn deliveries(&self, robot_id: &str) -> Vec<DeliveryRecord> {
        self.shared
            .world
            .lock()
            .deliveries(robot_id)
            .unwrap_or_default()
    }

    /// Sends a retained event to a robot again, with its original id, over the robot's current
    /// transport: a webhook robot gets a fresh attempt (and retries), an SSE or long-poll robot
    /// finds it queued. The delivery log marks these attempts as redeliveries.
    ///
    /// A 404 error for an unknown robot or an event no longer retained for it, a 409 error for
    /// a disabled robot.
    pub fn redeliver(&self, robot_id: &str, event_id: &str) -> Result<()> {
        self.shared.world.lock().redeliver(robot_id, event_id)
    }

    /// Events retained for a robot (delivered or not), oldest first, in the long-poll item shape.
    pub fn events(&self, robot_id: &str) -> Vec<PollEvent> {
        self.shared
            .world
            .lock()
            .retained(robot_id)
            .unwrap_or_default()
            .iter()
            .map(|r| r.poll_item())
            .collect()
    }

    /// The ids and types of the events retained for a robot, oldest first: what
    /// [`events`](Self::events) gives, without building each body (for checks run often, such
    /// as a test waiting until a robot has handled everything).
    pub fn event_ids(&self, robot_id: &str) -> Vec<(String, EventType)> {
        self.shared
            .world
            .lock()
            .retained(robot_id)
            .unwrap_or_default()
            .iter()
            .map(|r| (r.id.clone(), r.kind))
            .collect()
    }

    /// Follows everything that happens in the world from now on: messages (robots' included),
    /// edits, deletions, members, rooms, voice, presence, server settings.
    ///
    /// Each subscriber gets every event in order, with the names of the rooms and people it
    /// involves, whatever robots subscribed to; see [`EventFeed`] and
    /// [`WorldEvent`](crate::WorldEvent). The feed ends after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> lag_sim::Result<()> {
    /// use lag_sim::{Sim, SimConfig};
    ///
    /// let sim = Sim::start(SimConfig::default()).await?;
    /// let demo = sim.seed_demo()?;
    /// let mut feed = sim.subscribe();
    /// sim.post(&demo.alice, &demo.general, "hello")?;
    /// sim.add_member(&demo.server_id, "dave")?;
    /// sim.shutdown().await;
    /// let mut lines = Vec::new();
    /// while let Some(event) = feed.recv().await {
    ///     lines.push(event.to_string());
    /// }
    /// assert_eq!(lines, ["#general alice: hello", "* dave joined Demo Server"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe(&self) -> EventFeed {
        let receiver = self.shared.world.lock().subscribe();
        EventFeed::new(receiver, self.shared.shutdown.clone())
    }

    // ----- faults and lifecycle ------------------------------------------------------------

    /// How many SSE streams and held long-polls are open right now: lets a test wait until a
    /// robot is listening before it acts, instead of sleeping.
    pub fn open_streams(&self) -> usize {
        self.shared.cut.receiver_count()
    }

    /// Drops every open SSE stream and long-poll connection (queued events are kept).
    pub fn cut_streams(&self) {
        self.shared.cut_streams();
    }

    /// Simulates a Lag restart: closes the listener and every connection, then listens again on
    /// the same address. World state and queued events survive.
    pub async fn restart(&self) -> Result<()> {
        let mut slot = self.listener.lock().await;
        if let Some(listener) = slot.take() {
            listener.stop().await;
        }
        if self.shared.shutdown.is_cancelled() {
            return Err(Error::internal("the emulator has been shut down"));
        }
        let mut last_error = None;
        for _ in 0..50 {
            match Listener::start(&self.shared, self.addr) {
                Ok(listener) => {
                    *slot = Some(listener);
                    return Ok(());
                }
                Err(error) => {
                    last_error = Some(error);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Err(last_error.unwrap_or_else(|| Error::internal("cannot rebind")))
    }

    /// Stops serving: closes every connection, cancels webhook deliveries and waits for all
    /// background tasks to finish. Calling it again does nothing.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        if let Some(listener) = self.listener.lock().await.take() {
            listener.stop().await;
        }
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}
