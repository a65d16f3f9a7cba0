//! The rules file: what the robot looks for, and what it does about it.
//!
//! A rules file is TOML: an optional `[settings]` table and a list of `[[rule]]` tables, checked
//! in the order written. The built-in default, [`DEFAULT_RULES`], is `rules.toml` next to this
//! robot and documents every key. Each rule has a `name`, a `kind` with its own keys, and an
//! `action`:
//!
//! | kind | keys | matches a message that |
//! | --- | --- | --- |
//! | `words` | `words = [...]` | contains a listed word, as a whole word, even disguised (see [`WordList`]) |
//! | `regex` | `pattern = '...'` | matches the pattern (Rust `regex` syntax; `(?i)` for any case) |
//! | `links` | `deny = [...]` or `allow = [...]` | links to a denied domain, or to any domain not allowed |
//! | `mentions` | `max = N` | mentions more than N members |
//! | `flood` | `max = N`, `per = "10s"` | is the member's (N+1)th message or more within `per` |
//! | `repeats` | `max = N`, `within = "2m"` | repeats the member's same text more than N times within `within` |
//!
//! Actions grow from one to the next: `warn` warns the member (a reply threaded to the message);
//! `remove` also removes the message (or, where Lag refuses, reports it to the mod-log room);
//! `strike` also gives the member `weight` strikes (default 1), which expire and escalate.
//!
//! A mistake in the file stops the robot at start-up with the line and the rule at fault, so a
//! typo never leaves the server unmoderated without anyone noticing.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use lag_bot::model::ServerRole;
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::words::WordList;

/// The default rules, built into the robot: used when no rules file is given.
pub const DEFAULT_RULES: &str = include_str!("../rules.toml");

/// A rules file, checked and ready to use.
#[derive(Debug)]
pub struct RuleSet {
    /// How the robot acts beyond single rules.
    pub settings: Settings,
    /// The rules, in the order they are checked.
    pub rules: Vec<Rule>,
    /// Where the rules came from, for `!mod rules` and the logs: a path, or "the built-in rules".
    pub origin: String,
}

/// Robot-wide settings: the `[settings]` table.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The room reports go to (`mod_log`, default `mod-log`).
    pub mod_log: String,
    /// A member is warned at most once per this window (`warning_window`, default 1 minute).
    pub warning_window: Duration,
    /// The mod-log room gets at most one report per this window (`report_window`, default 30
    /// seconds); what happens in between is summarised in the next one.
    pub report_window: Duration,
    /// How long a strike counts (`strike_expiry`, default 30 days).
    pub strike_expiry: Duration,
    /// Active strike totals at which the admins are called in (`escalate_at`, default 3 and 6).
    pub escalate_at: Vec<u32>,
    /// Members with these roles are never moderated (`exempt_roles`, default owner and admin).
    pub exempt_roles: Vec<ServerRole>,
    /// After Lag refuses a deletion, how long the robot goes without asking again
    /// (`retry_delete_after`, default 1 minute), so that a flood does not spend the request
    /// budget on refusals.
    pub retry_delete_after: Duration,
}

/// One rule: what to look for and what to do.
#[derive(Debug)]
pub struct Rule {
    /// The rule's name, shown to members and moderators.
    pub name: String,
    /// What the rule looks for.
    pub kind: Kind,
    /// What the robot does about a match.
    pub action: Action,
    /// The line of the rules file the rule starts on (1-based).
    pub line: usize,
}

/// What a rule looks for.
#[derive(Debug)]
pub enum Kind {
    /// Listed words, as whole words, seen through simple disguises.
    Words(WordList),
    /// A regular expression.
    Regex(Regex),
    /// Links, by domain.
    Links(LinkPolicy),
    /// More than `max` members mentioned in one message.
    Mentions {
        /// The most mentions allowed.
        max: usize,
    },
    /// More than `max` messages by one member within `per`.
    Flood {
        /// The most messages allowed in the window.
        max: usize,
        /// The window.
        per: Duration,
    },
    /// The same text by one member more than `max` times within `within`.
    Repeats {
        /// The most times a text may be posted in the window.
        max: usize,
        /// The window.
        within: Duration,
    },
}

