use lag_bot::{Ctx, command};

/// Replies with pong.
#[command("!ping")]
fn ping(ctx: Ctx) -> &'static str {
    let _ = ctx;
    "pong"
}

/// The functions are still there next to the errors.
fn main() {
    let _: fn(Ctx) -> &'static str = ping;
}
