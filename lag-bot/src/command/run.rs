//! Running one command: its checks, then its arguments, then its cooldown, then the handler.
//! A refusal at any step is a reply worded by the robot's [`Texts`]; the handler never runs.
//!
//! A subcommand runs with the groups above it, outermost first: every level's checks, then the
//! subcommand's arguments, then every level's cooldown.

use std::sync::Arc;

use super::args::Args;
use super::texts::Texts;
use super::{Command, CooldownStore};
use crate::ctx::Ctx;
use crate::events::RoomMessage;
use crate::model::Mention;
use crate::reply::{IntoReply, Reply, ReplyFuture};

/// One use of a command, as a member typed it.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    /// The trigger as typed, prefix included (`?dice`), for refusals.
    pub(crate) typed: String,
    /// The text after the trigger.
    pub(crate) args: String,
    /// The usage line with the prefix shown in help, for usage errors.
    pub(crate) usage: String,
    /// The answer when the handler gives none: a group's usage.
    fallback: Option<String>,
    sender: String,
    room: String,
    mentions: Vec<Mention>,
}

impl Invocation {
    pub(crate) fn new(msg: &RoomMessage, typed: String, args: String, usage: String) -> Self {
        Self {
            typed,
            args,
            usage,
            fallback: None,
            sender: msg
                .sender_id
                .clone()
                .or_else(|| msg.robot_id.clone())
                .unwrap_or_default(),
            room: msg.room_id.clone(),
            mentions: msg.mentions.clone(),
        }
    }

    /// Answers with `fallback` when the handler gives no reply.
    pub(crate) fn with_fallback(mut self, fallback: Option<String>) -> Self {
        self.fallback = fallback;
        self
    }
}

/// Starts the last command of `chain` (a command, or a subcommand after the groups above it)
/// for `call`; the future yields the handler's reply, or the refusal.
pub(crate) fn execute<S: Send + Sync + 'static>(
    chain: Vec<Command<S>>,
    ctx: Ctx<S>,
    call: Invocation,
    texts: Arc<dyn Texts>,
    cooldowns: Arc<dyn CooldownStore>,
) -> ReplyFuture {
    Box::pin(async move {
        let Some(command) = chain.last() else {
            return Ok(None);
        };
        for level in &chain {
            for check in &level.checks {
                if !check(ctx.clone()).await? {
                    let denied = level
                        .denied
                        .clone()
                        .unwrap_or_else(|| texts.denied(&call.typed));
                    return Reply::say(denied).into_reply();
                }
            }
        }
        let started = {
            let mut parsed = Args::with_mentions(&call.args, call.mentions);
            (command.invoke)(ctx, &mut parsed, &command.params)
        };
        let running = match started {
            Ok(running) => running,
            Err(error) => return Ok(Some(Reply::say(texts.usage_error(&error, &call.usage)))),
        };
        let mut key = String::new();
        for level in &chain {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(level.name());
            if let Some(cooldown) = &level.cooldown
                && let Some(remaining) = cooldown
                    .try_start(&*cooldowns, &key, &call.sender, &call.room)
                    .await?
            {
                let refusal = cooldown
                    .own_refusal(&call.typed, remaining)
                    .unwrap_or_else(|| texts.cooldown(&call.typed, cooldown.scope(), remaining));
                return Reply::say(refusal).into_reply();
            }
        }
        match running.await? {
            None => Ok(call.fallback.map(Reply::say)),
            reply => Ok(reply),
        }
    })
}
