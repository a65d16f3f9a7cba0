//! A small stats service, the game server's side of the API in [`api`](super::api), kept in
//! memory: what the robot polls in dev mode and in its tests.
//!
//! It is a real HTTP server on a loopback port. Whoever holds the [`StatsService`] plays the
//! game ([`finish_match`](StatsService::finish_match)) and can make the service misbehave
//! ([`fail`](StatsService::fail)) to see how the robot copes. Players reach a milestone on
//! their first, 5th, 10th, 25th, 50th and 100th win, as a real service might record them.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::oneshot;

use super::api::{Match, MatchPlayer, Milestone, Player};

/// The wins that make a milestone, with its title.
const WIN_MILESTONES: [(u64, &str); 6] = [
    (1, "first win"),
    (5, "5 wins"),
    (10, "10 wins"),
    (25, "25 wins"),
    (50, "50 wins"),
    (100, "100 wins"),
];

/// How the service misbehaves, for every `/v1` request until told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// It answers normally.
    #[default]
    None,
    /// It answers `500 Internal Server Error`.
    ServerError,
    /// It never answers (it holds each request for a minute).
    Hang,
    /// It answers `200` with a body that is not JSON.
    Malformed,
}

#[derive(Debug, Default)]
struct Data {
    players: Vec<Player>,
    matches: Vec<Match>,
    milestones: Vec<Milestone>,
    fault: Fault,
    /// `/v1` requests answered or refused so far.
    requests: u64,
}

type Shared = Arc<Mutex<Data>>;

fn lock(data: &Shared) -> MutexGuard<'_, Data> {
    data.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running stats service. It stops when dropped.
#[derive(Debug)]
pub struct StatsService {
    addr: SocketAddr,
    data: Shared,
    stop: Option<oneshot::Sender<()>>,
}

impl StatsService {
    /// Starts the service on a free loopback port; with `key`, it answers 401 to requests
    /// without `Authorization: Bearer <key>`.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub async fn start(key: Option<String>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let data = Shared::default();
        let app = Router::new()
            .route("/v1/players", get(players))
            .route("/v1/players/{name}", get(player))
            .route("/v1/matches", get(matches))
            .route("/v1/milestones", get(milestones))
            .with_state(Service {
                data: Arc::clone(&data),
                key,
            });
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "the stats service stopped");
            }
        });
        Ok(Self {
            addr,
            data,
            stop: Some(stop),
        })
    }

    /// The base URL to give the robot.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Adds a player with a rating of 1500 and no matches; returns the player's id.
    pub fn add_player(&self, name: &str) -> String {
        let mut data = lock(&self.data);
        let id = format!("p{}", data.players.len() + 1);
        data.players.push(Player {
            id: id.clone(),
            name: name.to_owned(),
            rating: 1500,
            wins: 0,
            losses: 0,
        });
        id
    }

    /// Records a finished match on `map` between the named players with their scores: the
    /// highest score wins (a tie at the top is a draw), ratings move by 16 points, and
    /// winners may reach a milestone. Unknown names are added as players. Returns the
    /// match's id.
    pub fn finish_match(&self, map: &str, scores: &[(&str, i64)]) -> u64 {
        let ids: Vec<String> = scores
            .iter()
            .map(|(name, _)| self.id_of(name).unwrap_or_else(|| self.add_player(name)))
            .collect();
        let mut data = lock(&self.data);
        let best = scores.iter().map(|(_, score)| *score).max().unwrap_or(0);
        let at_best = scores.iter().filter(|(_, score)| *score == best).count();
        let winner = (at_best == 1)
            .then(|| scores.iter().position(|(_, score)| *score == best))
            .flatten()
            .map(|at| ids[at].clone());
        let now = jiff::Timestamp::now().to_string();
        let id = data.matches.len() as u64 + 1;
        let players = scores
            .iter()
            .zip(&ids)
            .map(|((name, score), id)| MatchPlayer {
                id: id.clone(),
                name: (*name).to_owned(),
                score: *score,
            })
            .collect();
        data.matches.push(Match {
            id,
            map: map.to_owned(),
            finished_at: now.clone(),
            players,
            winner: winner.clone(),
        });
        let Some(winner) = winner else {
            return id;
        };
        let mut reached = None;
        for player in data.players.iter_mut().filter(|p| ids.contains(&p.id)) {
            if player.id == winner {
                player.wins += 1;
                player.rating += 16;
                reached = WIN_MILESTONES
                    .iter()
                    .find(|(wins, _)| *wins == player.wins)
                    .map(|(_, title)| (player.id.clone(), player.name.clone(), *title));
            } else {
                player.losses += 1;
                player.rating -= 16;
            }
        }
        if let Some((player_id, player_name, title)) = reached {
            let milestone_id = data.milestones.len() as u64 + 1;
            data.milestones.push(Milestone {
                id: milestone_id,
                player_id,
                player_name,
                title: title.to_owned(),
                achieved_at: now,
            });
        }
        id
    }

    /// Records a milestone for the named player (added when unknown); returns its id.
    pub fn add_milestone(&self, name: &str, title: &str) -> u64 {
        let player_id = self.id_of(name).unwrap_or_else(|| self.add_player(name));
        let mut data = lock(&self.data);
        let id = data.milestones.len() as u64 + 1;
        data.milestones.push(Milestone {
            id,
            player_id,
            player_name: name.to_owned(),
            title: title.to_owned(),
            achieved_at: jiff::Timestamp::now().to_string(),
        });
        id
    }

    /// Makes every `/v1` request misbehave as `fault` says, until the next call.
    pub fn fail(&self, fault: Fault) {
        lock(&self.data).fault = fault;
    }

    /// How many `/v1` requests the service has received.
    pub fn requests(&self) -> u64 {
        lock(&self.data).requests
    }

    fn id_of(&self, name: &str) -> Option<String> {
        lock(&self.data)
            .players
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.id.clone())
    }
}

