//! The intake's Redis keys, all under the robot's prefix, and the partition of an event.

use crate::events::Envelope;

/// The consumer group every replica's worker reads the partitions in.
pub(super) const GROUP: &str = "workers";

/// The stream field an entry's event is stored in.
pub(super) const FIELD: &str = "event";

/// The names of the intake's keys for one robot.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
    partitions: u16,
}

impl Keys {
    pub(super) fn new(prefix: &str, partitions: u16) -> Self {
        Self {
            prefix: prefix.to_owned(),
            partitions: partitions.max(1),
        }
    }

    pub(super) fn partitions(&self) -> u16 {
        self.partitions
    }

    /// The stream of partition `p`.
    pub(super) fn stream(&self, p: u16) -> String {
        format!("{}:intake:p{p}", self.prefix)
    }

    /// The lease naming the replica that reads partition `p`.
    pub(super) fn owner(&self, p: u16) -> String {
        format!("{}:intake:p{p}:owner", self.prefix)
    }

    /// The stream of events given up after too many attempts.
    pub(super) fn dead(&self) -> String {
        format!("{}:intake:dead", self.prefix)
    }

    /// The hash counting the attempts of each unfinished entry (`p:entry-id`).
    pub(super) fn attempts(&self) -> String {
        format!("{}:intake:attempts", self.prefix)
    }

    /// The sorted set of live replicas, scored by when their heartbeat runs out.
    pub(super) fn replicas(&self) -> String {
        format!("{}:intake:replicas", self.prefix)
    }

    /// The lease naming the replica that holds the SSE or long-poll connection.
    pub(super) fn feed_owner(&self) -> String {
        format!("{}:intake:feed:owner", self.prefix)
    }

    /// Where the SSE resume point (the last event id appended) is kept.
    pub(super) fn sse_resume(&self) -> String {
        format!("{}:intake:sse:resume", self.prefix)
    }

    /// The marker of a delivery id (or data-derived id) already appended.
    pub(super) fn seen(&self, dedup_key: &str) -> String {
        format!("{}:intake:seen:{dedup_key}", self.prefix)
    }

    /// The partition of an event: a stable hash of its ordering lane (room, member or server),
    /// so one room's events always share one stream.
    pub(super) fn partition_of(&self, envelope: &Envelope) -> u16 {
        let lane = crate::events::lane_key(envelope.event());
        // FNV-1a: stable across processes, versions and platforms, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in lane.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        u16::try_from(hash % u64::from(self.partitions)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(room: &str) -> Envelope {
        Envelope::new(
            Some("evt".into()),
            "room.message",
            None,
            None,
            json!({"roomId": room, "content": "hi"}),
        )
        .unwrap()
    }

    #[test]
    fn a_room_always_lands_in_one_partition_and_rooms_spread() {
        let keys = Keys::new("lag-bot:r1", 16);
        assert_eq!(
            keys.partition_of(&message("room_a")),
            keys.partition_of(&message("room_a"))
        );
        let used: std::collections::HashSet<u16> = (0..100)
            .map(|i| keys.partition_of(&message(&format!("room_{i}"))))
            .collect();
        assert!(used.len() > 8, "100 rooms used only {used:?}");
        assert!(used.iter().all(|p| *p < 16));
        assert_eq!(keys.stream(3), "lag-bot:r1:intake:p3");
        assert!(keys.seen("id:x").starts_with("lag-bot:r1:"));
    }
}
