//! Finds what a room message asks for: a command by trigger (one hash lookup), the pattern
//! listeners it matches (one regex-set pass), help, or a near-miss suggestion.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use regex::{Regex, RegexSet};

use super::args::Args;
use super::hear::{Captures, group_names};
use super::reply::Reply;
use super::usage::closest;
use super::{Command, CommandOptions, Hear, trigger_name};
use crate::client::split_content;
use crate::ctx::Ctx;
use crate::error::{Error, ErrorKind, Result};
use crate::events::RoomMessage;
use crate::router::Run;

/// The handler name of the "did you mean" answer to an unknown command.
const SUGGESTION_HANDLER: &str = "command suggestion";

/// Dispatches room messages to commands and pattern listeners; built once when the robot
/// starts.
pub(crate) struct CommandRouter<S> {
    commands: Vec<Command<S>>,
    /// What each command's runs are called in the error hook, spans and metrics.
    handler_names: Vec<String>,
    lookup: HashMap<String, usize>,
    hears: Vec<CompiledHear<S>>,
    hear_set: RegexSet,
    options: CommandOptions,
    prefixes: Vec<String>,
    cooldowns: Arc<dyn super::CooldownStore>,
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

impl<S: Send + Sync + 'static> CommandRouter<S> {
    /// Indexes `commands` by trigger and alias, compiles the `hears` patterns into one set and
    /// adds the built-in help unless it is off or replaced.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for invalid options, a trigger with no name or with spaces, two
    /// commands claiming the same trigger or alias (naming both), more parameter names than
    /// parameters, or a pattern that does not compile.
    pub(crate) fn new(
        mut commands: Vec<Command<S>>,
        hears: Vec<Hear<S>>,
        options: CommandOptions,
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
                return Err(config(format!(
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
                    config(format!(
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
                    return Err(config(format!(
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
        let help_key = key_for("help", &options);
        if options.is_help() && !lookup.contains_key(&help_key) {
            let help = help_command(&commands, &options);
            lookup.insert(help_key, commands.len());
            commands.push(help);
            handler_names.push(format!("{primary}help"));
        }
        let mut compiled = Vec::with_capacity(hears.len());
        for hear in hears {
            let regex = Regex::new(hear.pattern())
                .map_err(|err| config(format!("pattern listener `{}`: {err}", hear.label())))?;
            let names = Arc::new(group_names(&regex));
            compiled.push(CompiledHear { hear, regex, names });
        }
        let hear_set = RegexSet::new(compiled.iter().map(|c| c.hear.pattern()))
            .map_err(|err| config(format!("pattern listeners: {err}")))?;
        Ok(Self {
            commands,
            handler_names,
            lookup,
            hears: compiled,
            hear_set,
            options,
            prefixes,
            cooldowns: Arc::new(super::MemoryCooldowns::new()),
        })
    }

    /// Starts everything `msg` asks for, each run named after its command (the trigger as
    /// written, `!roll`) or pattern listener; each future sends its own replies and reports the
    /// handler's error.
    pub(crate) fn route(&self, ctx: &Ctx<S>, msg: &RoomMessage) -> Vec<Run> {
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
        match self.lookup.get(&key_for(name, &self.options)) {
            Some(&index) => Some(Action::Command {
                index,
                typed,
                args: args.trim().to_owned(),
            }),
            None if self.options.is_suggestions() => {
                let suggestion = self.suggest(name)?;
                Some(Action::Say(format!(
                    "Unknown command `{typed}`. Did you mean `{prefix}{suggestion}`?"
                )))
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
        let visible = self.commands.iter().filter(|c| !c.hidden).flat_map(|c| {
            std::iter::once(c.name()).chain(c.aliases.iter().map(|a| trigger_name(a)))
        });
        closest(typed, visible)
    }

    /// The name a run of `action` is reported under.
    fn handler_name(&self, action: &Action) -> Cow<'static, str> {
        match action {
            Action::Say(_) => Cow::Borrowed(SUGGESTION_HANDLER),
            Action::Hear { index, .. } => Cow::Owned(self.hears[*index].hear.label().to_owned()),
            Action::Command { index, .. } => Cow::Owned(self.handler_names[*index].clone()),
        }
    }

    fn start(&self, ctx: Ctx<S>, msg: &RoomMessage, action: Action) -> Run {
        let name = self.handler_name(&action);
        Run {
            name,
            future: self.start_future(ctx, msg, action),
        }
    }

    fn start_future(
        &self,
        ctx: Ctx<S>,
        msg: &RoomMessage,
        action: Action,
    ) -> BoxFuture<'static, Result<()>> {
        match action {
            Action::Say(text) => Box::pin(async move { deliver(&ctx, Reply::say(text)).await }),
            Action::Hear { index, captures } => {
                let running = self.hears[index].hear.run(ctx.clone(), captures);
                Box::pin(async move {
                    match running.await? {
                        Some(reply) => deliver(&ctx, reply).await,
                        None => Ok(()),
                    }
                })
            }
            Action::Command { index, typed, args } => {
                let command = self.commands[index].clone();
                let usage = command.usage_with_prefix(self.options.primary_prefix());
                let sender = msg
                    .sender_id
                    .clone()
                    .or_else(|| msg.robot_id.clone())
                    .unwrap_or_default();
                let room = msg.room_id.clone();
                let mentions = msg.mentions.clone();
                let cooldowns = Arc::clone(&self.cooldowns);
                Box::pin(async move {
                    for check in &command.checks {
                        if !check(ctx.clone()).await? {
                            let denied = command
                                .denied
                                .clone()
                                .unwrap_or_else(|| format!("You can't use `{typed}`."));
                            return deliver(&ctx, Reply::say(denied)).await;
                        }
                    }
                    let started = {
                        let mut parsed = Args::with_mentions(&args, mentions);
                        (command.invoke)(ctx.clone(), &mut parsed, &command.params)
                    };
                    let running = match started {
                        Ok(running) => running,
                        Err(error) => {
                            let text = format!("{error}\nUsage: {usage}");
                            return deliver(&ctx, Reply::say(text)).await;
                        }
                    };
                    if let Some(cooldown) = &command.cooldown
                        && let Some(remaining) = cooldown
                            .try_start(&*cooldowns, command.name(), &sender, &room)
                            .await?
                    {
                        return match cooldown.refusal(&typed, remaining) {
                            Some(text) => deliver(&ctx, Reply::say(text)).await,
                            None => Ok(()),
                        };
                    }
                    match running.await? {
                        Some(reply) => deliver(&ctx, reply).await,
                        None => Ok(()),
                    }
                })
            }
        }
    }
}

impl<S> fmt::Debug for CommandRouter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandRouter")
            .field("commands", &self.commands)
            .field(
                "hears",
                &self.hears.iter().map(|h| &h.hear).collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .finish()
    }
}

/// Sends a reply, cut into several messages when longer than Lag allows.
async fn deliver<S>(ctx: &Ctx<S>, reply: Reply) -> Result<()> {
    for (i, piece) in split_content(reply.content()).into_iter().enumerate() {
        if let Some(room) = reply.room_id() {
            ctx.send(room, piece).await?;
        } else if reply.is_reply() && i == 0 {
            ctx.reply(piece).await?;
        } else {
            ctx.say(piece).await?;
        }
    }
    Ok(())
}

fn config(message: String) -> Error {
    Error::new(ErrorKind::Config, message)
}

fn key_for(name: &str, options: &CommandOptions) -> String {
    if options.is_case_insensitive() {
        name.to_lowercase()
    } else {
        name.to_owned()
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
    Ok(key_for(name, options))
}

/// Length in bytes of the prefix of `haystack` equal to `needle` ignoring case, if any.
fn prefix_len_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let mut hay = haystack.char_indices();
    for expected in needle.chars() {
        let (_, got) = hay.next()?;
        if got != expected && !got.to_lowercase().eq(expected.to_lowercase()) {
            return None;
        }
    }
    Some(hay.next().map_or(haystack.len(), |(i, _)| i))
}

const HELP_SUMMARY: &str = "Lists the commands, or explains one.";

/// The built-in `help [command]`, answering from an index made once at startup.
fn help_command<S: Send + Sync + 'static>(
    commands: &[Command<S>],
    options: &CommandOptions,
) -> Command<S> {
    let index = build_help_index(commands, options);
    Command::new("help", move |_ctx: Ctx<S>, topic: Option<String>| {
        let index = Arc::clone(&index);
        async move { index.answer(topic.as_deref()) }
    })
    .params(["command"])
    .help(HELP_SUMMARY)
}

fn build_help_index<S>(commands: &[Command<S>], options: &CommandOptions) -> Arc<HelpIndex> {
    let prefix = options.primary_prefix().to_owned();
    let mut visible: Vec<&Command<S>> = commands.iter().filter(|c| !c.hidden).collect();
    visible.sort_by(|a, b| a.name().cmp(b.name()));
    let summary = HELP_SUMMARY;
    let mut list = String::from("Commands:");
    let help_line = format!("{prefix}help [command]");
    let mut lines: Vec<(String, String)> = visible
        .iter()
        .map(|c| {
            (
                c.usage_with_prefix(&prefix),
                c.summary().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    lines.push((help_line, summary.to_owned()));
    lines.sort();
    for (usage, summary) in &lines {
        list.push_str(&format!("\n`{usage}`"));
        if !summary.is_empty() {
            list.push_str(&format!(" - {summary}"));
        }
    }
    list.push_str(&format!("\nType `{prefix}help <command>` for details."));
    let mut details: HashMap<String, String> = HashMap::new();
    for command in &visible {
        let mut text = format!("`{}`", command.usage_with_prefix(&prefix));
        if let Some(help) = command.help_text() {
            text.push('\n');
            text.push_str(help);
        }
        if !command.aliases.is_empty() {
            let aliases: Vec<String> = command
                .aliases
                .iter()
                .map(|a| format!("`{prefix}{}`", trigger_name(a)))
                .collect();
            text.push_str(&format!("\nAliases: {}", aliases.join(", ")));
        }
        for name in
            std::iter::once(command.name()).chain(command.aliases.iter().map(|a| trigger_name(a)))
        {
            details.insert(key_for(name, options), text.clone());
        }
    }
    details.insert(
        key_for("help", options),
        format!("`{prefix}help [command]`\n{summary}"),
    );
    let names: Vec<String> = visible
        .iter()
        .flat_map(|c| {
            std::iter::once(c.name().to_owned())
                .chain(c.aliases.iter().map(|a| trigger_name(a).to_owned()))
        })
        .collect();
    Arc::new(HelpIndex {
        list,
        details,
        names,
        prefix,
        options: options.clone(),
    })
}

struct HelpIndex {
    list: String,
    details: HashMap<String, String>,
    names: Vec<String>,
    prefix: String,
    options: CommandOptions,
}

impl HelpIndex {
    fn answer(&self, topic: Option<&str>) -> String {
        let Some(topic) = topic else {
            return self.list.clone();
        };
        let name = trigger_name(topic);
        if let Some(text) = self.details.get(&key_for(name, &self.options)) {
            return text.clone();
        }
        let prefix = &self.prefix;
        match closest(name, self.names.iter().map(String::as_str)) {
            Some(near) if self.options.is_suggestions() => {
                format!("No command `{prefix}{name}`. Did you mean `{prefix}{near}`?")
            }
            _ => format!("No command `{prefix}{name}`. Type `{prefix}help` for the list."),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::command::{Cooldown, Rest};
    use crate::events::Envelope;
    use crate::model::{Mention, MentionKind, RobotInfo};

    const ME: Me<'static> = Me {
        id: "rob_1",
        name: "Helper Bot",
    };

    fn roll() -> Command {
        Command::new("!roll", |_ctx: Ctx, sides: Option<u32>| async move {
            format!("rolled d{}", sides.unwrap_or(6))
        })
        .params(["sides"])
        .alias("!dice")
        .help("Rolls a die.\nSix sides unless told.")
    }

    fn ping() -> Command {
        Command::new("!ping", |_ctx: Ctx| async { "pong" }).help("Replies with pong.")
    }

    fn secret() -> Command {
        Command::new("!secret", |_ctx: Ctx| async { "shh" }).hidden()
    }

    fn router(commands: Vec<Command>, options: CommandOptions) -> CommandRouter<()> {
        CommandRouter::new(commands, Vec::new(), options).unwrap()
    }

    fn from_alice(content: &str) -> RoomMessage {
        RoomMessage::new("room_1", content)
            .message_id("msg_1")
            .sender("usr_1", "alice")
    }

    fn command_of(router: &CommandRouter<()>, content: &str) -> Option<(String, String)> {
        router
            .decide(ME, &from_alice(content))
            .into_iter()
            .find_map(|action| match action {
                Action::Command { index, args, .. } => {
                    Some((router.commands[index].name().to_owned(), args))
                }
                _ => None,
            })
    }

    fn said(router: &CommandRouter<()>, content: &str) -> Option<String> {
        router
            .decide(ME, &from_alice(content))
            .into_iter()
            .find_map(|action| match action {
                Action::Say(text) => Some(text),
                _ => None,
            })
    }

    #[test]
    fn finds_commands_by_trigger_and_alias() {
        let router = router(vec![roll(), ping()], CommandOptions::default());
        assert_eq!(
            command_of(&router, "!roll 20"),
            Some(("roll".into(), "20".into()))
        );
        assert_eq!(
            command_of(&router, "  !dice   3  "),
            Some(("roll".into(), "3".into()))
        );
        assert_eq!(
            command_of(&router, "!ping"),
            Some(("ping".into(), "".into()))
        );
        assert_eq!(command_of(&router, "ping"), None);
        assert_eq!(command_of(&router, "! ping"), None);
        assert_eq!(command_of(&router, "!"), None);
        assert_eq!(command_of(&router, "!pingpong"), None);
    }

    #[test]
    fn case_insensitive_by_default_and_configurable() {
        let router_ci = router(vec![roll()], CommandOptions::default());
        assert!(command_of(&router_ci, "!ROLL").is_some());
        let router_cs = router(vec![roll()], CommandOptions::new().case_insensitive(false));
        assert!(command_of(&router_cs, "!ROLL").is_none());
        assert!(command_of(&router_cs, "!roll").is_some());
    }

    #[test]
    fn prefixes_replace_the_written_one() {
        let router = router(vec![roll()], CommandOptions::new().prefixes(["?", "bot."]));
        assert!(command_of(&router, "?roll").is_some());
        assert!(command_of(&router, "bot.roll 4").is_some());
        assert!(command_of(&router, "!roll").is_none());
        let longest = router_with_prefixes(["!", "!!"]);
        assert_eq!(
            command_of(&longest, "!!roll"),
            Some(("roll".into(), "".into()))
        );
    }

    fn router_with_prefixes<const N: usize>(prefixes: [&str; N]) -> CommandRouter<()> {
        router(vec![roll()], CommandOptions::new().prefixes(prefixes))
    }

    #[test]
    fn mention_addresses_a_command_with_or_without_prefix() {
        let router = router(vec![roll()], CommandOptions::default());
        assert_eq!(
            command_of(&router, "@Helper Bot roll 8"),
            Some(("roll".into(), "8".into()))
        );
        assert_eq!(
            command_of(&router, "@helper bot, !roll 8"),
            Some(("roll".into(), "8".into()))
        );
        assert_eq!(command_of(&router, "@Helper Botty roll 8"), None);
        assert_eq!(command_of(&router, "@Helper Bot"), None);
        let off = CommandRouter::<()>::new(
            vec![roll()],
            Vec::new(),
            CommandOptions::new().mention_addressing(false),
        )
        .unwrap();
        assert_eq!(command_of(&off, "@Helper Bot roll 8"), None);
    }

    #[test]
    fn ignores_the_robots_own_messages() {
        let router = router(vec![ping()], CommandOptions::default());
        let echo = RoomMessage::new("room_1", "!ping").robot("rob_1", "Helper Bot");
        assert!(router.decide(ME, &echo).is_empty());
        let other_robot = RoomMessage::new("room_1", "!ping").robot("rob_2", "Other");
        assert_eq!(router.decide(ME, &other_robot).len(), 1);
    }

    #[test]
    fn suggests_near_misses_only() {
        let router = router(vec![roll(), ping(), secret()], CommandOptions::default());
        assert_eq!(
            said(&router, "!rol 6").as_deref(),
            Some("Unknown command `!rol`. Did you mean `!roll`?")
        );
        assert_eq!(
            said(&router, "!dcie").as_deref(),
            Some("Unknown command `!dcie`. Did you mean `!dice`?")
        );
        assert_eq!(said(&router, "!weather"), None);
        assert_eq!(said(&router, "!secrt"), None);
        let quiet = CommandRouter::<()>::new(
            vec![roll()],
            Vec::new(),
            CommandOptions::new().suggestions(false),
        )
        .unwrap();
        assert!(quiet.decide(ME, &from_alice("!rol")).is_empty());
    }

    #[test]
    fn duplicate_triggers_name_both_commands() {
        let dice = Command::new("!dice", |_ctx: Ctx| async {});
        let err =
            CommandRouter::<()>::new(vec![roll(), dice], Vec::new(), CommandOptions::default())
                .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config);
        assert_eq!(
            err.message(),
            "two commands claim the trigger `!dice`: `!roll` (as an alias) and `!dice`"
        );
        let shout = Command::new("!ROLL", |_ctx: Ctx| async {});
        let err =
            CommandRouter::<()>::new(vec![roll(), shout], Vec::new(), CommandOptions::default())
                .unwrap_err();
        assert_eq!(
            err.message(),
            "two commands claim the trigger `!ROLL`: `!roll` and `!ROLL`"
        );
        let shout = Command::new("!ROLL", |_ctx: Ctx| async {});
        CommandRouter::<()>::new(
            vec![roll(), shout],
            Vec::new(),
            CommandOptions::new().case_insensitive(false),
        )
        .unwrap();
    }

    #[test]
    fn invalid_triggers_and_names_are_refused() {
        for (trigger, why) in [
            ("!", "has no name after its prefix"),
            ("  ", "is empty"),
            ("!two words", "contains whitespace"),
        ] {
            let command = Command::new(trigger, |_ctx: Ctx| async {});
            let err =
                CommandRouter::<()>::new(vec![command], Vec::new(), CommandOptions::default())
                    .unwrap_err();
            assert!(err.message().ends_with(why), "{trigger:?}: {err}");
        }
        let too_many = Command::new("!x", |_ctx: Ctx, _n: u8| async {}).params(["a", "b"]);
        let err = CommandRouter::<()>::new(vec![too_many], Vec::new(), CommandOptions::default())
            .unwrap_err();
        assert_eq!(err.message(), "command `!x` names 2 parameters but takes 1");
    }

    #[test]
    fn builtin_help_can_be_disabled_or_replaced() {
        let with_help = router(vec![ping()], CommandOptions::default());
        assert_eq!(command_of(&with_help, "!help ping").unwrap().0, "help");
        let without = router(vec![ping()], CommandOptions::new().help(false));
        assert!(command_of(&without, "!help").is_none());
        let mine = Command::new("!help", |_ctx: Ctx| async { "my help" });
        let replaced = router(vec![ping(), mine], CommandOptions::default());
        assert_eq!(replaced.commands.len(), 2);
        assert_eq!(command_of(&replaced, "!help").unwrap().0, "help");
    }

    #[test]
    fn help_lists_visible_commands_and_explains_one() {
        let commands = vec![roll(), ping(), secret()];
        let options = CommandOptions::new().prefixes(["?", "!"]);
        let help = help_index(&commands, &options);
        assert_eq!(
            help.answer(None),
            "Commands:\n\
             `?help [command]` - Lists the commands, or explains one.\n\
             `?ping` - Replies with pong.\n\
             `?roll [sides]` - Rolls a die.\n\
             Type `?help <command>` for details."
        );
        assert_eq!(
            help.answer(Some("dice")),
            "`?roll [sides]`\nRolls a die.\nSix sides unless told.\nAliases: `?dice`"
        );
        assert_eq!(help.answer(Some("!PING")), "`?ping`\nReplies with pong.");
        assert_eq!(
            help.answer(Some("rol")),
            "No command `?rol`. Did you mean `?roll`?"
        );
        assert_eq!(
            help.answer(Some("secret")),
            "No command `?secret`. Type `?help` for the list."
        );
    }

    fn help_index(commands: &[Command], options: &CommandOptions) -> Arc<HelpIndex> {
        build_help_index(commands, options)
    }

    #[test]
    fn hear_patterns_run_through_one_set() {
        let spam = Hear::new(r"(?i)\bspam\b", |_ctx: Ctx, _c: Captures| async {});
        let number = Hear::new(r"(?P<n>\d+)", |_ctx: Ctx, _c: Captures| async {});
        let router =
            CommandRouter::<()>::new(vec![ping()], vec![spam, number], CommandOptions::default())
                .unwrap();
        let actions = router.decide(ME, &from_alice("SPAM 42 times"));
        let heard: Vec<(usize, Option<String>)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Hear { index, captures } => {
                    Some((*index, captures.name("n").map(str::to_owned)))
                }
                _ => None,
            })
            .collect();
        assert_eq!(heard, [(0, None), (1, Some("42".to_owned()))]);
        let both = router.decide(ME, &from_alice("!ping spam"));
        assert_eq!(both.len(), 2);
        assert!(router.decide(ME, &from_alice("nothing here")).is_empty());
    }

    #[test]
    fn a_bad_pattern_is_a_startup_error() {
        let bad = Hear::new(r"(unclosed", |_ctx: Ctx, _c: Captures| async {});
        let err =
            CommandRouter::<()>::new(Vec::new(), vec![bad], CommandOptions::default()).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config);
        assert!(
            err.message().starts_with("pattern listener `(unclosed`"),
            "{err}"
        );
    }

    fn ctx_for(content: &str) -> Ctx {
        let me: RobotInfo = serde_json::from_value(json!({
            "id": "rob_1", "name": "Helper Bot", "serverId": "srv_1"
        }))
        .unwrap();
        let envelope = Envelope::new(
            Some("evt_1".into()),
            "room.message",
            Some("srv_1".into()),
            None,
            json!({"roomId": "room_1", "messageId": "msg_1", "senderId": "usr_1",
                   "senderName": "alice", "content": content}),
        )
        .unwrap();
        let client = crate::Client::builder("lag_robot_test_unused")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        Ctx::new(Arc::new(()), client, Arc::new(me), Arc::new(envelope))
    }

    async fn invoke(
        command: &Command,
        args: &str,
        mentions: Vec<Mention>,
    ) -> std::result::Result<Option<Reply>, String> {
        let mut parsed = Args::with_mentions(args, mentions);
        match (command.invoke)(ctx_for(args), &mut parsed, &command.params) {
            Ok(running) => Ok(running.await.unwrap()),
            Err(error) => Err(format!("{error}\nUsage: {}", command.usage())),
        }
    }

    #[tokio::test]
    async fn handlers_get_typed_arguments_or_a_usage_error() {
        let roll = roll();
        assert_eq!(
            invoke(&roll, "20", Vec::new())
                .await
                .unwrap()
                .unwrap()
                .content(),
            "rolled d20"
        );
        assert_eq!(
            invoke(&roll, "", Vec::new())
                .await
                .unwrap()
                .unwrap()
                .content(),
            "rolled d6"
        );
        assert_eq!(
            invoke(&roll, "six", Vec::new()).await.unwrap_err(),
            "sides: `six` is not a whole number\nUsage: !roll [sides]"
        );
        assert_eq!(
            invoke(&roll, "99999999999", Vec::new()).await.unwrap_err(),
            "sides: `99999999999` is too large (at most 4294967295)\nUsage: !roll [sides]"
        );
        assert_eq!(
            invoke(&roll, "6 7", Vec::new()).await.unwrap_err(),
            "unexpected extra argument `7`\nUsage: !roll [sides]"
        );
    }

    #[tokio::test]
    async fn missing_arguments_say_what_was_expected() {
        let ban = Command::new(
            "!ban",
            |_ctx: Ctx, who: crate::command::MemberMention, why: Rest| async move {
                format!("banned {who}: {why}")
            },
        )
        .params(["who", "reason"]);
        let bob = vec![Mention::new(MentionKind::User, "usr_2", "bob")];
        assert_eq!(
            invoke(&ban, "@bob spamming links", bob.clone())
                .await
                .unwrap()
                .unwrap()
                .content(),
            "banned @bob: spamming links"
        );
        assert_eq!(
            invoke(&ban, "@bob", bob.clone()).await.unwrap_err(),
            "missing argument `reason` (some text)\nUsage: !ban <who> <reason...>"
        );
        assert_eq!(
            invoke(&ban, "", bob).await.unwrap_err(),
            "missing argument `who` (a member, like @alice)\nUsage: !ban <who> <reason...>"
        );
    }

    #[tokio::test]
    async fn cooldown_and_unnamed_params() {
        let cmd = Command::new("!add", |_ctx: Ctx, a: i32, b: i32| async move {
            (a + b).to_string()
        })
        .cooldown(Cooldown::per_user(Duration::from_secs(60)));
        assert_eq!(cmd.usage(), "!add <arg1> <arg2>");
        assert_eq!(
            invoke(&cmd, "1 x", Vec::new()).await.unwrap_err(),
            "arg2: `x` is not a whole number\nUsage: !add <arg1> <arg2>"
        );
        assert_eq!(
            invoke(&cmd, "1 2", Vec::new())
                .await
                .unwrap()
                .unwrap()
                .content(),
            "3"
        );
    }

    async fn said_or_error(command: &Command, args: &str, mentions: Vec<Mention>) -> String {
        match invoke(command, args, mentions).await {
            Ok(reply) => reply.map(|r| r.content().to_owned()).unwrap_or_default(),
            Err(error) => error,
        }
    }

    #[tokio::test]
    async fn a_word_no_optional_parameter_takes_is_blamed_on_the_first_that_could() {
        let roll = Command::new(
            "!roll",
            |_ctx: Ctx, sides: Option<u32>, count: Option<u8>| async move {
                format!("{sides:?} {count:?}")
            },
        )
        .params(["sides", "count"]);
        let usage = "Usage: !roll [sides] [count]";
        assert_eq!(
            said_or_error(&roll, "six", Vec::new()).await,
            format!("sides: `six` is not a whole number\n{usage}")
        );
        assert_eq!(
            said_or_error(&roll, "20   six", Vec::new()).await,
            format!("count: `six` is not a whole number\n{usage}")
        );
        assert_eq!(
            said_or_error(&roll, "20 300", Vec::new()).await,
            format!("count: `300` is too large (at most 255)\n{usage}")
        );
        assert_eq!(
            said_or_error(&roll, "20 3", Vec::new()).await,
            "Some(20) Some(3)"
        );
        assert_eq!(said_or_error(&roll, "", Vec::new()).await, "None None");
    }

    #[tokio::test]
    async fn a_later_parameter_still_takes_a_word_an_optional_one_refused() {
        let tag = Command::new("!tag", |_ctx: Ctx, a: Option<u32>, b: String| async move {
            format!("{a:?} {b}")
        })
        .params(["a", "b"]);
        assert_eq!(said_or_error(&tag, "x", Vec::new()).await, "None x");
        assert_eq!(said_or_error(&tag, "5 x", Vec::new()).await, "Some(5) x");
        assert_eq!(
            said_or_error(&tag, "x y", Vec::new()).await,
            "unexpected extra argument `y`\nUsage: !tag [a] <b>"
        );
        let remind = Command::new(
            "!remind",
            |_ctx: Ctx, after: Option<Duration>, text: Rest| async move { format!("{after:?} {text}") },
        );
        assert_eq!(
            said_or_error(&remind, "stretch now", Vec::new()).await,
            "None stretch now"
        );
    }

    #[tokio::test]
    async fn a_required_parameter_refusing_the_same_word_blames_the_earlier_optional() {
        let give = Command::new(
            "!give",
            |_ctx: Ctx, count: Option<u8>, who: crate::command::MemberMention| async move {
                format!("{} to {who}", count.unwrap_or(1))
            },
        )
        .params(["count", "who"]);
        let bob = vec![Mention::new(MentionKind::User, "usr_2", "bob")];
        let usage = "Usage: !give [count] <who>";
        assert_eq!(
            said_or_error(&give, "five @bob", bob.clone()).await,
            format!("count: `five` is not a whole number\n{usage}")
        );
        assert_eq!(
            said_or_error(&give, "5 bob", bob.clone()).await,
            format!("who: `bob` is not a mention (type @ and pick a name)\n{usage}")
        );
        assert_eq!(said_or_error(&give, "@bob", bob).await, "1 to @bob");
    }

    #[tokio::test]
    async fn a_word_that_ends_a_list_is_blamed_on_the_list() {
        let sum = Command::new(
            "!sum",
            |_ctx: Ctx, numbers: Vec<u32>, times: Option<u8>| async move {
                let total: u32 = numbers.iter().sum();
                format!("{total} x{}", times.unwrap_or(1))
            },
        )
        .params(["numbers", "times"]);
        let usage = "Usage: !sum [numbers...] [times]";
        assert_eq!(said_or_error(&sum, "1 2 3", Vec::new()).await, "6 x1");
        assert_eq!(
            said_or_error(&sum, "1 2 x", Vec::new()).await,
            format!("numbers: `x` is not a whole number\n{usage}")
        );
        let pick = Command::new(
            "!pick",
            |_ctx: Ctx, numbers: Vec<u8>, last: u8| async move { format!("{numbers:?} {last}") },
        )
        .params(["numbers", "last"]);
        assert_eq!(
            said_or_error(&pick, "1 x", Vec::new()).await,
            "numbers: `x` is not a whole number\nUsage: !pick [numbers...] <last>"
        );
        let fruit = Command::new(
            "!fruit",
            |_ctx: Ctx, numbers: Vec<u8>, name: String| async move { format!("{numbers:?} {name}") },
        );
        assert_eq!(
            said_or_error(&fruit, "1 2 apples", Vec::new()).await,
            "[1, 2] apples"
        );
    }

    #[test]
    fn runs_are_named_after_their_command_or_pattern_listener() {
        let thanks = Hear::new(r"(?i)\bthanks\b", |_ctx: Ctx, _c: Captures| async {});
        let router = CommandRouter::<()>::new(
            vec![roll(), ping()],
            vec![thanks.labelled("thanks")],
            CommandOptions::new().prefixes(["?"]),
        )
        .unwrap();
        let names = |content: &str| -> Vec<String> {
            router
                .route(&ctx_for(content), &from_alice(content))
                .into_iter()
                .map(|run| run.name.into_owned())
                .collect()
        };
        assert_eq!(names("?dice 20"), ["!roll"]);
        assert_eq!(names("?ROLL thanks"), ["!roll", "thanks"]);
        assert_eq!(names("?help"), ["?help"]);
        assert_eq!(names("?rol"), ["command suggestion"]);
        assert!(names("hello").is_empty());
    }
}
