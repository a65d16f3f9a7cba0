//! The built-in `help [command]`, answering from an index made once at startup.

use std::collections::HashMap;
use std::sync::Arc;

use super::texts::HelpEntry;
use super::usage::closest;
use super::{Command, CommandOptions, trigger_name};
use crate::ctx::Ctx;

/// The built-in help command, for the visible ones among `commands`.
pub(super) fn help_command<S: Send + Sync + 'static>(
    commands: &[Command<S>],
    options: &CommandOptions,
) -> Command<S> {
    let index = Arc::new(HelpIndex::new(commands, options));
    let texts = options.text_set();
    Command::new("help", move |_ctx: Ctx<S>, topic: Option<String>| {
        let index = Arc::clone(&index);
        async move { index.answer(topic.as_deref()) }
    })
    .params([texts.help_parameter()])
    .help(texts.help_summary())
}

/// Every answer the help command can give, made once.
struct HelpIndex {
    list: String,
    details: HashMap<String, String>,
    names: Vec<String>,
    help: String,
    options: CommandOptions,
}

impl HelpIndex {
    fn new<S>(commands: &[Command<S>], options: &CommandOptions) -> Self {
        let prefix = options.primary_prefix();
        let texts = options.text_set();
        let visible: Vec<&Command<S>> = commands.iter().filter(|c| !c.hidden).collect();
        let help = format!("{prefix}help");
        let help_entry = HelpEntry::new(
            format!("{help} [{}]", texts.help_parameter()),
            Some(texts.help_summary()),
            Vec::new(),
        );
        let mut details = HashMap::new();
        details.insert(options.key_for("help"), texts.help_details(&help_entry));
        let mut entries = vec![help_entry];
        let mut names = Vec::new();
        for command in visible {
            let entry = HelpEntry::new(
                command.usage_with_prefix(prefix),
                command.help_text().map(str::to_owned),
                command
                    .aliases
                    .iter()
                    .map(|a| format!("{prefix}{}", trigger_name(a)))
                    .collect(),
            );
            let text = texts.help_details(&entry);
            for name in command.names() {
                details.insert(options.key_for(name), text.clone());
                names.push(name.to_owned());
            }
            entries.push(entry);
        }
        entries.sort_by(|a, b| (&a.usage, a.summary()).cmp(&(&b.usage, b.summary())));
        Self {
            list: texts.help_list(&entries, &help),
            details,
            names,
            help,
            options: options.clone(),
        }
    }

    fn answer(&self, topic: Option<&str>) -> String {
        let Some(topic) = topic else {
            return self.list.clone();
        };
        let name = trigger_name(topic);
        if let Some(text) = self.details.get(&self.options.key_for(name)) {
            return text.clone();
        }
        let prefix = self.options.primary_prefix();
        let near = self
            .options
            .is_suggestions()
            .then(|| closest(name, self.names.iter().map(String::as_str)))
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
