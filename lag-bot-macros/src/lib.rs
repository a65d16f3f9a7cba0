//! Attribute macros for `lag-bot`. Use them through `lag_bot::{command, on, hear}`.
//!
//! Each macro turns an `async fn` into a plain function of the same name returning the value a
//! user could build by hand (`Command`, `Listener`, `Hear`), keeps the function's doc comment
//! as its help text, and reports every misuse at once, each on the token at fault, next to the
//! untouched function.

mod command;
mod handler;
mod hear;
mod job;
mod on;

use proc_macro::TokenStream;

/// Makes an `async fn` a command: `#[command("!roll")]`, or with other triggers,
/// `#[command("!roll", aliases("!dice", "!r"))]`.
///
/// The function becomes `fn roll() -> Command<S>`, to register with the robot's `command`:
///
/// - its first parameter is the context, `Ctx` or `Ctx<MyState>` (which gives `S`);
/// - every parameter after it is an argument, parsed from the text after the trigger by
///   [`FromArg`](../lag_bot/command/trait.FromArg.html) and shown by its name in the usage line
///   (`Usage: !roll [sides]`). A wrong or missing argument is answered with what was wrong and
///   the usage line; the function does not run;
/// - it returns `()` (no answer), `String`/`&str` (a message in the same room), a
///   [`Reply`](../lag_bot/command/struct.Reply.html), or an `Option`/`Result` of those; an `Err`
///   goes to the robot's error hook;
/// - its doc comment is the help text: the first line in the `!help` list, all of it for
///   `!help roll`.
///
/// Cooldowns, checks and hiding from help are builder methods on the returned `Command`.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::command::{Command, Cooldown};
/// use lag_bot::{command, Ctx};
///
/// struct Dice { max_sides: u32 }
///
/// /// Rolls a die with the given number of sides (6 unless told).
/// #[command("!roll", aliases("!dice"))]
/// async fn roll(ctx: Ctx<Dice>, sides: Option<u32>) -> String {
///     let sides = sides.unwrap_or(6).clamp(2, ctx.state().max_sides);
///     format!("rolled a d{sides}")
/// }
///
/// let roll: Command<Dice> = roll().cooldown(Cooldown::per_user(Duration::from_secs(5)));
/// assert_eq!(roll.usage(), "!roll [sides]");
/// assert_eq!(roll.aliases(), ["!dice"]);
/// assert_eq!(roll.summary(), Some("Rolls a die with the given number of sides (6 unless told)."));
///
/// // The same command by hand:
/// let by_hand = Command::new("!roll", |ctx: Ctx<Dice>, sides: Option<u32>| async move {
///     let sides = sides.unwrap_or(6).clamp(2, ctx.state().max_sides);
///     format!("rolled a d{sides}")
/// })
/// .params(["sides"])
/// .alias("!dice")
/// .help("Rolls a die with the given number of sides (6 unless told).");
/// assert_eq!(by_hand.usage(), roll.usage());
/// ```
///
/// Compile errors, each on the token at fault: a function that is not `async`, is generic or
/// takes `self`; no context parameter, or a context that is not `Ctx` taken by value; an empty
/// trigger, one with whitespace or only a prefix; a duplicate alias; an unknown option; an
/// argument type without `FromArg`; a return type that is not a reply.
#[proc_macro_attribute]
pub fn command(attr: TokenStream, item: TokenStream) -> TokenStream {
    command::expand(attr.into(), item.into()).into()
}

/// Makes an `async fn` a listener for one event type: `#[on(member_join)]`.
///
/// The function becomes `fn welcome() -> Listener<S>`, to register with the robot's `on`. Its
/// first parameter is the context; the optional second one is the event's payload, of the
/// type `lag_bot::events` has for it. It returns what a command returns; text is posted in the
/// event's room.
///
/// The events, named after Lag's event types: `room_message`, `room_message_edited`,
/// `room_message_deleted`, `voice_join`, `voice_leave`, `member_join`, `member_leave`,
/// `member_role_changed`, `room_created`, `room_deleted`, `presence_update`, `server_updated`,
/// `robot_mentioned`. A misspelt name is a compile error on it, with the closest name
/// suggested; a payload of the wrong type is a compile error on the type.
///
/// ```
/// use lag_bot::events::MemberJoin;
/// use lag_bot::{on, Ctx, Listener};
///
/// struct Rooms { welcome: String }
///
/// /// Greets every newcomer in the welcome room.
/// #[on(member_join)]
/// async fn welcome(ctx: Ctx<Rooms>, join: MemberJoin) -> lag_bot::Result<()> {
///     ctx.send(&ctx.state().welcome, format!("Welcome, {}!", join.username)).await?;
///     Ok(())
/// }
///
/// let welcome: Listener<Rooms> = welcome();
/// assert_eq!(welcome.name(), "welcome");
/// assert_eq!(welcome.event_type(), Some("member.join"));
///
/// // The same listener by hand:
/// let by_hand = Listener::new(|ctx: Ctx<Rooms>, join: MemberJoin| async move {
///     ctx.send(&ctx.state().welcome, format!("Welcome, {}!", join.username)).await?;
///     Ok::<(), lag_bot::Error>(())
/// })
/// .named("welcome");
/// assert_eq!(by_hand.event_type(), welcome.event_type());
/// ```
#[proc_macro_attribute]
pub fn on(attr: TokenStream, item: TokenStream) -> TokenStream {
    on::expand(attr.into(), item.into()).into()
}

