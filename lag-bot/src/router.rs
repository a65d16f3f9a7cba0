//! Which handlers an event goes to, and the pure decisions around it: whether the robot should
//! ignore it, which ordering lane it belongs to, and which ids identify it for deduplication.

use std::borrow::Cow;

use futures_util::future::BoxFuture;

use crate::Result;
use crate::command::router::CommandRouter;
use crate::ctx::Ctx;
use crate::events::{Envelope, Event};
use crate::listener::Listener;

/// Why the robot does not act on an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ignore {
    /// The robot caused it (its own message, edit or deletion).
    OwnAction,
    /// Another robot sent the message, and the robot does not listen to robots.
    OtherRobot,
}

/// Whether the robot with id `me` should leave `event` alone.
pub(crate) fn ignore_reason(event: &Event, me: &str, allow_robots: bool) -> Option<Ignore> {
    match event {
        Event::RoomMessage(_) | Event::RobotMentioned(_) => {
            let msg = event.message()?;
            if msg.is_from_robot(me) || msg.sender_id.as_deref() == Some(me) {
                Some(Ignore::OwnAction)
            } else if msg.is_bot && !allow_robots {
                Some(Ignore::OtherRobot)
            } else {
                None
            }
        }
        Event::RoomMessageEdited(edit) if edit.edited_by.as_deref() == Some(me) => {
            Some(Ignore::OwnAction)
        }
        Event::RoomMessageDeleted(delete) if delete.deleted_by.as_deref() == Some(me) => {
            Some(Ignore::OwnAction)
        }
        _ => None,
    }
}

/// The ordering lane of an event: events of one room run in order, as do a member's
/// server-level events (join, role change, presence, leave); server-wide events share a lane.
pub(crate) fn lane_key(event: &Event) -> String {
    if let Some(room) = event.room_id() {
        return format!("room:{room}");
    }
    let user = match event {
        Event::MemberJoin(e) => Some(&e.user_id),
        Event::MemberLeave(e) => Some(&e.user_id),
        Event::MemberRoleChanged(e) => Some(&e.user_id),
        Event::PresenceUpdate(e) => Some(&e.user_id),
        _ => None,
    };
    match user {
        Some(user) => format!("user:{user}"),
        None => "server".to_owned(),
    }
}

/// The ids under which a delivery is remembered: its delivery id and, for events that carry
/// one, an id derived from the data. The second catches a redelivery that arrives under a new
/// delivery id.
pub(crate) fn dedup_keys(envelope: &Envelope) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(id) = envelope.id() {
        keys.push(format!("id:{id}"));
    }
    let event_type = envelope.event_type();
    let derived = match envelope.event() {
        Event::RoomMessage(_) | Event::RobotMentioned(_) => envelope
            .event()
            .message()
            .and_then(|m| m.message_id.as_deref())
            .map(|id| format!("{event_type}:{id}")),
        Event::RoomMessageDeleted(e) => Some(format!("{event_type}:{}", e.message_id)),
        Event::RoomMessageEdited(e) => e
            .edited_at
            .as_ref()
            .map(|at| format!("{event_type}:{}@{}", e.message_id, at.as_str())),
        _ => None,
    };
    keys.extend(derived);
    keys
}

/// One handler run an event asks for.
pub(crate) struct Run {
    pub(crate) name: Cow<'static, str>,
    pub(crate) future: BoxFuture<'static, Result<()>>,
}

/// The robot's handlers: listeners by event type, and the command router for room messages.
pub(crate) struct Router<S> {
    listeners: Vec<Listener<S>>,
    commands: Option<CommandRouter<S>>,
}

