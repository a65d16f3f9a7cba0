use lag_bot::events::RoomMessage;
use lag_bot::{Ctx, hear, on};

#[on(member_join)]
async fn welcome(ctx: Ctx, message: RoomMessage) {
    let _ = (ctx, message);
}

#[hear(r"\d+")]
async fn numbers(ctx: Ctx, text: String) {
    let _ = (ctx, text);
}

fn main() {}
