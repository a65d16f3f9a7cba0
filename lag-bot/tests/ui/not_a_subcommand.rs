use lag_bot::events::MemberJoin;
use lag_bot::{Ctx, command, on};

#[on(member_join)]
async fn welcome(ctx: Ctx, join: MemberJoin) {
    let _ = (ctx, join);
}

fn rules() -> &'static str {
    "be kind"
}

#[command("!mod", subcommands(welcome, rules))]
async fn moderation(ctx: Ctx) {
    let _ = ctx;
}

fn main() {
    let _ = moderation();
}
