use lag_bot::{Ctx, command};

struct Dice;

impl Dice {
    #[command("!roll")]
    async fn roll(&self, ctx: Ctx) {
        let _ = ctx;
    }
}

/// The functions are still there next to the errors.
fn main() {
    let _ = Dice::roll;
}
