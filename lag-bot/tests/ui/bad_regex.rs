use lag_bot::command::Captures;
use lag_bot::{Ctx, hear};

#[hear(r"(?i)\b(spam")]
async fn spam(ctx: Ctx, caps: Captures) {
    let _ = (ctx, caps);
}

#[hear(r"[z-a]")]
async fn backwards(ctx: Ctx) {
    let _ = ctx;
}

/// The functions are still there next to the errors.
fn main() {
    let _ = (spam, backwards);
}
