//! Servers, their rooms and their members.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{double_option, query_actor, required};
use crate::error::Error;
use crate::http::{ApiResult, Body, Path, Query};
use crate::shared::Shared;
use crate::spec::ServerUpdate;
use crate::wire::{Role, UserStatus};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateServer {
    name: Option<String>,
}

pub(super) async fn list_servers(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.world.lock().servers()).into_response()
}

pub(super) async fn create_server(
    State(shared): State<Arc<Shared>>,
    body: Body,
) -> ApiResult<Response> {
    let body: CreateServer = body.json()?;
    let name = required(body.name, "name")?;
    let server = shared.world.lock().create_server(&name)?;
    Ok((StatusCode::CREATED, Json(server)).into_response())
}

pub(super) async fn get_server(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().server_info(&server_id)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateServerBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    icon_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    icon_emoji: Option<Option<String>>,
    updated_by: Option<String>,
}

pub(super) async fn update_server(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: UpdateServerBody = body.json()?;
    let update = ServerUpdate {
        name: body.name,
        icon_url: body.icon_url,
        icon_emoji: body.icon_emoji,
    };
    let server =
        shared
            .world
            .lock()
            .update_server(&server_id, update, body.updated_by.as_deref())?;
    Ok(Json(server).into_response())
}

pub(super) async fn list_rooms(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
) -> ApiResult<Response> {
    let world = shared.world.lock();
    world.server_info(&server_id)?;
    Ok(Json(world.rooms_of(&server_id)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRoom {
    name: Option<String>,
    created_by: Option<String>,
}

pub(super) async fn create_room(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: CreateRoom = body.json()?;
    let name = required(body.name, "name")?;
    let room = shared
        .world
        .lock()
        .create_room(&server_id, &name, body.created_by.as_deref())?;
    Ok((StatusCode::CREATED, Json(room)).into_response())
}

pub(super) async fn get_room(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().room_info(&room_id)?).into_response())
}

pub(super) async fn delete_room(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let by = query_actor(&query, "deletedBy");
    shared.world.lock().delete_room(&room_id, by.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn list_members(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().members(&server_id)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddMember {
    username: Option<String>,
    display_name: Option<String>,
}

pub(super) async fn add_member(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: AddMember = body.json()?;
    let username = required(body.username, "username")?;
    let member =
        shared
            .world
            .lock()
            .add_member(&server_id, &username, body.display_name.as_deref())?;
    Ok((StatusCode::CREATED, Json(member)).into_response())
}

pub(super) async fn remove_member(
    State(shared): State<Arc<Shared>>,
    Path((server_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    shared.world.lock().remove_member(&server_id, &user_id)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateMember {
    role: Option<Role>,
    status: Option<UserStatus>,
}

pub(super) async fn update_member(
    State(shared): State<Arc<Shared>>,
    Path((server_id, user_id)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Response> {
    let body: UpdateMember = body.json()?;
    let mut world = shared.world.lock();
    world
        .members(&server_id)?
        .iter()
        .find(|m| m.user_id == user_id)
        .ok_or_else(|| {
            Error::not_found(format!(
                "user {user_id} is not a member of server {server_id}"
            ))
        })?;
    if let Some(role) = body.role {
        world.set_role(&server_id, &user_id, role)?;
    }
    if let Some(status) = body.status {
        world.set_status(&user_id, status)?;
    }
    let member = world
        .members(&server_id)?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .ok_or_else(|| Error::not_found(format!("unknown user {user_id}")))?;
    Ok(Json(member).into_response())
}
