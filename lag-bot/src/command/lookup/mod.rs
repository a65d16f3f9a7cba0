//! Finds what a room message asks for: a command by trigger (one hash lookup), the pattern
//! listeners it matches (one regex-set pass), or a near-miss suggestion; and starts the runs
//! that answer it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use regex::{Regex, RegexSet, RegexSetBuilder};

use super::args::prefix_len_ignore_case;
use super::hear::{Captures, group_names};
use super::help::help_command;
use super::run::{Invocation, execute};
use super::texts::HelpEntry;
use super::usage::closest;
use super::{Command, CommandOptions, CooldownStore, Hear, trigger_name};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::events::RoomMessage;
use crate::reply::{Reply, Run};

/// The handler name of the "did you mean" answer to an unknown command or subcommand, and of
/// a group's usage.
const SUGGESTION_HANDLER: &str = "command suggestion";

/// The most memory the pattern set's lazy DFA may take, 8 MiB (the `regex` default is 2 MiB).
/// A hundred case-insensitive patterns with Unicode word boundaries need more than 2 MiB to
/// build the lazy DFA at all, and without it every message went through the much slower
/// fallback engine (about 60 µs instead of 0.2 µs a message). The memory is taken only as
/// states are built, so a handful of patterns still take little.
const HEAR_SET_DFA_BYTES: usize = 8 << 20;

/// A robot's commands and pattern listeners, indexed for matching; built once when the robot
/// starts.
pub(crate) struct CommandIndex<S> {
    /// Every command, subcommands included (taken out of their groups), by node number.
    commands: Vec<Command<S>>,
    /// What the index knows of each command, by the same number.
    nodes: Vec<Node>,
    /// The top-level commands by trigger and alias key.
    lookup: HashMap<String, usize>,
    hears: Vec<CompiledHear<S>>,
    hear_set: RegexSet,
    options: CommandOptions,
    prefixes: Vec<String>,
    /// Where the commands' cooldowns run.
    cooldowns: Arc<dyn CooldownStore>,
}

