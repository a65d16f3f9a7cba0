use lag_bot::command::Captures;
use lag_bot::events::MemberJoin;
use lag_bot::{Ctx, hear, on};

#[on(member_join)]
async fn welcome(ctx: Ctx, join: MemberJoin, extra: u32) {
    let _ = (ctx, join, extra);
}

#[hear("hello")]
async fn hello(ctx: Ctx, caps: Captures, extra: String) {
    let _ = (ctx, caps, extra);
}

fn main() {}
