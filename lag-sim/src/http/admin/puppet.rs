//! Acting as a member: messages, voice and online status.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{query_actor, required};
use crate::http::{ApiResult, Body, Path, Query};
use crate::shared::Shared;
use crate::wire::UserStatus;

pub(super) async fn list_messages(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().messages(&room_id)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PostMessage {
    user_id: Option<String>,
    content: Option<String>,
    reply_to_id: Option<String>,
}

pub(super) async fn post_message(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: PostMessage = body.json()?;
    let user_id = required(body.user_id, "userId")?;
    let content = required(body.content, "content")?;
    let message =
        shared
            .world
            .lock()
            .post(&user_id, &room_id, &content, body.reply_to_id.as_deref())?;
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EditMessage {
    user_id: Option<String>,
    content: Option<String>,
}

pub(super) async fn edit_message(
    State(shared): State<Arc<Shared>>,
    Path((room_id, message_id)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Response> {
    let body: EditMessage = body.json()?;
    let user_id = required(body.user_id, "userId")?;
    let content = required(body.content, "content")?;
    let message = shared
        .world
        .lock()
        .edit(&user_id, &room_id, &message_id, &content)?;
    Ok(Json(message).into_response())
}

pub(super) async fn delete_message(
    State(shared): State<Arc<Shared>>,
    Path((room_id, message_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let user_id = required(query_actor(&query, "userId"), "userId query parameter")?;
    shared
        .world
        .lock()
        .delete(&user_id, &room_id, &message_id)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JoinVoice {
    user_id: Option<String>,
}

pub(super) async fn join_voice(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: JoinVoice = body.json()?;
    let user_id = required(body.user_id, "userId")?;
    let room = shared.world.lock().join_voice(&user_id, &room_id)?;
    Ok(Json(room).into_response())
}

pub(super) async fn leave_voice(
    State(shared): State<Arc<Shared>>,
    Path((room_id, user_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let room = shared.world.lock().leave_voice(&user_id, &room_id)?;
    Ok(Json(room).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetStatus {
    status: Option<UserStatus>,
}

pub(super) async fn set_status(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    body: Body,
) -> ApiResult<StatusCode> {
    let body: SetStatus = body.json()?;
    let status = required(body.status, "status")?;
    shared.world.lock().set_status(&user_id, status)?;
    Ok(StatusCode::NO_CONTENT)
}
