use lag_bot::events::{
    MemberJoin, MemberLeave, MemberRoleChanged, PresenceUpdate, RobotMentioned, RoomCreated,
    RoomDeleted, RoomMessage, RoomMessageDeleted, RoomMessageEdited, ServerUpdated, VoiceJoin,
    VoiceLeave,
};
use lag_bot::{Ctx, Listener, Result, on};

struct State;

/// Greets newcomers.
#[on(member_join)]
async fn welcome(ctx: Ctx<State>, join: MemberJoin) -> Result<()> {
    let _ = (ctx.state(), join.username);
    Ok(())
}

#[on(room_message)]
async fn message(_ctx: Ctx, message: RoomMessage) -> String {
    message.content
}

#[on(room_message_edited)]
async fn edited(_ctx: Ctx, _e: RoomMessageEdited) {}

#[on(room_message_deleted)]
async fn deleted(_ctx: Ctx, _e: RoomMessageDeleted) {}

#[on(voice_join)]
async fn voice_join(_ctx: Ctx, _e: VoiceJoin) {}

#[on(voice_leave)]
async fn voice_leave(_ctx: Ctx, _e: VoiceLeave) {}

#[on(member_leave)]
async fn member_leave(_ctx: Ctx, _e: MemberLeave) {}

#[on(member_role_changed)]
async fn role_changed(_ctx: Ctx, _e: MemberRoleChanged) {}

#[on(room_created)]
async fn room_created(_ctx: Ctx, _e: RoomCreated) {}

#[on(room_deleted)]
async fn room_deleted(_ctx: Ctx, _e: RoomDeleted) {}

#[on(presence_update)]
async fn presence(_ctx: Ctx, _e: PresenceUpdate) {}

#[on(server_updated)]
async fn server_updated(_ctx: Ctx, _e: ServerUpdated) {}

#[on(robot_mentioned)]
async fn mentioned(_ctx: Ctx, mention: RobotMentioned) -> &'static str {
    let _ = mention.content.len();
    "you called?"
}

#[on(member_leave)]
async fn without_payload(_ctx: Ctx) {}

fn main() {
    let welcome: Listener<State> = welcome();
    assert_eq!(welcome.name(), "welcome");
    assert_eq!(welcome.event_type(), Some("member.join"));
    let all: Vec<Listener> = vec![
        message(),
        edited(),
        deleted(),
        voice_join(),
        voice_leave(),
        member_leave(),
        role_changed(),
        room_created(),
        room_deleted(),
        presence(),
        server_updated(),
        mentioned(),
        without_payload(),
    ];
    let types: Vec<_> = all.iter().map(|l| l.event_type().unwrap()).collect();
    assert_eq!(
        types,
        [
            "room.message",
            "room.message.edited",
            "room.message.deleted",
            "voice.join",
            "voice.leave",
            "member.leave",
            "member.role_changed",
            "room.created",
            "room.deleted",
            "presence.update",
            "server.updated",
            "robot.mentioned",
            "member.leave",
        ]
    );
}