impl Drop for StatsService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Clone)]
struct Service {
    data: Shared,
    key: Option<String>,
}

impl Service {
    /// Counts the request and applies the key check and the fault: `Some` is the answer to
    /// give instead of the normal one.
    async fn refuse(&self, headers: &HeaderMap) -> Option<Response> {
        let fault = {
            let mut data = lock(&self.data);
            data.requests += 1;
            data.fault
        };
        if let Some(key) = &self.key {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "));
            if given != Some(key.as_str()) {
                return Some(error(StatusCode::UNAUTHORIZED, "a valid key is required"));
            }
        }
        match fault {
            Fault::None => None,
            Fault::ServerError => Some(error(StatusCode::INTERNAL_SERVER_ERROR, "database down")),
            Fault::Hang => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Some(error(StatusCode::GATEWAY_TIMEOUT, "gave up"))
            }
            Fault::Malformed => Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"players\": [oops",
                )
                    .into_response(),
            ),
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

impl After {
    /// The page size asked for, 50 by default; `None` outside 1 to 100.
    fn limit(&self) -> Option<usize> {
        match self.limit {
            None => Some(50),
            Some(limit @ 1..=100) => Some(limit),
            Some(_) => None,
        }
    }
}

async fn players(State(service): State<Service>, headers: HeaderMap) -> Response {
    if let Some(answer) = service.refuse(&headers).await {
        return answer;
    }
    let mut players = lock(&service.data).players.clone();
    players.sort_by(|a, b| b.rating.cmp(&a.rating).then(a.name.cmp(&b.name)));
    Json(json!({ "players": players })).into_response()
}

async fn player(
    State(service): State<Service>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = service.refuse(&headers).await {
        return answer;
    }
    let data = lock(&service.data);
    match data
        .players
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(&name))
    {
        Some(player) => Json(player).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such player"),
    }
}

async fn matches(
    State(service): State<Service>,
    Query(query): Query<After>,
    headers: HeaderMap,
) -> Response {
    let page = |data: &Data, limit| page(&data.matches, |m| m.id, query.after, limit, "matches");
    service.answer(&headers, &query, page).await
}

async fn milestones(
    State(service): State<Service>,
    Query(query): Query<After>,
    headers: HeaderMap,
) -> Response {
    let page =
        |data: &Data, limit| page(&data.milestones, |m| m.id, query.after, limit, "milestones");
    service.answer(&headers, &query, page).await
}

impl Service {
    /// Answers a paged list with `page` of the data, after the key check, the fault and the
    /// page size are passed.
    async fn answer(
        &self,
        headers: &HeaderMap,
        query: &After,
        page: impl FnOnce(&Data, usize) -> Response,
    ) -> Response {
        if let Some(answer) = self.refuse(headers).await {
            return answer;
        }
        let Some(limit) = query.limit() else {
            return error(StatusCode::BAD_REQUEST, "limit is 1 to 100");
        };
        page(&lock(&self.data), limit)
    }
}

/// At most `limit` of the items with an id above `after`, under `key`, with `hasMore` saying
/// whether newer ones are left.
fn page<T: Serialize>(
    items: &[T],
    id: impl Fn(&T) -> u64,
    after: u64,
    limit: usize,
    key: &str,
) -> Response {
    let mut newer = items.iter().filter(|item| id(item) > after);
    let page: Vec<&T> = newer.by_ref().take(limit).collect();
    let has_more = newer.next().is_some();
    Json(json!({ key: page, "hasMore": has_more })).into_response()
}
