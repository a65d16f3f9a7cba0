//! The argument cursor: splits a command's text into words, "quoted strings" and the rest of
//! the line.

use std::borrow::Cow;
use std::fmt;

use super::error::{ArgError, ArgErrorKind};
use crate::model::Mention;

/// One argument as typed: a bare word or a quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// The argument's value: quotes removed and escapes resolved.
    pub text: Cow<'a, str>,
    /// The argument exactly as typed, quotes included.
    pub raw: &'a str,
    /// Whether the argument was written in quotes.
    pub quoted: bool,
}

/// A cursor over a command's arguments: the text after the trigger.
///
/// [`FromArg`](super::FromArg) implementations take what they need from it, so an argument can
/// be a word (`42`), a quoted string (`"two words"`, with `\"` and `\\` escapes, and typographic
/// “quotes” as typed on phones), or everything up to the end of the line.
///
/// ```
/// use lag_bot::command::Args;
///
/// let mut args = Args::new(r#"6 "big \"red\" die" and the rest"#);
/// assert_eq!(args.word().unwrap(), "6");
/// assert_eq!(args.word().unwrap(), r#"big "red" die"#);
/// assert_eq!(args.rest(), Some("and the rest"));
/// assert!(args.is_empty());
/// ```
#[derive(Clone)]
pub struct Args<'a> {
    input: &'a str,
    pos: usize,
    mentions: Cow<'a, [Mention]>,
    deferred: Option<(usize, ArgError)>,
}

/// A saved cursor position, to backtrack after a failed attempt (see [`Args::checkpoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint(usize);

const OPEN_QUOTES: [char; 2] = ['"', '“'];

impl<'a> Args<'a> {
    /// A cursor over `input`, with no mentions.
    pub fn new(input: &'a str) -> Self {
        Self {
            input,
            pos: 0,
            mentions: Cow::Borrowed(&[]),
            deferred: None,
        }
    }

    /// A cursor over `input` that resolves `@name` arguments against `mentions`.
    pub fn with_mentions(input: &'a str, mentions: impl Into<Cow<'a, [Mention]>>) -> Self {
        Self {
            mentions: mentions.into(),
            ..Self::new(input)
        }
    }

    /// The mentions of the message the arguments came from.
    pub fn mentions(&self) -> &[Mention] {
        &self.mentions
    }

