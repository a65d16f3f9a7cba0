//! The digest itself: messages in, a summary out. No I/O here, so that it is easy to check.

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::LazyLock;

use jiff::tz::TimeZone;
use jiff::{RoundMode, Timestamp, Unit, Zoned, ZonedRound};
use lag_bot::model::Message;
use linkify::{LinkFinder, LinkKind};

/// How many members, words and links the digest names at most.
const SHOWN: usize = 10;

/// Words too common to say anything about a day's conversation.
const STOP_WORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "and",
    "any",
    "are",
    "aren't",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "even",
    "few",
    "for",
    "from",
    "further",
    "get",
    "got",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he'd",
    "he'll",
    "he's",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "into",
    "isn't",
    "it's",
    "its",
    "itself",
    "just",
    "let's",
    "like",
    "more",
    "most",
    "mustn't",
    "myself",
    "nor",
    "not",
    "now",
    "off",
    "once",
    "one",
    "only",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "some",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "this",
    "those",
    "through",
    "too",
    "under",
    "until",
    "very",
    "was",
    "wasn't",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "well",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "yeah",
    "yes",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

static STOP: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.iter().copied().collect());

/// Whether `message` is part of the conversation the digest summarises: robots' messages and
/// commands to robots (`!something`) are not.
pub fn counts(message: &Message) -> bool {
    !message.is_bot && message.robot_id.is_none() && !message.content.trim_start().starts_with('!')
}

/// A day's messages, counted as they are read.
#[derive(Debug)]
pub struct Tally {
    zone: TimeZone,
    messages: usize,
    /// Per author id: their name and how many messages.
    members: HashMap<String, (String, usize)>,
    /// Per hour (its start in the zone): how many messages.
    hours: HashMap<Timestamp, (Zoned, usize)>,
    words: HashMap<String, usize>,
    /// Each link once, with the position of its first sharing, and who shared it.
    links: HashMap<String, (Timestamp, String)>,
}

impl Tally {
    /// An empty tally whose hours are those of `zone`.
    pub fn new(zone: TimeZone) -> Self {
        Self {
            zone,
            messages: 0,
            members: HashMap::new(),
            hours: HashMap::new(),
            words: HashMap::new(),
            links: HashMap::new(),
        }
    }

    /// Counts `message`, if it [counts](counts) and its time can be read.
    pub fn add(&mut self, message: &Message) {
        if !counts(message) {
            return;
        }
        let Ok(at) = message.created_at.as_str().parse::<Timestamp>() else {
            tracing::warn!(id = message.id, at = %message.created_at, "a message with an unreadable time is left out");
            return;
        };
        self.messages += 1;
        let author = message
            .user_id
            .clone()
            .or_else(|| message.guest_id.clone())
            .unwrap_or_else(|| message.username.clone());
        let member = self
            .members
            .entry(author)
            .or_insert_with(|| (message.author_name().to_owned(), 0));
        member.1 += 1;
        let zoned = at.to_zoned(self.zone.clone());
        let hour = zoned
            .round(
                ZonedRound::new()
                    .smallest(Unit::Hour)
                    .mode(RoundMode::Trunc),
            )
            .unwrap_or(zoned);
        self.hours
            .entry(hour.timestamp())
            .or_insert_with(|| (hour, 0))
            .1 += 1;

        let finder = {
            let mut finder = LinkFinder::new();
            finder.kinds(&[LinkKind::Url]);
            finder
        };
        let mut rest = String::with_capacity(message.content.len());
        let mut from = 0;
        for link in finder.links(&message.content) {
            rest.push_str(&message.content[from..link.start()]);
            rest.push(' ');
            from = link.end();
            let shared = (at, message.author_name().to_owned());
            self.links
                .entry(link.as_str().to_owned())
                .and_modify(|first| {
                    if shared.0 < first.0 {
                        *first = shared.clone();
                    }
                })
                .or_insert(shared);
        }
        rest.push_str(&message.content[from..]);
        for word in words(&rest) {
            *self.words.entry(word).or_insert(0) += 1;
        }
    }

