use lag_bot::{Ctx, command};

#[command("!count")]
async fn count(ctx: Ctx) -> u32 {
    let _ = ctx;
    3
}

fn main() {}
