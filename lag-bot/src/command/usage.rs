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
///
/// Names are compared by optimal string alignment (edits and swaps of neighbours, what typos
/// are made of), case-insensitively, and the comparison of a name stops as soon as it cannot
/// come within the allowed distance. Nothing is allocated per name, so asking among a
/// thousand names stays cheap.
pub(crate) fn closest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed: Vec<char> = typed.to_lowercase().chars().collect();
    let allowed = match typed.len() {
        0 => return None,
        1..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let mut scratch = Scratch::default();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if best.is_some_and(|(distance, _)| distance == 0) {
            break;
        }
        // A distance is at least the difference in length: most names are ruled out unread.
        if candidate.chars().count().abs_diff(typed.len()) > allowed {
            continue;
        }
        scratch.name.clear();
        if candidate.is_ascii() {
            scratch
                .name
                .extend(candidate.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            scratch.name.extend(candidate.to_lowercase().chars());
        }
        // Only a strictly closer name replaces the best so far: the first of equals wins.
        let limit = best.map_or(allowed, |(distance, _)| distance - 1);
        if let Some(distance) = scratch.osa_within(&typed, limit) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The buffers the distance is computed in, reused from one name to the next.
#[derive(Default)]
struct Scratch {
    name: Vec<char>,
    rows: [Vec<usize>; 3],
}

impl Scratch {
    /// The optimal string alignment distance between `typed` and `self.name` when it is at
    /// most `max`, `None` when it is more.
    fn osa_within(&mut self, typed: &[char], max: usize) -> Option<usize> {
        let name = &self.name;
        let width = name.len() + 1;
        let [before, previous, current] = &mut self.rows;
        for row in [&mut *before, &mut *previous, &mut *current] {
            row.clear();
            row.resize(width, 0);
        }
        for (j, cell) in previous.iter_mut().enumerate() {
            *cell = j;
        }
        let mut previous_min = 0;
        for i in 1..=typed.len() {
            current[0] = i;
            let mut row_min = i;
            for j in 1..width {
                let cost = usize::from(typed[i - 1] != name[j - 1]);
                let mut cell = (previous[j] + 1)
                    .min(current[j - 1] + 1)
                    .min(previous[j - 1] + cost);
                if i > 1 && j > 1 && typed[i - 1] == name[j - 2] && typed[i - 2] == name[j - 1] {
                    cell = cell.min(before[j - 2] + 1);
                }
                current[j] = cell;
                row_min = row_min.min(cell);
            }
            // Every later cell comes from this row, or from the one before it plus a swap:
            // when both are out of reach, so is the end.
            if row_min > max && previous_min >= max {
                return None;
            }
            previous_min = row_min;
            std::mem::swap(before, previous);
            std::mem::swap(previous, current);
        }
        let distance = previous[width - 1];
        (distance <= max).then_some(distance)
    }
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
        assert_eq!(closest("pnig", ["ping", "pong"]), Some("ping"));
        assert_eq!(
            closest("pxng", ["ping", "pong"]),
            Some("ping"),
            "the first of equals"
        );
        assert_eq!(closest("ΣΟΣ", ["σοσ", "σος"]), Some("σος"));
    }

    proptest::proptest! {
        /// The bounded distance agrees with `strsim`'s optimal string alignment wherever it
        /// answers, and answers wherever that distance is within the bound.
        #[test]
        fn bounded_distance_agrees_with_strsim(
            typed in "[abcé]{0,7}",
            name in "[abcé]{0,7}",
            max in 0usize..4,
        ) {
            let mut scratch = Scratch {
                name: name.chars().collect(),
                ..Scratch::default()
            };
            let typed_chars: Vec<char> = typed.chars().collect();
            let expected = strsim::osa_distance(&typed, &name);
            let got = scratch.osa_within(&typed_chars, max);
            proptest::prop_assert_eq!(got, (expected <= max).then_some(expected));
        }
    }
}
