//! A handler written for one state type, added to a robot whose state is another.
use lag_bot::{Ctx, Robot, command};

struct Rooms {
    welcome: String,
}

struct Scores;

/// Says where newcomers go.
#[command("!where")]
async fn where_(ctx: Ctx<Rooms>) -> String {
    ctx.state().welcome.clone()
}

/// Has no state at all.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

fn main() -> lag_bot::Result<()> {
    let _robot = Robot::builder()
        .state(Scores)
        .key("lag_robot_abcd1234_secret")
        .build()?
        .command(where_())
        .command(ping());
    Ok(())
}
