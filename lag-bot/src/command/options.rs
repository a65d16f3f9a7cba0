//! Robot-wide command behaviour.

use std::sync::Arc;
use std::time::Duration;

use super::texts::{English, Texts};
use crate::error::{Error, Result};

/// How a robot recognises and answers commands, for all its commands at once.
///
/// Defaults: prefix `!`, case-insensitive triggers, `@Robot cmd` addressing on, the built-in
/// `!help` on, "did you mean" suggestions on, English [texts](Self::texts).
///
/// ```
/// use lag_bot::command::CommandOptions;
///
/// let options = CommandOptions::new()
///     .prefixes(["!", "?"])
///     .case_insensitive(false)
///     .suggestions(false);
/// assert_eq!(options.prefix_list(), ["!", "?"]);
/// ```
#[derive(Debug, Clone)]
pub struct CommandOptions {
    prefixes: Vec<String>,
    case_insensitive: bool,
    mention_addressing: bool,
    help: bool,
    suggestions: bool,
    texts: Arc<dyn Texts>,
    cancel_word: String,
    conversation_timeout: Duration,
    answer_attempts: u32,
}

impl Default for CommandOptions {
    fn default() -> Self {
        Self {
            prefixes: vec!["!".to_owned()],
            case_insensitive: true,
            mention_addressing: true,
            help: true,
            suggestions: true,
            texts: Arc::new(English),
            cancel_word: "!cancel".to_owned(),
            conversation_timeout: Duration::from_secs(5 * 60),
            answer_attempts: 3,
        }
    }
}

impl CommandOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Recognises commands written with `prefix` only, e.g. `"?"` or `"bot."`. Triggers keep
    /// their names: `#[command("!roll")]` answers to `?roll`.
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        self.prefixes([prefix])
    }

    /// Recognises commands written with any of `prefixes`; the first is the one shown in help
    /// and usage lines. The longest matching prefix wins.
    pub fn prefixes<I>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.prefixes = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `!ROLL` runs `!roll` (default: yes).
    pub fn case_insensitive(mut self, yes: bool) -> Self {
        self.case_insensitive = yes;
        self
    }

    /// Whether a message starting with a mention of the robot addresses a command, with or
    /// without the prefix: `@Helper roll 20`, `@Helper !roll 20` (default: yes).
    pub fn mention_addressing(mut self, yes: bool) -> Self {
        self.mention_addressing = yes;
        self
    }

    /// Whether the built-in `!help` and `!help <command>` answer (default: yes). A command of
    /// your own named `help` replaces the built-in one.
    pub fn help(mut self, yes: bool) -> Self {
        self.help = yes;
        self
    }

    /// Whether an unknown command close to a known one gets "did you mean `!roll`?" (default:
    /// yes).
    pub fn suggestions(mut self, yes: bool) -> Self {
        self.suggestions = yes;
        self
    }

    /// Replaces the words the framework posts itself (usage errors, unknown commands, refused
    /// checks, cooldowns, help), e.g. to answer in another language. See [`Texts`].
    pub fn texts(mut self, texts: impl Texts) -> Self {
        self.texts = Arc::new(texts);
        self
    }

    /// The word that ends a member's [conversation](crate::Ctx::ask) in a room (default
    /// `!cancel`, matched as the whole message, case as for triggers).
    pub fn cancel_word(mut self, word: impl Into<String>) -> Self {
        self.cancel_word = word.into();
        self
    }

    /// How long a [conversation](crate::Ctx::ask) waits for each answer (default 5 minutes).
    pub fn conversation_timeout(mut self, timeout: Duration) -> Self {
        self.conversation_timeout = timeout;
        self
    }

    /// How many answers [`Ctx::ask_for`](crate::Ctx::ask_for) takes before it gives up
    /// (default 3, at least 1).
    pub fn answer_attempts(mut self, attempts: u32) -> Self {
        self.answer_attempts = attempts.max(1);
        self
    }

    /// The word that ends a conversation.
    pub fn cancel_word_text(&self) -> &str {
        &self.cancel_word
    }

    /// How long a conversation waits for each answer.
    pub fn conversation_timeout_length(&self) -> Duration {
        self.conversation_timeout
    }

    /// How many answers `ask_for` takes.
    pub fn answer_attempt_count(&self) -> u32 {
        self.answer_attempts
    }

    /// The texts in use.
    pub fn text_set(&self) -> &dyn Texts {
        &*self.texts
    }

    pub(crate) fn texts_arc(&self) -> Arc<dyn Texts> {
        Arc::clone(&self.texts)
    }

    /// The recognised prefixes; the first is shown in help.
    pub fn prefix_list(&self) -> &[String] {
        &self.prefixes
    }

    /// The prefix shown in help and usage lines.
    pub fn primary_prefix(&self) -> &str {
        self.prefixes.first().map_or("", String::as_str)
    }

    /// Whether triggers match regardless of case.
    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }

    /// Whether `@Robot cmd` addresses a command.
    pub fn is_mention_addressing(&self) -> bool {
        self.mention_addressing
    }

    /// Whether the built-in help is on.
    pub fn is_help(&self) -> bool {
        self.help
    }

    /// Whether near-miss suggestions are on.
    pub fn is_suggestions(&self) -> bool {
        self.suggestions
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.prefixes.is_empty() {
            return Err(Error::config("commands need at least one prefix"));
        }
        if self.cancel_word.trim().is_empty() {
            return Err(Error::config("the cancel word must not be empty"));
        }
        for prefix in &self.prefixes {
            if prefix.is_empty() || prefix.chars().any(char::is_whitespace) {
                return Err(Error::config(format!(
                    "command prefix {prefix:?} must be non-empty and contain no spaces"
                )));
            }
        }
        Ok(())
    }

    /// The lookup key of a command name: lowercased unless triggers are case-sensitive.
    pub(crate) fn key_for(&self, name: &str) -> String {
        if self.case_insensitive {
            name.to_lowercase()
        } else {
            name.to_owned()
        }
    }

    /// Prefixes longest first, so `!!` wins over `!`.
    pub(crate) fn prefixes_longest_first(&self) -> Vec<String> {
        let mut prefixes = self.prefixes.clone();
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        prefixes.dedup();
        prefixes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let options = CommandOptions::default();
        assert_eq!(options.primary_prefix(), "!");
        assert!(options.is_case_insensitive() && options.is_help());
        options.validate().unwrap();
        assert!(
            CommandOptions::new()
                .prefixes(Vec::<String>::new())
                .validate()
                .is_err()
        );
        assert!(CommandOptions::new().prefix("").validate().is_err());
        assert!(CommandOptions::new().prefix("hey bot").validate().is_err());
    }

    #[test]
    fn longest_prefix_first() {
        let options = CommandOptions::new().prefixes(["!", "!!", "?"]);
        assert_eq!(options.prefixes_longest_first(), ["!!", "!", "?"]);
        assert_eq!(options.primary_prefix(), "!");
    }
}
