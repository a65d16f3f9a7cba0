//! Filling the world: robots together with their delivery workers, the demo world, world files.
//!
//! [`Shared`] only holds the state; whatever must also start a background task lives here.

use std::sync::Arc;

use crate::delivery;
use crate::error::{Error, Result};
use crate::shared::Shared;
use crate::spec::{
    DEMO_TRANSPORT, Demo, RobotCredentials, RobotDetails, RobotSpec, Transport, TransportKind,
};
use crate::wire::Role;
use crate::worldfile::WorldFile;

/// Creates a robot and starts its webhook delivery task.
pub(crate) fn create_robot(
    shared: &Arc<Shared>,
    server_id: &str,
    spec: RobotSpec,
) -> Result<RobotCredentials> {
    let new = shared.world.lock().create_robot(server_id, spec)?;
    let robot_id = new.credentials.id.clone();
    shared.spawn(delivery::run_worker(
        Arc::clone(shared),
        robot_id,
        new.webhook_rx,
    ));
    Ok(new.credentials)
}

/// The demo robot "Helper", before any caller's changes.
pub(crate) fn demo_robot() -> RobotSpec {
    RobotSpec::new("Helper").transport(DEMO_TRANSPORT)
}

/// Builds the demo world: rooms general, welcome and mod-log, three members, one robot.
pub(crate) fn seed_demo(shared: &Arc<Shared>, robot: RobotSpec) -> Result<Demo> {
    let (server_id, general, welcome, mod_log, alice, bob, carol) = {
        let mut world = shared.world.lock();
        let server_id = world.create_server("Demo Server")?.id;
        let alice = world
            .add_member(&server_id, "alice", Some("Alice"))?
            .user_id;
        let bob = world.add_member(&server_id, "bob", Some("Bob"))?.user_id;
        let carol = world
            .add_member(&server_id, "carol", Some("Carol"))?
            .user_id;
        world.set_role(&server_id, &bob, Role::Admin)?;
        let general = world.create_room(&server_id, "general", Some(&alice))?.id;
        let welcome = world.create_room(&server_id, "welcome", Some(&alice))?.id;
        let mod_log = world.create_room(&server_id, "mod-log", Some(&alice))?.id;
        (server_id, general, welcome, mod_log, alice, bob, carol)
    };
    let robot = create_robot(shared, &server_id, robot)?;
    Ok(Demo {
        server_id,
        general,
        welcome,
        mod_log,
        alice,
        bob,
        carol,
        robot,
    })
}

/// Creates everything a world file describes; returns the robots created.
pub(crate) fn load_world(shared: &Arc<Shared>, file: &WorldFile) -> Result<Vec<RobotDetails>> {
    let mut robots = Vec::new();
    for server in &file.servers {
        let context = |e: Error| {
            Error::new(
                e.kind().clone(),
                format!("server {:?}: {}", server.name, e.message()),
            )
        };
        let server_id = {
            let mut world = shared.world.lock();
            let server_id = world.create_server(&server.name).map_err(context)?.id;
            let mut ids = Vec::with_capacity(server.members.len());
            for member in &server.members {
                let user_id = world
                    .add_member(&server_id, &member.username, member.display_name.as_deref())
                    .map_err(context)?
                    .user_id;
                if let Some(status) = member.status {
                    world.set_status(&user_id, status).map_err(context)?;
                }
                ids.push(user_id);
            }
            let roles: Vec<(&String, Role)> = ids
                .iter()
                .zip(&server.members)
                .filter_map(|(id, m)| m.role.map(|role| (id, role)))
                .collect();
            for (user_id, _) in roles.iter().filter(|(_, role)| *role == Role::Owner) {
                world
                    .set_role(&server_id, user_id, Role::Owner)
                    .map_err(context)?;
            }
            for (user_id, role) in roles.iter().filter(|(_, role)| *role != Role::Owner) {
                world
                    .set_role(&server_id, user_id, *role)
                    .map_err(context)?;
            }
            for room in &server.rooms {
                world.create_room(&server_id, room, None).map_err(context)?;
            }
            server_id
        };
        for robot in &server.robots {
            let robot_context = |e: Error| {
                Error::new(
                    e.kind().clone(),
                    format!(
                        "server {:?}, robot {:?}: {}",
                        server.name,
                        robot.name,
                        e.message()
                    ),
                )
            };
            let mut spec = RobotSpec::new(&robot.name);
            let kind = robot.transport.unwrap_or(if robot.webhook_url.is_some() {
                TransportKind::Webhook
            } else {
                TransportKind::LongPoll
            });
            spec = spec.transport(
                Transport::from_parts(kind, robot.webhook_url.clone()).map_err(robot_context)?,
            );
            if let Some(permissions) = &robot.permissions {
                spec = spec.permissions(permissions.iter().copied());
            }
            if let Some(subscriptions) = &robot.subscriptions {
                spec = spec.subscriptions(subscriptions.iter().copied());
            }
            if let Some(key) = &robot.key {
                spec = spec.key(key);
            }
            if let Some(secret) = &robot.secret {
                spec = spec.secret(secret);
            }
            if let Some(url) = &robot.avatar_url {
                spec = spec.avatar_url(url);
            }
            let credentials = create_robot(shared, &server_id, spec).map_err(robot_context)?;
            robots.push(shared.world.lock().robot_details(&credentials.id)?);
        }
    }
    Ok(robots)
}
