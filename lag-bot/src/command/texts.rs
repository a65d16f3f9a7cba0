//! Every text the framework itself posts about commands, in one replaceable place.

use std::fmt;
use std::time::Duration;

use super::cooldown::{CooldownScope, format_duration};
use super::error::ArgError;

/// The words a robot uses when the framework, not a handler, answers: refused arguments, an
/// unknown command, a refused check, a cooldown, and the built-in help.
///
/// Every method has an English default, so an implementation overrides only what it wants to
/// change. Set it with [`CommandOptions::texts`](super::CommandOptions::texts). A command's own
/// [`denied_message`](super::Command::denied_message) and a cooldown's own
/// [`message`](super::Cooldown::message) still win over these.
///
/// Command names passed in are as the member should type them, prefix included (`!roll`).
///
/// ```
/// use std::time::Duration;
/// use lag_bot::command::{ArgError, ArgErrorKind, CommandOptions, CooldownScope, Texts, format_duration};
///
/// /// A robot that answers in French.
/// struct French;
///
/// impl Texts for French {
///     fn argument_error(&self, error: &ArgError) -> String {
///         let param = error.param().unwrap_or("argument");
///         match error.kind() {
///             ArgErrorKind::Missing { .. } => format!("il manque `{param}`"),
///             ArgErrorKind::Invalid { value, .. } => format!("{param} : `{value}` ne convient pas"),
///             ArgErrorKind::Extra { value } => format!("argument en trop : `{value}`"),
///             _ => format!("arguments illisibles"),
///         }
///     }
///     fn usage_error(&self, error: &ArgError, usage: &str) -> String {
///         format!("{}\nUsage : {usage}", self.argument_error(error))
///     }
///     fn unknown_command(&self, typed: &str, suggestion: &str) -> String {
///         format!("Commande inconnue `{typed}`. Vouliez-vous dire `{suggestion}` ?")
///     }
///     fn cooldown(&self, command: &str, _scope: CooldownScope, remaining: Duration) -> String {
///         format!("Doucement ! `{command}` sera de nouveau possible dans {}.", format_duration(remaining))
///     }
/// }
///
/// let options = CommandOptions::new().texts(French);
/// let texts = options.text_set();
/// assert_eq!(
///     texts.unknown_command("!rol", "!roll"),
///     "Commande inconnue `!rol`. Vouliez-vous dire `!roll` ?"
/// );
/// let refused = ArgError::invalid("six", "is not a whole number").with_param("faces");
/// assert_eq!(
///     texts.usage_error(&refused, "!roll [faces]"),
///     "faces : `six` ne convient pas\nUsage : !roll [faces]"
/// );
/// // Not overridden: the English default.
/// assert_eq!(texts.denied("!purge"), "You can't use `!purge`.");
/// ```
pub trait Texts: Send + Sync + 'static {
    /// What was wrong with the arguments. The default is the error's own English text
    /// (`sides: `six` is not a whole number`); [`ArgError::kind`] and [`ArgError::param`] give
    /// the parts to build another.
    fn argument_error(&self, error: &ArgError) -> String {
        error.to_string()
    }

    /// The answer to a command whose arguments were refused; `usage` is its usage line
    /// (`!roll [sides]`).
    fn usage_error(&self, error: &ArgError, usage: &str) -> String {
        format!("{}\nUsage: {usage}", self.argument_error(error))
    }

    /// The answer to an unknown command close to a known one.
    fn unknown_command(&self, typed: &str, suggestion: &str) -> String {
        format!("Unknown command `{typed}`. Did you mean `{suggestion}`?")
    }

    /// The answer when a [check](super::Command::check) refuses the author.
    fn denied(&self, command: &str) -> String {
        format!("You can't use `{command}`.")
    }

    /// The answer to a command still cooling down for `remaining`.
    fn cooldown(&self, command: &str, scope: CooldownScope, remaining: Duration) -> String {
        let place = match scope {
            CooldownScope::User => "",
            CooldownScope::Room => " in this room",
            CooldownScope::Global => " here",
        };
        format!(
            "Slow down! `{command}` can be used again{place} in {}.",
            format_duration(remaining)
        )
    }

    /// The built-in help command's own one-line description.
    fn help_summary(&self) -> String {
        "Lists the commands, or explains one.".to_owned()
    }

    /// The name of the built-in help command's parameter, shown in its usage line.
    fn help_parameter(&self) -> String {
        "command".to_owned()
    }

    /// A question asked again by [`Ctx::ask_for`](crate::Ctx::ask_for) after a refused answer:
    /// what was wrong, then the question.
    fn ask_again(&self, error: &ArgError, question: &str) -> String {
        format!("{}\n{question}", self.argument_error(error))
    }

    /// The answer when a member cancels a conversation with the cancel word.
    fn conversation_cancelled(&self) -> String {
        "Cancelled.".to_owned()
    }

    /// The answer when a conversation gets no answer in time; `again` is the command that
    /// started it, as written (`!report`), when a command did.
    fn conversation_timed_out(&self, again: Option<&str>) -> String {
        match again {
            Some(command) => format!("No answer in time; start again with `{command}`."),
            None => "No answer in time.".to_owned(),
        }
    }

    /// The answer when every answer to [`Ctx::ask_for`](crate::Ctx::ask_for) was refused;
    /// `again` as for [`conversation_timed_out`](Self::conversation_timed_out).
    fn conversation_gave_up(&self, again: Option<&str>) -> String {
        match again {
            Some(command) => format!("Too many tries; start again with `{command}`."),
            None => "Too many tries.".to_owned(),
        }
    }

    /// The name of a group's subcommand word in usage lines (`!mod <subcommand>`).
    fn subcommand_parameter(&self) -> String {
        "subcommand".to_owned()
    }

    /// The answer to a bare group (`!mod`) whose own handler gave no reply, and to a word that
    /// names none of its subcommands: `usage` is the group's usage line (`!mod <subcommand>`),
    /// `subcommands` its visible subcommands, sorted by usage line.
    fn group_usage(&self, usage: &str, subcommands: &[HelpEntry]) -> String {
        let mut text = format!("Usage: {usage}\nSubcommands:");
        push_entries(&mut text, subcommands);
        text
    }

    /// The answer to `!help mod` about a group: the group's own details, then its visible
    /// subcommands, sorted by usage line.
    fn help_group(&self, entry: &HelpEntry, subcommands: &[HelpEntry]) -> String {
        let mut text = self.help_details(entry);
        text.push_str("\nSubcommands:");
        push_entries(&mut text, subcommands);
        text
    }

    /// The answer to a bare `!help`: every visible command (a group as one line), sorted by
    /// usage line, the ones without a [category](HelpEntry::category) first, then each
    /// category under its name. `help` is the help command as typed (`!help`).
    fn help_list(&self, entries: &[HelpEntry], help: &str) -> String {
        let mut list = String::from("Commands:");
        let mut category = None;
        for entry in entries {
            if entry.category.is_some() && entry.category != category {
                category.clone_from(&entry.category);
                list.push_str(&format!(
                    "\n{}:",
                    entry.category.as_deref().unwrap_or_default()
                ));
            }
            list.push_str(&format!("\n`{}`", entry.usage));
            if let Some(summary) = entry.summary() {
                list.push_str(&format!(" - {summary}"));
            }
        }
        list.push_str(&format!(
            "\nType `{help} <{}>` for details.",
            self.help_parameter()
        ));
        list
    }

    /// The answer to `!help roll`.
    fn help_details(&self, entry: &HelpEntry) -> String {
        let mut text = format!("`{}`", entry.usage);
        if let Some(help) = &entry.help {
            text.push('\n');
            text.push_str(help);
        }
        if !entry.aliases.is_empty() {
            let aliases: Vec<String> = entry.aliases.iter().map(|a| format!("`{a}`")).collect();
            text.push_str(&format!("\nAliases: {}", aliases.join(", ")));
        }
        text
    }

    /// The answer to `!help` about a command that does not exist (or is hidden), with the
    /// closest visible command when there is a plausible one.
    fn help_not_found(&self, typed: &str, suggestion: Option<&str>, help: &str) -> String {
        match suggestion {
            Some(near) => format!("No command `{typed}`. Did you mean `{near}`?"),
            None => format!("No command `{typed}`. Type `{help}` for the list."),
        }
    }
}

