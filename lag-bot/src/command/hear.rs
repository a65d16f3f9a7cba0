//! Pattern listeners: run a handler for every room message matching a regular expression.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::ctx::Ctx;
use crate::reply::{IntoReply, ReplyFuture, boxed};

type HearFn<S> = dyn Fn(Ctx<S>, Captures) -> ReplyFuture + Send + Sync;

/// A pattern listener: runs its handler for every room message whose text matches a regular
/// expression (the [`regex`](https://docs.rs/regex) crate's syntax), with the captures.
///
/// All of a robot's patterns are compiled into one set, so a message is matched against all of
/// them in a single pass. A pattern that does not compile is an error when the robot starts
/// (the `#[hear]` attribute reports it at compile time). Pattern listeners see every message
/// except the robot's own, commands included.
///
/// ```
/// use lag_bot::{hear, Ctx};
/// use lag_bot::command::{Captures, Hear};
///
/// /// Answers thanks.
/// #[hear(r"(?i)\bthanks?,? (?P<who>\w+)")]
/// async fn thanks(ctx: Ctx, caps: Captures) -> String {
///     format!("{} says you're welcome!", caps.name("who").unwrap_or("everyone"))
/// }
///
/// // The same listener without the attribute:
/// let by_hand = Hear::new(r"(?i)\bthanks?,? (?P<who>\w+)", |_ctx: Ctx, caps: Captures| async move {
///     format!("{} says you're welcome!", caps.name("who").unwrap_or("everyone"))
/// });
/// assert_eq!(thanks().pattern(), by_hand.pattern());
/// ```
pub struct Hear<S = ()> {
    pattern: String,
    label: String,
    handler: Arc<HearFn<S>>,
}

impl<S: Send + Sync + 'static> Hear<S> {
    /// A listener running `handler` for messages matching `pattern`.
    pub fn new<F, Fut>(pattern: impl Into<String>, handler: F) -> Self
    where
        F: Fn(Ctx<S>, Captures) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReply,
    {
        let pattern = pattern.into();
        Self {
            label: pattern.clone(),
            pattern,
            handler: Arc::new(move |ctx, captures| boxed(handler(ctx, captures))),
        }
    }

    pub(crate) fn labelled(mut self, label: &str) -> Self {
        label.clone_into(&mut self.label);
        self
    }
}

impl<S> Hear<S> {
    /// The regular expression.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn run(&self, ctx: Ctx<S>, captures: Captures) -> ReplyFuture {
        (self.handler)(ctx, captures)
    }
}

impl<S> Clone for Hear<S> {
    fn clone(&self) -> Self {
        Self {
            pattern: self.pattern.clone(),
            label: self.label.clone(),
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<S> fmt::Debug for Hear<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hear")
            .field("pattern", &self.pattern)
            .finish_non_exhaustive()
    }
}

/// What a [`Hear`] pattern matched: the whole match and each capture group, by index or name.
///
/// ```
/// use lag_bot::command::Captures;
/// use regex::Regex;
///
/// let re = Regex::new(r"(?P<n>\d+) (\w+)").unwrap();
/// let caps = Captures::from_regex(&re, "roll 3 dice").unwrap();
/// assert_eq!(caps.as_str(), "3 dice");
/// assert_eq!(caps.name("n"), Some("3"));
/// assert_eq!(caps.get(2), Some("dice"));
/// assert_eq!(caps.len(), 3);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Captures {
    groups: Vec<Option<String>>,
    names: Arc<HashMap<String, usize>>,
}

impl Captures {
    /// Matches `regex` against `text`, or `None` when it does not match.
    pub fn from_regex(regex: &regex::Regex, text: &str) -> Option<Self> {
        Self::with_names(regex, text, &Arc::new(group_names(regex)))
    }

    pub(crate) fn with_names(
        regex: &regex::Regex,
        text: &str,
        names: &Arc<HashMap<String, usize>>,
    ) -> Option<Self> {
        let captures = regex.captures(text)?;
        Some(Self {
            groups: captures
                .iter()
                .map(|group| group.map(|m| m.as_str().to_owned()))
                .collect(),
            names: Arc::clone(names),
        })
    }

    /// The text of the whole match.
    pub fn as_str(&self) -> &str {
        self.get(0).unwrap_or_default()
    }

    /// Group `index` (0 is the whole match), or `None` when it did not take part in the match.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.groups.get(index)?.as_deref()
    }

    /// The named group `name`, or `None` when there is no such group or it did not match.
    pub fn name(&self, name: &str) -> Option<&str> {
        self.get(*self.names.get(name)?)
    }

    /// The number of groups, counting the whole match.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Always `false`: the whole match is always there.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups in order, starting with the whole match.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> {
        self.groups.iter().map(Option::as_deref)
    }
}

impl fmt::Debug for Captures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.names.iter().collect();
        names.sort_by_key(|(_, index)| **index);
        f.debug_struct("Captures")
            .field("groups", &self.groups)
            .field("names", &names)
            .finish()
    }
}

pub(crate) fn group_names(regex: &regex::Regex) -> HashMap<String, usize> {
    regex
        .capture_names()
        .enumerate()
        .filter_map(|(index, name)| Some((name?.to_owned(), index)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_by_index_and_name() {
        let re = regex::Regex::new(r"(?i)(?P<word>spam)(!)?").unwrap();
        let caps = Captures::from_regex(&re, "no SPAM please").unwrap();
        assert_eq!(caps.as_str(), "SPAM");
        assert_eq!(caps.name("word"), Some("SPAM"));
        assert_eq!(caps.get(2), None);
        assert_eq!(caps.name("nope"), None);
        assert_eq!(caps.get(9), None);
        assert_eq!(
            caps.iter().collect::<Vec<_>>(),
            [Some("SPAM"), Some("SPAM"), None]
        );
        assert!(!caps.is_empty());
        assert!(Captures::from_regex(&re, "ham").is_none());
        assert!(format!("{caps:?}").contains("word"));
    }
}
