//! Posting a reply: split to Lag's message size, threaded, in the right room.

use crate::client::split_content;
use crate::ctx::Ctx;
use crate::error::{Error, ErrorKind, Result};
use crate::model::SendMessage;

use super::Reply;

/// Posts `reply` for the event in `ctx`: in [`Reply::room_id`] when set, else in the event's
/// room; cut into parts of at most 2000 characters, the first threaded under the triggering
/// message when [`Reply::is_reply`]. An event without a room (`member.join`) cannot take a
/// reply without a room of its own; that is the handler's error.
pub(crate) async fn send<S>(ctx: &Ctx<S>, reply: Reply) -> Result<()> {
    let room = match reply.room_id().or_else(|| ctx.room_id()) {
        Some(room) => room.to_owned(),
        None => {
            return Err(Error::new(
                ErrorKind::Handler,
                format!(
                    "the handler returned a message, but a `{}` event has no room to post it in; \
                     use `Reply::in_room`",
                    ctx.event().event_type()
                ),
            ));
        }
    };
    let thread_under = reply
        .is_reply()
        .then(|| ctx.message().and_then(|m| m.message_id.clone()))
        .flatten();
    for (index, part) in split_content(reply.content()).into_iter().enumerate() {
        let mut message = SendMessage::new(part);
        if let (0, Some(id)) = (index, &thread_under) {
            message = message.reply_to(id.clone());
        }
        ctx.client().send_message(&room, message).await?;
    }
    Ok(())
}
