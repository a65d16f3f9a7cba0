//! The state set on a robot that is already built: the advice says where it goes.
use lag_bot::Robot;

struct Rooms;

fn main() -> lag_bot::Result<()> {
    let _robot = Robot::from_env()?.state(Rooms);
    Ok(())
}
