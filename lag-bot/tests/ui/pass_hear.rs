use lag_bot::command::{Captures, Hear};
use lag_bot::{Ctx, hear};

/// Warns about spam.
#[hear(r"(?i)\bspam\b")]
async fn spam(_ctx: Ctx) -> &'static str {
    "no spam, please"
}

#[hear(r"(?P<count>\d+) (?P<what>\w+)")]
async fn counted(_ctx: Ctx<u8>, caps: Captures) -> lag_bot::Result<String> {
    Ok(format!("{} x {}", caps.name("count").unwrap_or("?"), caps.name("what").unwrap_or("?")))
}

fn main() {
    let spam: Hear = spam();
    assert_eq!(spam.pattern(), r"(?i)\bspam\b");
    let counted: Hear<u8> = counted();
    assert_eq!(counted.pattern(), r"(?P<count>\d+) (?P<what>\w+)");
}