/// One command's place in the tree of groups.
#[derive(Debug)]
struct Node {
    /// What its runs are called in the error hook, spans and metrics: the trigger as written,
    /// then each subcommand's name (`!mod strikes`).
    handler_name: String,
    /// The group above it.
    parent: Option<usize>,
    /// Its subcommands by name and alias key.
    children: HashMap<String, usize>,
    /// The names (and aliases) of its visible subcommands, for suggestions.
    child_names: Vec<String>,
    /// Its usage line with the primary prefix (`!mod strikes <who>`).
    usage: String,
    /// For a group: the answer listing its subcommands.
    group_usage: Option<String>,
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
        commands: Vec<Command<S>>,
        hears: Vec<Hear<S>>,
        options: CommandOptions,
        cooldowns: Arc<dyn CooldownStore>,
    ) -> Result<Self> {
        options.validate()?;
        let prefixes = options.prefixes_longest_first();
        let primary = options.primary_prefix().to_owned();
        let help_key = options.key_for("help");
        let claims_help = commands
            .iter()
            .flat_map(Command::names)
            .any(|name| options.key_for(name) == help_key);
        let help = (options.is_help() && !claims_help).then(|| help_command(&commands, &options));
        let mut tree = Tree {
            commands: Vec::new(),
            nodes: Vec::new(),
            options: &options,
        };
        let mut lookup = HashMap::new();
        tree.claim_all(commands, None, &mut lookup)?;
        if let Some(help) = help {
            lookup.insert(help_key, tree.commands.len());
            tree.add(help, None, format!("{primary}help"))?;
        }
        let Tree {
            commands, nodes, ..
        } = tree;
        let mut compiled = Vec::with_capacity(hears.len());
        for hear in hears {
            let regex = Regex::new(hear.pattern()).map_err(|err| {
                Error::config(format!("pattern listener `{}`: {err}", hear.label()))
            })?;
            let names = Arc::new(group_names(&regex));
            compiled.push(CompiledHear { hear, regex, names });
        }
        let hear_set = RegexSetBuilder::new(compiled.iter().map(|c| c.hear.pattern()))
            .dfa_size_limit(HEAR_SET_DFA_BYTES)
            .build()
            .map_err(|err| Error::config(format!("pattern listeners: {err}")))?;
        Ok(Self {
            commands,
            nodes,
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
    #[cfg(test)]
    pub(crate) fn runs(&self, ctx: &Ctx<S>, msg: &RoomMessage) -> Vec<Run> {
        let me = ctx.me();
        let me = Me {
            id: &me.id,
            name: &me.name,
        };
        self.start_all(ctx, msg, self.decide(me, msg)).collect()
    }

    /// Starts the `actions` that [`decide`](Self::decide) found in `msg`.
    pub(crate) fn start_all<'a>(
        &'a self,
        ctx: &'a Ctx<S>,
        msg: &'a RoomMessage,
        actions: Vec<Action>,
    ) -> impl Iterator<Item = Run> + 'a {
        actions
            .into_iter()
            .map(move |action| self.start(ctx.clone(), msg, action))
    }

    /// Whether `msg` invokes a command explicitly (not a suggestion or a pattern listener).
    pub(crate) fn invokes_command(&self, me: Me<'_>, msg: &RoomMessage) -> bool {
        matches!(
            self.command_action(me, &msg.content),
            Some(Action::Command { .. })
        )
    }

    /// Whether `handler` names runs of a command (`!report`, `!mod strikes`).
    pub(crate) fn is_command_run(&self, handler: &str) -> bool {
        self.nodes.iter().any(|node| node.handler_name == handler)
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
        // `is_match` first: most messages match no pattern, and it needs no allocation.
        if !self.hears.is_empty() && self.hear_set.is_match(&msg.content) {
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
            Some(&index) => Some(self.descend(index, typed, args)),
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

    /// From command `index`, typed as `typed`, follows the words of `args` that name
    /// subcommands down to the command they ask for.
    fn descend(&self, mut index: usize, mut typed: String, mut args: &str) -> Action {
        loop {
            let node = &self.nodes[index];
            let rest = args.trim_start();
            let word_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let (word, after) = rest.split_at(word_len);
            if node.children.is_empty() || word.is_empty() {
                break;
            }
            if let Some(&child) = node.children.get(&self.options.key_for(word)) {
                typed = format!("{typed} {word}");
                index = child;
                args = after;
                continue;
            }
            if !self.commands[index].params.is_empty() {
                break;
            }
            let near = self
                .options
                .is_suggestions()
                .then(|| closest(word, node.child_names.iter().map(String::as_str)))
                .flatten();
            let text = match near {
                Some(near) => self
                    .options
                    .text_set()
                    .unknown_command(&format!("{typed} {word}"), &format!("{typed} {near}")),
                None => node.group_usage.clone().unwrap_or_default(),
            };
            return Action::Say(text);
        }
        Action::Command {
            index,
            typed,
            args: args.trim().to_owned(),
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
            .zip(&self.nodes)
            .filter(|(c, node)| !c.hidden && node.parent.is_none())
            .flat_map(|(c, _)| c.names());
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
                let node = &self.nodes[index];
                let call = Invocation::new(msg, typed, args, node.usage.clone())
                    .with_fallback(node.group_usage.clone());
                let texts = self.options.texts_arc();
                Run::new(
                    Cow::Owned(node.handler_name.clone()),
                    execute(
                        self.chain(index),
                        ctx,
                        call,
                        texts,
                        Arc::clone(&self.cooldowns),
                    ),
                )
            }
        }
    }

    /// Command `index` and the groups above it, outermost first.
    fn chain(&self, index: usize) -> Vec<Command<S>> {
        let mut chain = vec![self.commands[index].clone()];
        let mut at = self.nodes[index].parent;
        while let Some(parent) = at {
            chain.push(self.commands[parent].clone());
            at = self.nodes[parent].parent;
        }
        chain.reverse();
        chain
    }
}

/// The index under construction: commands taken out of their groups, numbered.
struct Tree<'o, S> {
    commands: Vec<Command<S>>,
    nodes: Vec<Node>,
    options: &'o CommandOptions,
}

