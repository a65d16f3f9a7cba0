//! Event delivery endpoints: `GET /robots/@me/events/sse` and `GET /robots/@me/events/poll`.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::robot::Caller;
use super::{ApiError, ApiResult};
use crate::error::{Error, Result};
use crate::event::EventRecord;
use crate::shared::Shared;
use crate::spec::TransportKind;
use crate::wire::PollEvent;

/// The most events one long-poll response carries.
const POLL_BATCH: usize = 100;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/robots/@me/events/sse", get(sse))
        .route("/robots/@me/events/poll", get(poll))
}

fn check_transport(shared: &Shared, robot_id: &str, wanted: TransportKind) -> Result<()> {
    let world = shared.world.lock();
    let robot = world.robot(robot_id)?;
    if !robot.active {
        return Err(Error::forbidden("this robot is disabled"));
    }
    let actual = robot.transport.kind();
    if actual != wanted {
        return Err(Error::conflict(format!(
            "this robot is configured for {} delivery, not {}",
            actual.as_str(),
            wanted.as_str()
        )));
    }
    Ok(())
}

/// A response whose body fails at once, so the connection is dropped rather than completed.
fn dropped_connection() -> Response {
    let failing = stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "stream cut",
        ))
    });
    Response::new(Body::from_stream(failing))
}

async fn poll(State(shared): State<Arc<Shared>>, caller: Caller) -> ApiResult<Response> {
    let robot_id = caller.robot_id;
    check_transport(&shared, &robot_id, TransportKind::LongPoll)?;
    let mut cut = shared.cut.subscribe();
    cut.borrow_and_update();
    let deadline = Instant::now() + shared.clock.real(shared.config.poll_timeout);
    loop {
        let mut notify = shared.world.lock().watch(&robot_id)?;
        notify.borrow_and_update();
        check_transport(&shared, &robot_id, TransportKind::LongPoll)?;
        let taken = shared.world.lock().take_pending(&robot_id, POLL_BATCH);
        if !taken.is_empty() {
            let items: Vec<PollEvent> = taken.iter().map(|r| r.poll_item()).collect();
            return Ok(axum::Json(items).into_response());
        }
        tokio::select! {
            () = shared.shutdown.cancelled() => return Ok(dropped_connection()),
            _ = cut.changed() => return Ok(dropped_connection()),
            () = tokio::time::sleep_until(deadline) => {
                return Ok(axum::Json(Vec::<PollEvent>::new()).into_response());
            }
            changed = notify.changed() => {
                if changed.is_err() {
                    return Err(ApiError(Error::not_found("the robot no longer exists")));
                }
            }
        }
    }
}

fn frame(record: &EventRecord) -> Bytes {
    let mut text =
        format!("id: {}\nevent: {}\ndata: ", record.id, record.kind.as_str()).into_bytes();
    text.extend_from_slice(&record.json);
    text.extend_from_slice(b"\n\n");
    Bytes::from(text)
}

struct SseState {
    shared: Arc<Shared>,
    robot_id: String,
    cursor: u64,
    notify: watch::Receiver<u64>,
    cut: watch::Receiver<u64>,
    keepalive: Interval,
    queued: VecDeque<Bytes>,
    done: bool,
}

async fn sse(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let robot_id = caller.robot_id;
    check_transport(&shared, &robot_id, TransportKind::Sse)?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let mut cut = shared.cut.subscribe();
    cut.borrow_and_update();
    let start = shared
        .world
        .lock()
        .sse_start(&robot_id, last_event_id.as_deref())?;
    let period = shared
        .clock
        .real(shared.config.keepalive)
        .max(std::time::Duration::from_millis(1));
    let mut keepalive = tokio::time::interval_at(Instant::now() + period, period);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = SseState {
        shared,
        robot_id,
        cursor: start.cursor,
        notify: start.notify,
        cut,
        keepalive,
        queued: start.backlog.iter().map(|r| frame(r)).collect(),
        done: false,
    };
    let body = stream::unfold(state, |mut state| async move {
        loop {
            if let Some(next) = state.queued.pop_front() {
                return Some((Ok(next), state));
            }
            if state.done {
                return None;
            }
            tokio::select! {
                () = state.shared.shutdown.cancelled() => {
                    state.done = true;
                    return Some((Err(io::Error::new(io::ErrorKind::ConnectionAborted, "shutting down")), state));
                }
                _ = state.cut.changed() => {
                    state.done = true;
                    return Some((Err(io::Error::new(io::ErrorKind::ConnectionAborted, "stream cut")), state));
                }
                _ = state.keepalive.tick() => {
                    return Some((Ok(Bytes::from_static(b": ping\n\n")), state));
                }
                changed = state.notify.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    let fresh = state.shared.world.lock().sse_next(&state.robot_id, state.cursor);
                    match fresh {
                        None => return None,
                        Some(records) => {
                            if let Some(last) = records.last() {
                                state.cursor = last.seq;
                            }
                            state.queued.extend(records.iter().map(|r| frame(r)));
                        }
                    }
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
