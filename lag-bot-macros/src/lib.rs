//! Attribute macros for `lag-bot`. Use them through `lag_bot::{command, on, hear}`, whose
//! documentation describes them in full.
//!
//! Each macro turns an `async fn` into a plain function returning the value a user could build
//! by hand (`Command`, `Listener`, `Hear`), keeps the function's doc comment as its help text,
//! and reports every misuse at once, each on the token at fault, next to the untouched function.

mod command;
mod handler;
mod hear;
mod on;

use proc_macro::TokenStream;

/// Turns `async fn roll(ctx: Ctx, sides: Option<u32>)` into `fn roll() -> Command<S>`.
#[proc_macro_attribute]
pub fn command(attr: TokenStream, item: TokenStream) -> TokenStream {
    command::expand(attr.into(), item.into()).into()
}

/// Turns `async fn welcome(ctx: Ctx, join: MemberJoin)` into `fn welcome() -> Listener<S>`.
#[proc_macro_attribute]
pub fn on(attr: TokenStream, item: TokenStream) -> TokenStream {
    on::expand(attr.into(), item.into()).into()
}

/// Turns `async fn spam(ctx: Ctx, caps: Captures)` into `fn spam() -> Hear<S>`.
#[proc_macro_attribute]
pub fn hear(attr: TokenStream, item: TokenStream) -> TokenStream {
    hear::expand(attr.into(), item.into()).into()
}
