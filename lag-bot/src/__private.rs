//! What the `#[command]`, `#[on]`, `#[hear]`, `#[every]` and `#[cron]` expansions name. Not a public API: it changes
//! whenever the macros do.

use std::future::Future;
use std::sync::Arc;

use crate::command::{ArgError, Args, FromArg, Param, parse_param};
use crate::ctx::Ctx;
use crate::reply::{IntoReply, Reply, ReplyFuture};

pub use crate::command::{Captures, Command, Hear};
pub use crate::events;
pub use crate::job::{Job, Schedule};
pub use crate::listener::Listener;
pub use core::result::Result::Ok;

/// The type of a handler's first parameter: the context, from which the robot's state type is
/// read.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler context",
    label = "the first parameter must be the context: `Ctx` or `Ctx<YourState>`",
    note = "take the context by value, e.g. `async fn ping(ctx: Ctx) -> &'static str`"
)]
pub trait Context: Sized {
    /// The robot's state type.
    type State: Send + Sync + 'static;

    /// The context itself.
    fn from_ctx(ctx: Ctx<Self::State>) -> Self;
}

impl<S: Send + Sync + 'static> Context for Ctx<S> {
    type State = S;

    fn from_ctx(ctx: Ctx<S>) -> Self {
        ctx
    }
}

/// A command built from its parts.
pub fn command<S, P, F>(trigger: &str, label: &str, params: P, invoke: F) -> Command<S>
where
    S: Send + Sync + 'static,
    P: IntoIterator<Item = Param>,
    F: Fn(Ctx<S>, &mut Args<'_>, &[Param]) -> Result<ReplyFuture, ArgError> + Send + Sync + 'static,
{
    Command::from_parts(
        trigger.to_owned(),
        params.into_iter().collect(),
        Arc::new(invoke),
    )
    .labelled(label)
}

/// A group's subcommand: what a `#[command]` function returns.
pub fn subcommand<S, C: Subcommand<S>>(command: C) -> Command<S> {
    command.into_command()
}

/// What `subcommands(...)` of `#[command]` names: `#[command]` functions.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a command",
    label = "a subcommand is the name of a `#[command]` function",
    note = "write the subcommand as `#[command(\"name\")] async fn name(ctx: Ctx, ...)` and list its function: `subcommands(name)`"
)]
pub trait Subcommand<S> {
    /// The command.
    fn into_command(self) -> Command<S>;
}

impl<S> Subcommand<S> for Command<S> {
    fn into_command(self) -> Command<S> {
        self
    }
}

/// A parameter of type `T`.
pub fn param<T: FromArg>(name: &'static str) -> Param {
    Param::of::<T>(name)
}

/// Parses parameter `index`.
pub fn parse<T: FromArg>(
    args: &mut Args<'_>,
    params: &[Param],
    index: usize,
) -> Result<T, ArgError> {
    let name = params.get(index).map_or("argument", Param::name);
    parse_param::<T>(args, name)
}

/// Refuses leftover arguments.
pub fn finish(args: &mut Args<'_>) -> Result<(), ArgError> {
    args.finish()
}

/// Boxes a command handler's future, turning its output into the reply.
pub fn reply_future<F>(future: F) -> ReplyFuture
where
    F: Future + Send + 'static,
    F::Output: IntoReply,
{
    crate::reply::boxed(future)
}

/// Turns a handler's output into the reply.
pub async fn replying<F>(future: F) -> crate::Result<Option<Reply>>
where
    F: Future,
    F::Output: IntoReply,
{
    future.await.into_reply()
}

/// A pattern listener built from its parts.
pub fn hear<S, F, Fut>(pattern: &str, label: &str, handler: F) -> Hear<S>
where
    S: Send + Sync + 'static,
    F: Fn(Ctx<S>, Captures) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoReply,
{
    Hear::new(pattern, handler).labelled(label)
}
