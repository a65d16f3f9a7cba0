//! Messages: writing, editing and deleting them, and finding the `@mentions` in them.

use std::collections::BTreeSet;

use serde_json::json;

use crate::clock;
use crate::error::{Error, Result};
use crate::wire::{EventType, Mention, MentionType, Permission, ReplyTo, Role, RoomMessage};

use super::{MAX_CONTENT_CHARS, StoredMessage, World};

/// Who writes a message.
#[derive(Debug, Clone, Copy)]
pub(super) enum Author<'a> {
    User(&'a str),
    Robot(&'a str),
}

impl<'a> Author<'a> {
    fn id(self) -> &'a str {
        match self {
            Self::User(id) | Self::Robot(id) => id,
        }
    }
}

impl World {
    fn validate_content(content: &str) -> Result<()> {
        let chars = content.chars().count();
        if chars == 0 {
            return Err(Error::bad_request("content must not be empty"));
        }
        if chars > MAX_CONTENT_CHARS {
            return Err(Error::bad_request(format!(
                "content must be at most {MAX_CONTENT_CHARS} characters (got {chars})"
            )));
        }
        Ok(())
    }

    pub(super) fn create_message(
        &mut self,
        author: Author<'_>,
        room_id: &str,
        content: &str,
        reply_to: Option<&str>,
    ) -> Result<RoomMessage> {
        Self::validate_content(content)?;
        let room = self.room(room_id)?;
        let server_id = room.server_id.clone();
        let reply = match reply_to {
            Some(reply_id) => {
                let quoted = room
                    .messages
                    .iter()
                    .find(|m| m.message.id == reply_id)
                    .ok_or_else(|| {
                        Error::not_found(format!("unknown message {reply_id} in room {room_id}"))
                    })?;
                Some(ReplyTo {
                    id: quoted.message.id.clone(),
                    user_id: quoted.message.user_id.clone().unwrap_or_default(),
                    username: quoted.message.username.clone(),
                    display_name: quoted.message.display_name.clone(),
                    content: quoted.message.content.clone(),
                    robot_id: quoted.message.robot_id.clone(),
                    robot_name: quoted.message.robot_name.clone(),
                    is_bot: quoted.message.is_bot,
                })
            }
            None => None,
        };
        let mentions = self.find_mentions(&server_id, content);
        let created_ms = clock::now_millis().max(self.last_message_ms + 1);
        self.last_message_ms = created_ms;
        let created_at = clock::format_millis(created_ms);
        let id = self.new_id("msg");
        let mut message = RoomMessage {
            id,
            room_id: room_id.to_owned(),
            user_id: None,
            username: String::new(),
            display_name: None,
            avatar_url: None,
            content: content.to_owned(),
            created_at,
            edited_at: None,
            robot_id: None,
            robot_name: None,
            robot_avatar_url: None,
            is_bot: false,
            guest_id: None,
            guest_display_name: None,
            is_guest: false,
            reply_to: reply,
            mentions,
            image: None,
        };
        match author {
            Author::User(user_id) => {
                let user = self.user(user_id)?;
                message.user_id = Some(user.id.clone());
                message.username = user.username.clone();
                message.display_name = user.display_name.clone();
                message.avatar_url = user.avatar_url.clone();
            }
            Author::Robot(robot_id) => {
                let robot = self.robot(robot_id)?;
                message.username = robot.name.clone();
                message.display_name = Some(robot.name.clone());
                message.avatar_url = robot.avatar_url.clone();
                message.robot_id = Some(robot.id.clone());
                message.robot_name = Some(robot.name.clone());
                message.robot_avatar_url = robot.avatar_url.clone();
                message.is_bot = true;
            }
        }
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.messages.push(StoredMessage {
                message: message.clone(),
                created_ms,
            });
        }
        let data = json!({
            "roomId": message.room_id,
            "messageId": message.id,
            "senderId": message.user_id.clone().or_else(|| message.robot_id.clone()),
            "senderName": message.username,
            "content": message.content,
            "createdAt": message.created_at,
            "isBot": message.is_bot,
            "robotId": message.robot_id,
            "mentions": message.mentions,
            "replyToId": message.reply_to.as_ref().map(|r| r.id.clone()),
        });
        self.emit(&server_id, EventType::RoomMessage, data.clone());
        let mut mentioned = BTreeSet::new();
        for mention in &message.mentions {
            if mention.kind == MentionType::Robot && mentioned.insert(mention.id.clone()) {
                self.emit_mention(&mention.id, &data);
            }
        }
        Ok(message)
    }

    /// Finds `@name` mentions of the server's robots and members, case-insensitively, longest
    /// name first, each reported once in order of first appearance.
    fn find_mentions(&self, server_id: &str, content: &str) -> Vec<Mention> {
        let Some(server) = self.servers.get(server_id) else {
            return Vec::new();
        };
        let mut candidates: Vec<(MentionType, &str, &str)> = server
            .robots
            .iter()
            .filter_map(|id| self.robots.get(id))
            .map(|r| (MentionType::Robot, r.id.as_str(), r.name.as_str()))
            .chain(server.members.iter().filter_map(|m| {
                self.users
                    .get(&m.user_id)
                    .map(|u| (MentionType::User, u.id.as_str(), u.username.as_str()))
            }))
            .collect();
        candidates.sort_by_key(|(kind, _, name)| {
            (
                std::cmp::Reverse(name.chars().count()),
                *kind != MentionType::Robot,
            )
        });
        let mut found: Vec<Mention> = Vec::new();
        let mut previous: Option<char> = None;
        for (at, c) in content.char_indices() {
            let starts = c == '@' && previous.is_none_or(|p| !is_word_char(p));
            previous = Some(c);
            if !starts {
                continue;
            }
            let rest = &content[at + 1..];
            let hit = candidates.iter().find(|(_, _, name)| {
                prefix_len_ci(rest, name)
                    .is_some_and(|len| rest[len..].chars().next().is_none_or(|n| !is_word_char(n)))
            });
            if let Some((kind, id, name)) = hit
                && !found.iter().any(|m| m.id == *id)
            {
                found.push(Mention {
                    kind: *kind,
                    id: (*id).to_owned(),
                    name: (*name).to_owned(),
                });
            }
        }
        found
    }

    fn find_message(&self, room_id: &str, message_id: &str) -> Result<&StoredMessage> {
        self.room(room_id)?
            .messages
            .iter()
            .find(|m| m.message.id == message_id)
            .ok_or_else(|| {
                Error::not_found(format!("unknown message {message_id} in room {room_id}"))
            })
    }

    fn may_modify(&self, author: Author<'_>, message: &RoomMessage, deleting: bool) -> Result<()> {
        let own = match author {
            Author::User(user_id) => message.user_id.as_deref() == Some(user_id),
            Author::Robot(robot_id) => message.robot_id.as_deref() == Some(robot_id),
        };
        if own {
            return Ok(());
        }
        if deleting {
            let server_id = &self.room(&message.room_id)?.server_id;
            match author {
                Author::User(user_id) => {
                    let role = self.membership(server_id, user_id)?.role;
                    if matches!(role, Role::Owner | Role::Admin) {
                        return Ok(());
                    }
                }
                // The emulator extension: Lag itself has no such permission (gap G17).
                Author::Robot(robot_id) => {
                    let robot = self.robot(robot_id)?;
                    if robot.has(Permission::ManageMessages) && &robot.server_id == server_id {
                        return Ok(());
                    }
                }
            }
        }
        let hint = match author {
            Author::Robot(_) if deleting => {
                " (a robot deletes only its own messages, as on Lag, unless granted the \
                 emulator's manage_messages extension)"
            }
            _ => "",
        };
        Err(Error::forbidden(format!(
            "message {} was written by someone else{hint}",
            message.id
        )))
    }

    pub(super) fn edit_message(
        &mut self,
        author: Author<'_>,
        room_id: &str,
        message_id: &str,
        content: &str,
    ) -> Result<RoomMessage> {
        let stored = self.find_message(room_id, message_id)?;
        self.may_modify(author, &stored.message, false)?;
        Self::validate_content(content)?;
        let server_id = self.room(room_id)?.server_id.clone();
        let mentions = self.find_mentions(&server_id, content);
        let edited_at = clock::now_iso();
        let editor = author.id();
        let room = self
            .rooms
            .get_mut(room_id)
            .ok_or_else(|| Error::not_found(format!("unknown room {room_id}")))?;
        let stored = room
            .messages
            .iter_mut()
            .find(|m| m.message.id == message_id)
            .ok_or_else(|| Error::not_found(format!("unknown message {message_id}")))?;
        stored.message.content = content.to_owned();
        stored.message.edited_at = Some(edited_at.clone());
        stored.message.mentions = mentions;
        let message = stored.message.clone();
        self.emit(
            &server_id,
            EventType::RoomMessageEdited,
            json!({
                "roomId": room_id,
                "messageId": message_id,
                "content": content,
                "editedBy": editor,
                "editedAt": edited_at,
            }),
        );
        Ok(message)
    }

    pub(super) fn delete_message(
        &mut self,
        author: Author<'_>,
        room_id: &str,
        message_id: &str,
    ) -> Result<()> {
        let stored = self.find_message(room_id, message_id)?;
        self.may_modify(author, &stored.message, true)?;
        let server_id = self.room(room_id)?.server_id.clone();
        if let Some(room) = self.rooms.get_mut(room_id) {
            room.messages.retain(|m| m.message.id != message_id);
        }
        let deleter = author.id();
        self.emit(
            &server_id,
            EventType::RoomMessageDeleted,
            json!({ "roomId": room_id, "messageId": message_id, "deletedBy": deleter }),
        );
        Ok(())
    }

    pub(crate) fn messages(&self, room_id: &str) -> Result<Vec<RoomMessage>> {
        Ok(self
            .room(room_id)?
            .messages
            .iter()
            .rev()
            .map(|m| m.message.clone())
            .collect())
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The byte length of the prefix of `text` that equals `name` ignoring case.
fn prefix_len_ci(text: &str, name: &str) -> Option<usize> {
    let mut text_chars = text.char_indices();
    let mut end = 0;
    for n in name.chars() {
        let (at, t) = text_chars.next()?;
        if !t.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
        end = at + t.len_utf8();
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::config::SimConfig;
    use crate::spec::RobotSpec;
    use crate::world::Settings;

    fn world() -> World {
        World::new(Settings {
            config: SimConfig::default(),
            clock: Clock::new(1.0, None),
        })
    }

    #[test]
    fn mentions_prefer_longest_name_and_ignore_case() {
        let mut w = world();
        let server = w.create_server("S").unwrap().id;
        w.add_member(&server, "alice", None).unwrap();
        let short = w
            .create_robot(&server, RobotSpec::new("Mod"))
            .unwrap()
            .credentials
            .id;
        let long = w
            .create_robot(&server, RobotSpec::new("Mod Bot"))
            .unwrap()
            .credentials
            .id;
        let found = w.find_mentions(&server, "hey @mod bot and @MOD, also @ALICE! not@mod @modx");
        let ids: Vec<_> = found.iter().map(|m| m.id.as_str()).collect();
        let alice = w.members(&server).unwrap()[0].user_id.clone();
        assert_eq!(ids, vec![long.as_str(), short.as_str(), alice.as_str()]);
        assert_eq!(found[0].name, "Mod Bot");
        assert_eq!(found[2].kind, MentionType::User);
    }
}