impl<S: Send + Sync + 'static> Tree<'_, S> {
    /// Adds `commands` (the top level, or the subcommands of `parent`) and their subcommands,
    /// claiming each trigger and alias in `lookup`.
    fn claim_all(
        &mut self,
        commands: Vec<Command<S>>,
        parent: Option<usize>,
        lookup: &mut HashMap<String, usize>,
    ) -> Result<()> {
        let primary = self.options.primary_prefix();
        let mut claimed_by: HashMap<String, (String, bool)> = HashMap::new();
        for command in commands {
            let handler_name = match parent {
                None => command.trigger().to_owned(),
                Some(parent) => format!(
                    "{} {}",
                    self.nodes[parent].handler_name,
                    trigger_name(command.trigger())
                ),
            };
            let triggers = std::iter::once((command.trigger(), false))
                .chain(command.aliases().iter().map(|alias| (alias.as_str(), true)));
            let mut keys = Vec::new();
            for (trigger, is_alias) in triggers {
                let key = trigger_key(trigger, self.options).map_err(|why| {
                    Error::config(format!(
                        "command `{handler_name}`: trigger {trigger:?} {why}"
                    ))
                })?;
                let describe = |label: &str, alias: bool| {
                    if alias {
                        format!("`{label}` (as an alias)")
                    } else {
                        format!("`{label}`")
                    }
                };
                if let Some((other, other_is_alias)) = claimed_by.get(&key) {
                    let what = match parent {
                        None => format!(
                            "two commands claim the trigger `{primary}{}`",
                            trigger_name(trigger)
                        ),
                        Some(parent) => format!(
                            "two subcommands of `{}` claim the name `{}`",
                            self.nodes[parent].handler_name,
                            trigger_name(trigger)
                        ),
                    };
                    return Err(Error::config(format!(
                        "{what}: {} and {}",
                        describe(other, *other_is_alias),
                        describe(command.label(), is_alias),
                    )));
                }
                claimed_by.insert(key.clone(), (command.label().to_owned(), is_alias));
                keys.push(key);
            }
            let index = self.add(command, parent, handler_name)?;
            for key in keys {
                lookup.insert(key, index);
            }
        }
        Ok(())
    }

    /// Adds `command` below `parent`, then its subcommands; returns its number.
    fn add(
        &mut self,
        mut command: Command<S>,
        parent: Option<usize>,
        handler_name: String,
    ) -> Result<usize> {
        if let Some(names) = &command.param_names
            && names.len() > command.params.len()
        {
            return Err(Error::config(format!(
                "command `{handler_name}` names {} parameters but takes {}",
                names.len(),
                command.params.len()
            )));
        }
        let texts = self.options.text_set();
        let called = format!(
            "{}{}",
            self.options.primary_prefix(),
            trigger_name(&handler_name)
        );
        let usage = command.usage_as(&called, &texts.subcommand_parameter());
        let subcommands = command.take_subcommands();
        let index = self.commands.len();
        self.commands.push(command);
        self.nodes.push(Node {
            handler_name,
            parent,
            children: HashMap::new(),
            child_names: Vec::new(),
            usage,
            group_usage: None,
        });
        if subcommands.is_empty() {
            return Ok(index);
        }
        let mut children = HashMap::new();
        self.claim_all(subcommands, Some(index), &mut children)?;
        let mut entries = Vec::new();
        let mut child_names = Vec::new();
        let mut visible: Vec<usize> = children.values().copied().collect();
        visible.sort_unstable();
        visible.dedup();
        for child in visible {
            let command = &self.commands[child];
            if command.hidden {
                continue;
            }
            child_names.extend(command.names().map(str::to_owned));
            entries.push(HelpEntry::new(
                self.nodes[child].usage.clone(),
                command.summary().map(str::to_owned),
                Vec::new(),
            ));
        }
        entries.sort_by(|a, b| a.usage.cmp(&b.usage));
        let node = &mut self.nodes[index];
        node.group_usage = Some(texts.group_usage(&node.usage, &entries));
        node.children = children;
        node.child_names = child_names;
        Ok(index)
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
