//! `GET /_sim/feed`: the world's events and every robot's delivery-log entries, live, as
//! Server-Sent Events, for the playground page.
//!
//! Frames are `event: world` (a [`WorldEvent`] as JSON, with its one-line text), `event:
//! delivery` (a [`DeliveryRecord`](crate::DeliveryRecord)) and `event: missed` (the reader fell
//! behind and some were skipped: reload the state).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::stream;
use serde::Serialize;
use serde_json::json;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::feed::WorldEvent;
use crate::log::DeliveryRecord;
use crate::shared::Shared;

/// How often an idle feed sends a comment, so proxies and browsers keep it open.
const KEEPALIVE: Duration = Duration::from_secs(15);

struct FeedState {
    shared: Arc<Shared>,
    world: broadcast::Receiver<Arc<WorldEvent>>,
    deliveries: broadcast::Receiver<Arc<DeliveryRecord>>,
    keepalive: Interval,
    done: bool,
}

fn frame(kind: &str, data: &impl Serialize) -> Bytes {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

fn world_frame(event: &WorldEvent) -> Bytes {
    frame(
        "world",
        &json!({
            "id": event.id,
            "kind": event.kind,
            "body": event.body,
            "serverName": event.server_name,
            "roomName": event.room_name,
            "actorName": event.actor_name,
            "text": event.to_string(),
        }),
    )
}

fn missed_frame(skipped: u64) -> Bytes {
    frame("missed", &json!({ "skipped": skipped }))
}

pub(super) async fn feed(State(shared): State<Arc<Shared>>) -> Response {
    let (world, deliveries) = {
        let world = shared.world.lock();
        (world.subscribe(), world.subscribe_deliveries())
    };
    let mut keepalive = tokio::time::interval_at(Instant::now() + KEEPALIVE, KEEPALIVE);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = FeedState {
        shared,
        world,
        deliveries,
        keepalive,
        done: false,
    };
    let opening = stream::once(async { Ok::<Bytes, io::Error>(Bytes::from_static(b": open\n\n")) });
    let body = stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let next = tokio::select! {
            biased;
            () = state.shared.shutdown.cancelled() => {
                state.done = true;
                Err(io::Error::new(io::ErrorKind::ConnectionAborted, "shutting down"))
            }
            event = state.world.recv() => match event {
                Ok(event) => Ok(world_frame(&event)),
                Err(RecvError::Lagged(skipped)) => Ok(missed_frame(skipped)),
                Err(RecvError::Closed) => return None,
            },
            record = state.deliveries.recv() => match record {
                Ok(record) => Ok(frame("delivery", &*record)),
                Err(RecvError::Lagged(skipped)) => Ok(missed_frame(skipped)),
                Err(RecvError::Closed) => return None,
            },
            _ = state.keepalive.tick() => Ok(Bytes::from_static(b": ping\n\n")),
        };
        Some((next, state))
    });
    let mut response = Response::new(Body::from_stream(futures_util::StreamExt::chain(
        opening, body,
    )));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
