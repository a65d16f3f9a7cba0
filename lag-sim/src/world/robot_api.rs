//! What a robot may do through the REST API, after authentication and scope checks.

use crate::error::{Error, ErrorKind, Result};
use crate::wire::{HistoryPage, Permission, RobotInfo, Room, RoomMessage, ServerMember};

use super::messages::Author;
use super::{RobotState, World};

impl World {
    /// Resolves an API key to an active robot, checking the rate limits.
    pub(crate) fn authenticate(&mut self, key: &str, is_message: bool) -> Result<String> {
        let robot_id = self
            .keys
            .get(key)
            .cloned()
            .ok_or_else(|| Error::unauthorized("invalid API key"))?;
        let now = self.settings.clock.now();
        let robot = self.robot_mut(&robot_id)?;
        if !robot.active {
            return Err(Error::forbidden("this robot is disabled"));
        }
        robot.limiter.hit(now, is_message).map_err(|wait| {
            Error::new(
                ErrorKind::RateLimited { retry_after: wait },
                if is_message {
                    "rate limit exceeded: at most 10 messages per 10 seconds and 100 requests per minute"
                } else {
                    "rate limit exceeded: at most 100 requests per minute"
                },
            )
        })?;
        Ok(robot_id)
    }

    pub(crate) fn robot_info(&self, robot_id: &str) -> Result<RobotInfo> {
        Ok(self.robot(robot_id)?.info())
    }

    /// The checks every server-scoped robot endpoint shares: own server, permission, room.
    fn robot_scope(
        &self,
        robot_id: &str,
        server_id: &str,
        permission: Permission,
        room_id: Option<&str>,
    ) -> Result<&RobotState> {
        let robot = self.robot(robot_id)?;
        if robot.server_id != server_id {
            return Err(Error::forbidden(format!(
                "this robot belongs to server {}, not {server_id}",
                robot.server_id
            )));
        }
        if !robot.has(permission) {
            return Err(Error::forbidden(format!(
                "this robot lacks the {permission} permission"
            )));
        }
        if let Some(room_id) = room_id {
            match self.rooms.get(room_id) {
                Some(room) if room.server_id == server_id => {}
                _ => return Err(Error::not_found(format!("unknown room {room_id}"))),
            }
        }
        Ok(robot)
    }

    pub(crate) fn robot_send(
        &mut self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<RoomMessage> {
        self.robot_scope(robot_id, server_id, Permission::SendMessages, Some(room_id))?;
        self.create_message(Author::Robot(robot_id), room_id, content, reply_to)
    }

    pub(crate) fn robot_scope_check(
        &self,
        robot_id: &str,
        server_id: &str,
        permission: Permission,
        room_id: Option<&str>,
    ) -> Result<()> {
        self.robot_scope(robot_id, server_id, permission, room_id)
            .map(|_| ())
    }

    pub(crate) fn robot_edit(
        &mut self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        self.robot_scope(robot_id, server_id, Permission::SendMessages, Some(room_id))?;
        self.edit_message(Author::Robot(robot_id), room_id, message_id, content)
    }

    pub(crate) fn robot_delete(
        &mut self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        message_id: &str,
    ) -> Result<()> {
        self.robot_scope(robot_id, server_id, Permission::SendMessages, Some(room_id))?;
        self.delete_message(Author::Robot(robot_id), room_id, message_id)
    }

    pub(crate) fn robot_history(
        &self,
        robot_id: &str,
        server_id: &str,
        room_id: &str,
        limit: usize,
        cursor_ms: Option<i64>,
    ) -> Result<HistoryPage> {
        self.robot_scope(robot_id, server_id, Permission::ReadMessages, Some(room_id))?;
        let room = self.room(room_id)?;
        let mut older = room
            .messages
            .iter()
            .rev()
            .filter(|m| cursor_ms.is_none_or(|cursor| m.created_ms < cursor));
        let messages: Vec<RoomMessage> = older
            .by_ref()
            .take(limit)
            .map(|m| m.message.clone())
            .collect();
        let has_more = older.next().is_some();
        let next_cursor = if has_more {
            messages.last().map(|m| m.created_at.clone())
        } else {
            None
        };
        Ok(HistoryPage {
            messages,
            has_more,
            next_cursor,
        })
    }

    pub(crate) fn robot_rooms(&self, robot_id: &str, server_id: &str) -> Result<Vec<Room>> {
        self.robot_scope(robot_id, server_id, Permission::ReadRooms, None)?;
        Ok(self.rooms_of(server_id))
    }

    pub(crate) fn robot_members(
        &self,
        robot_id: &str,
        server_id: &str,
    ) -> Result<Vec<ServerMember>> {
        self.robot_scope(robot_id, server_id, Permission::ReadMembers, None)?;
        self.members(server_id)
    }
}
