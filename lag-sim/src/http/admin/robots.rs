//! Robots: creation, configuration, credentials, the delivery log and retained events.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{double_option, required};
use crate::error::Error;
use crate::http::{ApiResult, Body, Path};
use crate::provision;
use crate::shared::Shared;
use crate::spec::{RobotSpec, RobotUpdate, Transport, TransportKind};
use crate::wire::{EventType, Permission, PollEvent};

pub(super) async fn list_robots(
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

pub(super) async fn create_robot(
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

pub(super) async fn get_robot(
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

pub(super) async fn update_robot(
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

pub(super) async fn rotate_secret(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body: RotateSecret = body.json()?;
    let overlap = body.overlap_seconds.map(Duration::from_secs);
    let credentials = shared.world.lock().rotate_secret(&robot_id, overlap)?;
    Ok(Json(credentials).into_response())
}

pub(super) async fn regenerate_key(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().regenerate_key(&robot_id)?).into_response())
}

pub(super) async fn deliveries(
    State(shared): State<Arc<Shared>>,
    Path(robot_id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(shared.world.lock().deliveries(&robot_id)?).into_response())
}

pub(super) async fn robot_events(
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

pub(super) async fn redeliver(
    State(shared): State<Arc<Shared>>,
    Path((robot_id, event_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    shared.world.lock().redeliver(&robot_id, &event_id)?;
    let body = serde_json::json!({ "robotId": robot_id, "eventId": event_id });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
