//! Lag's robot REST endpoints (`/robots/@me/...`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiError, ApiResult, Body, Path, Query};
use crate::clock;
use crate::error::Error;
use crate::shared::Shared;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/robots/@me/info", get(info))
        .route("/robots/@me/servers/{server_id}/rooms", get(rooms))
        .route("/robots/@me/servers/{server_id}/members", get(members))
        .route(
            "/robots/@me/servers/{server_id}/rooms/{room_id}/messages",
            get(history).post(send),
        )
        .route(
            "/robots/@me/servers/{server_id}/rooms/{room_id}/messages/{message_id}",
            patch(edit).delete(delete),
        )
}

/// The authenticated robot making the request: key checked, robot active, rate limits applied.
pub(super) struct Caller {
    pub(super) robot_id: String,
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            Error::unauthorized("missing Authorization header (expected `Robot <key>`)")
        })?;
        let text = header
            .to_str()
            .map_err(|_| Error::unauthorized("the Authorization header is not valid text"))?;
        let (scheme, key) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| Error::unauthorized("expected `Authorization: Robot <key>`"))?;
        if !scheme.eq_ignore_ascii_case("robot") {
            return Err(Error::unauthorized(format!(
                "robots authenticate with the `Robot` scheme, not `{scheme}`"
            ))
            .into());
        }
        let is_message = parts.method == Method::POST && parts.uri.path().ends_with("/messages");
        let robot_id = shared.world.lock().authenticate(key.trim(), is_message)?;
        Ok(Caller { robot_id })
    }
}

async fn info(State(shared): State<Arc<Shared>>, caller: Caller) -> ApiResult<Response> {
    let info = shared.world.lock().robot_info(&caller.robot_id)?;
    Ok(Json(info).into_response())
}

async fn rooms(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    Path(server_id): Path<String>,
) -> ApiResult<Response> {
    let rooms = shared
        .world
        .lock()
        .robot_rooms(&caller.robot_id, &server_id)?;
    Ok(Json(rooms).into_response())
}

async fn members(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    Path(server_id): Path<String>,
) -> ApiResult<Response> {
    let members = shared
        .world
        .lock()
        .robot_members(&caller.robot_id, &server_id)?;
    Ok(Json(members).into_response())
}

async fn history(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    Path((server_id, room_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let limit = match query
        .get("limit")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => DEFAULT_PAGE,
        Some(text) => match text.parse::<u64>() {
            Ok(0) | Err(_) => {
                return Err(Error::bad_request(format!(
                    "limit must be a whole number from 1 to {MAX_PAGE}, got {text:?}"
                ))
                .into());
            }
            Ok(n) => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
        },
    };
    let cursor = match query
        .get("cursor")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(text) => Some(clock::parse_iso_millis(text).ok_or_else(|| {
            Error::bad_request(format!(
                "cursor must be an ISO 8601 timestamp such as a page's nextCursor, got {text:?}"
            ))
        })?),
    };
    let page =
        shared
            .world
            .lock()
            .robot_history(&caller.robot_id, &server_id, &room_id, limit, cursor)?;
    Ok(Json(page).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendBody {
    content: Option<String>,
    reply_to_id: Option<String>,
    image_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EditBody {
    content: Option<String>,
}

async fn send(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    Path((server_id, room_id)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Response> {
    {
        let world = shared.world.lock();
        world.robot_scope_check(
            &caller.robot_id,
            &server_id,
            crate::wire::Permission::SendMessages,
            Some(&room_id),
        )?;
    }
    let body: SendBody = body.json()?;
    if body.image_id.is_some() {
        return Err(Error::forbidden("robots cannot attach images").into());
    }
    let content = body
        .content
        .ok_or_else(|| Error::bad_request("content is required"))?;
    let message = shared.world.lock().robot_send(
        &caller.robot_id,
        &server_id,
        &room_id,
        &content,
        body.reply_to_id.as_deref(),
    )?;
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

async fn edit(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    Path((server_id, room_id, message_id)): Path<(String, String, String)>,
    body: Body,
) -> ApiResult<Response> {
    {
        let world = shared.world.lock();
        world.robot_scope_check(
            &caller.robot_id,
            &server_id,
            crate::wire::Permission::SendMessages,
            Some(&room_id),
        )?;
    }
    let body: EditBody = body.json()?;
    let content = body
        .content
        .ok_or_else(|| Error::bad_request("content is required"))?;
    let message = shared.world.lock().robot_edit(
        &caller.robot_id,
        &server_id,
        &room_id,
        &message_id,
        &content,
    )?;
    Ok(Json(message).into_response())
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    Path((server_id, room_id, message_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    shared
        .world
        .lock()
        .robot_delete(&caller.robot_id, &server_id, &room_id, &message_id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
