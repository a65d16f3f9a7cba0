//! Finds what a room message asks for: a command by trigger (one hash lookup), the pattern
//! listeners it matches (one regex-set pass), or a near-miss suggestion; and starts the runs
//! that answer it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use regex::{Regex, RegexSet};

use super::args::prefix_len_ignore_case;
use super::hear::{Captures, group_names};
use super::help::help_command;
use super::run::{Invocation, execute};
use super::usage::closest;
use super::{Command, CommandOptions, CooldownStore, Hear, trigger_name};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::events::RoomMessage;
use crate::reply::{Reply, Run};

/// The handler name of the "did you mean" answer to an unknown command.
const SUGGESTION_HANDLER: &str = "command suggestion";

/// A robot's commands and pattern listeners, indexed for matching; built once when the robot
/// starts.
pub(crate) struct CommandIndex<S> {
    commands: Vec<Command<S>>,
    /// What each command's runs are called in the error hook, spans and metrics.
    handler_names: Vec<String>,
    lookup: HashMap<String, usize>,
    hears: Vec<CompiledHear<S>>,
    hear_set: RegexSet,
    options: CommandOptions,
    prefixes: Vec<String>,
    /// Where the commands' cooldowns run.
    cooldowns: Arc<dyn CooldownStore>,
}

struct CompiledHear<S> {
    hear: Hear<S>,
    regex: Regex,
    names: Arc<HashMap<String, usize>>,
}

/// What a message asks for, decided without any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Run command number `index` with `args` (the text after its trigger).
    Command {
        index: usize,
        typed: String,
        args: String,
    },
    /// Answer with `text` in the same room.
    Say(String),
    /// Run pattern listener number `index`.
    Hear { index: usize, captures: Captures },
}

/// The robot, as far as command addressing needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Me<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

