use lag_bot::{Ctx, command};

#[command("strikes")]
async fn strikes(ctx: Ctx) {
    let _ = ctx;
}

#[command("!mod", subcommands(strikes, pardon))]
async fn moderation(ctx: Ctx) {
    let _ = ctx;
}

fn main() {
    let _ = moderation();
}
