//! The emulator's own admin and member-puppet API, under `/_sim`. It has no authentication:
//! it is for the person or test driving the emulator, never for robots.
//!
//! The whole route table is here, with the world-wide endpoints; the handlers for servers,
//! robots and acting as a member live in the child modules.

mod feed;
mod puppet;
mod robots;
mod servers;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::{ApiResult, Body};
use crate::error::Error;
use crate::provision;
use crate::shared::Shared;
use crate::spec::{RobotSpec, Transport, TransportKind};
use crate::wire::{EventType, Permission, Role, UserStatus};
use puppet::{
    delete_message, edit_message, join_voice, leave_voice, list_messages, post_message, set_status,
};
use robots::{
    create_robot, deliveries, get_robot, list_robots, redeliver, regenerate_key, robot_events,
    rotate_secret, update_robot,
};
use servers::{
    add_member, create_room, create_server, delete_room, get_room, get_server, list_members,
    list_rooms, list_servers, remove_member, update_member, update_server,
};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/world", get(world))
        .route("/meta", get(meta))
        .route("/feed", get(feed::feed))
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
        .route(
            "/robots/{robot_id}/events/{event_id}/redeliver",
            post(redeliver),
        )
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

/// The vocabularies a client needs to offer choices: permissions, event types, transports,
/// roles and statuses, each in its wire spelling.
async fn meta() -> Response {
    Json(json!({
        "permissions": Permission::ALL,
        "lagPermissions": Permission::LAG,
        "eventTypes": EventType::ALL,
        "transports": [TransportKind::Webhook, TransportKind::Sse, TransportKind::LongPoll],
        "roles": Role::ALL,
        "statuses": UserStatus::ALL,
    }))
    .into_response()
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
    let mut spec = provision::demo_robot();
    if let Some(name) = body.robot_name {
        spec = RobotSpec { name, ..spec };
    }
    if let Some(kind) = body.transport_type {
        spec = spec.transport(Transport::from_parts(kind, body.webhook_url)?);
    }
    let demo = provision::seed_demo(&shared, spec)?;
    Ok((StatusCode::CREATED, Json(demo)).into_response())
}

async fn cut_streams(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.cut_streams();
    StatusCode::NO_CONTENT
}
