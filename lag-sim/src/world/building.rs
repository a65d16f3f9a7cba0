//! Building the world: servers, rooms and members coming and going.

use serde_json::{Value, json};

use crate::clock;
use crate::error::{Error, Result};
use crate::spec::ServerUpdate;
use crate::wire::{EventType, Role, Room, Server, ServerMember, UserStatus};

use super::{
    MAX_NAME_CHARS, MAX_ROOM_NAME_CHARS, MAX_SERVER_NAME_CHARS, Membership, RoomState, ServerState,
    User, World, check_length,
};

impl World {
    pub(crate) fn create_server(&mut self, name: &str) -> Result<Server> {
        let name = name.trim();
        check_length("server name", name, MAX_SERVER_NAME_CHARS)?;
        let id = self.new_id("srv");
        let server = ServerState {
            id: id.clone(),
            name: name.to_owned(),
            icon_url: None,
            icon_emoji: None,
            owner_id: None,
            created_at: clock::now_iso(),
            members: Vec::new(),
            rooms: Vec::new(),
            robots: Vec::new(),
        };
        let view = self.server_view(&server);
        self.servers.insert(id.clone(), server);
        self.server_order.push(id);
        Ok(view)
    }

    pub(crate) fn servers(&self) -> Vec<Server> {
        self.server_order
            .iter()
            .filter_map(|id| self.servers.get(id))
            .map(|s| self.server_view(s))
            .collect()
    }

    pub(crate) fn server_info(&self, server_id: &str) -> Result<Server> {
        Ok(self.server_view(self.server(server_id)?))
    }

    pub(crate) fn update_server(
        &mut self,
        server_id: &str,
        update: ServerUpdate,
        by: Option<&str>,
    ) -> Result<Server> {
        let server = self.server(server_id)?;
        let updated_by = match by {
            Some(user_id) => {
                self.membership(server_id, user_id)?;
                Some(user_id.to_owned())
            }
            None => server.owner_id.clone(),
        };
        if let Some(name) = &update.name {
            check_length("server name", name.trim(), MAX_SERVER_NAME_CHARS)?;
        }
        let server = self.server_mut(server_id)?;
        let mut changes = serde_json::Map::new();
        if let Some(name) = update.name {
            let name = name.trim().to_owned();
            if name != server.name {
                changes.insert("name".into(), Value::String(name.clone()));
                server.name = name;
            }
        }
        if let Some(icon_url) = update.icon_url
            && icon_url != server.icon_url
        {
            changes.insert("iconUrl".into(), json!(icon_url));
            server.icon_url = icon_url;
        }
        if let Some(icon_emoji) = update.icon_emoji
            && icon_emoji != server.icon_emoji
        {
            changes.insert("iconEmoji".into(), json!(icon_emoji));
            server.icon_emoji = icon_emoji;
        }
        if !changes.is_empty() {
            self.emit(
                server_id,
                EventType::ServerUpdated,
                json!({ "changes": changes, "updatedBy": updated_by }),
            );
        }
        self.server_info(server_id)
    }

    fn actor_or_owner(&self, server_id: &str, by: Option<&str>) -> Result<String> {
        match by {
            Some(user_id) => {
                self.membership(server_id, user_id)?;
                Ok(user_id.to_owned())
            }
            None => Ok(self
                .server(server_id)?
                .owner_id
                .clone()
                .unwrap_or_else(|| "system".to_owned())),
        }
    }

    pub(crate) fn create_room(
        &mut self,
        server_id: &str,
        name: &str,
        by: Option<&str>,
    ) -> Result<Room> {
        let created_by = self.actor_or_owner(server_id, by)?;
        let name = name.trim();
        check_length("room name", name, MAX_ROOM_NAME_CHARS)?;
        let id = self.new_id("room");
        let room = RoomState {
            id: id.clone(),
            server_id: server_id.to_owned(),
            name: name.to_owned(),
            created_by: created_by.clone(),
            created_at: clock::now_iso(),
            voice: Vec::new(),
            messages: Vec::new(),
        };
        self.rooms.insert(id.clone(), room);
        self.server_mut(server_id)?.rooms.push(id.clone());
        self.emit(
            server_id,
            EventType::RoomCreated,
            json!({ "roomId": id, "name": name, "createdBy": created_by }),
        );
        Ok(self.room_view(self.room(&id)?))
    }

