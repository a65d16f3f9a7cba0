//! [`Member`]: the members' side of a kit test.

use std::fmt;

use lag_sim::{Role, UserStatus};

use super::{Kit, Message};

/// A member of the test server, acting in one room: what a test does to a robot.
///
/// Get one with [`Kit::member`] (the demo server has `alice`, its owner, `bob`, an admin, and
/// `carol`) or [`Kit::join`] (a newcomer, which emits `member.join`). A member acts in
/// `#general` until told otherwise with [`in_room`](Self::in_room).
///
/// Actions happen at once in the local Lag, which emits the events a robot receives; they
/// return when Lag has taken them, not when the robot has reacted. Wait for the reaction with
/// the kit's expectations ([`Kit::reply`], [`Kit::no_reply`], ...). An action Lag refuses (a
/// member editing someone else's message, say) panics with Lag's error.
#[derive(Clone)]
pub struct Member<'kit> {
    pub(super) kit: &'kit Kit,
    pub(super) user_id: String,
    pub(super) name: String,
    pub(super) room_id: String,
}

impl<'kit> Member<'kit> {
    /// The member's user id.
    pub fn id(&self) -> &str {
        &self.user_id
    }

    /// The member's username.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same member, acting in room `room` (a name such as `"welcome"`, with or without
    /// `#`).
    ///
    /// # Panics
    ///
    /// When the server has no such room.
    #[track_caller]
    pub fn in_room(&self, room: &str) -> Member<'kit> {
        Member {
            room_id: self.kit.room_id(room),
            ..self.clone()
        }
    }

    /// Posts `text` in the member's room (emits `room.message`, and `robot.mentioned` for an
    /// `@mention` of the robot). Expectations without a room ([`Kit::reply`]) look in this room
    /// from now on.
    #[track_caller]
    pub fn say(&self, text: &str) -> Message {
        let posted = self.kit.act(
            "post a message",
            self.kit.sim.post(&self.user_id, &self.room_id, text),
        );
        self.kit.said_in(&self.room_id);
        self.message(posted)
    }

    /// Posts `text` as a reply to `message` (in the message's room).
    #[track_caller]
    pub fn reply_to(&self, message: &Message, text: &str) -> Message {
        let posted = self.kit.act(
            "reply to a message",
            self.kit
                .sim
                .reply(&self.user_id, &message.room_id, &message.id, text),
        );
        self.kit.said_in(&message.room_id);
        self.message(posted)
    }

    /// Edits the member's own `message` to `text` (emits `room.message.edited`).
    #[track_caller]
    pub fn edit(&self, message: &Message, text: &str) -> Message {
        let edited = self.kit.act(
            "edit a message",
            self.kit
                .sim
                .edit(&self.user_id, &message.room_id, &message.id, text),
        );
        self.kit.said_in(&message.room_id);
        self.message(edited)
    }

    /// Deletes `message`: the member's own, or anyone's for an owner or admin (emits
    /// `room.message.deleted`).
    #[track_caller]
    pub fn delete(&self, message: &Message) {
        self.kit.act(
            "delete a message",
            self.kit
                .sim
                .delete(&self.user_id, &message.room_id, &message.id),
        );
    }

    /// Leaves the server (emits `member.leave`).
    #[track_caller]
    pub fn leave(&self) {
        self.kit.act(
            "leave the server",
            self.kit
                .sim
                .remove_member(&self.kit.demo.server_id, &self.user_id),
        );
    }

    /// Joins the voice channel of the member's room (emits `voice.join`).
    #[track_caller]
    pub fn voice_join(&self) {
        self.kit.act(
            "join voice",
            self.kit.sim.join_voice(&self.user_id, &self.room_id),
        );
    }

    /// Leaves the voice channel of the member's room (emits `voice.leave`, whose duration is
    /// in the kit's simulated time).
    #[track_caller]
    pub fn voice_leave(&self) {
        self.kit.act(
            "leave voice",
            self.kit.sim.leave_voice(&self.user_id, &self.room_id),
        );
    }

    /// Sets the member's status (emits `presence.update`).
    #[track_caller]
    pub fn set_status(&self, status: UserStatus) {
        self.kit.act(
            "change status",
            self.kit.sim.set_status(&self.user_id, status),
        );
    }

    /// Gives the member `role`, as the server's owner would (emits `member.role_changed`).
    #[track_caller]
    pub fn set_role(&self, role: Role) {
        self.kit.act(
            "change role",
            self.kit
                .sim
                .set_role(&self.kit.demo.server_id, &self.user_id, role),
        );
    }

    /// Creates room `name`, made by this member (emits `room.created`), and returns this
    /// member acting in it.
    #[track_caller]
    pub fn create_room(&self, name: &str) -> Member<'kit> {
        let room_id = self.kit.act(
            "create a room",
            self.kit
                .sim
                .create_room_as(&self.user_id, &self.kit.demo.server_id, name),
        );
        Member {
            room_id,
            ..self.clone()
        }
    }

    fn message(&self, posted: lag_sim::RoomMessage) -> Message {
        Message {
            id: posted.id,
            room: self.kit.room_name(&posted.room_id),
            room_id: posted.room_id,
            author: self.name.clone(),
            text: posted.content,
            reply_to: posted.reply_to.map(|r| r.id),
            context: None,
        }
    }
}

impl fmt::Debug for Member<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("name", &self.name)
            .field("room", &self.kit.room_name(&self.room_id))
            .finish()
    }
}
