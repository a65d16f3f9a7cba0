use lag_bot::{Ctx, command};

#[command("")]
async fn nothing(ctx: Ctx) {
    let _ = ctx;
}

#[command("   ")]
async fn spaces(ctx: Ctx) {
    let _ = ctx;
}

#[command("!two words")]
async fn two_words(ctx: Ctx) {
    let _ = ctx;
}

#[command("!")]
async fn bare_prefix(ctx: Ctx) {
    let _ = ctx;
}

#[command()]
async fn no_trigger(ctx: Ctx) {
    let _ = ctx;
}

fn main() {}
