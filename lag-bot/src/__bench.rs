//! The crate's internal steps of handling a delivery that are not public, for the benchmarks in
//! `benches/`. Not a public API: it changes whenever those steps do.

use std::sync::Arc;

use crate::Result;
use crate::command::lookup::{CommandIndex, Me};
use crate::command::{Command, CommandOptions, Hear, MemoryCooldowns};
use crate::events::{Envelope, RoomMessage};
use crate::transport::{Claim, Dedup, DedupBackend, DedupStore, OnStoreError};

/// A robot's commands and pattern listeners indexed as the robot indexes them when it starts.
pub struct Router {
    index: CommandIndex<()>,
}

impl Router {
    /// Indexes `commands` and `hears` with the default options (the built-in help included).
    pub fn new(commands: Vec<Command>, hears: Vec<Hear>) -> Result<Self> {
        let index = CommandIndex::new(
            commands,
            hears,
            CommandOptions::default(),
            Arc::new(MemoryCooldowns::new()),
        )?;
        Ok(Self { index })
    }

    /// How many runs `msg` asks of a robot with this id and name: the lookup and pattern pass
    /// a room message goes through, without starting any run.
    pub fn decide(&self, robot_id: &str, robot_name: &str, msg: &RoomMessage) -> usize {
        let me = Me {
            id: robot_id,
            name: robot_name,
        };
        self.index.decide(me, msg).len()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").finish_non_exhaustive()
    }
}

/// The dispatcher's deduplication of deliveries, over a store.
pub struct Claimer {
    dedup: Dedup,
}

impl Claimer {
    /// Claims in `store`, as a robot given a store does.
    pub fn new(store: Arc<dyn DedupStore>) -> Self {
        Self {
            dedup: Dedup::new(DedupBackend::Given(store)),
        }
    }

    /// Claims in an in-memory store of the default capacity, as a robot does by default.
    pub fn memory() -> Self {
        Self {
            dedup: Dedup::new(DedupBackend::of(None)),
        }
    }

    /// Claims every id of `envelope` as a webhook delivery is claimed: `true` when it is fresh.
    pub async fn claim(&self, envelope: &Envelope) -> bool {
        matches!(
            self.dedup.claim(envelope, OnStoreError::Refuse).await,
            Claim::Fresh
        )
    }
}

impl std::fmt::Debug for Claimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimer").finish_non_exhaustive()
    }
}
