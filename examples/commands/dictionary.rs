//! The dictionary `!define` asks: its HTTP API, as the robot reads it, and a client for it.
//!
//! The robot GETs `{base}/{word}` (the word escaped as one path segment). The service answers
//! `200` with the word's entries as JSON, or `404` when it does not know the word:
//!
//! ```json
//! [{"word": "lag", "meanings": [
//!     {"partOfSpeech": "noun", "definitions": [{"definition": "A delay between an action and its effect."}]}
//! ]}]
//! ```
//!
//! Fields the robot does not know are ignored.

use std::fmt;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

/// The largest answer the robot reads; a bigger one is refused as malformed.
const MAX_BODY: usize = 256 * 1024;

/// One entry for a word, as the service sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The word, as the dictionary spells it.
    pub word: String,
    /// Its meanings, one per part of speech.
    #[serde(default)]
    pub meanings: Vec<Meaning>,
}

/// The word's meanings as one part of speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meaning {
    /// `noun`, `verb`, ...
    #[serde(default)]
    pub part_of_speech: String,
    /// The definitions, most common first.
    #[serde(default)]
    pub definitions: Vec<Definition>,
}

/// One definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    /// What the word means.
    pub definition: String,
}

/// Why a lookup found no definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The dictionary does not know the word.
    NotFound,
    /// No answer within the client's timeout.
    Timeout,
    /// The dictionary could not be reached.
    Unreachable(String),
    /// The dictionary answered with an error status.
    Status(u16),
    /// The answer was not the JSON this module documents.
    Malformed(String),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => write!(f, "the dictionary does not know the word"),
            Self::Timeout => write!(f, "the dictionary did not answer in time"),
            Self::Unreachable(why) => write!(f, "the dictionary cannot be reached: {why}"),
            Self::Status(status) => write!(f, "the dictionary answered status {status}"),
            Self::Malformed(why) => write!(f, "the dictionary's answer is malformed: {why}"),
        }
    }
}

impl std::error::Error for LookupError {}

/// A client for the dictionary: one base URL and a timeout on every lookup.
#[derive(Debug, Clone)]
pub struct Dictionary {
    http: reqwest::Client,
    base: Url,
}

impl Dictionary {
    /// A client for the dictionary at `base` (e.g. `https://dictionary.example/entries/en/`),
    /// giving up on a lookup after `timeout`.
    ///
    /// # Errors
    ///
    /// [`lag_bot::ErrorKind::Config`] when `base` is not an `http` or `https` URL.
    pub fn new(base: &str, timeout: Duration) -> lag_bot::Result<Self> {
        let config = |why: String| lag_bot::Error::new(lag_bot::ErrorKind::Config, why);
        let base = Url::parse(base)
            .map_err(|error| config(format!("DICTIONARY_URL {base:?} is not a URL: {error}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(config(format!(
                "DICTIONARY_URL {base} must be an http or https URL"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|error| config(format!("cannot set up the HTTP client: {error}")))?;
        Ok(Self { http, base })
    }

    /// The entries for `word`.
    ///
    /// # Errors
    ///
    /// [`LookupError::NotFound`] when the dictionary answers 404 or lists no entry; the other
    /// [`LookupError`]s when it cannot be asked or answers something else.
    pub async fn define(&self, word: &str) -> Result<Vec<Entry>, LookupError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| LookupError::Unreachable("the base URL cannot take a path".to_owned()))?
            .pop_if_empty()
            .push(word);
        let mut response = self.http.get(url).send().await.map_err(transport_error)?;
        match response.status() {
            status if status.is_success() => {}
            StatusCode::NOT_FOUND => return Err(LookupError::NotFound),
            status => return Err(LookupError::Status(status.as_u16())),
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(LookupError::Malformed(format!(
                    "the answer is larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let entries: Vec<Entry> = serde_json::from_slice(&body)
            .map_err(|error| LookupError::Malformed(error.to_string()))?;
        if entries.iter().all(|entry| entry.meanings.is_empty()) {
            return Err(LookupError::NotFound);
        }
        Ok(entries)
    }
}

fn transport_error(error: reqwest::Error) -> LookupError {
    if error.is_timeout() {
        LookupError::Timeout
    } else {
        LookupError::Unreachable(error.to_string())
    }
}
