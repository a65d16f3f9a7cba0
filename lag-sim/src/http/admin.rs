//! The emulator's own admin and member-puppet API, under `/_sim`. It has no authentication:
//! it is for the person or test driving the emulator, never for robots.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::{ApiResult, Body, Path, Query};
use crate::error::Error;
use crate::provision;
use crate::shared::Shared;
use crate::spec::{RobotSpec, RobotUpdate, ServerUpdate, Transport, TransportKind};
use crate::wire::{EventType, Permission, PollEvent, Role, UserStatus};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/world", get(world))
        .route("/demo", post(demo))
        .route("/streams/cut", post(cut_streams))
        .route("/servers", get(list_servers).post(create_server))
        .route("/servers/{server_id}", get(get_server).patch(update_server))
        .route(
            "/servers/{server_id}/rooms",
            get(list_rooms).post(create_room),
        )
        .route(
            "/servers/{server_id}/members",
            get(list_members).post(add_member),
        )
        .route(
            "/servers/{server_id}/members/{user_id}",
            delete(remove_member).patch(update_member),
        )
        .route(
            "/servers/{server_id}/robots",
            get(list_robots).post(create_robot),
        )
        .route("/robots/{robot_id}", get(get_robot).patch(update_robot))
        .route("/robots/{robot_id}/rotate-secret", post(rotate_secret))
        .route("/robots/{robot_id}/regenerate-key", post(regenerate_key))
        .route("/robots/{robot_id}/deliveries", get(deliveries))
        .route("/robots/{robot_id}/events", get(robot_events))
        .route("/rooms/{room_id}", get(get_room).delete(delete_room))
        .route(
            "/rooms/{room_id}/messages",
            get(list_messages).post(post_message),
        )
        .route(
            "/rooms/{room_id}/messages/{message_id}",
            delete(delete_message).patch(edit_message),
        )
        .route("/rooms/{room_id}/voice", post(join_voice))
        .route("/rooms/{room_id}/voice/{user_id}", delete(leave_voice))
        .route("/users/{user_id}/status", put(set_status))
}

/// Distinguishes an absent key (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::bad_request(format!("{name} is required")))
}

fn query_actor(query: &HashMap<String, String>, key: &str) -> Option<String> {
    query.get(key).filter(|v| !v.is_empty()).cloned()
}

