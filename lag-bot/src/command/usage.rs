//! Parameters as shown to authors: usage lines and near-miss suggestions.

use std::borrow::Cow;
use std::fmt;

use super::from_arg::{ArgKind, FromArg};

/// One parameter of a command: its name, how many words it takes and what it expects.
///
/// Usage lines and argument errors are generated from these.
///
/// ```
/// use lag_bot::command::Param;
///
/// let sides = Param::of::<Option<u32>>("sides");
/// assert_eq!(sides.to_string(), "[sides]");
/// assert_eq!(sides.expected(), "a whole number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    name: Cow<'static, str>,
    kind: ArgKind,
    expected: Cow<'static, str>,
}

impl Param {
    /// A parameter named `name` of argument type `T`.
    pub fn of<T: FromArg>(name: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, T::kind(), T::expected())
    }

    /// A parameter described by hand.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        kind: ArgKind,
        expected: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            name: name.into(),
            kind,
            expected: expected.into(),
        }
    }

    /// The name shown in the usage line and in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many words it takes.
    pub fn kind(&self) -> ArgKind {
        self.kind
    }

    /// What it expects, e.g. "a whole number".
    pub fn expected(&self) -> &str {
        &self.expected
    }

    pub(crate) fn rename(&mut self, name: impl Into<Cow<'static, str>>) {
        self.name = name.into();
    }
}

/// `<name>` for required, `[name]` for optional, `[name...]` / `<name...>` for many words.
impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match self.kind {
            ArgKind::Required => write!(f, "<{name}>"),
            ArgKind::Optional => write!(f, "[{name}]"),
            ArgKind::Variadic | ArgKind::OptionalRest => write!(f, "[{name}...]"),
            ArgKind::Rest => write!(f, "<{name}...>"),
        }
    }
}

/// `!roll [sides]`: the trigger as typed, then the parameters.
pub(crate) fn usage_line(trigger: &str, params: &[Param]) -> String {
    let mut line = trigger.to_owned();
    for param in params {
        line.push(' ');
        line.push_str(&param.to_string());
    }
    line
}

/// The closest of `candidates` to `typed`, if close enough to be a plausible typo.
pub(crate) fn closest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let allowed = match typed.chars().count() {
        0 => return None,
        1..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let length = typed.chars().count();
    candidates
        .into_iter()
        // A distance is at least the difference in length: most names are ruled out unread.
        .filter(|candidate| candidate.chars().count().abs_diff(length) <= allowed)
        .map(|candidate| {
            // Optimal string alignment: edits and swaps of neighbours, what typos are made of,
            // without the allocations of the unrestricted Damerau-Levenshtein distance.
            let distance = strsim::osa_distance(&typed, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::command::{MemberMention, Quoted, Rest};

    #[test]
    fn usage_lines_follow_the_signature() {
        let params = [
            Param::of::<MemberMention>("who"),
            Param::of::<Option<Duration>>("for"),
            Param::of::<Rest>("reason"),
        ];
        assert_eq!(usage_line("!ban", &params), "!ban <who> [for] <reason...>");
        assert_eq!(usage_line("!ping", &[]), "!ping");
        let params = [
            Param::of::<Quoted>("question"),
            Param::of::<Vec<String>>("choices"),
        ];
        assert_eq!(
            usage_line("!poll", &params),
            "!poll <question> [choices...]"
        );
        let params = [Param::of::<Option<Rest>>("text")];
        assert_eq!(usage_line("!echo", &params), "!echo [text...]");
    }

    #[test]
    fn params_carry_what_they_expect() {
        assert_eq!(Param::of::<bool>("loud").expected(), "yes or no");
        assert_eq!(
            Param::of::<Vec<Duration>>("times").expected(),
            "a duration like 10m or 1h30m"
        );
        assert_eq!(Param::of::<Vec<u8>>("n").kind(), ArgKind::Variadic);
    }

    #[test]
    fn closest_finds_plausible_typos_only() {
        let names = ["roll", "ping", "help", "remind"];
        assert_eq!(closest("rol", names), Some("roll"));
        assert_eq!(closest("RLOL", names), Some("roll"));
        assert_eq!(closest("pign", names), Some("ping"));
        assert_eq!(closest("remnid", names), Some("remind"));
        assert_eq!(closest("weather", names), None);
        assert_eq!(closest("x", names), None);
        assert_eq!(closest("", names), None);
    }
}
