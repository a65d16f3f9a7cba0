use lag_bot::{Ctx, command};

#[command("!show")]
async fn show<T: std::fmt::Display>(ctx: Ctx, value: T) -> String {
    let _ = ctx;
    value.to_string()
}

fn main() {}
