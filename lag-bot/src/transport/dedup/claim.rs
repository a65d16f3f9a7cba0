//! Deciding whether a delivery was seen before: the ids it is remembered under, and claiming
//! them in the robot's [`DedupStore`].

use std::sync::Arc;

use super::{DedupStore, MemoryDedup};
use crate::Error;
use crate::events::{Envelope, Event};

/// What claiming a delivery found.
#[derive(Debug)]
pub(crate) enum Claim {
    /// First time seen: run it.
    Fresh,
    /// Already accepted once: drop it.
    Duplicate,
    /// The store failed; nothing stays claimed, so a redelivery is not taken for a duplicate.
    Failed(Error),
}

/// How a failing store is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnStoreError {
    /// Refuse the delivery (webhook: Lag redelivers it later).
    Refuse,
    /// Run the event unrecorded (SSE, poll: it was already taken from Lag and cannot come
    /// back, so running it beats losing it).
    RunAnyway,
}

/// Where a robot deduplicates.
#[derive(Clone)]
pub(crate) enum DedupBackend {
    /// Its own in-memory store, claimed directly: no key is written out, no future boxed.
    Memory(Arc<MemoryDedup>),
    /// A store it was given (shared by replicas, or the author's own).
    Given(Arc<dyn DedupStore>),
}

impl DedupBackend {
    /// The `given` store, or a new in-memory one of the default capacity.
    pub(crate) fn of(given: Option<Arc<dyn DedupStore>>) -> Self {
        match given {
            Some(store) => DedupBackend::Given(store),
            None => DedupBackend::Memory(Arc::new(MemoryDedup::default())),
        }
    }
}

/// The robot's deduplication: which ids a delivery is known by, claimed in its store.
pub(crate) struct Dedup {
    /// `None` when deliveries were deduplicated before they reached the dispatcher (the
    /// durable intake does it as it appends them).
    store: Option<DedupBackend>,
}

impl Dedup {
    pub(crate) fn new(store: DedupBackend) -> Self {
        Self { store: Some(store) }
    }

    /// No deduplication here: it happened upstream, and a delivery offered again is a retry.
    #[cfg(feature = "redis")]
    pub(crate) fn upstream() -> Self {
        Self { store: None }
    }

    /// Claims every id of `envelope`: [`Claim::Fresh`] when none was claimed before.
    pub(crate) async fn claim(&self, envelope: &Envelope, on_error: OnStoreError) -> Claim {
        let store = match &self.store {
            None => return Claim::Fresh,
            Some(DedupBackend::Memory(memory)) => {
                let keys = key_parts(envelope);
                let fresh = memory
                    .claim_in_order(keys.iter().flatten().map(|parts| memory.fingerprint(parts)));
                if fresh {
                    return Claim::Fresh;
                }
                tracing::debug!(event_id = envelope.id(), "duplicate delivery dropped");
                return Claim::Duplicate;
            }
            Some(DedupBackend::Given(store)) => store,
        };
        let mut claimed = Vec::with_capacity(2);
        for key in dedup_keys(envelope) {
            match store.claim(&key).await {
                Ok(true) => claimed.push(key),
                Ok(false) => {
                    tracing::debug!(key, "duplicate delivery dropped");
                    return Claim::Duplicate;
                }
                Err(err) if on_error == OnStoreError::RunAnyway => {
                    tracing::warn!(error = %err, key, "dedup store failed; running the event unrecorded");
                }
                Err(err) => {
                    for key in &claimed {
                        if let Err(err) = store.release(key).await {
                            tracing::warn!(error = %err, key, "could not release a dedup claim");
                        }
                    }
                    return Claim::Failed(err);
                }
            }
        }
        Claim::Fresh
    }
}

/// An id written as the concatenation of its pieces ("" for the unused ones).
type KeyParts<'a> = [&'a str; 5];

/// The ids under which a delivery is remembered, in pieces: its delivery id and, for events
/// that carry one, an id derived from the data. The second catches a redelivery that arrives
/// under a new delivery id.
fn key_parts(envelope: &Envelope) -> [Option<KeyParts<'_>>; 2] {
    let id = envelope.id().map(|id| ["id:", id, "", "", ""]);
    let event_type = envelope.event_type();
    let derived = match envelope.event() {
        Event::RoomMessage(_) | Event::RobotMentioned(_) => envelope
            .event()
            .message()
            .and_then(|m| m.message_id.as_deref())
            .map(|id| [event_type, ":", id, "", ""]),
        Event::RoomMessageDeleted(e) => Some([event_type, ":", e.message_id.as_str(), "", ""]),
        Event::RoomMessageEdited(e) => e
            .edited_at
            .as_ref()
            .map(|at| [event_type, ":", e.message_id.as_str(), "@", at.as_str()]),
        _ => None,
    };
    [id, derived]
}

/// The ids under which a delivery is remembered (see [`key_parts`]), written out.
pub(crate) fn dedup_keys(envelope: &Envelope) -> Vec<String> {
    key_parts(envelope)
        .iter()
        .flatten()
        .map(|parts| parts.concat())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope(id: Option<&str>, event_type: &str, data: serde_json::Value) -> Envelope {
        Envelope::new(id.map(str::to_owned), event_type, None, None, data).unwrap()
    }

    #[test]
    fn dedup_keys_use_the_delivery_id_and_the_message_id() {
        let msg = envelope(
            Some("evt_1"),
            "room.message",
            json!({"roomId": "r", "messageId": "m1", "content": "hi"}),
        );
        assert_eq!(dedup_keys(&msg), ["id:evt_1", "room.message:m1"]);
        let mention = envelope(
            Some("evt_2"),
            "robot.mentioned",
            json!({"roomId": "r", "messageId": "m1", "content": "hi"}),
        );
        assert_eq!(dedup_keys(&mention), ["id:evt_2", "robot.mentioned:m1"]);
        let join = envelope(None, "member.join", json!({"userId": "u"}));
        assert!(dedup_keys(&join).is_empty());
        let edit = envelope(
            Some("e"),
            "room.message.edited",
            json!({"roomId": "r", "messageId": "m1", "content": "x", "editedAt": "t1"}),
        );
        assert_eq!(dedup_keys(&edit), ["id:e", "room.message.edited:m1@t1"]);
    }

    #[tokio::test]
    async fn a_redelivery_under_a_new_id_is_a_duplicate_in_the_own_and_a_given_store() {
        let given = DedupBackend::Given(Arc::new(MemoryDedup::default()));
        for store in [DedupBackend::of(None), given] {
            let dedup = Dedup::new(store);
            let data = json!({"roomId": "r", "messageId": "m1", "content": "hi"});
            let first = envelope(Some("evt_1"), "room.message", data.clone());
            let again = envelope(Some("evt_2"), "room.message", data);
            let other = envelope(
                Some("evt_3"),
                "room.message",
                json!({"roomId": "r", "messageId": "m2", "content": "hi"}),
            );
            let claim = |envelope| dedup.claim(envelope, OnStoreError::Refuse);
            assert!(matches!(claim(&first).await, Claim::Fresh));
            assert!(matches!(claim(&first).await, Claim::Duplicate));
            assert!(matches!(claim(&again).await, Claim::Duplicate));
            assert!(matches!(claim(&other).await, Claim::Fresh));
        }
    }
}