    /// The text not consumed yet, leading whitespace removed.
    pub fn remaining(&self) -> &'a str {
        self.input[self.pos..].trim_start()
    }

    /// Whether every argument has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining().is_empty()
    }

    /// Saves the position, to [`restore`](Self::restore) after a failed attempt.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.pos)
    }

    /// Goes back to a saved position.
    pub fn restore(&mut self, checkpoint: Checkpoint) {
        self.pos = checkpoint.0;
    }

    /// Takes the next argument, or `None` when there is none left.
    ///
    /// # Errors
    ///
    /// An opening quote without its closing quote.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, ArgError> {
        self.skip_whitespace();
        let rest = &self.input[self.pos..];
        let Some(first) = rest.chars().next() else {
            return Ok(None);
        };
        let start = self.pos;
        if OPEN_QUOTES.contains(&first) {
            let (text, len) = unquote(rest)?;
            self.pos += len;
            return Ok(Some(Token {
                text,
                raw: &self.input[start..self.pos],
                quoted: true,
            }));
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.pos += len;
        let raw = &self.input[start..self.pos];
        Ok(Some(Token {
            text: Cow::Borrowed(raw),
            raw,
            quoted: false,
        }))
    }

    /// Takes the next argument (a word or a quoted string) as text.
    ///
    /// # Errors
    ///
    /// [`ArgError::missing`] when no argument is left; an unclosed quote.
    pub fn word(&mut self) -> Result<Cow<'a, str>, ArgError> {
        match self.next_token()? {
            Some(token) => Ok(token.text),
            None => Err(ArgError::missing()),
        }
    }

    /// Looks at the next argument without consuming it.
    ///
    /// # Errors
    ///
    /// An unclosed quote.
    pub fn peek_token(&self) -> Result<Option<Token<'a>>, ArgError> {
        let mut copy = Args {
            input: self.input,
            pos: self.pos,
            mentions: Cow::Borrowed(&[]),
            deferred: None,
        };
        copy.next_token()
    }

    /// Takes everything left, trimmed and exactly as typed (quotes are kept), or `None` when
    /// nothing is left.
    pub fn rest(&mut self) -> Option<&'a str> {
        let rest = self.remaining().trim_end();
        self.pos = self.input.len();
        (!rest.is_empty()).then_some(rest)
    }

    /// Takes a mention (`@name`) of a member or robot listed in the message's `mentions`,
    /// matching the longest name first so names with spaces work. Names compare
    /// case-insensitively.
    ///
    /// Returns `None`, consuming nothing, when the next argument is not such a mention.
    pub fn mention(&mut self) -> Option<Mention> {
        self.skip_whitespace();
        let rest = &self.input[self.pos..];
        let after_at = rest.strip_prefix('@')?;
        let (target, len) = self
            .mentions
            .iter()
            .filter(|m| !m.name.is_empty())
            .filter_map(|m| {
                let len = prefix_len_ignore_case(after_at, &m.name)?;
                let boundary = after_at[len..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || is_trailing_punctuation(c));
                boundary.then_some((m, len))
            })
            .max_by_key(|(_, len)| *len)?;
        let target = target.clone();
        self.pos += 1 + len;
        let trailing = self.input[self.pos..]
            .find(|c: char| !is_trailing_punctuation(c))
            .unwrap_or(self.input.len() - self.pos);
        if self.input[self.pos + trailing..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
        {
            self.pos += trailing;
        }
        Some(target)
    }

    /// Remembers why an optional argument was skipped, so that a leftover argument is reported
    /// with that reason instead of as merely unexpected.
    ///
    /// Of several refusals of the same word the first is kept: it comes from the first
    /// parameter that could have taken the word, which is the one the author most likely meant.
    pub(crate) fn defer(&mut self, at: Checkpoint, error: ArgError) {
        if error.is_fatal() {
            return;
        }
        let at = self.word_start(at.0);
        match &self.deferred {
            Some((pos, _)) if *pos >= at => {}
            _ => self.deferred = Some((at, error)),
        }
    }

    /// Takes the reason an earlier parameter refused the word at `at`, if one did and
    /// `refused` (the error of the parameter that started at `at`) is about that same word.
    ///
    /// A parameter that fails on a word an earlier optional parameter already refused reports
    /// the earlier refusal instead, so the error names the first parameter that could have
    /// taken the word.
    pub(crate) fn take_earlier_refusal(
        &mut self,
        at: Checkpoint,
        refused: &ArgError,
    ) -> Option<ArgError> {
        let at = self.word_start(at.0);
        let ArgErrorKind::Invalid { value, .. } = refused.kind() else {
            return None;
        };
        match &self.deferred {
            Some((pos, earlier))
                if *pos == at
                    && earlier.param().is_some()
                    && matches!(earlier.kind(), ArgErrorKind::Invalid { value: v, .. } if v == value) =>
            {
                self.deferred.take().map(|(_, earlier)| earlier)
            }
            _ => None,
        }
    }

    /// Names the parameter on a deferred error raised while parsing it.
    pub(crate) fn name_deferred(&mut self, param: &str) {
        if let Some((_, error)) = &mut self.deferred
            && error.param().is_none()
        {
            error.set_param(param);
        }
    }

    /// Checks that every argument was consumed.
    ///
    /// # Errors
    ///
    /// The first leftover argument, with the reason an optional argument refused it when there
    /// was one.
    pub fn finish(&mut self) -> Result<(), ArgError> {
        self.skip_whitespace();
        if self.pos >= self.input.len() {
            return Ok(());
        }
        if let Some((pos, error)) = self.deferred.take()
            && pos == self.pos
        {
            return Err(error);
        }
        let extra = match self.peek_token() {
            Ok(Some(token)) => token.raw.to_owned(),
            Ok(None) => return Ok(()),
            Err(error) => return Err(error),
        };
        Err(ArgError::extra(extra))
    }

    /// Where the next word starts when reading from `pos`.
    fn word_start(&self, pos: usize) -> usize {
        let rest = &self.input[pos..];
        pos + rest.len() - rest.trim_start().len()
    }

    fn skip_whitespace(&mut self) {
        self.pos = self.word_start(self.pos);
    }
}

