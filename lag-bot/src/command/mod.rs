//! Commands (`!roll 6`) and pattern listeners (`hear`), with typed arguments, usage lines, help,
//! cooldowns and checks.
//!
//! A [`Command`] is a trigger (`!roll`), optional aliases, a doc text and a handler whose
//! parameters after the [`Ctx`] are parsed from the message by [`FromArg`]. The `#[command]`
//! attribute writes one from an `async fn`; [`Command::new`] builds the same value by hand:
//!
//! ```
//! use lag_bot::{command, Ctx, Result};
//! use lag_bot::command::{Command, Cooldown};
//! use std::time::Duration;
//!
//! /// Rolls a die with the given number of sides (6 unless told).
//! #[command("!roll", aliases("!dice"))]
//! async fn roll(ctx: Ctx, sides: Option<u32>) -> String {
//!     let sides = sides.unwrap_or(6).max(1);
//!     format!("rolled {} of {sides}", sides / 2 + 1)
//! }
//!
//! // The same command without the attribute:
//! let by_hand = Command::new("!roll", |_ctx: Ctx, sides: Option<u32>| async move {
//!     let sides = sides.unwrap_or(6).max(1);
//!     format!("rolled {} of {sides}", sides / 2 + 1)
//! })
//! .params(["sides"])
//! .alias("!dice")
//! .help("Rolls a die with the given number of sides (6 unless told).");
//!
//! let roll = roll().cooldown(Cooldown::per_user(Duration::from_secs(5)));
//! assert_eq!(roll.usage(), "!roll [sides]");
//! assert_eq!(by_hand.usage(), roll.usage());
//! assert_eq!(by_hand.help_text(), roll.help_text());
//! ```
//!
//! A refused argument never reaches the handler: the robot answers with what was wrong and the
//! usage line (`sides: `six` is not a whole number` / `Usage: !roll [sides]`). Robot-wide
//! behaviour (prefixes, case, `@Robot` addressing, the built-in `!help`, "did you mean")
//! is set with [`CommandOptions`].

mod args;
pub(crate) mod conversation;
mod cooldown;
mod error;
mod from_arg;
mod hear;
mod help;
pub(crate) mod lookup;
mod options;
mod run;
mod texts;
mod usage;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::ctx::Ctx;
use crate::error::{BoxError, Result};
use crate::model::ServerRole;
use crate::reply::{IntoReply, ReplyFuture, into_error};

pub use args::{Args, Checkpoint, Token};
pub use cooldown::{Cooldown, CooldownScope, CooldownStore, MemoryCooldowns, format_duration};
pub use error::{ArgError, ArgErrorKind};
pub(crate) use from_arg::parse_duration;
pub use from_arg::{ArgKind, FromArg, MemberMention, Parsed, Quoted, Rest};
pub use hear::{Captures, Hear};
pub use options::CommandOptions;
pub use texts::{English, HelpEntry, Texts};
pub use usage::Param;