/// Which links a `links` rule objects to. A domain also covers its subdomains.
#[derive(Debug)]
pub enum LinkPolicy {
    /// Links to these domains.
    Deny(Vec<String>),
    /// Links to any domain but these.
    AllowOnly(Vec<String>),
}

/// What the robot does about a violation; each does what the one before does, and more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Warn the member.
    Warn,
    /// Remove the message (or report it, where Lag refuses), and warn the member.
    Remove,
    /// Remove the message and give the member this many strikes.
    Strike(u32),
}

impl Action {
    /// Whether the message is to be removed.
    pub fn removes(self) -> bool {
        !matches!(self, Action::Warn)
    }

    /// The strikes it gives.
    pub fn strikes(self) -> u32 {
        match self {
            Action::Strike(weight) => weight,
            _ => 0,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Warn => f.write_str("warn"),
            Action::Remove => f.write_str("remove"),
            Action::Strike(1) => f.write_str("remove and 1 strike"),
            Action::Strike(weight) => write!(f, "remove and {weight} strikes"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Words(words) => write!(f, "words ({} listed)", words.len()),
            Kind::Regex(regex) => write!(f, "pattern `{}`", regex.as_str()),
            Kind::Links(LinkPolicy::Deny(domains)) => {
                write!(f, "links to {}", domains.join(", "))
            }
            Kind::Links(LinkPolicy::AllowOnly(domains)) => {
                write!(f, "links anywhere but {}", domains.join(", "))
            }
            Kind::Mentions { max } => write!(f, "more than {max} mentions in a message"),
            Kind::Flood { max, per } => write!(
                f,
                "more than {max} messages in {}",
                humantime::format_duration(*per)
            ),
            Kind::Repeats { max, within } => write!(
                f,
                "the same text more than {max} times in {}",
                humantime::format_duration(*within)
            ),
        }
    }
}

/// A rules file that cannot be used: where, which rule, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    /// Where the rules came from.
    pub origin: String,
    /// The line at fault (1-based), when known.
    pub line: Option<usize>,
    /// The rule at fault, by name (or position when it has no name), when known.
    pub rule: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ", rule {rule}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for RulesError {}

/// The `[settings]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    mod_log: Option<String>,
    warning_window: Option<Spanned<String>>,
    report_window: Option<Spanned<String>>,
    strike_expiry: Option<Spanned<String>>,
    escalate_at: Option<Vec<u32>>,
    exempt_roles: Option<Vec<Spanned<String>>>,
    retry_delete_after: Option<Spanned<String>>,
}

/// A `[[rule]]` table as written; which keys apply depends on `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    kind: Option<Spanned<String>>,
    action: Option<Spanned<String>>,
    weight: Option<Spanned<u32>>,
    words: Option<Vec<String>>,
    pattern: Option<Spanned<String>>,
    deny: Option<Vec<String>>,
    allow: Option<Vec<String>>,
    max: Option<Spanned<u32>>,
    per: Option<Spanned<String>>,
    within: Option<Spanned<String>>,
}

/// The whole file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

impl RuleSet {
    /// The built-in rules.
    ///
    /// # Errors
    ///
    /// None in practice: the built-in rules are checked by the tests.
    pub fn default_rules() -> Result<Self, RulesError> {
        Self::parse(DEFAULT_RULES, "the built-in rules")
    }

    /// Reads and checks the rules file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or as [`parse`](Self::parse).
    pub fn load(path: &std::path::Path) -> Result<Self, RulesError> {
        let origin = format!("rules file {}", path.display());
        let text = std::fs::read_to_string(path).map_err(|err| RulesError {
            origin: origin.clone(),
            line: None,
            rule: None,
            problem: format!("cannot read it: {err}"),
        })?;
        Self::parse(&text, &origin)
    }

