use lag_bot::{Ctx, command};

#[command("strikes")]
async fn strikes(ctx: Ctx) {
    let _ = ctx;
}

#[command("!mod", subcommands(strikes, strikes), category = "")]
async fn moderation(ctx: Ctx) {
    let _ = ctx;
}

fn main() {}
