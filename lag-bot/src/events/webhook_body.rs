//! Reading a webhook body in one pass: the envelope's members as they stream by, and the
//! event's `data` straight into its typed event when the `type` came first (as Lag sends it),
//! with no JSON value in between.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::Event;
use crate::model::Timestamp;

/// What a webhook body holds once read: the parts of the envelope, the event typed or its data
/// kept as a value (for an unknown type, or a `data` sent before the `type`).
pub(super) struct WebhookParts {
    pub(super) event_type: Option<String>,
    pub(super) server_id: Option<String>,
    pub(super) timestamp: Option<Timestamp>,
    pub(super) data: WebhookData,
}

pub(super) enum WebhookData {
    Typed(Event),
    Value(Value),
}

/// Reads a webhook body in one pass; sets `in_data` while the typed event is being read, so
/// that an error there is reported as the data's.
pub(super) struct WebhookBody<'a> {
    pub(super) in_data: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for WebhookBody<'_> {
    type Value = WebhookParts;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<WebhookParts, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for WebhookBody<'_> {
    type Value = WebhookParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WebhookParts, A::Error> {
        let mut event_type: Option<String> = None;
        let (mut server_id, mut timestamp) = (None, None);
        let mut data: Option<WebhookData> = None;
        let mut seen_type = false;
        while let Some(key) = map.next_key::<BodyKey>()? {
            match key {
                BodyKey::Type => {
                    if seen_type {
                        return Err(de::Error::duplicate_field("type"));
                    }
                    seen_type = true;
                    event_type = match map.next_value::<Loose>()? {
                        Loose::Str(text) if !text.is_empty() => Some(text),
                        Loose::Str(_) | Loose::Null => None,
                        Loose::Other(kind) => {
                            return Err(de::Error::custom(format_args!(
                                "expected `type` to be a string, got {kind}"
                            )));
                        }
                    };
                }
                BodyKey::ServerId => server_id = map.next_value::<Loose>()?.into_string(),
                BodyKey::Timestamp => {
                    timestamp = map.next_value::<Loose>()?.into_string().map(Timestamp::new);
                }
                BodyKey::Data if data.is_some() => return Err(de::Error::duplicate_field("data")),
                BodyKey::Data => {
                    data = Some(match event_type.as_deref() {
                        Some(known) if Event::is_known(known) => {
                            self.in_data.set(true);
                            let event = map.next_value_seed(TypedData(known))?;
                            self.in_data.set(false);
                            WebhookData::Typed(event)
                        }
                        _ => WebhookData::Value(map.next_value()?),
                    });
                }
                BodyKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(WebhookParts {
            event_type,
            server_id,
            timestamp,
            data: data.unwrap_or(WebhookData::Value(Value::Null)),
        })
    }
}

/// The members of a webhook body the envelope reads; the rest are skipped.
enum BodyKey {
    Type,
    ServerId,
    Timestamp,
    Data,
    Other,
}

impl<'de> Deserialize<'de> for BodyKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = BodyKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<BodyKey, E> {
                Ok(match key {
                    "type" => BodyKey::Type,
                    "serverId" => BodyKey::ServerId,
                    "timestamp" => BodyKey::Timestamp,
                    "data" => BodyKey::Data,
                    _ => BodyKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A member read for its text when it is a string; any other value is skipped, named by kind.
enum Loose {
    Str(String),
    Null,
    Other(&'static str),
}

impl Loose {
    fn into_string(self) -> Option<String> {
        match self {
            Loose::Str(text) => Some(text),
            Loose::Null | Loose::Other(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor;
        impl<'de> Visitor<'de> for LooseVisitor {
            type Value = Loose;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Loose, E> {
                Ok(Loose::Str(text.to_owned()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Loose, E> {
                Ok(Loose::Str(text))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Loose, E> {
                Ok(Loose::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Loose, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Loose, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Loose, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("an object"))
            }
        }
        deserializer.deserialize_any(LooseVisitor)
    }
}

/// Reads the `data` of a known event type into its typed event.
struct TypedData<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for TypedData<'_> {
    type Value = Event;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Event, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypedData<'_> {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object (the data of {})", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Event, A::Error> {
        Event::decode_known_map(self.0, map)
            .unwrap_or_else(|| Err(de::Error::custom("not a known event type")))
    }
}

/// The `type` of a webhook body whose data failed to decode, to name it in the error.
pub(super) fn webhook_event_type(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct TypeOnly {
        #[serde(rename = "type")]
        event_type: String,
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    // Only on the error path: the body is read again, skipping its data.
    TypeOnly::deserialize(&mut deserializer)
        .ok()
        .map(|only| only.event_type)
}