impl fmt::Debug for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Args")
            .field("consumed", &&self.input[..self.pos])
            .field("remaining", &&self.input[self.pos..])
            .field("mentions", &self.mentions)
            .finish()
    }
}

fn is_trailing_punctuation(c: char) -> bool {
    matches!(c, ',' | '.' | ':' | ';' | '!' | '?')
}

/// Length in bytes of the prefix of `haystack` equal to `needle` ignoring case, if any.
pub(super) fn prefix_len_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let mut hay = haystack.char_indices();
    for expected in needle.chars() {
        let (_, got) = hay.next()?;
        if got != expected && !got.to_lowercase().eq(expected.to_lowercase()) {
            return None;
        }
    }
    Some(hay.next().map_or(haystack.len(), |(i, _)| i))
}

/// Reads a quoted string at the start of `text`; returns its value and the bytes consumed.
fn unquote(text: &str) -> Result<(Cow<'_, str>, usize), ArgError> {
    let mut chars = text.char_indices();
    let (_, open) = chars.next().expect("caller checked the opening quote");
    let closes = |c: char| c == '"' || (open == '“' && c == '”');
    let body_start = open.len_utf8();
    let mut owned: Option<String> = None;
    while let Some((i, c)) = chars.next() {
        if closes(c) {
            let end = i + c.len_utf8();
            let value = match owned {
                Some(s) => Cow::Owned(s),
                None => Cow::Borrowed(&text[body_start..i]),
            };
            return Ok((value, end));
        }
        if c == '\\' {
            let buf = owned.get_or_insert_with(|| text[body_start..i].to_owned());
            match chars.next() {
                Some((_, 'n')) => buf.push('\n'),
                Some((_, 't')) => buf.push('\t'),
                Some((_, escaped)) => buf.push(escaped),
                None => buf.push('\\'),
            }
            continue;
        }
        if let Some(buf) = &mut owned {
            buf.push(c);
        }
    }
    Err(ArgError::unclosed_quote(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MentionKind;

    fn words(input: &str) -> Vec<String> {
        let mut args = Args::new(input);
        let mut out = Vec::new();
        while let Some(token) = args.next_token().unwrap() {
            out.push(token.text.into_owned());
        }
        out
    }

    #[test]
    fn splits_on_any_whitespace() {
        assert_eq!(words("  a\tbb \n ccc  "), ["a", "bb", "ccc"]);
        assert_eq!(words("a\u{3000}b"), ["a", "b"]);
        assert!(words("   ").is_empty());
        assert!(words("").is_empty());
    }

    #[test]
    fn quoted_strings_keep_spaces_and_resolve_escapes() {
        assert_eq!(
            words(r#"say "hello world" "a \"b\" c\\d" x"#),
            ["say", "hello world", r#"a "b" c\d"#, "x"]
        );
        assert_eq!(
            words(r#""line\none" "tab\tstop""#),
            ["line\none", "tab\tstop"]
        );
        assert_eq!(words(r#""""#), [""]);
    }

    #[test]
    fn typographic_quotes_work() {
        assert_eq!(words("“über straße” next"), ["über straße", "next"]);
        assert_eq!(words("“mixed\" end"), ["mixed", "end"]);
    }

    #[test]
    fn quoted_token_reports_raw_and_flag() {
        let mut args = Args::new(r#" "a b" c"#);
        let token = args.next_token().unwrap().unwrap();
        assert_eq!(token.raw, r#""a b""#);
        assert!(token.quoted);
        assert!(matches!(token.text, Cow::Borrowed("a b")));
        let token = args.next_token().unwrap().unwrap();
        assert!(!token.quoted);
    }

    #[test]
    fn unicode_words_are_not_split_inside_characters() {
        assert_eq!(words("héllo 🎲 日本語"), ["héllo", "🎲", "日本語"]);
    }

    #[test]
    fn unclosed_quote_is_an_error() {
        let mut args = Args::new(r#"ok "never closed"#);
        assert_eq!(args.word().unwrap(), "ok");
        let err = args.next_token().unwrap_err();
        assert_eq!(err.to_string(), r#"unclosed quote in `"never closed`"#);
        let err = Args::new(r#""ends with backslash\"#)
            .next_token()
            .unwrap_err();
        assert!(err.to_string().starts_with("unclosed quote"));
    }

    #[test]
    fn word_on_empty_input_is_missing() {
        let err = Args::new("  ").word().unwrap_err();
        assert!(err.is_missing());
    }

    #[test]
    fn rest_takes_the_raw_remainder() {
        let mut args = Args::new(r#"first  "keep" the \"quotes\"   "#);
        args.word().unwrap();
        assert_eq!(args.rest(), Some(r#""keep" the \"quotes\""#));
        assert_eq!(args.rest(), None);
        assert!(args.is_empty());
    }

    #[test]
    fn peek_does_not_consume() {
        let args = Args::new("a b");
        assert_eq!(args.peek_token().unwrap().unwrap().text, "a");
        assert_eq!(args.remaining(), "a b");
    }

    #[test]
    fn checkpoint_restores_position() {
        let mut args = Args::new("a b");
        let cp = args.checkpoint();
        args.word().unwrap();
        args.restore(cp);
        assert_eq!(args.word().unwrap(), "a");
    }

    #[test]
    fn finish_reports_the_first_leftover() {
        let mut args = Args::new("a \"b c\" d");
        args.word().unwrap();
        let err = args.finish().unwrap_err();
        assert_eq!(err.to_string(), r#"unexpected extra argument `"b c"`"#);
        let mut args = Args::new("a   ");
        args.word().unwrap();
        args.finish().unwrap();
    }

    fn mentions() -> Vec<Mention> {
        vec![
            Mention::new(MentionKind::User, "usr_1", "alice"),
            Mention::new(MentionKind::Robot, "rob_1", "Moderation Bot"),
            Mention::new(MentionKind::Robot, "rob_2", "Moderation"),
        ]
    }

    #[test]
    fn mention_matches_longest_name_case_insensitively() {
        let mut args = Args::with_mentions("@moderation bot please", mentions());
        assert_eq!(args.mention().unwrap().id, "rob_1");
        assert_eq!(args.remaining(), "please");
        let mut args = Args::with_mentions("@Moderation please", mentions());
        assert_eq!(args.mention().unwrap().id, "rob_2");
    }

    #[test]
    fn mention_allows_trailing_punctuation_but_not_longer_names() {
        let mut args = Args::with_mentions("@ALICE, hi", mentions());
        assert_eq!(args.mention().unwrap().id, "usr_1");
        assert_eq!(args.remaining(), "hi");
        let mut args = Args::with_mentions("@alicex hi", mentions());
        assert!(args.mention().is_none());
        assert_eq!(args.remaining(), "@alicex hi");
        let mut args = Args::with_mentions("alice", mentions());
        assert!(args.mention().is_none());
    }

    #[test]
    fn mention_handles_multibyte_case_folding() {
        let targets = vec![Mention::new(MentionKind::User, "usr_9", "Ärger")];
        let mut args = Args::with_mentions("@ärger rest", targets);
        assert_eq!(args.mention().unwrap().id, "usr_9");
        assert_eq!(args.remaining(), "rest");
    }
}