async fn world(State(shared): State<Arc<Shared>>) -> ApiResult<Response> {
    let world = shared.world.lock();
    let servers = world
        .servers()
        .into_iter()
        .map(|server| {
            let rooms = world.rooms_of(&server.id);
            let members = world.members(&server.id).unwrap_or_default();
            let robots = world.robots_of(&server.id).unwrap_or_default();
            json!({ "server": server, "rooms": rooms, "members": members, "robots": robots })
        })
        .collect::<Vec<_>>();
    Ok(Json(json!({ "servers": servers })).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DemoBody {
    robot_name: Option<String>,
    transport_type: Option<TransportKind>,
    webhook_url: Option<String>,
}

async fn demo(State(shared): State<Arc<Shared>>, body: Body) -> ApiResult<Response> {
    let body: DemoBody = body.json()?;
    let mut spec = RobotSpec::new(body.robot_name.unwrap_or_else(|| "Helper".to_owned()));
    if let Some(kind) = body.transport_type {
        spec = spec.transport(Transport::from_parts(kind, body.webhook_url)?);
    }
    let demo = provision::seed_demo(&shared, spec)?;
    Ok((StatusCode::CREATED, Json(demo)).into_response())
}

async fn cut_streams(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.cut.send_modify(|generation| *generation += 1);
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateServer {
    name: Option<String>,
}

async fn list_servers(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.world.lock().servers()).into_response()
}

async fn create_server(State(shared): State<Arc<Shared>>, body: Body) -> ApiResult<Response> {
    let body: CreateServer = body.json()?;
    let name = required(body.name, "name")?;
    let server = shared.world.lock().create_server(&name)?;
    Ok((StatusCode::CREATED, Json(server)).into_response())
}

async fn get_server(
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

async fn update_server(
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

async fn list_rooms(
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

async fn create_room(
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

async fn get_room(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().room_info(&room_id)?).into_response())
}

async fn delete_room(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let by = query_actor(&query, "deletedBy");
    shared.world.lock().delete_room(&room_id, by.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_members(
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

async fn add_member(
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

async fn remove_member(
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

async fn update_member(
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

async fn list_robots(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().robots_of(&server_id)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRobot {
    name: Option<String>,
    avatar_url: Option<String>,
    permissions: Option<Vec<Permission>>,
    subscriptions: Option<Vec<EventType>>,
    transport_type: Option<TransportKind>,
    webhook_url: Option<String>,
    key: Option<String>,
    secret: Option<String>,
}

async fn create_robot(
    State(shared): State<Arc<Shared>>,
    Path(server_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: CreateRobot = body.json()?;
    let mut spec = RobotSpec::new(required(body.name, "name")?);
    if let Some(permissions) = body.permissions {
        spec = spec.permissions(permissions);
    }
    if let Some(subscriptions) = body.subscriptions {
        spec = spec.subscriptions(subscriptions);
    }
    match (body.transport_type, body.webhook_url) {
        (Some(kind), url) => spec = spec.transport(Transport::from_parts(kind, url)?),
        (None, Some(url)) => spec = spec.transport(Transport::Webhook { url }),
        (None, None) => {}
    }
    if let Some(url) = body.avatar_url {
        spec = spec.avatar_url(url);
    }
    if let Some(key) = body.key {
        spec = spec.key(key);
    }
    if let Some(secret) = body.secret {
        spec = spec.secret(secret);
    }
    let credentials = provision::create_robot(&shared, &server_id, spec)?;
    Ok((StatusCode::CREATED, Json(credentials)).into_response())
}

async fn get_robot(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().robot_details(&robot_id)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateRobot {
    name: Option<String>,
    permissions: Option<Vec<Permission>>,
    subscriptions: Option<Vec<EventType>>,
    transport_type: Option<TransportKind>,
    webhook_url: Option<String>,
    active: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    avatar_url: Option<Option<String>>,
}

async fn update_robot(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: UpdateRobot = body.json()?;
    let mut world = shared.world.lock();
    let current = world.robot_details(&robot_id)?;
    let transport = match (body.transport_type, body.webhook_url) {
        (None, None) => None,
        (Some(kind), url) => Some(Transport::from_parts(kind, url.or(current.webhook_url))?),
        (None, Some(url)) if current.transport_type == TransportKind::Webhook => {
            Some(Transport::Webhook { url })
        }
        (None, Some(_)) => {
            return Err(Error::bad_request(
                "webhookUrl applies to webhook robots only; set transportType to \"webhook\" too",
            )
            .into());
        }
    };
    let update = RobotUpdate {
        name: body.name,
        permissions: body.permissions,
        subscriptions: body.subscriptions,
        transport,
        active: body.active,
        avatar_url: body.avatar_url,
    };
    Ok(Json(world.update_robot(&robot_id, update)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RotateSecret {
    overlap_seconds: Option<u64>,
}

async fn rotate_secret(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: RotateSecret = body.json()?;
    let overlap = body.overlap_seconds.map(Duration::from_secs);
    let credentials = shared.world.lock().rotate_secret(&robot_id, overlap)?;
    Ok(Json(credentials).into_response())
}

async fn regenerate_key(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().regenerate_key(&robot_id)?).into_response())
}

async fn deliveries(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().deliveries(&robot_id)?).into_response())
}

async fn robot_events(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
) -> ApiResult<Response> {
    let events: Vec<PollEvent> = shared
        .world
        .lock()
        .retained(&robot_id)?
        .iter()
        .map(|r| r.poll_item())
        .collect();
    Ok(Json(events).into_response())
}

async fn list_messages(
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

async fn post_message(
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

async fn edit_message(
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

async fn delete_message(
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

async fn join_voice(
    State(shared): State<Arc<Shared>>,
    Path(room_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: JoinVoice = body.json()?;
    let user_id = required(body.user_id, "userId")?;
    let room = shared.world.lock().join_voice(&user_id, &room_id)?;
    Ok(Json(room).into_response())
}

async fn leave_voice(
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

async fn set_status(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    body: Body,
) -> ApiResult<StatusCode> {
    let body: SetStatus = body.json()?;
    let status = required(body.status, "status")?;
    shared.world.lock().set_status(&user_id, status)?;
    Ok(StatusCode::NO_CONTENT)
}