    /// The summary of what was counted.
    pub fn finish(self) -> Summary {
        let mut members: Vec<(String, usize)> = self.members.into_values().collect();
        members.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let busiest = self
            .hours
            .into_values()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        let mut words: Vec<(String, usize)> = self.words.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        words.truncate(SHOWN);
        let mut links: Vec<(String, Timestamp, String)> = self
            .links
            .into_iter()
            .map(|(link, (at, who))| (link, at, who))
            .collect();
        links.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Summary {
            messages: self.messages,
            members,
            busiest,
            words,
            links: links
                .into_iter()
                .map(|(link, _, who)| (link, who))
                .collect(),
        }
    }
}

/// The words of `text` worth counting: lower-cased, at least three letters, no numbers, no
/// mentions or commands, no stop words.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .filter(|token| !token.starts_with(['@', '!', '#']))
        .flat_map(|token| token.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')))
        .map(|word| {
            word.trim_matches(['\'', '’'])
                .replace('’', "'")
                .to_lowercase()
        })
        .map(|word| match word.strip_suffix("'s") {
            Some(stem) => stem.to_owned(),
            None => word,
        })
        .filter(|word| {
            word.chars().count() >= 3
                && word.chars().any(char::is_alphabetic)
                && !STOP.contains(word.as_str())
        })
}

/// A day in a room, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Messages counted.
    pub messages: usize,
    /// Members by messages, most first: (name, messages).
    pub members: Vec<(String, usize)>,
    /// The hour with the most messages (the earliest of a tie): its start, and how many.
    pub busiest: Option<(Zoned, usize)>,
    /// The most used words, most first: (word, uses), at most ten.
    pub words: Vec<(String, usize)>,
    /// Each link shared, in the order first shared, with who first shared it.
    pub links: Vec<(String, String)>,
}

impl Summary {
    /// The digest's text for room `room`, for the 24 hours up to `end` (written in the zone
    /// named `zone_name`).
    pub fn render(&self, room: &str, end: &Zoned, zone_name: &str) -> String {
        let head = format!(
            "**Daily digest of #{room}**, the 24 hours to {} ({zone_name})",
            end.strftime("%a %-d %b %H:%M")
        );
        if self.messages == 0 {
            return format!("{head}: a quiet day, no messages.");
        }
        let mut lines = vec![format!(
            "{head}: {} from {}.",
            plural(self.messages, "message"),
            plural(self.members.len(), "member")
        )];
        lines.push(format!(
            "Most active: {}",
            list(
                self.members.iter().map(|(name, n)| format!("{name} {n}")),
                self.members.len()
            )
        ));
        if let Some((hour, n)) = &self.busiest {
            let end = hour
                .checked_add(jiff::SignedDuration::from_hours(1))
                .unwrap_or_else(|_| hour.clone());
            lines.push(format!(
                "Busiest hour: {} to {}, {}",
                hour.strftime("%H:%M"),
                end.strftime("%H:%M"),
                plural(*n, "message")
            ));
        }
        if !self.words.is_empty() {
            lines.push(format!(
                "Top words: {}",
                list(
                    self.words.iter().map(|(word, n)| format!("{word} {n}")),
                    self.words.len()
                )
            ));
        }
        if !self.links.is_empty() {
            lines.push(format!(
                "Links shared: {}",
                list(
                    self.links
                        .iter()
                        .map(|(link, who)| format!("{link} ({who})")),
                    self.links.len()
                )
            ));
        }
        lines.join("\n")
    }
}

/// The first ten of `items` (of `total`), comma-separated, and how many more there are.
fn list(items: impl Iterator<Item = String>, total: usize) -> String {
    let shown: Vec<String> = items.take(SHOWN).collect();
    let mut text = shown.join(", ");
    if total > SHOWN {
        text.push_str(&format!(" and {} more", total - SHOWN));
    }
    text
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
