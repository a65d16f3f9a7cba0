//! The three shapes an event arrives in (webhook body, SSE frame, long-poll item) and the
//! [`Envelope`] constructors that read them.

use std::cell::Cell;

use serde::de::DeserializeSeed;
use serde_json::{Map, Value};

use super::Envelope;
use super::webhook_body::{WebhookBody, WebhookData, webhook_event_type};
use crate::model::{Timestamp, json_kind};
use crate::{Error, Result};

impl Envelope {
    /// Decodes a webhook request body: the canonical event object
    /// `{"type", "serverId", "timestamp", "data"}`. `webhook_id` is the `webhook-id` header.
    ///
    /// When `type` comes before `data` (as Lag sends it) and names a known type, the typed
    /// event is read straight from the body in one pass, and [`data`](Self::data) is decoded
    /// from the kept body only if asked for. A member that appears twice makes the body
    /// malformed.
    pub fn from_webhook(webhook_id: Option<&str>, body: &[u8]) -> Result<Self> {
        let in_data = Cell::new(false);
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let parts = WebhookBody { in_data: &in_data }
            .deserialize(&mut deserializer)
            .and_then(|parts| deserializer.end().map(|()| parts));
        let parts = match parts {
            Ok(parts) => parts,
            Err(err) => {
                let what = match (in_data.get(), webhook_event_type(body)) {
                    (true, Some(event_type)) => format!("webhook body: {event_type} data"),
                    _ => "webhook body".to_owned(),
                };
                return Err(Error::json(&what, err));
            }
        };
        let id = webhook_id.map(str::to_owned);
        let Some(event_type) = parts.event_type else {
            return Err(Error::decode("webhook body: missing field `type`"));
        };
        match parts.data {
            WebhookData::Typed(event) => Ok(Self::with_body(
                id,
                parts.server_id,
                parts.timestamp,
                body,
                event,
            )),
            WebhookData::Value(data) => {
                Self::new(id, &event_type, parts.server_id, parts.timestamp, data)
                    .map_err(|err| err.context("webhook body"))
            }
        }
    }

    /// Decodes one SSE frame from its `id`, `event` and `data` fields.
    ///
    /// `data` may be the whole canonical event or only its inner `data` object (then the
    /// frame's `event` names the type). Keep-alives (an `event: ping`, or a frame with no
    /// data) give `Ok(None)`.
    pub fn from_sse(id: Option<&str>, event: Option<&str>, data: &str) -> Result<Option<Self>> {
        let event = event.filter(|name| !name.is_empty());
        if event == Some("ping") || data.trim().is_empty() {
            return Ok(None);
        }
        let value: Value =
            serde_json::from_str(data).map_err(|err| Error::json("SSE data", err))?;
        let Value::Object(object) = value else {
            return Err(Error::decode(format!(
                "SSE data: expected an object, got {}",
                json_kind(&value)
            )));
        };
        let id = id.filter(|id| !id.is_empty()).map(str::to_owned);
        if is_canonical(&object) {
            return Self::from_canonical(id, object, None, None)
                .map(Some)
                .map_err(|err| err.context("SSE data"));
        }
        let Some(event_type) = event.filter(|name| *name != "message") else {
            return Err(Error::decode(
                "SSE frame: the data has no `type` and the frame names no event",
            ));
        };
        Self::new(id, event_type, None, None, Value::Object(object)).map(Some)
    }

