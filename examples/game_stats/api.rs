//! The stats service's HTTP API, as the robot reads it: its JSON shapes and a client for it.
//!
//! Every request carries `Authorization: Bearer <key>` when a key is configured. The service
//! answers JSON:
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /v1/players` | `{"players": [Player]}`, best rating first |
//! | `GET /v1/players/{name}` | a `Player` (the name in any case), or 404 |
//! | `GET /v1/matches?after={id}&limit={n}` | `{"matches": [Match], "hasMore": bool}`: finished matches with an id above `after`, lowest id first, at most `n` (1 to 100) |
//! | `GET /v1/milestones?after={id}&limit={n}` | `{"milestones": [Milestone], "hasMore": bool}`, the same way |
//!
//! ```json
//! Player    {"id": "p1", "name": "zed", "rating": 1516, "wins": 1, "losses": 0}
//! Match     {"id": 3, "map": "Dust", "finishedAt": "2026-06-01T10:00:00Z",
//!            "players": [{"id": "p1", "name": "zed", "score": 21}, {"id": "p2", "name": "mira", "score": 17}],
//!            "winner": "p1"}
//! Milestone {"id": 2, "playerId": "p1", "playerName": "zed", "title": "first win",
//!            "achievedAt": "2026-06-01T10:00:00Z"}
//! ```
//!
//! Match and milestone ids are positive integers that grow in the order the service records
//! them, which is what lets the robot ask only for what it has not seen. A match's `winner` is
//! `null` for a draw. Fields the robot does not know are ignored.

use std::fmt;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The largest answer the robot reads; a bigger one is refused as malformed.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A player's standing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Player {
    /// The service's id for the player.
    pub id: String,
    /// The name players know them by.
    pub name: String,
    /// The rating, higher is better.
    pub rating: i64,
    /// Matches won.
    #[serde(default)]
    pub wins: u64,
    /// Matches lost.
    #[serde(default)]
    pub losses: u64,
}

/// One player's result in a match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchPlayer {
    /// The player's id.
    pub id: String,
    /// The player's name.
    pub name: String,
    /// Their score in this match.
    pub score: i64,
}

/// A finished match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    /// The service's id for the match; ids grow in the order matches finish.
    pub id: u64,
    /// Where it was played.
    pub map: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// Who played, and their scores.
    pub players: Vec<MatchPlayer>,
    /// The winner's player id; `None` for a draw.
    #[serde(default)]
    pub winner: Option<String>,
}

/// A milestone a player reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Milestone {
    /// The service's id for the milestone; ids grow in the order they are reached.
    pub id: u64,
    /// The player's id.
    pub player_id: String,
    /// The player's name.
    pub player_name: String,
    /// What they reached, e.g. `first win` or `1600 rating`.
    pub title: String,
    /// When (RFC 3339).
    pub achieved_at: String,
}

/// One page of a list of matches or milestones.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, lowest id first.
    pub items: Vec<T>,
    /// Whether items with higher ids are waiting.
    pub has_more: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlayersBody {
    players: Vec<Player>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MatchesBody {
    matches: Vec<Match>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MilestonesBody {
    milestones: Vec<Milestone>,
    #[serde(default)]
    has_more: bool,
}

/// Why a call to the stats service failed.
#[derive(Debug)]
pub enum ApiError {
    /// No answer within the client's timeout.
    Timeout,
    /// The service could not be reached.
    Unreachable(String),
    /// The key was refused (401 or 403).
    Refused(u16),
    /// Any other non-success status.
    Status(u16),
    /// The answer was not the JSON this module documents.
    Malformed(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => write!(f, "the stats service did not answer in time"),
            Self::Unreachable(why) => write!(f, "the stats service cannot be reached: {why}"),
            Self::Refused(status) => {
                write!(f, "the stats service refused the key (status {status})")
            }
            Self::Status(status) => write!(f, "the stats service answered status {status}"),
            Self::Malformed(why) => write!(f, "the stats service's answer is malformed: {why}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for lag_bot::Error {
    fn from(error: ApiError) -> Self {
        let kind = match error {
            ApiError::Refused(_) => lag_bot::ErrorKind::Unauthorized,
            ApiError::Malformed(_) => lag_bot::ErrorKind::Decode,
            ApiError::Timeout | ApiError::Unreachable(_) => lag_bot::ErrorKind::Connection,
            ApiError::Status(_) => lag_bot::ErrorKind::Api,
        };
        lag_bot::Error::new(kind, error.to_string())
    }
}

/// A client for the stats service: one base URL, an optional key, and a timeout on every call.
#[derive(Debug, Clone)]
pub struct StatsApi {
    http: reqwest::Client,
    base: Url,
    key: Option<String>,
}

impl StatsApi {
    /// A client for the service at `base` (e.g. `https://stats.example.com/`), sending `key`
    /// as a bearer token, giving up on any call after `timeout`.
    ///
    /// # Errors
    ///
    /// [`lag_bot::ErrorKind::Config`] when `base` is not an `http` or `https` URL.
    pub fn new(base: &str, key: Option<String>, timeout: Duration) -> lag_bot::Result<Self> {
        let config = |why: String| lag_bot::Error::new(lag_bot::ErrorKind::Config, why);
        let mut base = Url::parse(base)
            .map_err(|error| config(format!("the stats URL {base:?} is not a URL: {error}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(config(format!(
                "the stats URL {base} must be an http or https URL"
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|error| config(format!("cannot set up the HTTP client: {error}")))?;
        Ok(Self { http, base, key })
    }

    /// Every player, best rating first.
    pub async fn players(&self) -> Result<Vec<Player>, ApiError> {
        let body: PlayersBody = self.get(&["v1", "players"], &[]).await?;
        Ok(body.players)
    }

    /// The player called `name` (in any case), or `None` when the service knows no such player.
    pub async fn player(&self, name: &str) -> Result<Option<Player>, ApiError> {
        match self.get(&["v1", "players", name], &[]).await {
            Ok(player) => Ok(Some(player)),
            Err(ApiError::Status(404)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Finished matches with an id above `after`, lowest first, up to `limit`.
    pub async fn matches_after(&self, after: u64, limit: u32) -> Result<Page<Match>, ApiError> {
        let body: MatchesBody = self
            .get(
                &["v1", "matches"],
                &[("after", after), ("limit", limit.into())],
            )
            .await?;
        Ok(Page {
            items: body.matches,
            has_more: body.has_more,
        })
    }

    /// Milestones with an id above `after`, lowest first, up to `limit`.
    pub async fn milestones_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Page<Milestone>, ApiError> {
        let body: MilestonesBody = self
            .get(
                &["v1", "milestones"],
                &[("after", after), ("limit", limit.into())],
            )
            .await?;
        Ok(Page {
            items: body.milestones,
            has_more: body.has_more,
        })
    }

    /// GETs the path made of `segments` (each escaped) under the base URL, and decodes its JSON.
    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, u64)],
    ) -> Result<T, ApiError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ApiError::Unreachable("the base URL cannot take a path".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        let mut request = self.http.get(url).query(query);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(transport_error)?;
        match response.status() {
            status if status.is_success() => {}
            status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                return Err(ApiError::Refused(status.as_u16()));
            }
            status => return Err(ApiError::Status(status.as_u16())),
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ApiError::Malformed(format!(
                    "the answer is larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|error| ApiError::Malformed(error.to_string()))
    }
}

fn transport_error(error: reqwest::Error) -> ApiError {
    if error.is_timeout() {
        ApiError::Timeout
    } else {
        ApiError::Unreachable(error.to_string())
    }
}
