//! Which events the robot leaves alone: its own actions, and other robots' messages unless
//! it listens to robots.

use crate::events::Event;

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(event_type: &str, data: serde_json::Value) -> Event {
        Event::from_parts(event_type, data).unwrap()
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
}
