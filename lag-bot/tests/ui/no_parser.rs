use lag_bot::{Ctx, command};

struct Colour;

#[command("!paint")]
async fn paint(ctx: Ctx, colour: Colour, times: u8) {
    let _ = (ctx, colour, times);
}

fn main() {}
