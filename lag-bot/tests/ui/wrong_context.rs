use lag_bot::{Ctx, command};

#[command("!ping")]
async fn ping(ctx: String) -> &'static str {
    let _ = ctx;
    "pong"
}

#[command("!pong")]
async fn pong(ctx: &Ctx) -> &'static str {
    let _ = ctx;
    "ping"
}

fn main() {}