    /// Checks the rules in `text`; `origin` names them in errors.
    ///
    /// # Errors
    ///
    /// A [`RulesError`] with the line and the rule at fault: TOML syntax, an unknown key, a
    /// missing or duplicate name, an unknown kind or action, a key the kind does not take, a
    /// bad pattern or duration.
    pub fn parse(text: &str, origin: &str) -> Result<Self, RulesError> {
        let fail = |span: Option<Range<usize>>, problem: String| RulesError {
            origin: origin.to_owned(),
            line: span.as_ref().map(|span| line_of(text, span.start)),
            rule: span.and_then(|span| rule_at(text, span.start)),
            problem,
        };
        let raw: RawFile =
            toml::from_str(text).map_err(|err| fail(err.span(), err.message().to_owned()))?;
        let settings = settings(raw.settings, &fail)?;
        let mut rules: Vec<Rule> = Vec::with_capacity(raw.rule.len());
        for spanned in raw.rule {
            let span = spanned.span();
            let line = line_of(text, span.start);
            let rule = build_rule(
                spanned.into_inner(),
                rules.len() + 1,
                line,
                &|at, problem| fail(Some(at.unwrap_or_else(|| span.clone())), problem),
            )?;
            if rules.iter().any(|r| r.name == rule.name) {
                return Err(fail(
                    Some(span),
                    format!("a second rule is named {:?}", rule.name),
                ));
            }
            rules.push(rule);
        }
        if rules.is_empty() {
            return Err(fail(
                None,
                "there is no [[rule]]: nothing would be moderated".into(),
            ));
        }
        Ok(RuleSet {
            settings,
            rules,
            origin: origin.to_owned(),
        })
    }

    /// What `!mod rules` shows: each rule with its action, then the settings.
    pub fn describe(&self) -> String {
        let mut out = format!("Moderation rules ({}):\n", self.origin);
        for (at, rule) in self.rules.iter().enumerate() {
            out.push_str(&format!(
                "{}. **{}** (line {}): {} -> {}\n",
                at + 1,
                rule.name,
                rule.line,
                rule.kind,
                rule.action
            ));
        }
        let s = &self.settings;
        let roles: Vec<&str> = s.exempt_roles.iter().map(ServerRole::as_str).collect();
        let thresholds: Vec<String> = s.escalate_at.iter().map(u32::to_string).collect();
        out.push_str(&format!(
            "Strikes last {}; the admins are called in at {} active strikes. A member is warned \
             at most once every {}; #{} gets at most one report every {}. Not moderated: {}.",
            humantime::format_duration(s.strike_expiry),
            if thresholds.is_empty() {
                "no number of".to_owned()
            } else {
                thresholds.join(" and ")
            },
            humantime::format_duration(s.warning_window),
            s.mod_log,
            humantime::format_duration(s.report_window),
            if roles.is_empty() {
                "nobody".to_owned()
            } else {
                roles.join(", ")
            },
        ));
        out
    }
}

type Fail<'a> = dyn Fn(Option<Range<usize>>, String) -> RulesError + 'a;

