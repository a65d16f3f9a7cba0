//! A small dictionary service of a few words, the API of [`dictionary`](super::dictionary):
//! what `!define` asks in dev mode and in the tests.
//!
//! It is a real HTTP server on a loopback port. Whoever holds the [`LocalDictionary`] can make
//! it misbehave ([`fail`](LocalDictionary::fail)) to see how the robot copes.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::oneshot;

use super::dictionary::{Definition, Entry, Meaning};

/// The words it knows: the word, its part of speech and its definitions.
const WORDS: [(&str, &str, &[&str]); 3] = [
    (
        "lag",
        "noun",
        &["A delay between an action and its effect."],
    ),
    (
        "robot",
        "noun",
        &[
            "A machine that carries out a series of actions on its own.",
            "A program that takes part in a chat as a member would.",
        ],
    ),
    ("ping", "verb", &["To check that something answers."]),
];

/// How the service misbehaves, for every lookup until told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// It answers normally.
    #[default]
    None,
    /// It answers `500 Internal Server Error`.
    ServerError,
    /// It waits this long before answering normally.
    Slow(Duration),
}

/// A running dictionary service. It stops when dropped.
#[derive(Debug)]
pub struct LocalDictionary {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    stop: Option<oneshot::Sender<()>>,
}

impl LocalDictionary {
    /// Starts the service on a free loopback port.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let words: HashMap<&'static str, Entry> = WORDS
            .iter()
            .map(|(word, part, definitions)| {
                let entry = Entry {
                    word: (*word).to_owned(),
                    meanings: vec![Meaning {
                        part_of_speech: (*part).to_owned(),
                        definitions: definitions
                            .iter()
                            .map(|d| Definition {
                                definition: (*d).to_owned(),
                            })
                            .collect(),
                    }],
                };
                (*word, entry)
            })
            .collect();
        let fault = Arc::new(Mutex::new(Fault::None));
        let app = Router::new()
            .route("/entries/{word}", get(entry))
            .with_state(Service {
                words: Arc::new(words),
                fault: Arc::clone(&fault),
            });
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "the local dictionary stopped");
            }
        });
        Ok(Self {
            addr,
            fault,
            stop: Some(stop),
        })
    }

    /// The base URL to give the robot (`DICTIONARY_URL`).
    pub fn url(&self) -> String {
        format!("http://{}/entries/", self.addr)
    }

    /// Makes every lookup misbehave as `fault` says, until the next call.
    pub fn fail(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = fault;
    }
}

impl Drop for LocalDictionary {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Clone)]
struct Service {
    words: Arc<HashMap<&'static str, Entry>>,
    fault: Arc<Mutex<Fault>>,
}

async fn entry(State(service): State<Service>, Path(word): Path<String>) -> Response {
    let fault = *service.fault.lock().unwrap_or_else(PoisonError::into_inner);
    match fault {
        Fault::None => {}
        Fault::ServerError => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "the dictionary is down" })),
            )
                .into_response();
        }
        Fault::Slow(delay) => tokio::time::sleep(delay).await,
    }
    match service.words.get(word.to_lowercase().as_str()) {
        Some(entry) => Json(vec![entry]).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "title": "No definitions found" })),
        )
            .into_response(),
    }
}