type Invoke<S> = dyn Fn(Ctx<S>, &mut Args<'_>, &[Param]) -> std::result::Result<ReplyFuture, ArgError>
    + Send
    + Sync;

type CheckFn<S> = dyn Fn(Ctx<S>) -> BoxFuture<'static, Result<bool>> + Send + Sync;

/// A command: a trigger word, its arguments and its handler.
///
/// Register it with the robot builder's `command`. Triggers are written with their prefix
/// (`"!roll"`); the robot's [`CommandOptions`] decide which prefixes are recognised, so
/// `CommandOptions::prefix("?")` makes the same command answer to `?roll`.
///
/// See the [module documentation](self) for both ways of building one.
pub struct Command<S = ()> {
    label: String,
    trigger: String,
    name: String,
    aliases: Vec<String>,
    help: Option<String>,
    params: Vec<Param>,
    param_names: Option<Vec<String>>,
    invoke: Arc<Invoke<S>>,
    cooldown: Option<Cooldown>,
    checks: Vec<Arc<CheckFn<S>>>,
    denied: Option<String>,
    hidden: bool,
    subcommands: Vec<Command<S>>,
    category: Option<String>,
}

impl<S: Send + Sync + 'static> Command<S> {
    /// A command answering to `trigger` (e.g. `"!roll"`) that runs `handler`.
    ///
    /// `handler` is an async function or closure taking the [`Ctx`] and then up to eight
    /// arguments of [`FromArg`] types, returning anything [`IntoReply`]. Name its parameters
    /// for the usage line with [`params`](Self::params).
    ///
    /// ```
    /// use lag_bot::Ctx;
    /// use lag_bot::command::{Command, Rest};
    ///
    /// let echo = Command::new("!echo", |_ctx: Ctx, text: Rest| async move { text.into_inner() })
    ///     .params(["text"]);
    /// assert_eq!(echo.usage(), "!echo <text...>");
    /// ```
    pub fn new<T, H: CommandHandler<S, T>>(trigger: impl Into<String>, handler: H) -> Self {
        let handler = Arc::new(handler);
        Self::from_parts(
            trigger.into(),
            H::params(),
            Arc::new(move |ctx, args, params| handler.invoke(ctx, args, params)),
        )
    }

    pub(crate) fn from_parts(trigger: String, params: Vec<Param>, invoke: Arc<Invoke<S>>) -> Self {
        let name = trigger_name(&trigger).to_owned();
        Self {
            label: trigger.clone(),
            trigger,
            name,
            aliases: Vec::new(),
            help: None,
            params,
            param_names: None,
            invoke,
            cooldown: None,
            checks: Vec::new(),
            denied: None,
            hidden: false,
            subcommands: Vec::new(),
            category: None,
        }
    }

    /// A command group answering to `trigger` (e.g. `"!mod"`), whose own run does nothing: a
    /// bare `!mod` answers with the group's usage, listing its
    /// [subcommands](Self::subcommand). For a group that does something of its own when called
    /// bare, build it with [`new`](Self::new) and add subcommands to it; when its handler
    /// returns no reply, the usage is the answer.
    ///
    /// ```
    /// use lag_bot::Ctx;
    /// use lag_bot::command::{Command, MemberMention};
    ///
    /// let strikes = Command::new("strikes", |_ctx: Ctx, who: MemberMention| async move {
    ///     format!("{who} has no strikes")
    /// })
    /// .params(["who"])
    /// .help("Shows a member's strikes.");
    /// let moderation = Command::group("!mod")
    ///     .subcommand(strikes)
    ///     .help("Moderation tools.")
    ///     .category("Moderation");
    /// assert_eq!(moderation.usage(), "!mod <subcommand>");
    /// assert_eq!(moderation.subcommands()[0].usage(), "strikes <who>");
    /// ```
    pub fn group(trigger: impl Into<String>) -> Self {
        Self::new(trigger, |_ctx: Ctx<S>| async {})
    }

    pub(crate) fn labelled(mut self, label: &str) -> Self {
        label.clone_into(&mut self.label);
        self
    }

    /// Names the parameters, in order, for the usage line and argument errors (unnamed ones
    /// are shown as `arg1`, `arg2`, ...). Registering a command with more names than
    /// parameters is an error.
    pub fn params<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        for (param, name) in self.params.iter_mut().zip(&names) {
            param.rename(name.clone());
        }
        self.param_names = Some(names);
        self
    }

    /// Adds another trigger for the same command, e.g. `"!dice"` for `"!roll"`.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Sets the help text shown by `!help`: its first line is the summary in the command list,
    /// the whole text is shown by `!help <command>`.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        let text = text.trim();
        self.help = (!text.is_empty()).then(|| text.to_owned());
        self
    }

    /// Limits how often the command runs (see [`Cooldown`]).
    pub fn cooldown(mut self, cooldown: Cooldown) -> Self {
        self.cooldown = Some(cooldown);
        self
    }

    /// Adds a check that must pass before the command runs, e.g. that the author is an admin.
    ///
    /// The check gets the context of the triggering message and returns `bool` or
    /// `Result<bool, E>`; `false` refuses the command with the [denied
    /// message](Self::denied_message), an `Err` goes to the robot's error hook. Checks run in
    /// the order added, before arguments are validated, so a refused author does not learn the
    /// command's usage.
    ///
    /// ```
    /// use lag_bot::Ctx;
    /// use lag_bot::command::Command;
    ///
    /// struct Config { admins: Vec<String> }
    ///
    /// let shutdown = Command::new("!shutdown", |_ctx: Ctx<Config>| async { "bye" })
    ///     .check(|ctx: Ctx<Config>| async move {
    ///         let sender = ctx.message().and_then(|m| m.sender_id.clone());
    ///         sender.is_some_and(|id| ctx.state().admins.contains(&id))
    ///     })
    ///     .denied_message("Only admins can shut me down.");
    /// # let _ = shutdown;
    /// ```
    pub fn check<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn(Ctx<S>) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: CheckOutcome,
    {
        self.checks.push(Arc::new(move |ctx| {
            let outcome = check(ctx);
            Box::pin(async move { outcome.await.into_allowed() })
        }));
        self
    }

    /// The reply when a check refuses the command (default: "You can't use `!cmd`."); an
    /// empty message refuses silently.
    pub fn denied_message(mut self, message: impl Into<String>) -> Self {
        self.denied = Some(message.into());
        self
    }

    /// Lets only members whose server role is one of `roles` run the command: a
    /// [check](Self::check) asking Lag for the member list (the robot needs `read_members`).
    ///
    /// ```
    /// use lag_bot::Ctx;
    /// use lag_bot::command::Command;
    /// use lag_bot::model::ServerRole;
    ///
    /// let purge = Command::new("!purge", |_ctx: Ctx| async { "purged" })
    ///     .only_roles([ServerRole::Owner, ServerRole::Admin])
    ///     .denied_message("Only admins can purge.");
    /// # let _ = purge;
    /// ```
    pub fn only_roles(self, roles: impl IntoIterator<Item = ServerRole>) -> Self {
        let roles: Arc<[ServerRole]> = roles.into_iter().collect();
        self.check(move |ctx: Ctx<S>| {
            let roles = Arc::clone(&roles);
            async move {
                let Some(sender) = ctx.message().and_then(|m| m.sender_id.clone()) else {
                    return Ok::<bool, crate::Error>(false);
                };
                let members = ctx.client().members().await?;
                Ok(members
                    .iter()
                    .any(|m| m.user_id == sender && roles.contains(&m.role)))
            }
        })
    }

    /// Leaves the command out of `!help` and "did you mean" suggestions; it still runs.
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    /// Adds a subcommand, making this command a group: `!mod strikes @x` runs the subcommand
    /// `strikes` of the group `!mod`. A subcommand's trigger is its name without a prefix
    /// (`"strikes"`); it is a command like any other, with arguments, help, aliases,
    /// cooldowns, checks and subcommands of its own.
    ///
    /// The group's checks run before the subcommand's, and its cooldown is started with the
    /// subcommand's: a check on the group guards every subcommand. A misspelt subcommand gets
    /// "did you mean"; a word that names no subcommand goes to the group's own handler when
    /// it takes parameters, and is answered with the group's usage otherwise. Two
    /// subcommands of one group claiming the same name is a
    /// [`Config`](crate::ErrorKind::Config) error when the robot starts.
    pub fn subcommand(mut self, command: Command<S>) -> Self {
        self.subcommands.push(command);
        self
    }

    /// Puts the command in a category: the built-in `!help` lists commands by category, the
    /// ones without a category first.
    pub fn category(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        let name = name.trim();
        self.category = (!name.is_empty()).then(|| name.to_owned());
        self
    }
}

