use lag_bot::{Ctx, command};

/// Replies with pong.
#[command("!ping")]
fn ping(ctx: Ctx) -> &'static str {
    let _ = ctx;
    "pong"
}

fn main() {}
