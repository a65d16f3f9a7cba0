//! Word matching that sees through simple disguises: `B4D`, `b.a.d`, `b a d`, `baaad`.
//!
//! A listed word matches a whole word of the message, never part of one (`ass` does not match
//! `class`). Both sides go through the same [`normalise`]: lower case, and look-alike digits and
//! symbols read as the letters they stand for. A letter stretched to three or more (`baaad`)
//! matches the same letter written fewer times, while doubled letters must match as written
//! (`good` is not `god`). A message is cut into words at whitespace and punctuation, and a run
//! of single letters (`b.a.d`, `b a d`, `b-a-d`) is also read as the word they spell.

use std::collections::HashMap;

/// A word as runs of one letter: `baaad` is `b×1 a×3 d×1`.
type Runs = Vec<(char, usize)>;

/// A list of words to find, normalised once.
#[derive(Debug, Clone, Default)]
pub struct WordList {
    /// Per word with its runs collapsed (`bad`), the run lengths of each listed spelling.
    words: HashMap<String, Vec<Vec<usize>>>,
}

impl WordList {
    /// The list of `words`, each normalised; words that normalise to nothing are left out.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut list = Self::default();
        for reading in words.into_iter().flat_map(readings) {
            if reading.is_empty() {
                continue;
            }
            let (skeleton, lengths) = split_runs(&runs(&reading));
            list.words.entry(skeleton).or_default().push(lengths);
        }
        list
    }

    /// How many distinct normalised words the list holds.
    pub fn len(&self) -> usize {
        self.words.values().map(Vec::len).sum()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The first listed word that `text` contains as a whole word, as the message spelled it.
    pub fn find<'t>(&self, text: &'t str) -> Option<&'t str> {
        candidates(text).into_iter().find_map(|(spelled, word)| {
            readings(&word)
                .iter()
                .any(|reading| self.contains(reading))
                .then_some(spelled)
        })
    }

    fn contains(&self, reading: &str) -> bool {
        let (skeleton, lengths) = split_runs(&runs(reading));
        self.words.get(&skeleton).is_some_and(|listed| {
            listed.iter().any(|listed| {
                listed
                    .iter()
                    .zip(&lengths)
                    .all(|(&want, &got)| got == want || (got >= 3 && got >= want))
            })
        })
    }
}

fn runs(word: &str) -> Runs {
    let mut runs: Runs = Vec::new();
    for c in word.chars() {
        match runs.last_mut() {
            Some((last, count)) if *last == c => *count += 1,
            _ => runs.push((c, 1)),
        }
    }
    runs
}

fn split_runs(runs: &Runs) -> (String, Vec<usize>) {
    (
        runs.iter().map(|&(c, _)| c).collect(),
        runs.iter().map(|&(_, n)| n).collect(),
    )
}

/// The letter a look-alike character stands for, if it is one.
fn look_alike(c: char) -> Option<char> {
    Some(match c {
        '4' | '@' => 'a',
        '8' => 'b',
        '3' => 'e',
        '6' | '9' => 'g',
        '1' | '!' | '|' => 'i',
        '0' => 'o',
        '5' | '$' => 's',
        '7' | '+' => 't',
        _ => return None,
    })
}

/// `word` in lower case with look-alikes read as letters and anything else but letters and
/// digits left out: `B4D!` is `bad`.
pub fn normalise(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| look_alike(c).unwrap_or(c))
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The ways `word` can be read: [`normalise`]d, and with `1` and `|` read as `l` instead of `i`.
fn readings(word: &str) -> Vec<String> {
    let first = normalise(word);
    if word.contains(['1', '|']) {
        let second = normalise(&word.replace(['1', '|'], "l"));
        if second != first {
            return vec![first, second];
        }
    }
    vec![first]
}

/// Whether `c` belongs inside a word: a letter or digit, or a look-alike symbol.
fn in_word(c: char) -> bool {
    c.is_alphanumeric() || look_alike(c).is_some()
}

/// The words of `text`, each [`normalise`]d: how `repeats` compares two messages.
pub fn normalised_words(text: &str) -> Vec<String> {
    spans(text)
        .into_iter()
        .map(|(from, to)| normalise(&text[from..to]))
        .filter(|word| !word.is_empty())
        .collect()
}

/// Where the words of `text` are: each run of word characters, punctuation at its edges left
/// out.
fn spans(text: &str) -> Vec<(usize, usize)> {
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (in_word(c), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                words.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        words.push((from, text.len()));
    }
    // A symbol at the edge of a word is punctuation (`bad!`, `@carol`), not a letter; but `$`
    // stands for an `s` there too (`a$$`).
    words
        .into_iter()
        .filter_map(|(from, to)| {
            let word = &text[from..to];
            let edge = |c: char| !c.is_alphanumeric() && c != '$';
            let inner = word.trim_matches(edge);
            (!inner.is_empty()).then(|| {
                let offset = word.len() - word.trim_start_matches(edge).len();
                (from + offset, from + offset + inner.len())
            })
        })
        .collect()
}

/// The words of `text` as (how the message spelled it, the word to normalise): each word, then
/// every run of two or more single-letter words joined up.
fn candidates(text: &str) -> Vec<(&str, String)> {
    let trimmed = spans(text);

    let mut found: Vec<(&str, String)> = trimmed
        .iter()
        .map(|&(from, to)| (&text[from..to], text[from..to].to_owned()))
        .collect();
    let single = |&(from, to): &(usize, usize)| text[from..to].chars().count() == 1;
    let mut run_start = 0;
    for i in 0..=trimmed.len() {
        if i < trimmed.len() && single(&trimmed[i]) {
            continue;
        }
        if i - run_start >= 2 {
            let (from, _) = trimmed[run_start];
            let (_, to) = trimmed[i - 1];
            let joined: String = trimmed[run_start..i]
                .iter()
                .map(|&(f, t)| &text[f..t])
                .collect();
            found.push((&text[from..to], joined));
        }
        run_start = i + 1;
    }
    found
}