impl<S> Command<S> {
    /// The trigger as written, e.g. `"!roll"`.
    pub fn trigger(&self) -> &str {
        &self.trigger
    }

    /// The trigger without its prefix, e.g. `"roll"`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The other triggers, as written.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// The parameters after the context.
    pub fn parameters(&self) -> &[Param] {
        &self.params
    }

    /// The help text, if any.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The first line of the help text.
    pub fn summary(&self) -> Option<&str> {
        self.help.as_deref().and_then(|h| h.lines().next())
    }

    /// Whether the command is left out of help.
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// The command's cooldown, if it has one.
    pub fn cooldown_settings(&self) -> Option<&Cooldown> {
        self.cooldown.as_ref()
    }

    /// The subcommands of a group, in the order added (empty for a plain command).
    pub fn subcommands(&self) -> &[Command<S>] {
        &self.subcommands
    }

    /// The category `!help` lists the command under, if any.
    pub fn category_name(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// The usage line with the trigger as written, e.g. `"!roll [sides]"`; a group without
    /// parameters of its own shows `<subcommand>` (`"!mod <subcommand>"`).
    pub fn usage(&self) -> String {
        self.usage_as(&self.trigger, "subcommand")
    }

    /// The usage line as typed `called` (`!mod strikes`), with `subcommand` as the name of a
    /// group's subcommand word.
    pub(crate) fn usage_as(&self, called: &str, subcommand: &str) -> String {
        let line = usage::usage_line(called, &self.params);
        if self.params.is_empty() && self.subcommands.iter().any(|c| !c.hidden) {
            format!("{line} <{subcommand}>")
        } else {
            line
        }
    }

    /// Takes the subcommands out, leaving a plain command.
    pub(crate) fn take_subcommands(&mut self) -> Vec<Command<S>> {
        std::mem::take(&mut self.subcommands)
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The trigger's and the aliases' names, without prefixes.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name()).chain(self.aliases.iter().map(|a| trigger_name(a)))
    }
}

