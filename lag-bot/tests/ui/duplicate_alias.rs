use lag_bot::{Ctx, command};

#[command("!roll", aliases("!dice", "!d", "!dice"))]
async fn roll(ctx: Ctx) {
    let _ = ctx;
}

#[command("!flip", aliases("!flip"))]
async fn flip(ctx: Ctx) {
    let _ = ctx;
}

fn main() {}
