//! The built-in `help [command [subcommand...]]`, answering from an index made once at startup.

use std::collections::HashMap;
use std::sync::Arc;

use super::texts::{HelpEntry, Texts};
use super::usage::closest;
use super::{Command, CommandOptions, Param, Rest, parse_param, trigger_name};
use crate::ctx::Ctx;

/// The built-in help command, for the visible ones among `commands` (groups with their
/// subcommands).
pub(super) fn help_command<S: Send + Sync + 'static>(
    commands: &[Command<S>],
    options: &CommandOptions,
) -> Command<S> {
    let index = Arc::new(HelpIndex::new(commands, options));
    let texts = options.text_set();
    let name = texts.help_parameter();
    // Shown as one optional word; the words after it name subcommands (`!help mod strikes`).
    let params = vec![Param::of::<Option<String>>(name)];
    Command::from_parts(
        "help".to_owned(),
        params,
        Arc::new(move |_ctx: Ctx<S>, args, params| {
            let name = params.first().map_or("command", Param::name);
            let topic = parse_param::<Option<Rest>>(args, name)?;
            args.finish()?;
            let index = Arc::clone(&index);
            Ok(crate::reply::boxed(async move {
                index.answer(topic.as_ref().map(|t| t.as_str()))
            }))
        }),
    )
    .help(texts.help_summary())
}

/// Every answer the help command can give, made once.
struct HelpIndex {
    list: String,
    /// By the lookup keys of a command's path (`mod strikes`), aliases included.
    details: HashMap<String, String>,
    /// Every visible path as written (`mod strikes`), for suggestions.
    names: Vec<String>,
    help: String,
    options: CommandOptions,
}

impl HelpIndex {
    fn new<S>(commands: &[Command<S>], options: &CommandOptions) -> Self {
        let prefix = options.primary_prefix();
        let texts = options.text_set();
        let help = format!("{prefix}help");
        let help_entry = HelpEntry::new(
            format!("{help} [{}]", texts.help_parameter()),
            Some(texts.help_summary()),
            Vec::new(),
        );
        let mut index = Self {
            list: String::new(),
            details: HashMap::new(),
            names: Vec::new(),
            help,
            options: options.clone(),
        };
        index
            .details
            .insert(options.key_for("help"), texts.help_details(&help_entry));
        let mut entries = vec![help_entry];
        for command in commands.iter().filter(|c| !c.hidden) {
            let entry = index.add(command, &[], texts);
            entries.push(entry.in_category(command.category.clone()));
        }
        entries.sort_by(|a, b| {
            (a.category.is_some(), &a.category, &a.usage, a.summary()).cmp(&(
                b.category.is_some(),
                &b.category,
                &b.usage,
                b.summary(),
            ))
        });
        index.list = texts.help_list(&entries, &index.help);
        index
    }

    /// Adds the details of `command`, called after the groups whose names (with their
    /// aliases) are `above`, and of its subcommands; returns its entry.
    fn add<S>(
        &mut self,
        command: &Command<S>,
        above: &[Vec<String>],
        texts: &dyn Texts,
    ) -> HelpEntry {
        let prefix = self.options.primary_prefix();
        let written: Vec<&str> = above
            .iter()
            .filter_map(|names| names.first().map(String::as_str))
            .chain(std::iter::once(command.name()))
            .collect();
        let path = written.join(" ");
        let called = |name: &str| {
            let mut words: Vec<&str> = written[..written.len() - 1].to_vec();
            words.push(name);
            format!("{prefix}{}", words.join(" "))
        };
        let entry = HelpEntry::new(
            command.usage_as(&called(command.name()), &texts.subcommand_parameter()),
            command.help_text().map(str::to_owned),
            command
                .aliases
                .iter()
                .map(|a| called(trigger_name(a)))
                .collect(),
        );
        let mut levels = above.to_vec();
        levels.push(command.names().map(str::to_owned).collect());
        let visible: Vec<&Command<S>> = command.subcommands.iter().filter(|c| !c.hidden).collect();
        let text = if visible.is_empty() {
            texts.help_details(&entry)
        } else {
            let mut subs: Vec<HelpEntry> = visible
                .into_iter()
                .map(|sub| self.add(sub, &levels, texts))
                .collect();
            subs.sort_by(|a, b| a.usage.cmp(&b.usage));
            texts.help_group(&entry, &subs)
        };
        for key in self.keys(&levels) {
            self.details.insert(key, text.clone());
        }
        self.names.push(path);
        entry
    }

    /// Every lookup key of a path whose levels have these names: one name of each level.
    fn keys(&self, levels: &[Vec<String>]) -> Vec<String> {
        let mut keys = vec![String::new()];
        for names in levels {
            keys = keys
                .iter()
                .flat_map(|key| {
                    names.iter().map(move |name| {
                        let name = self.options.key_for(name);
                        if key.is_empty() {
                            name
                        } else {
                            format!("{key} {name}")
                        }
                    })
                })
                .collect();
        }
        keys
    }

    fn answer(&self, topic: Option<&str>) -> String {
        let Some(topic) = topic else {
            return self.list.clone();
        };
        let words: Vec<&str> = topic.split_whitespace().collect();
        let Some((first, rest)) = words.split_first() else {
            return self.list.clone();
        };
        let name = std::iter::once(trigger_name(first))
            .chain(rest.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(text) = self.details.get(&self.options.key_for(&name)) {
            return text.clone();
        }
        let prefix = self.options.primary_prefix();
        let near = self
            .options
            .is_suggestions()
            .then(|| closest(&name, self.names.iter().map(String::as_str)))
            .flatten()
            .map(|near| format!("{prefix}{near}"));
        self.options.text_set().help_not_found(
            &format!("{prefix}{name}"),
            near.as_deref(),
            &self.help,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::tests::{ping, roll, secret};

    #[test]
    fn help_lists_visible_commands_and_explains_one() {
        let commands = vec![roll(), ping(), secret()];
        let options = CommandOptions::new().prefixes(["?", "!"]);
        let help = HelpIndex::new(&commands, &options);
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
            help.answer(Some("help")),
            "`?help [command]`\nLists the commands, or explains one."
        );
        assert_eq!(
            help.answer(Some("rol")),
            "No command `?rol`. Did you mean `?roll`?"
        );
        assert_eq!(
            help.answer(Some("secret")),
            "No command `?secret`. Type `?help` for the list."
        );
    }
}