impl<S> Clone for Command<S> {
    fn clone(&self) -> Self {
        Self {
            label: self.label.clone(),
            trigger: self.trigger.clone(),
            name: self.name.clone(),
            aliases: self.aliases.clone(),
            help: self.help.clone(),
            params: self.params.clone(),
            param_names: self.param_names.clone(),
            invoke: Arc::clone(&self.invoke),
            cooldown: self.cooldown.clone(),
            checks: self.checks.clone(),
            denied: self.denied.clone(),
            hidden: self.hidden,
            subcommands: self.subcommands.clone(),
            category: self.category.clone(),
        }
    }
}

impl<S> fmt::Debug for Command<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("trigger", &self.trigger)
            .field("aliases", &self.aliases)
            .field("params", &self.params)
            .field("help", &self.help)
            .field("cooldown", &self.cooldown)
            .field("checks", &self.checks.len())
            .field("hidden", &self.hidden)
            .field("subcommands", &self.subcommands)
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

/// The part of a trigger after its prefix: `"roll"` for `"!roll"`, `"roll"` for `"roll"`.
pub(crate) fn trigger_name(trigger: &str) -> &str {
    trigger.trim_start_matches(|c: char| c.is_ascii_punctuation())
}

/// Parses the next parameter, naming it in any error.
///
/// When the parameter refuses a word that an earlier optional parameter already refused, the
/// earlier refusal is the error: `!roll six` for `sides: Option<u32>, count: Option<u8>` blames
/// `sides`, the first parameter that could have taken `six`, not the last one that was tried.
pub(crate) fn parse_param<T: FromArg>(
    args: &mut Args<'_>,
    name: &str,
) -> std::result::Result<T, ArgError> {
    let start = args.checkpoint();
    let parsed = T::from_arg(args).map_err(|error| {
        let error = args.take_earlier_refusal(start, &error).unwrap_or(error);
        let error = if error.param().is_none() {
            error.with_param(name)
        } else {
            error
        };
        match error.kind() {
            ArgErrorKind::Missing { expected: None } => error.with_expected(T::expected()),
            _ => error,
        }
    });
    args.name_deferred(name);
    parsed
}