/// One line per entry: `` `usage` - summary ``.
fn push_entries(text: &mut String, entries: &[HelpEntry]) {
    for entry in entries {
        text.push_str(&format!("\n`{}`", entry.usage));
        if let Some(summary) = entry.summary() {
            text.push_str(&format!(" - {summary}"));
        }
    }
}

/// The English texts: every [`Texts`] method's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct English;

impl Texts for English {}

/// One command as the built-in help shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HelpEntry {
    /// The usage line with the prefix shown in help (`!roll [sides]`).
    pub usage: String,
    /// The whole help text, if the command has one.
    pub help: Option<String>,
    /// The other triggers, with the prefix shown in help (`!dice`).
    pub aliases: Vec<String>,
    /// The command's [category](super::Command::category), if it has one.
    pub category: Option<String>,
}

impl HelpEntry {
    /// An entry for a command with this usage line, help text and aliases.
    pub fn new(usage: impl Into<String>, help: Option<String>, aliases: Vec<String>) -> Self {
        Self {
            usage: usage.into(),
            help,
            aliases,
            category: None,
        }
    }

    /// The same entry in category `category`.
    pub fn in_category(mut self, category: Option<String>) -> Self {
        self.category = category;
        self
    }

    /// The first line of the help text: the command's line in the list.
    pub fn summary(&self) -> Option<&str> {
        self.help.as_deref().and_then(|h| h.lines().next())
    }
}

impl fmt::Debug for dyn Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Texts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_defaults() {
        let refused = ArgError::invalid("six", "is not a whole number").with_param("sides");
        assert_eq!(
            English.usage_error(&refused, "!roll [sides]"),
            "sides: `six` is not a whole number\nUsage: !roll [sides]"
        );
        assert_eq!(
            English.cooldown("!roll", CooldownScope::Room, Duration::from_millis(65_200)),
            "Slow down! `!roll` can be used again in this room in 1m 6s."
        );
        assert_eq!(
            English.help_not_found("?secret", None, "?help"),
            "No command `?secret`. Type `?help` for the list."
        );
    }
}
