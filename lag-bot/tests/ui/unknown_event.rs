use lag_bot::events::MemberJoin;
use lag_bot::{Ctx, on};

#[on(member_joined)]
async fn welcome(ctx: Ctx, join: MemberJoin) {
    let _ = (ctx, join);
}

#[on(galaxy_exploded)]
async fn boom(ctx: Ctx) {
    let _ = ctx;
}

/// The functions are still there next to the errors.
fn main() {
    let _ = (welcome, boom);
}