    /// Decodes one item of a long-poll response:
    /// `{"id", "eventType", "payload": {"type", "data", ...}, "createdAt"}`.
    ///
    /// The payload may or may not carry `serverId` and `timestamp`; without a timestamp the
    /// item's `createdAt` stands in.
    pub fn from_poll_item(item: Value) -> Result<Self> {
        let Value::Object(mut item) = item else {
            return Err(Error::decode(format!(
                "poll item: expected an object, got {}",
                json_kind(&item)
            )));
        };
        let id = item.get("id").and_then(id_string);
        let event_type = item
            .get("eventType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let created_at = item
            .get("createdAt")
            .and_then(Value::as_str)
            .map(Timestamp::new);
        match item.remove("payload") {
            Some(Value::Object(payload)) if is_canonical(&payload) => {
                Self::from_canonical(id, payload, event_type, created_at)
            }
            Some(Value::Object(data)) => match event_type {
                Some(event_type) => {
                    Self::new(id, &event_type, None, created_at, Value::Object(data))
                }
                None => Err(Error::decode(
                    "poll item: no `eventType` and no `payload.type`",
                )),
            },
            Some(other) => Err(Error::decode(format!(
                "poll item: expected `payload` to be an object, got {}",
                json_kind(&other)
            ))),
            None => Err(Error::decode("poll item: missing field `payload`")),
        }
        .map_err(|err| match item.get("id").and_then(id_string) {
            Some(id) => err.context(&format!("poll item {id}")),
            None => err,
        })
    }

    fn from_canonical(
        id: Option<String>,
        mut object: Map<String, Value>,
        fallback_type: Option<String>,
        fallback_time: Option<Timestamp>,
    ) -> Result<Self> {
        let event_type = match object.remove("type") {
            Some(Value::String(t)) if !t.is_empty() => t,
            Some(other) if !other.is_null() => {
                return Err(Error::decode(format!(
                    "expected `type` to be a string, got {}",
                    json_kind(&other)
                )));
            }
            _ => fallback_type.ok_or_else(|| Error::decode("missing field `type`"))?,
        };
        let server_id = object
            .get("serverId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let timestamp = object
            .get("timestamp")
            .and_then(Value::as_str)
            .map(Timestamp::new)
            .or(fallback_time);
        let data = object.remove("data").unwrap_or(Value::Null);
        Self::new(id, &event_type, server_id, timestamp, data)
    }
}

/// Decodes a whole long-poll response: a list of items (or `{"events": [...]}`).
///
/// The outer result fails only when the body is not a list of items; each item decodes on
/// its own, so one malformed item does not lose the others.
///
/// ```
/// use lag_bot::events::decode_poll;
/// let body = br#"[
///   {"id":"e1","eventType":"member.join","payload":{"type":"member.join","data":{"userId":"u","username":"alice"}},"createdAt":"2026-01-01T00:00:00Z"},
///   {"id":"e2","eventType":"room.message","payload":{"type":"room.message","data":{}}},
///   {"id":"e3","eventType":"galaxy.exploded","payload":{"type":"galaxy.exploded","data":{"x":1}}}
/// ]"#;
/// let items = decode_poll(body)?;
/// assert_eq!(items.len(), 3);
/// assert_eq!(items[0].as_ref().unwrap().timestamp().unwrap().as_str(), "2026-01-01T00:00:00Z");
/// assert!(items[1].is_err()); // room.message without roomId/content
/// assert_eq!(items[2].as_ref().unwrap().event_type(), "galaxy.exploded");
/// assert!(decode_poll(b"[]")?.is_empty());
/// # Ok::<(), lag_bot::Error>(())
/// ```
pub fn decode_poll(body: &[u8]) -> Result<Vec<Result<Envelope>>> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| Error::json("poll response", err))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("events") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(Error::decode(
                    "poll response: expected a list or an object with an `events` list",
                ));
            }
        },
        other => {
            return Err(Error::decode(format!(
                "poll response: expected a list, got {}",
                json_kind(&other)
            )));
        }
    };
    Ok(items.into_iter().map(Envelope::from_poll_item).collect())
}

fn is_canonical(object: &Map<String, Value>) -> bool {
    object.get("type").is_some_and(Value::is_string) && object.contains_key("data")
}

fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::events::{EVENT_TYPES, Event, EventPayload, MemberLeave};
    use crate::model::{ServerRole, UserStatus};

    fn sample_data() -> Vec<(&'static str, Value)> {
        vec![
            (
                "room.message",
                json!({"roomId": "r1", "messageId": "m1", "senderId": "u1", "senderName": "alice",
                       "content": "hi", "createdAt": "2026-01-01T00:00:00.000Z", "isBot": false,
                       "robotId": null, "mentions": [], "replyToId": null}),
            ),
            (
                "room.message.edited",
                json!({"roomId": "r1", "messageId": "m1", "content": "hey", "editedBy": "u1",
                       "editedAt": "2026-01-01T00:00:01.000Z"}),
            ),
            (
                "room.message.deleted",
                json!({"roomId": "r1", "messageId": "m1", "deletedBy": "u1"}),
            ),
            (
                "voice.join",
                json!({"roomId": "r1", "userId": "u1", "username": "alice"}),
            ),
            (
                "voice.leave",
                json!({"roomId": "r1", "userId": "u1", "username": "alice", "duration": 42}),
            ),
            (
                "member.join",
                json!({"userId": "u1", "username": "alice", "joinedAt": "2026-01-01T00:00:00Z"}),
            ),
            ("member.leave", json!({"userId": "u1", "username": "alice"})),
            (
                "member.role_changed",
                json!({"userId": "u1", "oldRole": "member", "newRole": "admin"}),
            ),
            (
                "room.created",
                json!({"roomId": "r2", "name": "games", "createdBy": "u1"}),
            ),
            ("room.deleted", json!({"roomId": "r2", "name": "games"})),
            ("presence.update", json!({"userId": "u1", "status": "idle"})),
            (
                "server.updated",
                json!({"changes": {"name": "New name"}, "updatedBy": "u1"}),
            ),
            (
                "robot.mentioned",
                json!({"roomId": "r1", "messageId": "m3", "senderId": "u1", "senderName": "alice",
                       "content": "@Helper hi", "createdAt": "2026-01-01T00:00:00.000Z",
                       "isBot": false, "robotId": null,
                       "mentions": [{"type": "robot", "id": "rob_1", "name": "Helper"}],
                       "replyToId": null}),
            ),
        ]
    }

    fn check_typed(event: &Event) {
        match event {
            Event::RoomMessage(m) => {
                assert_eq!(m.message_id.as_deref(), Some("m1"));
                assert_eq!(m.sender_id.as_deref(), Some("u1"));
                assert_eq!(m.sender_name, "alice");
                assert!(!m.is_bot);
            }
            Event::RoomMessageEdited(e) => assert_eq!(e.content, "hey"),
            Event::RoomMessageDeleted(e) => assert_eq!(e.deleted_by.as_deref(), Some("u1")),
            Event::VoiceJoin(e) => assert_eq!(e.username, "alice"),
            Event::VoiceLeave(e) => assert_eq!(e.duration, Some(Duration::from_secs(42))),
            Event::MemberJoin(e) => assert_eq!(e.user_id, "u1"),
            Event::MemberLeave(e) => assert_eq!(e.username, "alice"),
            Event::MemberRoleChanged(e) => {
                assert_eq!(e.old_role, ServerRole::Member);
                assert_eq!(e.new_role, ServerRole::Admin);
            }
            Event::RoomCreated(e) => assert_eq!(e.name.as_deref(), Some("games")),
            Event::RoomDeleted(e) => assert_eq!(e.room_id, "r2"),
            Event::PresenceUpdate(e) => assert_eq!(e.status, UserStatus::Idle),
            Event::ServerUpdated(e) => assert_eq!(e.changes["name"], "New name"),
            Event::RobotMentioned(e) => assert!(e.mentions_robot("rob_1")),
            Event::Unknown(e) => panic!("decoded as unknown: {e:?}"),
        }
    }

    #[test]
    fn samples_cover_every_known_type() {
        let names: Vec<_> = sample_data().iter().map(|(t, _)| *t).collect();
        assert_eq!(names, EVENT_TYPES);
    }

    #[test]
    fn every_type_decodes_from_all_three_shapes() {
        for (event_type, data) in sample_data() {
            let canonical = json!({"type": event_type, "serverId": "srv_1",
                                   "timestamp": "2026-01-01T00:00:00Z", "data": data});
            let body = serde_json::to_vec(&canonical).unwrap();

            let hook = Envelope::from_webhook(Some("wh_1"), &body).unwrap();
            let full_sse = Envelope::from_sse(Some("1"), Some(event_type), &canonical.to_string())
                .unwrap()
                .unwrap();
            let inner_sse = Envelope::from_sse(Some("1"), Some(event_type), &data.to_string())
                .unwrap()
                .unwrap();
            let poll_item = json!({"id": "1", "eventType": event_type, "payload": canonical,
                                   "createdAt": "2026-01-01T00:00:05Z"});
            let poll = Envelope::from_poll_item(poll_item).unwrap();
            let poll_bare = Envelope::from_poll_item(json!({
                "id": "1", "eventType": event_type,
                "payload": {"type": event_type, "data": data},
                "createdAt": "2026-01-01T00:00:05Z"
            }))
            .unwrap();

            for envelope in [&hook, &full_sse, &inner_sse, &poll, &poll_bare] {
                assert_eq!(envelope.event_type(), event_type);
                assert_eq!(envelope.data(), &data);
                check_typed(envelope.event());
            }
            assert_eq!(hook.id(), Some("wh_1"));
            assert_eq!(hook.server_id(), Some("srv_1"));
            assert_eq!(full_sse.server_id(), Some("srv_1"));
            assert_eq!(inner_sse.server_id(), None);
            assert_eq!(poll.timestamp().unwrap().as_str(), "2026-01-01T00:00:00Z");
            assert_eq!(
                poll_bare.timestamp().unwrap().as_str(),
                "2026-01-01T00:00:05Z"
            );
            assert_eq!(poll_bare.server_id(), None);
            assert_eq!(hook.event(), poll.event());
        }
    }

    #[test]
    fn unknown_types_and_fields_are_kept() {
        let body = br#"{"type":"stage.started","serverId":"s","timestamp":"t","data":{"roomId":"r9","x":[1]},"extra":true}"#;
        let envelope = Envelope::from_webhook(None, body).unwrap();
        let Event::Unknown(unknown) = envelope.event() else {
            panic!("expected unknown")
        };
        assert_eq!(unknown.event_type, "stage.started");
        assert_eq!(unknown.data["x"], json!([1]));
        assert_eq!(envelope.event().room_id(), Some("r9"));

        let data = json!({"userId": "u1", "username": "a", "future": {"deep": 1}});
        let event = Event::from_parts("member.leave", data).unwrap();
        assert_eq!(MemberLeave::from_event(&event).unwrap().user_id, "u1");
    }

    #[test]
    fn documented_minimal_frame_decodes() {
        let frame = r#"{"type":"room.message","serverId":"srv_1","timestamp":"...","data":{"roomId":"room_1","content":"hi","senderName":"alice"}}"#;
        let envelope = Envelope::from_sse(Some("01J"), Some("room.message"), frame)
            .unwrap()
            .unwrap();
        let msg = envelope.event().message().unwrap();
        assert_eq!(msg.sender_name, "alice");
        assert_eq!(msg.message_id, None);
    }

    #[test]
    fn keepalives_are_not_events() {
        assert!(
            Envelope::from_sse(None, Some("ping"), "{}")
                .unwrap()
                .is_none()
        );
        assert!(Envelope::from_sse(None, None, "").unwrap().is_none());
        assert!(
            Envelope::from_sse(None, Some("room.message"), "  ")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_input_is_a_decode_error() {
        let cases: Vec<Result<Envelope>> = vec![
            Envelope::from_webhook(None, b"not json"),
            Envelope::from_webhook(None, b"[1,2]"),
            Envelope::from_webhook(None, br#"{"data":{}}"#),
            Envelope::from_webhook(None, br#"{"type":7,"data":{}}"#),
            Envelope::from_webhook(None, br#"{"type":"member.join","data":{"username":"a"}}"#),
            Envelope::from_webhook(None, br#"{"type":"member.join","data":"alice"}"#),
            Envelope::from_webhook(None, br#"{"type":"member.join"}"#),
            Envelope::from_webhook(
                None,
                br#"{"type":"presence.update","data":{"userId":"u","status":5}}"#,
            ),
            Envelope::from_webhook(None, &[0xff, 0xfe, 0x00]),
            Envelope::from_sse(None, None, r#"{"roomId":"r","content":"x"}"#).map(Option::unwrap),
            Envelope::from_sse(None, Some("message"), r#"{"roomId":"r"}"#).map(Option::unwrap),
            Envelope::from_sse(None, Some("room.message"), "{").map(Option::unwrap),
            Envelope::from_sse(None, Some("room.message"), "[]").map(Option::unwrap),
            Envelope::from_poll_item(json!("x")),
            Envelope::from_poll_item(json!({"id": "1"})),
            Envelope::from_poll_item(json!({"id": "1", "payload": []})),
            Envelope::from_poll_item(json!({"id": "1", "payload": {"userId": "u"}})),
        ];
        for (i, case) in cases.into_iter().enumerate() {
            let err = case.expect_err(&format!("case {i} should fail"));
            assert_eq!(err.kind(), &crate::ErrorKind::Decode, "case {i}: {err}");
        }
        assert!(decode_poll(b"{}").is_err());
        assert!(decode_poll(b"\"events\"").is_err());
        assert!(decode_poll(b"").is_err());
    }

    #[test]
    fn webhook_bodies_decode_alike_in_any_member_order() {
        let data = json!({"roomId": "r1", "messageId": "m1", "content": "hi", "senderName": "a"});
        let canonical = json!({"type": "room.message", "serverId": "s", "timestamp": "t",
                               "data": data, "extra": [1, {"x": null}]});
        let type_first = serde_json::to_vec(&canonical).unwrap();
        let data_first =
            format!(r#"{{"data":{data},"timestamp":"t","serverId":"s","type":"room.message"}}"#);
        let one = Envelope::from_webhook(Some("w"), &type_first).unwrap();
        let other = Envelope::from_webhook(Some("w"), data_first.as_bytes()).unwrap();
        assert_eq!(one, other);
        assert_eq!(one.data(), &data);
        assert_eq!(one.clone().data(), &data, "a clone answers the data too");
        assert_eq!(one.server_id(), Some("s"));
        assert_eq!(one.timestamp().unwrap().as_str(), "t");
        // Members of other kinds than expected are skipped, as before.
        let loose = br#"{"type":"member.leave","serverId":7,"timestamp":{"a":1},"data":{"userId":"u","username":"a"}}"#;
        let envelope = Envelope::from_webhook(None, loose).unwrap();
        assert_eq!((envelope.server_id(), envelope.timestamp()), (None, None));
    }

    #[test]
    fn webhook_errors_name_the_data_and_repeated_members_are_malformed() {
        let err =
            Envelope::from_webhook(None, br#"{"type":"member.join","data":{"username":"a"}}"#)
                .unwrap_err();
        assert!(
            err.message()
                .starts_with("webhook body: member.join data: missing field `userId`"),
            "{err}"
        );
        let err =
            Envelope::from_webhook(None, br#"{"type":"member.join","data":"alice"}"#).unwrap_err();
        assert!(err.message().contains("member.join data"), "{err}");
        for body in [
            &br#"{"type":"member.leave","type":"member.leave","data":{"userId":"u","username":"a"}}"#[..],
            br#"{"type":"member.leave","data":{"userId":"u","username":"a"},"data":{}}"#,
            br#"{"type":"member.leave","data":{"userId":"u","username":"a"}} trailing"#,
        ] {
            let err = Envelope::from_webhook(None, body).unwrap_err();
            assert_eq!(err.kind(), &crate::ErrorKind::Decode, "{err}");
        }
    }

    #[test]
    fn poll_errors_name_the_item() {
        let items = decode_poll(br#"{"events":[{"id":"e7","eventType":"member.join","payload":{"type":"member.join","data":{}}}]}"#).unwrap();
        let err = items.into_iter().next().unwrap().unwrap_err();
        assert!(
            err.message().starts_with("poll item e7: member.join data"),
            "{err}"
        );
    }

    #[test]
    fn poll_item_with_numeric_id_and_bare_payload() {
        let envelope = Envelope::from_poll_item(json!({
            "id": 17, "eventType": "member.leave", "payload": {"userId": "u", "username": "a"}
        }))
        .unwrap();
        assert_eq!(envelope.id(), Some("17"));
        assert!(matches!(envelope.event(), Event::MemberLeave(_)));
    }
}
