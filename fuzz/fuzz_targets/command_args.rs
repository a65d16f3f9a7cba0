//! Command arguments: the tokenizer and every built-in `FromArg` take any text without
//! panicking, and the cursor only moves forward.
#![no_main]

use std::time::Duration;

use lag_bot::command::{Args, FromArg, MemberMention, Parsed, Quoted, Rest};
use lag_bot::model::{Mention, MentionKind};
use libfuzzer_sys::fuzz_target;

fn take<T: FromArg>(text: &str, mentions: &[Mention]) {
    let mut args = Args::with_mentions(text, mentions.to_vec());
    let before = args.remaining().len();
    let _ = T::from_arg(&mut args);
    assert!(args.remaining().len() <= before);
    let _ = T::kind();
    let _ = T::expected();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mentions = [
        Mention::new(MentionKind::User, "usr_1", "alice"),
        Mention::new(MentionKind::Robot, "rob_1", "Helper Bot"),
    ];
    let mut args = Args::new(text);
    while let Ok(Some(token)) = args.next_token() {
        assert!(!token.raw.is_empty());
    }
    let _ = Args::new(text).rest();

    take::<u8>(text, &mentions);
    take::<u64>(text, &mentions);
    take::<u128>(text, &mentions);
    take::<usize>(text, &mentions);
    take::<i8>(text, &mentions);
    take::<i64>(text, &mentions);
    take::<i128>(text, &mentions);
    take::<isize>(text, &mentions);
    take::<f32>(text, &mentions);
    take::<f64>(text, &mentions);
    take::<bool>(text, &mentions);
    take::<char>(text, &mentions);
    take::<String>(text, &mentions);
    take::<Quoted>(text, &mentions);
    take::<Rest>(text, &mentions);
    take::<Duration>(text, &mentions);
    take::<MemberMention>(text, &mentions);
    take::<Mention>(text, &mentions);
    take::<Parsed<std::net::IpAddr>>(text, &mentions);
    take::<Option<u32>>(text, &mentions);
    take::<Option<Duration>>(text, &mentions);
    take::<Vec<i32>>(text, &mentions);
    take::<Vec<String>>(text, &mentions);
    take::<Vec<Option<bool>>>(text, &mentions);
});