impl<S: Send + Sync + 'static> CommandIndex<S> {
    /// Indexes `commands` by trigger and alias, compiles the `hears` patterns into one set and
    /// adds the built-in help unless it is off or replaced; cooldowns run in `cooldowns`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for invalid options, a trigger with no
    /// name or with spaces, two commands claiming the same trigger or alias (naming both), more
    /// parameter names than parameters, or a pattern that does not compile.
    pub(crate) fn new(
        mut commands: Vec<Command<S>>,
        hears: Vec<Hear<S>>,
        options: CommandOptions,
        cooldowns: Arc<dyn CooldownStore>,
    ) -> Result<Self> {
        options.validate()?;
        let prefixes = options.prefixes_longest_first();
        let primary = options.primary_prefix().to_owned();
        let mut lookup: HashMap<String, usize> = HashMap::new();
        let mut claimed_by: HashMap<String, (usize, bool)> = HashMap::new();
        for (index, command) in commands.iter().enumerate() {
            if let Some(names) = &command.param_names
                && names.len() > command.params.len()
            {
                return Err(Error::config(format!(
                    "command `{}` names {} parameters but takes {}",
                    command.label,
                    names.len(),
                    command.params.len()
                )));
            }
            let triggers = std::iter::once((&command.trigger, false))
                .chain(command.aliases.iter().map(|alias| (alias, true)));
            for (trigger, is_alias) in triggers {
                let key = trigger_key(trigger, &options).map_err(|why| {
                    Error::config(format!(
                        "command `{}`: trigger {trigger:?} {why}",
                        command.label
                    ))
                })?;
                if let Some(&(other, other_is_alias)) = claimed_by.get(&key) {
                    let describe = |i: usize, alias: bool| {
                        let label = commands[i].label();
                        if alias {
                            format!("`{label}` (as an alias)")
                        } else {
                            format!("`{label}`")
                        }
                    };
                    return Err(Error::config(format!(
                        "two commands claim the trigger `{primary}{}`: {} and {}",
                        trigger_name(trigger),
                        describe(other, other_is_alias),
                        describe(index, is_alias),
                    )));
                }
                claimed_by.insert(key.clone(), (index, is_alias));
                lookup.insert(key, index);
            }
        }
        let mut handler_names: Vec<String> =
            commands.iter().map(|c| c.trigger().to_owned()).collect();
        let help_key = options.key_for("help");
        if options.is_help() && !lookup.contains_key(&help_key) {
            let help = help_command(&commands, &options);
            lookup.insert(help_key, commands.len());
            commands.push(help);
            handler_names.push(format!("{primary}help"));
        }
        let mut compiled = Vec::with_capacity(hears.len());
        for hear in hears {
            let regex = Regex::new(hear.pattern()).map_err(|err| {
                Error::config(format!("pattern listener `{}`: {err}", hear.label()))
            })?;
            let names = Arc::new(group_names(&regex));
            compiled.push(CompiledHear { hear, regex, names });
        }
        let hear_set = RegexSet::new(compiled.iter().map(|c| c.hear.pattern()))
            .map_err(|err| Error::config(format!("pattern listeners: {err}")))?;
        Ok(Self {
            commands,
            handler_names,
            lookup,
            hears: compiled,
            hear_set,
            options,
            prefixes,
            cooldowns,
        })
    }

    /// How many commands answer, the built-in help included.
    pub(crate) fn command_count(&self) -> usize {
        self.commands.len()
    }

    /// How many pattern listeners there are.
    pub(crate) fn hear_count(&self) -> usize {
        self.hears.len()
    }

    /// Starts everything `msg` asks for, each run named after its command (the trigger as
    /// written, `!roll`) or pattern listener.
    pub(crate) fn runs(&self, ctx: &Ctx<S>, msg: &RoomMessage) -> Vec<Run> {
        let me = ctx.me();
        let me = Me {
            id: &me.id,
            name: &me.name,
        };
        self.decide(me, msg)
            .into_iter()
            .map(|action| self.start(ctx.clone(), msg, action))
            .collect()
    }

    /// What `msg` asks for, without doing any of it.
    pub(crate) fn decide(&self, me: Me<'_>, msg: &RoomMessage) -> Vec<Action> {
        if msg.is_from_robot(me.id) {
            return Vec::new();
        }
        let mut actions = Vec::new();
        if let Some(action) = self.command_action(me, &msg.content) {
            actions.push(action);
        }
        if !self.hears.is_empty() {
            for index in self.hear_set.matches(&msg.content).iter() {
                let hear = &self.hears[index];
                if let Some(captures) = Captures::with_names(&hear.regex, &msg.content, &hear.names)
                {
                    actions.push(Action::Hear { index, captures });
                }
            }
        }
        actions
    }

    fn command_action(&self, me: Me<'_>, content: &str) -> Option<Action> {
        let text = content.trim_start();
        let (prefix, rest) = self
            .strip_mention(me, text)
            .or_else(|| self.strip_prefix(text))?;
        let name_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (name, args) = rest.split_at(name_len);
        if name.is_empty() {
            return None;
        }
        let typed = format!("{prefix}{name}");
        match self.lookup.get(&self.options.key_for(name)) {
            Some(&index) => Some(Action::Command {
                index,
                typed,
                args: args.trim().to_owned(),
            }),
            None if self.options.is_suggestions() => {
                let suggestion = self.suggest(name)?;
                Some(Action::Say(
                    self.options
                        .text_set()
                        .unknown_command(&typed, &format!("{prefix}{suggestion}")),
                ))
            }
            None => None,
        }
    }

    /// The prefix to show and the text after a leading `@RobotName` (and an optional prefix
    /// after it).
    fn strip_mention<'t>(&self, me: Me<'_>, text: &'t str) -> Option<(&str, &'t str)> {
        if !self.options.is_mention_addressing() || me.name.is_empty() {
            return None;
        }
        let after_at = text.strip_prefix('@')?;
        let len = prefix_len_ignore_case(after_at, me.name)?;
        let rest = &after_at[len..];
        let rest = rest.trim_start_matches([',', ':']);
        if rest.len() == after_at.len() - len && !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let rest = rest.trim_start();
        Some(
            self.strip_prefix(rest)
                .unwrap_or((self.options.primary_prefix(), rest)),
        )
    }

    fn strip_prefix<'t>(&self, text: &'t str) -> Option<(&str, &'t str)> {
        self.prefixes
            .iter()
            .find_map(|prefix| Some((prefix.as_str(), text.strip_prefix(prefix.as_str())?)))
    }

    fn suggest(&self, typed: &str) -> Option<&str> {
        let visible = self
            .commands
            .iter()
            .filter(|c| !c.hidden)
            .flat_map(Command::names);
        closest(typed, visible)
    }

    fn start(&self, ctx: Ctx<S>, msg: &RoomMessage, action: Action) -> Run {
        match action {
            Action::Say(text) => Run::answer(SUGGESTION_HANDLER, Reply::say(text)),
            Action::Hear { index, captures } => {
                let hear = &self.hears[index].hear;
                Run::new(hear.label().to_owned(), hear.run(ctx, captures))
            }
            Action::Command { index, typed, args } => {
                let command = self.commands[index].clone();
                let usage = command.usage_with_prefix(self.options.primary_prefix());
                let call = Invocation::new(msg, typed, args, usage);
                let texts = self.options.texts_arc();
                Run::new(
                    Cow::Owned(self.handler_names[index].clone()),
                    execute(command, ctx, call, texts, Arc::clone(&self.cooldowns)),
                )
            }
        }
    }
}

impl<S> fmt::Debug for CommandIndex<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandIndex")
            .field("commands", &self.commands)
            .field(
                "hears",
                &self.hears.iter().map(|h| &h.hear).collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .finish()
    }
}

/// The lookup key of a trigger as written, or why it is not a valid trigger.
fn trigger_key(
    trigger: &str,
    options: &CommandOptions,
) -> std::result::Result<String, &'static str> {
    let name = trigger_name(trigger);
    if trigger.trim().is_empty() {
        return Err("is empty");
    }
    if name.is_empty() {
        return Err("has no name after its prefix");
    }
    if trigger.chars().any(char::is_whitespace) {
        return Err("contains whitespace");
    }
    Ok(options.key_for(name))
}

#[cfg(test)]
mod tests;