    pub(crate) fn delete_room(&mut self, room_id: &str, by: Option<&str>) -> Result<()> {
        let server_id = self.room(room_id)?.server_id.clone();
        self.actor_or_owner(&server_id, by)?;
        let in_voice: Vec<String> = self
            .room(room_id)?
            .voice
            .iter()
            .map(|s| s.user_id.clone())
            .collect();
        for user_id in in_voice {
            self.leave_voice(&user_id, room_id)?;
        }
        let room = self
            .rooms
            .remove(room_id)
            .ok_or_else(|| Error::not_found(format!("unknown room {room_id}")))?;
        self.server_mut(&server_id)?.rooms.retain(|r| r != room_id);
        self.emit(
            &server_id,
            EventType::RoomDeleted,
            json!({ "roomId": room_id, "name": room.name }),
        );
        Ok(())
    }

    pub(crate) fn rooms_of(&self, server_id: &str) -> Vec<Room> {
        self.servers
            .get(server_id)
            .map(|s| {
                s.rooms
                    .iter()
                    .filter_map(|id| self.rooms.get(id))
                    .map(|r| self.room_view(r))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn room_info(&self, room_id: &str) -> Result<Room> {
        Ok(self.room_view(self.room(room_id)?))
    }

    pub(crate) fn members(&self, server_id: &str) -> Result<Vec<ServerMember>> {
        Ok(self
            .server(server_id)?
            .members
            .iter()
            .filter_map(|m| self.member_view(m))
            .collect())
    }

    pub(crate) fn add_member(
        &mut self,
        server_id: &str,
        username: &str,
        display_name: Option<&str>,
    ) -> Result<ServerMember> {
        self.server(server_id)?;
        validate_username(username)?;
        let existing = self
            .users
            .values()
            .find(|u| u.username.to_lowercase() == username.to_lowercase())
            .map(|u| u.id.clone());
        let user_id = match existing {
            Some(id) => {
                if self
                    .server(server_id)?
                    .members
                    .iter()
                    .any(|m| m.user_id == id)
                {
                    return Err(Error::conflict(format!(
                        "{username} is already a member of server {server_id}"
                    )));
                }
                id
            }
            None => {
                let id = self.new_id("usr");
                self.users.insert(
                    id.clone(),
                    User {
                        id: id.clone(),
                        username: username.to_owned(),
                        display_name: Some(display_name.unwrap_or(username).to_owned()),
                        avatar_url: None,
                        status: UserStatus::Online,
                    },
                );
                id
            }
        };
        let joined_at = clock::now_iso();
        let server = self.server_mut(server_id)?;
        let role = if server.owner_id.is_none() {
            server.owner_id = Some(user_id.clone());
            Role::Owner
        } else {
            Role::Member
        };
        server.members.push(Membership {
            user_id: user_id.clone(),
            role,
            joined_at: joined_at.clone(),
        });
        let username = self.user(&user_id)?.username.clone();
        self.emit(
            server_id,
            EventType::MemberJoin,
            json!({ "userId": user_id, "username": username, "joinedAt": joined_at }),
        );
        let membership = self.membership(server_id, &user_id)?;
        self.member_view(membership)
            .ok_or_else(|| Error::internal("member vanished"))
    }

    pub(crate) fn remove_member(&mut self, server_id: &str, user_id: &str) -> Result<()> {
        let membership = self.membership(server_id, user_id).map_err(|_| {
            Error::not_found(format!(
                "user {user_id} is not a member of server {server_id}"
            ))
        })?;
        if membership.role == Role::Owner {
            return Err(Error::conflict(
                "the server owner cannot leave their server",
            ));
        }
        let voice_rooms: Vec<String> = self
            .server(server_id)?
            .rooms
            .iter()
            .filter(|r| {
                self.rooms
                    .get(*r)
                    .is_some_and(|room| room.voice.iter().any(|s| s.user_id == user_id))
            })
            .cloned()
            .collect();
        for room_id in voice_rooms {
            self.leave_voice(user_id, &room_id)?;
        }
        self.server_mut(server_id)?
            .members
            .retain(|m| m.user_id != user_id);
        let username = self.user(user_id)?.username.clone();
        self.emit(
            server_id,
            EventType::MemberLeave,
            json!({ "userId": user_id, "username": username }),
        );
        Ok(())
    }
}

fn validate_username(username: &str) -> Result<()> {
    check_length("username", username, MAX_NAME_CHARS)?;
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::bad_request(
            "username may contain only letters, digits, '_', '-' and '.'",
        ));
    }
    Ok(())
}
