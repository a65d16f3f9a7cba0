//! The data Lag's REST API returns: the robot itself, messages, rooms and members.
//!
//! Field names follow Lag's wire names in `snake_case` (`roomId` is `room_id`). Decoding is
//! lenient the way Lag's own clients are: unknown fields are ignored, a `null` list is an empty
//! list, and an empty `userId` (as some responses send for robot messages) is the same as `null`.
//! Enumerations Lag may extend (statuses, roles, permissions, mention kinds) keep values they do
//! not know in an `Other` variant instead of failing.

mod history;
mod message;
mod robot_info;
mod server;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

pub(crate) use history::decode_history;
pub use history::{HistoryPage, HistoryQuery, MAX_HISTORY_PAGE};
pub use message::{
    EditedMessage, ImageVariant, MAX_CONTENT_CHARS, Mention, MentionKind, Message, MessageImage,
    ReplyTo, SendMessage,
};
pub use robot_info::{Permission, RobotInfo};
pub use server::{Member, Room, RoomParticipant, ServerRole, UserStatus};

/// A point in time as Lag sent it: an ISO 8601 string such as `2024-01-15T12:30:00.000Z`.
///
/// The original text is kept, so nothing is lost when Lag's format varies; [`to_datetime`]
/// parses it on demand.
///
/// ```
/// use lag_bot::model::Timestamp;
/// let at = Timestamp::new("2024-01-15T12:30:00.000Z");
/// assert_eq!(at.as_str(), "2024-01-15T12:30:00.000Z");
/// assert_eq!(at.to_datetime().unwrap().unix_timestamp(), 1_705_321_800);
/// assert!(Timestamp::new("yesterday").to_datetime().is_none());
/// ```
///
/// [`to_datetime`]: Timestamp::to_datetime
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Wraps a timestamp string.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The timestamp exactly as Lag sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the timestamp as RFC 3339, or `None` when it is not in that form.
    pub fn to_datetime(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares an enumeration Lag may extend: values it does not know are kept in `Other`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of `lag-bot` does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(other) => other,
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )*
                    _ => Self::Other(value),
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                match value {
                    $name::Other(other) => other,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
use open_enum;

/// Treats `null` like a missing field.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Treats `""` like `null`: Lag sends either for "no such id".
pub(crate) fn empty_as_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

/// Reads a list Lag may send bare (`[...]`) or wrapped (`{"<key>": [...]}`).
pub(crate) fn decode_list<T>(
    what: &str,
    key: &str,
    value: serde_json::Value,
) -> crate::Result<Vec<T>>
where
    T: for<'de> Deserialize<'de>,
{
    let list = match value {
        serde_json::Value::Array(_) => value,
        serde_json::Value::Object(mut map) => match map.remove(key) {
            Some(list @ serde_json::Value::Array(_)) => list,
            Some(serde_json::Value::Null) => return Ok(Vec::new()),
            _ => {
                return Err(crate::Error::decode(format!(
                    "{what}: expected a list or an object with a `{key}` list"
                )));
            }
        },
        other => {
            return Err(crate::Error::decode(format!(
                "{what}: expected a list, got {}",
                json_kind(&other)
            )));
        }
    };
    serde_json::from_value(list).map_err(|err| crate::Error::json(what, err))
}

pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Lag's documented message example, shared by the message and history tests.
    pub(super) fn message_json() -> serde_json::Value {
        json!({
            "id": "msg_abc123", "roomId": "room_xyz", "userId": null,
            "username": "My Bot", "displayName": "My Bot", "avatarUrl": null,
            "content": "Hello from the robot!", "createdAt": "2024-01-15T12:30:00.000Z",
            "editedAt": null, "robotId": "robot_abc123"
        })
    }

    #[test]
    fn lists_decode_bare_or_wrapped() {
        let room = json!({"id": "r1", "serverId": "s", "name": "general", "createdBy": "u",
            "maxParticipants": null, "participants": [], "createdAt": "t"});
        let bare: Vec<Room> = decode_list("rooms", "rooms", json!([room.clone()])).unwrap();
        let wrapped: Vec<Room> = decode_list("rooms", "rooms", json!({"rooms": [room]})).unwrap();
        assert_eq!(bare, wrapped);
        assert_eq!(bare[0].name.as_deref(), Some("general"));
        let err = decode_list::<Room>("rooms", "rooms", json!({"members": []})).unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Decode);
        let err = decode_list::<Room>("rooms", "rooms", json!("nope")).unwrap_err();
        assert!(err.message().contains("a string"), "{err}");
    }
}