impl<S: Send + Sync + 'static> Router<S> {
    pub(crate) fn new(listeners: Vec<Listener<S>>, commands: Option<CommandRouter<S>>) -> Self {
        Self {
            listeners,
            commands,
        }
    }

    /// The listeners that want `event`, in registration order.
    pub(crate) fn listeners_for<'a>(
        &'a self,
        event: &'a Event,
    ) -> impl Iterator<Item = &'a Listener<S>> + 'a {
        self.listeners.iter().filter(move |l| l.wants(event))
    }

    /// Starts every handler the event in `ctx` asks for. Commands see `room.message` only, so
    /// a mention (which Lag also sends as `robot.mentioned`) runs a command once.
    pub(crate) fn runs(&self, ctx: &Ctx<S>) -> Vec<Run> {
        let event = ctx.event();
        let mut runs: Vec<Run> = self
            .listeners_for(event)
            .filter_map(|listener| {
                Some(Run {
                    name: Cow::Owned(listener.name().to_owned()),
                    future: listener.call(ctx.clone())?,
                })
            })
            .collect();
        if let (Some(commands), Event::RoomMessage(msg)) = (&self.commands, event) {
            runs.extend(commands.route(ctx, msg));
        }
        runs
    }

    /// How many listeners are registered.
    pub(crate) fn listener_count(&self) -> usize {
        self.listeners.len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(event_type: &str, data: serde_json::Value) -> Event {
        Event::from_parts(event_type, data).unwrap()
    }

    fn envelope(id: Option<&str>, event_type: &str, data: serde_json::Value) -> Envelope {
        Envelope::new(id.map(str::to_owned), event_type, None, None, data).unwrap()
    }

    #[test]
    fn own_messages_edits_and_deletions_are_ignored() {
        let own = event(
            "room.message",
            json!({"roomId": "r", "content": "hi", "robotId": "rob_me", "isBot": true}),
        );
        assert_eq!(ignore_reason(&own, "rob_me", true), Some(Ignore::OwnAction));
        let mention = event(
            "robot.mentioned",
            json!({"roomId": "r", "content": "hi", "robotId": "rob_me", "isBot": true}),
        );
        assert_eq!(
            ignore_reason(&mention, "rob_me", false),
            Some(Ignore::OwnAction)
        );
        let edit = event(
            "room.message.edited",
            json!({"roomId": "r", "messageId": "m", "content": "x", "editedBy": "rob_me"}),
        );
        assert_eq!(
            ignore_reason(&edit, "rob_me", false),
            Some(Ignore::OwnAction)
        );
        let delete = event(
            "room.message.deleted",
            json!({"roomId": "r", "messageId": "m", "deletedBy": "u_1"}),
        );
        assert_eq!(ignore_reason(&delete, "rob_me", false), None);
    }

    #[test]
    fn other_robots_are_ignored_unless_allowed() {
        let other = event(
            "room.message",
            json!({"roomId": "r", "content": "hi", "robotId": "rob_other", "isBot": true}),
        );
        assert_eq!(
            ignore_reason(&other, "rob_me", false),
            Some(Ignore::OtherRobot)
        );
        assert_eq!(ignore_reason(&other, "rob_me", true), None);
        let human = event(
            "room.message",
            json!({"roomId": "r", "content": "hi", "senderId": "u_1", "senderName": "alice"}),
        );
        assert_eq!(ignore_reason(&human, "rob_me", false), None);
        let join = event("member.join", json!({"userId": "u_1", "username": "alice"}));
        assert_eq!(ignore_reason(&join, "rob_me", false), None);
    }

    #[test]
    fn lanes_follow_rooms_then_members_then_the_server() {
        let msg = event("room.message", json!({"roomId": "r1", "content": "hi"}));
        assert_eq!(lane_key(&msg), "room:r1");
        let voice = event("voice.join", json!({"roomId": "r2", "userId": "u"}));
        assert_eq!(lane_key(&voice), "room:r2");
        let join = event("member.join", json!({"userId": "u_1"}));
        let presence = event(
            "presence.update",
            json!({"userId": "u_1", "status": "idle"}),
        );
        assert_eq!(lane_key(&join), "user:u_1");
        assert_eq!(lane_key(&join), lane_key(&presence));
        let server = event("server.updated", json!({"changes": {"name": "x"}}));
        assert_eq!(lane_key(&server), "server");
        let unknown = event("galaxy.exploded", json!({"x": 1}));
        assert_eq!(lane_key(&unknown), "server");
    }

    #[test]
    fn dedup_keys_use_the_delivery_id_and_the_message_id() {
        let msg = envelope(
            Some("evt_1"),
            "room.message",
            json!({"roomId": "r", "messageId": "m1", "content": "hi"}),
        );
        assert_eq!(dedup_keys(&msg), ["id:evt_1", "room.message:m1"]);
        let mention = envelope(
            Some("evt_2"),
            "robot.mentioned",
            json!({"roomId": "r", "messageId": "m1", "content": "hi"}),
        );
        assert_eq!(dedup_keys(&mention), ["id:evt_2", "robot.mentioned:m1"]);
        let join = envelope(None, "member.join", json!({"userId": "u"}));
        assert!(dedup_keys(&join).is_empty());
        let edit = envelope(
            Some("e"),
            "room.message.edited",
            json!({"roomId": "r", "messageId": "m1", "content": "x", "editedAt": "t1"}),
        );
        assert_eq!(dedup_keys(&edit), ["id:e", "room.message.edited:m1@t1"]);
    }
}
