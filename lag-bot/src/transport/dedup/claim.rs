//! Deciding whether a delivery was seen before: the ids it is remembered under, and claiming
//! them in the robot's [`DedupStore`].

use std::sync::Arc;

use super::DedupStore;
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

/// The robot's deduplication: which ids a delivery is known by, claimed in its store.
pub(crate) struct Dedup {
    /// `None` when deliveries were deduplicated before they reached the dispatcher (the
    /// durable intake does it as it appends them).
    store: Option<Arc<dyn DedupStore>>,
}

impl Dedup {
    pub(crate) fn new(store: Arc<dyn DedupStore>) -> Self {
        Self { store: Some(store) }
    }

    /// No deduplication here: it happened upstream, and a delivery offered again is a retry.
    #[cfg(feature = "redis")]
    pub(crate) fn upstream() -> Self {
        Self { store: None }
    }

    /// Claims every id of `envelope`: [`Claim::Fresh`] when none was claimed before.
    pub(crate) async fn claim(&self, envelope: &Envelope, on_error: OnStoreError) -> Claim {
        let Some(store) = &self.store else {
            return Claim::Fresh;
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
                    self.release(&claimed).await;
                    return Claim::Failed(err);
                }
            }
        }
        Claim::Fresh
    }

    async fn release(&self, keys: &[String]) {
        let Some(store) = &self.store else {
            return;
        };
        for key in keys {
            if let Err(err) = store.release(key).await {
                tracing::warn!(error = %err, key, "could not release a dedup claim");
            }
        }
    }
}

/// The ids under which a delivery is remembered: its delivery id and, for events that carry
/// one, an id derived from the data. The second catches a redelivery that arrives under a new
/// delivery id.
pub(crate) fn dedup_keys(envelope: &Envelope) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(id) = envelope.id() {
        keys.push(format!("id:{id}"));
    }
    let event_type = envelope.event_type();
    let derived = match envelope.event() {
        Event::RoomMessage(_) | Event::RobotMentioned(_) => envelope
            .event()
            .message()
            .and_then(|m| m.message_id.as_deref())
            .map(|id| format!("{event_type}:{id}")),
        Event::RoomMessageDeleted(e) => Some(format!("{event_type}:{}", e.message_id)),
        Event::RoomMessageEdited(e) => e
            .edited_at
            .as_ref()
            .map(|at| format!("{event_type}:{}@{}", e.message_id, at.as_str())),
        _ => None,
    };
    keys.extend(derived);
    keys
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transport::MemoryDedup;

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
    async fn a_redelivery_under_a_new_id_is_a_duplicate() {
        let dedup = Dedup::new(Arc::new(MemoryDedup::default()));
        let data = json!({"roomId": "r", "messageId": "m1", "content": "hi"});
        let first = envelope(Some("evt_1"), "room.message", data.clone());
        let again = envelope(Some("evt_2"), "room.message", data);
        assert!(matches!(
            dedup.claim(&first, OnStoreError::Refuse).await,
            Claim::Fresh
        ));
        assert!(matches!(
            dedup.claim(&first, OnStoreError::Refuse).await,
            Claim::Duplicate
        ));
        assert!(matches!(
            dedup.claim(&again, OnStoreError::Refuse).await,
            Claim::Duplicate
        ));
    }
}