/// Makes an `async fn` a pattern listener: `#[hear(r"(?i)\bspam\b")]`.
///
/// The function becomes `fn spam() -> Hear<S>`, to register with the robot's `hear`. It runs
/// for every room message (except the robot's own) the regular expression matches; its first
/// parameter is the context, the optional second one the
/// [`Captures`](../lag_bot/command/struct.Captures.html). It returns what a command returns. The
/// pattern is checked at compile time: an invalid one is an error on the literal.
///
/// ```
/// use lag_bot::command::{Captures, Hear};
/// use lag_bot::{hear, Ctx};
///
/// /// Counts cookies.
/// #[hear(r"(?P<count>\d+) cookies")]
/// async fn cookies(ctx: Ctx, caps: Captures) -> String {
///     format!("{} cookies for {}", caps.name("count").unwrap_or("no"), ctx.me().name)
/// }
///
/// let cookies: Hear = cookies();
/// assert_eq!(cookies.pattern(), r"(?P<count>\d+) cookies");
///
/// // The same listener by hand:
/// let by_hand = Hear::new(r"(?P<count>\d+) cookies", |ctx: Ctx, caps: Captures| async move {
///     format!("{} cookies for {}", caps.name("count").unwrap_or("no"), ctx.me().name)
/// });
/// assert_eq!(by_hand.pattern(), cookies.pattern());
/// ```
#[proc_macro_attribute]
pub fn hear(attr: TokenStream, item: TokenStream) -> TokenStream {
    hear::expand(attr.into(), item.into()).into()
}

/// Makes an `async fn` a job that runs every period: `#[every("5m")]`.
///
/// The function becomes `fn poll() -> Job<S>`, to register with the robot's `job`. It takes
/// the context only, and returns what a handler returns (a job has no room: post with
/// `Reply::in_room` or the client). The period is whole seconds, minutes, hours or days:
/// `90s`, `5m`, `1h30m`, `2d`; anything else is a compile error on it. See `lag_bot::job`.
///
/// ```
/// use lag_bot::{every, Ctx, job::Job};
///
/// /// Checks the game server for finished matches.
/// #[every("5m")]
/// async fn poll(ctx: Ctx) -> lag_bot::Result<()> {
///     let _ = ctx.client();
///     Ok(())
/// }
///
/// let poll: Job = poll();
/// assert_eq!(poll.name(), "poll");
/// assert_eq!(poll.schedule().to_string(), "every 5m");
/// ```
#[proc_macro_attribute]
pub fn every(attr: TokenStream, item: TokenStream) -> TokenStream {
    job::expand_every(attr.into(), item.into()).into()
}

/// Makes an `async fn` a job that runs at the moments a cron expression names:
/// `#[cron("0 9 * * *")]`, or `#[cron("0 9 * * 1-5", tz = "Europe/Paris")]`.
///
/// Five fields (minute, hour, day of month, month, day of week), or six with seconds first,
/// and aliases such as `@daily`. A malformed expression is a compile error on it; the time
/// zone (the machine's local one by default) is looked up in the tz database when the robot
/// starts, and an unknown one stops the start with an error naming it. See `lag_bot::job`.
///
/// ```
/// use lag_bot::{cron, Ctx, Reply};
///
/// /// Posts the daily digest.
/// #[cron("0 9 * * *", tz = "Europe/Paris")]
/// async fn digest(_ctx: Ctx) -> Reply {
///     Reply::say("Here is yesterday in numbers.").in_room("room_01J0000000000000000000000")
/// }
///
/// assert_eq!(digest().schedule().to_string(), "cron `0 9 * * *` in Europe/Paris");
/// ```
#[proc_macro_attribute]
pub fn cron(attr: TokenStream, item: TokenStream) -> TokenStream {
    job::expand_cron(attr.into(), item.into()).into()
}
