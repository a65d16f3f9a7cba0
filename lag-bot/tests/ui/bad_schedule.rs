use lag_bot::{Ctx, cron, every};

#[every("5 minutes")]
async fn poll(_ctx: Ctx) {}

#[every("0s")]
async fn never(_ctx: Ctx) {}

#[cron("0 25 * * *")]
async fn late(_ctx: Ctx) {}

#[cron("0 9 * * *", timezone = "Europe/Paris")]
async fn morning(_ctx: Ctx) {}

#[every("1h")]
async fn hourly(_ctx: Ctx, extra: u32) {
    let _ = extra;
}

fn main() {
    let _ = (poll, never, late, morning, hourly);
}