/// What a [check](Command::check) returns: `bool`, or `Result<bool, E>` for checks that can fail.
pub trait CheckOutcome {
    /// Whether the command may run.
    ///
    /// # Errors
    ///
    /// The check's own error, for the robot's error hook.
    fn into_allowed(self) -> Result<bool>;
}

impl CheckOutcome for bool {
    fn into_allowed(self) -> Result<bool> {
        Ok(self)
    }
}

impl<E: Into<BoxError>> CheckOutcome for std::result::Result<bool, E> {
    fn into_allowed(self) -> Result<bool> {
        self.map_err(into_error)
    }
}

/// A function that can handle a command: takes the [`Ctx`] and up to eight [`FromArg`]
/// arguments, and returns a future of something [`IntoReply`].
///
/// Implemented for every such `async fn` and closure; `T` is the tuple of argument types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot handle a command",
    label = "expected an async fn or closure taking `Ctx<S>` and up to eight `FromArg` arguments",
    note = "every argument type must implement `lag_bot::command::FromArg`, and the future's output `lag_bot::IntoReply`"
)]
pub trait CommandHandler<S, T>: Send + Sync + 'static {
    /// The parameters after the context, unnamed.
    fn params() -> Vec<Param>;

    /// Parses the arguments (named by `params`, in order) and starts the handler.
    ///
    /// # Errors
    ///
    /// The first refused argument.
    fn invoke(
        &self,
        ctx: Ctx<S>,
        args: &mut Args<'_>,
        params: &[Param],
    ) -> std::result::Result<ReplyFuture, ArgError>;
}

macro_rules! command_handler {
    ($($arg:ident),*) => {
        impl<S, F, Fut, $($arg,)*> CommandHandler<S, ($($arg,)*)> for F
        where
            S: Send + Sync + 'static,
            F: Fn(Ctx<S>, $($arg,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoReply,
            $($arg: FromArg + Send + 'static,)*
        {
            fn params() -> Vec<Param> {
                #[allow(unused_mut, unused_variables)]
                let mut index = 0;
                vec![$({
                    index += 1;
                    Param::of::<$arg>(format!("arg{index}"))
                },)*]
            }

            #[allow(non_snake_case, unused_variables, unused_mut)]
            fn invoke(
                &self,
                ctx: Ctx<S>,
                args: &mut Args<'_>,
                params: &[Param],
            ) -> std::result::Result<ReplyFuture, ArgError> {
                let mut names = params.iter().map(Param::name);
                $(
                    let $arg = parse_param::<$arg>(args, names.next().unwrap_or("argument"))?;
                )*
                args.finish()?;
                Ok(crate::reply::boxed((self)(ctx, $($arg,)*)))
            }
        }
    };
}

command_handler!();
command_handler!(A1);
command_handler!(A1, A2);
command_handler!(A1, A2, A3);
command_handler!(A1, A2, A3, A4);
command_handler!(A1, A2, A3, A4, A5);
command_handler!(A1, A2, A3, A4, A5, A6);
command_handler!(A1, A2, A3, A4, A5, A6, A7);
command_handler!(A1, A2, A3, A4, A5, A6, A7, A8);

#[cfg(test)]
pub(crate) mod tests {
    //! Commands the module's tests share.

    use super::Command;
    use crate::ctx::Ctx;

    pub(crate) fn roll() -> Command {
        Command::new("!roll", |_ctx: Ctx, sides: Option<u32>| async move {
            format!("rolled d{}", sides.unwrap_or(6))
        })
        .params(["sides"])
        .alias("!dice")
        .help("Rolls a die.\nSix sides unless told.")
    }

    pub(crate) fn ping() -> Command {
        Command::new("!ping", |_ctx: Ctx| async { "pong" }).help("Replies with pong.")
    }

    pub(crate) fn secret() -> Command {
        Command::new("!secret", |_ctx: Ctx| async { "shh" }).hidden()
    }
}
