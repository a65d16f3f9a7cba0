//! The ordering lane of an event: which events must run one after another.

use super::Event;

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(event_type: &str, data: serde_json::Value) -> Event {
        Event::from_parts(event_type, data).unwrap()
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
}
