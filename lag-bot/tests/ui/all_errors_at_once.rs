use lag_bot::{Ctx, command};

#[command("", aliases("!a", "!a"))]
fn everything_wrong<T>(ctx: Ctx, (a, b): (u8, u8)) {
    let _ = (ctx, a, b);
}

/// The functions are still there next to the errors.
fn main() {
    let _ = everything_wrong::<()>;
}
