use lag_bot::{Ctx, command};

#[command("!roll", cooldown = 5, hidden, "!dice")]
async fn roll(ctx: Ctx) {
    let _ = ctx;
}

fn main() {}