fn settings(raw: RawSettings, fail: &Fail<'_>) -> Result<Settings, RulesError> {
    let duration = |value: Option<Spanned<String>>, key: &str, default: Duration| match value {
        None => Ok(default),
        Some(value) => parse_duration(value.get_ref())
            .map_err(|problem| fail(Some(value.span()), format!("settings.{key}: {problem}"))),
    };
    let exempt_roles = match raw.exempt_roles {
        None => vec![ServerRole::Owner, ServerRole::Admin],
        Some(roles) => roles
            .into_iter()
            .map(|role| match role.get_ref().as_str() {
                "owner" => Ok(ServerRole::Owner),
                "admin" => Ok(ServerRole::Admin),
                "member" => Ok(ServerRole::Member),
                other => Err(fail(
                    Some(role.span()),
                    format!(
                        "settings.exempt_roles: unknown role {other:?} (owner, admin or member)"
                    ),
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    let mut escalate_at = raw.escalate_at.unwrap_or_else(|| vec![3, 6]);
    escalate_at.sort_unstable();
    escalate_at.dedup();
    Ok(Settings {
        mod_log: raw
            .mod_log
            .map(|room| room.trim_start_matches('#').to_owned())
            .unwrap_or_else(|| "mod-log".to_owned()),
        warning_window: duration(
            raw.warning_window,
            "warning_window",
            Duration::from_secs(60),
        )?,
        report_window: duration(raw.report_window, "report_window", Duration::from_secs(30))?,
        strike_expiry: duration(
            raw.strike_expiry,
            "strike_expiry",
            Duration::from_secs(30 * 24 * 3600),
        )?,
        escalate_at: escalate_at.into_iter().filter(|&n| n > 0).collect(),
        exempt_roles,
        retry_delete_after: duration(
            raw.retry_delete_after,
            "retry_delete_after",
            Duration::from_secs(60),
        )?,
    })
}

/// Builds rule number `position`, starting on `line`; `fail` places a problem at a key's span,
/// or at the rule's header when given none.
fn build_rule(
    raw: RawRule,
    position: usize,
    line: usize,
    fail: &dyn Fn(Option<Range<usize>>, String) -> RulesError,
) -> Result<Rule, RulesError> {
    let Some(name) = raw.name.filter(|name| !name.trim().is_empty()) else {
        return Err(fail(None, format!("rule number {position} has no `name`")));
    };
    let Some(kind_name) = raw.kind else {
        return Err(fail(
            None,
            "no `kind` (words, regex, links, mentions, flood or repeats)".into(),
        ));
    };
    let kind_span = kind_name.span();
    let kind_name = kind_name.into_inner();

    // Which keys each kind takes: a key meant for another kind is a mistake worth naming.
    let given: Vec<(&str, bool)> = vec![
        ("words", raw.words.is_some()),
        ("pattern", raw.pattern.is_some()),
        ("deny", raw.deny.is_some()),
        ("allow", raw.allow.is_some()),
        ("max", raw.max.is_some()),
        ("per", raw.per.is_some()),
        ("within", raw.within.is_some()),
    ];
    let takes: &[&str] = match kind_name.as_str() {
        "words" => &["words"],
        "regex" => &["pattern"],
        "links" => &["deny", "allow"],
        "mentions" => &["max"],
        "flood" => &["max", "per"],
        "repeats" => &["max", "within"],
        other => {
            return Err(fail(
                Some(kind_span),
                format!("unknown kind {other:?} (words, regex, links, mentions, flood or repeats)"),
            ));
        }
    };
    if let Some((key, _)) = given.iter().find(|(key, set)| *set && !takes.contains(key)) {
        return Err(fail(
            None,
            format!(
                "a {kind_name} rule does not take `{key}` (it takes {})",
                takes.join(", ")
            ),
        ));
    }
    let required = |key: &str| fail(None, format!("a {kind_name} rule needs `{key}`"));
    let count = |max: Option<Spanned<u32>>| -> Result<usize, RulesError> {
        let max = max.ok_or_else(|| required("max"))?;
        usize::try_from(*max.get_ref()).map_err(|_| fail(Some(max.span()), "too large".into()))
    };
    let window = |value: Option<Spanned<String>>, key: &str| -> Result<Duration, RulesError> {
        let value = value.ok_or_else(|| required(key))?;
        match parse_duration(value.get_ref()) {
            Ok(window) if !window.is_zero() => Ok(window),
            Ok(_) => Err(fail(
                Some(value.span()),
                format!("`{key}` must be longer than 0s"),
            )),
            Err(problem) => Err(fail(Some(value.span()), format!("`{key}`: {problem}"))),
        }
    };

    let kind = match kind_name.as_str() {
        "words" => {
            let words = WordList::new(raw.words.iter().flatten().map(String::as_str));
            if words.is_empty() {
                return Err(fail(None, "`words` lists no word".into()));
            }
            Kind::Words(words)
        }
        "regex" => {
            let pattern = raw.pattern.ok_or_else(|| required("pattern"))?;
            let regex = Regex::new(pattern.get_ref()).map_err(|err| {
                fail(
                    Some(pattern.span()),
                    format!("`pattern` is not a valid regex: {err}"),
                )
            })?;
            Kind::Regex(regex)
        }
        "links" => match (raw.deny, raw.allow) {
            (Some(deny), None) => Kind::Links(LinkPolicy::Deny(domains(deny))),
            (None, Some(allow)) => Kind::Links(LinkPolicy::AllowOnly(domains(allow))),
            (Some(_), Some(_)) => {
                return Err(fail(
                    None,
                    "a links rule takes `deny` or `allow`, not both".into(),
                ));
            }
            (None, None) => return Err(required("deny` or `allow")),
        },
        "mentions" => Kind::Mentions {
            max: count(raw.max)?,
        },
        "flood" => Kind::Flood {
            max: count(raw.max)?,
            per: window(raw.per, "per")?,
        },
        _ => Kind::Repeats {
            max: count(raw.max)?,
            within: window(raw.within, "within")?,
        },
    };

    let action = match raw.action {
        None => return Err(fail(None, "no `action` (warn, remove or strike)".into())),
        Some(action) => match (action.get_ref().as_str(), raw.weight) {
            ("strike", weight) => {
                let weight = weight.map_or(1, |w| *w.get_ref());
                if weight == 0 {
                    return Err(fail(None, "`weight` must be at least 1".into()));
                }
                Action::Strike(weight)
            }
            (_, Some(weight)) => {
                return Err(fail(
                    Some(weight.span()),
                    "`weight` applies to the strike action only".into(),
                ));
            }
            ("warn", None) => Action::Warn,
            ("remove", None) => Action::Remove,
            (other, None) => {
                return Err(fail(
                    Some(action.span()),
                    format!("unknown action {other:?} (warn, remove or strike)"),
                ));
            }
        },
    };
    Ok(Rule {
        name,
        kind,
        action,
        line,
    })
}

/// Domains written in a rules file, in the form links are compared in: lower case, without a
/// scheme, a leading `www.` or a trailing dot.
fn domains(written: Vec<String>) -> Vec<String> {
    written
        .into_iter()
        .map(|domain| {
            let domain = domain.trim().to_lowercase();
            let domain = domain
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_start_matches("www.")
                .trim_end_matches(['/', '.']);
            domain.to_owned()
        })
        .filter(|domain| !domain.is_empty())
        .collect()
}

/// A duration such as `30s`, `10m`, `2h` or `30days`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        format!("{text:?} is not a duration like \"30s\", \"10m\" or \"30days\" ({err})")
    })
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// The rule whose `[[rule]]` table contains byte offset `at`: its name if it has one, else its
/// position. Used for errors the TOML parser reports, which know the place but not the rule.
fn rule_at(text: &str, at: usize) -> Option<String> {
    let mut offset = 0;
    let mut position = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        if offset > at {
            break;
        }
        let header = line.trim_start();
        if header.starts_with("[[rule]]") {
            position += 1;
            start = Some(offset);
        } else if header.starts_with('[') {
            start = None;
        }
        offset += line.len();
    }
    let start = start?;
    let table = &text[start..];
    let name = table
        .lines()
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "name").then(|| value.trim().trim_matches(['"', '\'']).to_owned())
        });
    Some(match name {
        Some(name) => format!("{name:?}"),
        None => format!("number {position}"),
    })
}
