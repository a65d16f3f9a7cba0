//! The emulator's HTTP API and world files in process, for the fuzz targets in `fuzz/`. Not a
//! public API: it changes whenever the emulator does.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use tower_service::Service as _;

use crate::config::SimConfig;
use crate::error::Result;
use crate::http;
use crate::provision;
use crate::shared::Shared;
use crate::spec::{RobotSpec, Transport};
use crate::worldfile::WorldFile;

/// Every route of the API that answers at once (the SSE stream and the long poll wait), with
/// `{server}`, `{room}`, `{user}`, `{robot}` and `{message}` standing for ids of the demo world.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/robots/@me/info"),
    ("GET", "/robots/@me/servers/{server}/rooms"),
    ("GET", "/robots/@me/servers/{server}/members"),
    ("GET", "/robots/@me/servers/{server}/rooms/{room}/messages"),
    ("POST", "/robots/@me/servers/{server}/rooms/{room}/messages"),
    (
        "PATCH",
        "/robots/@me/servers/{server}/rooms/{room}/messages/{message}",
    ),
    (
        "DELETE",
        "/robots/@me/servers/{server}/rooms/{room}/messages/{message}",
    ),
    ("GET", "/_sim/world"),
    ("POST", "/_sim/demo"),
    ("POST", "/_sim/streams/cut"),
    ("POST", "/_sim/servers"),
    ("GET", "/_sim/servers/{server}"),
    ("PATCH", "/_sim/servers/{server}"),
    ("POST", "/_sim/servers/{server}/rooms"),
    ("POST", "/_sim/servers/{server}/members"),
    ("PATCH", "/_sim/servers/{server}/members/{user}"),
    ("DELETE", "/_sim/servers/{server}/members/{user}"),
    ("POST", "/_sim/servers/{server}/robots"),
    ("GET", "/_sim/robots/{robot}"),
    ("PATCH", "/_sim/robots/{robot}"),
    ("POST", "/_sim/robots/{robot}/rotate-secret"),
    ("POST", "/_sim/robots/{robot}/regenerate-key"),
    ("GET", "/_sim/robots/{robot}/deliveries"),
    ("GET", "/_sim/robots/{robot}/events"),
    ("GET", "/_sim/rooms/{room}"),
    ("DELETE", "/_sim/rooms/{room}"),
    ("POST", "/_sim/rooms/{room}/messages"),
    ("PATCH", "/_sim/rooms/{room}/messages/{message}"),
    ("DELETE", "/_sim/rooms/{room}/messages/{message}"),
    ("POST", "/_sim/rooms/{room}/voice"),
    ("DELETE", "/_sim/rooms/{room}/voice/{user}"),
    ("PUT", "/_sim/users/{user}/status"),
];

/// A fresh emulator with the demo world (its robot on long-poll, so nothing is delivered) and
/// one message in `general`, served in process.
pub struct Harness {
    router: axum::Router,
    key: String,
    ids: [(&'static str, String); 5],
}

impl Harness {
    /// Builds the world; must run inside a Tokio runtime.
    pub fn new() -> Result<Self> {
        let shared = Shared::new(SimConfig::default())?;
        let robot = RobotSpec::new("Helper").transport(Transport::LongPoll);
        let demo = provision::seed_demo(&shared, robot)?;
        let message = shared
            .world
            .lock()
            .post(&demo.alice, &demo.general, "hello", None)?
            .id;
        Ok(Self {
            router: http::router(Arc::clone(&shared)),
            key: demo.robot.key.clone(),
            ids: [
                ("{server}", demo.server_id),
                ("{room}", demo.general),
                ("{user}", demo.carol),
                ("{robot}", demo.robot.id),
                ("{message}", message),
            ],
        })
    }

    /// Sends `body` to route `route` of [`ROUTES`] (modulo their number), with `suffix`
    /// appended to its path; the answer's status.
    pub async fn request(&self, route: usize, suffix: &str, body: Vec<u8>) -> u16 {
        let (method, template) = ROUTES[route % ROUTES.len()];
        let mut path = template.to_owned();
        for (name, id) in &self.ids {
            path = path.replace(name, id);
        }
        path.push_str(suffix);
        let Ok(request) = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET))
            .uri(path)
            .header("authorization", format!("Robot {}", self.key))
            .header("content-type", "application/json")
            .body(Body::from(body))
        else {
            return 0;
        };
        match self.router.clone().call(request).await {
            Ok(response) => response.status().as_u16(),
            Err(never) => match never {},
        }
    }
}

/// Parses a world file and loads it into a fresh emulator; must run inside a Tokio runtime.
pub fn load_world(text: &str) -> Result<()> {
    let file = WorldFile::parse(text)?;
    let shared = Shared::new(SimConfig::default())?;
    provision::load_world(&shared, &file).map(drop)
}
