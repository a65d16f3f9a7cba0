use lag_bot::{command, hear, on};

#[command("!ping")]
async fn ping() -> &'static str {
    "pong"
}

#[on(member_join)]
async fn welcome() {}

#[hear("hello")]
async fn hello() {}

fn main() {}
