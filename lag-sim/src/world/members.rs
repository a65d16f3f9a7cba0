//! What a member does: post, edit and delete messages, join and leave voice, change status and role.

use serde_json::json;

use crate::clock;
use crate::error::{Error, Result};
use crate::wire::{EventType, Role, Room, RoomMessage, ServerMember, UserStatus};

use super::messages::Author;
use super::{VoiceSeat, World};

impl World {
    fn member_room(&self, user_id: &str, room_id: &str) -> Result<String> {
        self.user(user_id)?;
        let server_id = self.room(room_id)?.server_id.clone();
        self.membership(&server_id, user_id)?;
        Ok(server_id)
    }

    pub(crate) fn post(
        &mut self,
        user_id: &str,
        room_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<RoomMessage> {
        self.member_room(user_id, room_id)?;
        self.create_message(Author::User(user_id), room_id, content, reply_to)
    }

    pub(crate) fn edit(
        &mut self,
        user_id: &str,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        self.member_room(user_id, room_id)?;
        self.edit_message(Author::User(user_id), room_id, message_id, content)
    }

    pub(crate) fn delete(&mut self, user_id: &str, room_id: &str, message_id: &str) -> Result<()> {
        self.member_room(user_id, room_id)?;
        self.delete_message(Author::User(user_id), room_id, message_id)
    }

    pub(crate) fn join_voice(&mut self, user_id: &str, room_id: &str) -> Result<Room> {
        let server_id = self.member_room(user_id, room_id)?;
        if self
            .room(room_id)?
            .voice
            .iter()
            .any(|s| s.user_id == user_id)
        {
            return Err(Error::conflict(format!(
                "user {user_id} is already in voice in {room_id}"
            )));
        }
        let in_other: Vec<String> = self
            .rooms
            .values()
            .filter(|r| r.id != room_id && r.voice.iter().any(|s| s.user_id == user_id))
            .map(|r| r.id.clone())
            .collect();
        for other in in_other {
            self.leave_voice(user_id, &other)?;
        }
        let joined_at = clock::now_iso();
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.voice.push(VoiceSeat {
                user_id: user_id.to_owned(),
                joined_at,
                since: self.settings.clock.now(),
            });
        }
        let username = self.user(user_id)?.username.clone();
        self.emit(
            &server_id,
            EventType::VoiceJoin,
            json!({ "roomId": room_id, "userId": user_id, "username": username }),
        );
        Ok(self.room_view(self.room(room_id)?))
    }

    pub(crate) fn leave_voice(&mut self, user_id: &str, room_id: &str) -> Result<Room> {
        let room = self.room(room_id)?;
        let server_id = room.server_id.clone();
        let position = room
            .voice
            .iter()
            .position(|s| s.user_id == user_id)
            .ok_or_else(|| {
                Error::not_found(format!("user {user_id} is not in voice in {room_id}"))
            })?;
        let seat = self
            .rooms
            .get_mut(room_id)
            .map(|r| r.voice.remove(position))
            .ok_or_else(|| Error::not_found(format!("unknown room {room_id}")))?;
        let username = self
            .user(user_id)
            .map(|u| u.username.clone())
            .unwrap_or_default();
        self.emit(
            &server_id,
            EventType::VoiceLeave,
            json!({
                "roomId": room_id,
                "userId": user_id,
                "username": username,
                "duration": self.settings.clock.now().saturating_duration_since(seat.since).as_secs(),
            }),
        );
        Ok(self.room_view(self.room(room_id)?))
    }

    pub(crate) fn set_status(&mut self, user_id: &str, status: UserStatus) -> Result<()> {
        let user = self
            .users
            .get_mut(user_id)
            .ok_or_else(|| Error::not_found(format!("unknown user {user_id}")))?;
        if user.status == status {
            return Ok(());
        }
        user.status = status;
        let servers: Vec<String> = self
            .server_order
            .iter()
            .filter(|id| {
                self.servers
                    .get(*id)
                    .is_some_and(|s| s.members.iter().any(|m| m.user_id == user_id))
            })
            .cloned()
            .collect();
        for server_id in servers {
            self.emit(
                &server_id,
                EventType::PresenceUpdate,
                json!({ "userId": user_id, "status": status }),
            );
        }
        Ok(())
    }

    pub(crate) fn set_role(
        &mut self,
        server_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<ServerMember> {
        let old = self.membership(server_id, user_id).map_err(|_| {
            Error::not_found(format!(
                "user {user_id} is not a member of server {server_id}"
            ))
        })?;
        let old_role = old.role;
        if old_role != role {
            let previous_owner = self.server(server_id)?.owner_id.clone();
            let mut changes = vec![(user_id.to_owned(), old_role, role)];
            if role == Role::Owner
                && let Some(previous) = previous_owner.filter(|p| p != user_id)
            {
                changes.push((previous, Role::Owner, Role::Admin));
            }
            if old_role == Role::Owner {
                return Err(Error::conflict(
                    "the owner's role changes only by making another member the owner",
                ));
            }
            let server = self.server_mut(server_id)?;
            for (member_id, _, new_role) in &changes {
                if let Some(m) = server.members.iter_mut().find(|m| &m.user_id == member_id) {
                    m.role = *new_role;
                }
            }
            if role == Role::Owner {
                server.owner_id = Some(user_id.to_owned());
            }
            for (member_id, from, to) in changes {
                self.emit(
                    server_id,
                    EventType::MemberRoleChanged,
                    json!({ "userId": member_id, "oldRole": from, "newRole": to }),
                );
            }
        }
        let membership = self.membership(server_id, user_id)?;
        self.member_view(membership)
            .ok_or_else(|| Error::not_found(format!("unknown user {user_id}")))
    }
}
