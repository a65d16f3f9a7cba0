//! Lookups by id, each a 404 when missing, and the wire views of stored state.

use crate::error::{Error, Result};
use crate::wire::{Participant, Room, Server, ServerMember};

use super::{Membership, RobotState, RoomState, ServerState, User, World};

impl World {
    pub(super) fn server(&self, id: &str) -> Result<&ServerState> {
        self.servers
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown server {id}")))
    }

    pub(super) fn server_mut(&mut self, id: &str) -> Result<&mut ServerState> {
        self.servers
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("unknown server {id}")))
    }

    pub(super) fn user(&self, id: &str) -> Result<&User> {
        self.users
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown user {id}")))
    }

    pub(super) fn room(&self, id: &str) -> Result<&RoomState> {
        self.rooms
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown room {id}")))
    }

    pub(crate) fn robot(&self, id: &str) -> Result<&RobotState> {
        self.robots
            .get(id)
            .ok_or_else(|| Error::not_found(format!("unknown robot {id}")))
    }

    pub(crate) fn robot_mut(&mut self, id: &str) -> Result<&mut RobotState> {
        self.robots
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("unknown robot {id}")))
    }

    pub(super) fn membership(&self, server_id: &str, user_id: &str) -> Result<&Membership> {
        self.server(server_id)?
            .members
            .iter()
            .find(|m| m.user_id == user_id)
            .ok_or_else(|| {
                Error::forbidden(format!(
                    "user {user_id} is not a member of server {server_id}"
                ))
            })
    }

    pub(super) fn member_view(&self, membership: &Membership) -> Option<ServerMember> {
        let user = self.users.get(&membership.user_id)?;
        Some(ServerMember {
            user_id: user.id.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
            role: membership.role,
            role_id: None,
            status: user.status,
            joined_at: membership.joined_at.clone(),
        })
    }

    pub(super) fn room_view(&self, room: &RoomState) -> Room {
        Room {
            id: room.id.clone(),
            server_id: room.server_id.clone(),
            name: Some(room.name.clone()),
            created_by: room.created_by.clone(),
            max_participants: None,
            participants: room
                .voice
                .iter()
                .filter_map(|seat| {
                    let user = self.users.get(&seat.user_id)?;
                    Some(Participant {
                        user_id: user.id.clone(),
                        username: user.username.clone(),
                        display_name: user.display_name.clone(),
                        avatar_url: user.avatar_url.clone(),
                        is_muted: false,
                        is_deafened: false,
                        is_speaking: false,
                        joined_at: seat.joined_at.clone(),
                    })
                })
                .collect(),
            created_at: room.created_at.clone(),
        }
    }

    pub(super) fn server_view(&self, server: &ServerState) -> Server {
        Server {
            id: server.id.clone(),
            name: server.name.clone(),
            icon_url: server.icon_url.clone(),
            icon_emoji: server.icon_emoji.clone(),
            owner_id: server.owner_id.clone(),
            member_count: server.members.len(),
            created_at: server.created_at.clone(),
        }
    }
}
