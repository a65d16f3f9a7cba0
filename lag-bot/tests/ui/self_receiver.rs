use lag_bot::{Ctx, command};

struct Dice;

impl Dice {
    #[command("!roll")]
    async fn roll(&self, ctx: Ctx) {
        let _ = ctx;
    }
}

fn main() {}
