//! Checking a message against the rules: the first rule it breaks, if any.
//!
//! Most kinds look at one message. `flood` and `repeats` look at what the member posted before,
//! which the [`Detector`] remembers: per member, only as much as the longest window needs, so
//! its memory stays bounded whatever the traffic.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::rules::{Kind, LinkPolicy, Rule, RuleSet};
use super::words::normalised_words;

/// Members remembered at most; past it, the ones quiet the longest are forgotten.
const MAX_MEMBERS: usize = 10_000;

/// A message to check: a new one, or a new version of an edited one.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The room it is in.
    pub room_id: String,
    /// The message's id.
    pub message_id: String,
    /// Its author's user id.
    pub member_id: String,
    /// Its author's username.
    pub member_name: String,
    /// Its text.
    pub text: String,
    /// How many distinct members and robots it mentions.
    pub mentions: usize,
    /// Whether it is an edit of an earlier message (edits do not count as new messages for
    /// `flood` and `repeats`).
    pub edited: bool,
    /// When the robot saw it, on the robot's clock.
    pub at: SystemTime,
}

/// A rule a message breaks.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule's position in the rule set.
    pub rule: usize,
    /// What in the message broke it, for the member and the moderators.
    pub evidence: String,
}

/// What a member posted recently.
#[derive(Debug, Default)]
struct Recent {
    /// When their latest messages came.
    times: VecDeque<SystemTime>,
    /// Their latest messages, normalised, with when they came.
    texts: VecDeque<(SystemTime, String)>,
}

/// Checks messages against a rule set, remembering what `flood` and `repeats` need.
#[derive(Debug, Default)]
pub struct Detector {
    members: Mutex<HashMap<String, Recent>>,
}

impl Detector {
    /// The first rule of `rules` that `message` breaks. A new message is remembered for the
    /// `flood` and `repeats` rules whether or not it breaks one.
    pub fn check(&self, rules: &RuleSet, message: &Incoming) -> Option<Violation> {
        let history = (!message.edited).then(|| self.remember(rules, message));
        rules.rules.iter().enumerate().find_map(|(at, rule)| {
            let count = history.as_ref().and_then(|counts| counts.get(&at).copied());
            breaks(rule, message, count).map(|evidence| Violation { rule: at, evidence })
        })
    }

    /// Records `message` and returns, for the member, how many messages fall in each flood
    /// rule's window and how many times this text falls in each repeats rule's window (by rule
    /// position).
    fn remember(&self, rules: &RuleSet, message: &Incoming) -> HashMap<usize, usize> {
        let keep = rules
            .rules
            .iter()
            .filter_map(|rule| match rule.kind {
                Kind::Flood { max, per } => Some((max + 1, per)),
                Kind::Repeats { max, within } => Some((max + 1, within)),
                _ => None,
            })
            .fold((0, Duration::ZERO), |(n, d), (m, w)| (n.max(m), d.max(w)));
        let mut counts = HashMap::new();
        if keep.0 == 0 {
            return counts;
        }
        let text = normalise_text(&message.text);
        let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        if members.len() >= MAX_MEMBERS && !members.contains_key(&message.member_id) {
            forget_quietest(&mut members);
        }
        let recent = members.entry(message.member_id.clone()).or_default();
        let now = message.at;
        let within = |at: &SystemTime, window: Duration| {
            now.duration_since(*at).map_or(true, |age| age <= window)
        };
        recent.times.push_back(now);
        recent.texts.push_back((now, text.clone()));
        while recent.times.len() > keep.0
            || recent.times.front().is_some_and(|t| !within(t, keep.1))
        {
            recent.times.pop_front();
        }
        while recent.texts.len() > keep.0
            || recent
                .texts
                .front()
                .is_some_and(|(t, _)| !within(t, keep.1))
        {
            recent.texts.pop_front();
        }
        for (at, rule) in rules.rules.iter().enumerate() {
            match rule.kind {
                Kind::Flood { per, .. } => {
                    counts.insert(at, recent.times.iter().filter(|t| within(t, per)).count());
                }
                Kind::Repeats { within: window, .. } => {
                    let same = recent
                        .texts
                        .iter()
                        .filter(|(t, seen)| within(t, window) && !text.is_empty() && *seen == text)
                        .count();
                    counts.insert(at, same);
                }
                _ => {}
            }
        }
        counts
    }
}

/// What in `message` breaks `rule`, if it does; `count` is what [`Detector::remember`] counted
/// for the rule (none for an edit, and for kinds that look at one message only).
fn breaks(rule: &Rule, message: &Incoming, count: Option<usize>) -> Option<String> {
    let text = &message.text;
    match &rule.kind {
        Kind::Words(words) => words.find(text).map(|word| format!("the word {word:?}")),
        Kind::Regex(regex) => regex.find(text).map(|m| format!("{:?}", m.as_str())),
        Kind::Links(policy) => links(text).into_iter().find_map(|host| {
            let listed = |domains: &[String]| domains.iter().any(|d| covers(d, &host));
            match policy {
                LinkPolicy::Deny(domains) if listed(domains) => Some(format!("a link to {host}")),
                LinkPolicy::AllowOnly(domains) if !listed(domains) => {
                    Some(format!("a link to {host}, which is not allowed here"))
                }
                _ => None,
            }
        }),
        Kind::Mentions { max } => {
            (message.mentions > *max).then(|| format!("{} mentions", message.mentions))
        }
        Kind::Flood { max, per } => {
            let position = count?;
            (position > *max).then(|| {
                format!(
                    "{position} messages in {}",
                    humantime::format_duration(*per)
                )
            })
        }
        Kind::Repeats { max, within } => {
            let times = count?;
            (times > *max).then(|| {
                format!(
                    "the same text {times} times in {}",
                    humantime::format_duration(*within)
                )
            })
        }
    }
}

/// Text as `repeats` compares it: the words, normalised, one space apart.
fn normalise_text(text: &str) -> String {
    normalised_words(text).join(" ")
}

/// The host of every link in `text`, with or without a scheme, lower case, without `www.`.
pub fn links(text: &str) -> Vec<String> {
    let mut finder = linkify::LinkFinder::new();
    finder.url_must_have_scheme(false);
    finder.kinds(&[linkify::LinkKind::Url]);
    finder
        .links(text)
        .filter_map(|link| host(link.as_str()))
        .collect()
}

/// The host of a link such as `https://user@Sub.Example.com:8080/path` (`sub.example.com`).
fn host(link: &str) -> Option<String> {
    let rest = link.split_once("://").map_or(link, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = authority
        .split(':')
        .next()?
        .trim_end_matches('.')
        .to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    (!host.is_empty()).then_some(host)
}

/// Whether `domain` covers `host`: the same, or a subdomain of it.
fn covers(domain: &str, host: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// Forgets the member whose latest message is the oldest.
fn forget_quietest(members: &mut HashMap<String, Recent>) {
    let quietest = members
        .iter()
        .min_by_key(|(_, recent)| recent.times.back().copied())
        .map(|(id, _)| id.clone());
    if let Some(id) = quietest {
        members.remove(&id);
    }
}
