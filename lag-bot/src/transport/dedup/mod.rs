//! Remembering which deliveries already arrived, so a redelivered event runs once: the ids a
//! delivery is known by, the store that remembers them, and the claim the dispatcher makes.

mod claim;

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher as _, BuildHasherDefault, Hasher, RandomState};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::Result;

#[cfg(feature = "redis")]
pub(crate) use claim::dedup_keys;
pub(crate) use claim::{Claim, Dedup, DedupBackend, OnStoreError};

/// Where a robot remembers the ids of the deliveries it has accepted.
///
/// Lag redelivers an event when it did not see a success answer in time, and reconnecting
/// transports may replay a few events; a store makes each id run once. The in-memory
/// [`MemoryDedup`] serves a single process; a shared store (e.g. Redis `SET NX EX`) lets
/// several replicas of one robot share the work without running an event twice.
///
/// Implement it with the [`async-trait`](https://docs.rs/async-trait) crate, so that the
/// methods are plain `async fn`s and the store can be used as `Arc<dyn DedupStore>`:
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::Mutex;
///
/// use async_trait::async_trait;
/// use lag_bot::transport::DedupStore;
///
/// /// Remembers every id for as long as the process runs (fine for a short test).
/// #[derive(Default)]
/// struct Forever(Mutex<HashSet<String>>);
///
/// #[async_trait]
/// impl DedupStore for Forever {
///     async fn claim(&self, id: &str) -> lag_bot::Result<bool> {
///         Ok(self.0.lock().unwrap().insert(id.to_owned()))
///     }
///
///     async fn release(&self, id: &str) -> lag_bot::Result<()> {
///         self.0.lock().unwrap().remove(id);
///         Ok(())
///     }
/// }
///
/// # tokio_test_block(async {
/// let store = Forever::default();
/// assert!(store.claim("evt_1").await?);
/// assert!(!store.claim("evt_1").await?, "a second claim is a duplicate");
/// store.release("evt_1").await?;
/// assert!(store.claim("evt_1").await?, "a released id can be claimed again");
/// # Ok::<(), lag_bot::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait DedupStore: Send + Sync + 'static {
    /// Records `id` and answers `true` if it was not already recorded, `false` for a duplicate.
    /// Must be atomic: of two concurrent claims of one id, exactly one gets `true`.
    async fn claim(&self, id: &str) -> Result<bool>;

    /// Forgets `id` again. The runtime calls it when a claimed delivery could not be accepted
    /// (queue full, shutting down), so that Lag's redelivery is not mistaken for a duplicate.
    async fn release(&self, id: &str) -> Result<()>;
}

/// An in-memory [`DedupStore`] holding the most recent `capacity` ids.
///
/// Lag retries for up to about a day and a half, but nearly all redeliveries arrive within
/// minutes; a few thousand ids cover hours of traffic for a typical robot. Each id is kept as
/// a 64-bit fingerprint (SipHash with a key drawn when the store is made), about 40 bytes per
/// id whatever its length, with no allocation per id; two different ids share a fingerprint
/// with a chance of about one in 10¹⁵ per claim at the default capacity. The oldest id is
/// forgotten first.
///
/// ```
/// use lag_bot::transport::{DedupStore, MemoryDedup};
///
/// # tokio_test_block(async {
/// let store = MemoryDedup::new(1000);
/// assert!(store.claim("evt_1").await?);
/// assert!(!store.claim("evt_1").await?, "a second claim is a duplicate");
/// store.release("evt_1").await?;
/// assert!(store.claim("evt_1").await?, "a released id can be claimed again");
/// assert_eq!(store.len(), 1);
/// # Ok::<(), lag_bot::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct MemoryDedup {
    capacity: usize,
    keys: RandomState,
    inner: Mutex<Ring>,
}

struct Ring {
    /// The remembered fingerprints, oldest first; `seen` holds the same ones.
    order: VecDeque<u64>,
    seen: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

/// The set's hasher: its keys are already uniformly distributed hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl MemoryDedup {
    /// The default number of remembered ids.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A store remembering the last `capacity` ids (at least one). Up to 65,536 ids, its
    /// memory is taken at once and never grows: the set has room for twice `capacity`, so
    /// that the places freed by forgotten ids are reused in place, not by growing it.
    pub fn new(capacity: usize) -> Self {
        const TAKEN_AT_ONCE: usize = 1 << 16;
        let capacity = capacity.max(1);
        let reserved = capacity.min(TAKEN_AT_ONCE);
        Self {
            capacity,
            keys: RandomState::new(),
            inner: Mutex::new(Ring {
                order: VecDeque::with_capacity(reserved),
                seen: HashSet::with_capacity_and_hasher(
                    reserved * 2,
                    BuildHasherDefault::default(),
                ),
            }),
        }
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fingerprint of the id written as the concatenation of `parts`.
    pub(crate) fn fingerprint(&self, parts: &[&str]) -> u64 {
        let mut hasher = self.keys.build_hasher();
        for part in parts {
            hasher.write(part.as_bytes());
        }
        hasher.finish()
    }

    fn claim_now(&self, id: &str) -> bool {
        self.claim_in_order([self.fingerprint(&[id])])
    }

    fn release_now(&self, id: &str) {
        self.release_fingerprints([self.fingerprint(&[id])]);
    }

    /// Claims `fingerprints` in order under one lock, as claiming them one by one would: `true`
    /// when all were fresh; at the first one seen before, `false`, the earlier ones staying
    /// claimed.
    pub(crate) fn claim_in_order(&self, fingerprints: impl IntoIterator<Item = u64>) -> bool {
        let mut ring = self.lock();
        for fingerprint in fingerprints {
            if !ring.seen.insert(fingerprint) {
                return false;
            }
            ring.order.push_back(fingerprint);
            while ring.order.len() > self.capacity {
                if let Some(oldest) = ring.order.pop_front() {
                    ring.seen.remove(&oldest);
                }
            }
        }
        true
    }

    /// Forgets `fingerprints` again. Releasing undoes a claim that was just made (a delivery
    /// that could not be accepted), so each is looked for from the newest end.
    pub(crate) fn release_fingerprints(&self, fingerprints: impl IntoIterator<Item = u64>) {
        let mut ring = self.lock();
        for fingerprint in fingerprints {
            if ring.seen.remove(&fingerprint)
                && let Some(at) = ring.order.iter().rposition(|&f| f == fingerprint)
            {
                ring.order.remove(at);
            }
        }
    }
}

impl Default for MemoryDedup {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for MemoryDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDedup")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[async_trait]
impl DedupStore for MemoryDedup {
    async fn claim(&self, id: &str) -> Result<bool> {
        Ok(self.claim_now(id))
    }

    async fn release(&self, id: &str) -> Result<()> {
        self.release_now(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let store = MemoryDedup::new(2);
        assert!(store.claim_now("a"));
        assert!(store.claim_now("b"));
        assert!(!store.claim_now("a"));
        assert!(store.claim_now("c"));
        assert_eq!(store.len(), 2);
        assert!(store.claim_now("a"), "`a` was the oldest and is forgotten");
        assert!(!store.claim_now("c"));
    }

    #[test]
    fn a_released_and_reclaimed_id_counts_from_its_new_claim() {
        let store = MemoryDedup::new(3);
        assert!(store.claim_now("a"));
        store.release_now("a");
        assert!(store.claim_now("b"));
        assert!(store.claim_now("a"));
        assert!(store.claim_now("c"));
        // Three claims since `a`'s first, but `a` was claimed again since: still remembered.
        assert!(!store.claim_now("a"));
        assert!(store.claim_now("d"));
        assert!(
            store.claim_now("b"),
            "`b` is now the oldest of four and forgotten"
        );
    }

    #[test]
    fn released_ids_leave_nothing_behind() {
        let store = MemoryDedup::new(4);
        for i in 0..1000 {
            let id = format!("e{i}");
            assert!(store.claim_now(&id));
            store.release_now(&id);
        }
        assert_eq!(store.order_len(), 0);
        assert!(store.is_empty());
    }

    #[test]
    fn an_id_written_in_pieces_is_the_same_id() {
        let store = MemoryDedup::new(8);
        assert_eq!(
            store.fingerprint(&["room.message", ":", "m1"]),
            store.fingerprint(&["room.message:m1"])
        );
        assert_ne!(
            store.fingerprint(&["room.message:m1"]),
            store.fingerprint(&["room.message:m2"])
        );
        assert!(store.claim_in_order([store.fingerprint(&["id:", "evt_1"])]));
        assert!(!store.claim_now("id:evt_1"));
    }

    #[test]
    fn claiming_in_order_stops_at_the_first_duplicate_and_keeps_the_earlier_claims() {
        let store = MemoryDedup::new(8);
        assert!(store.claim_now("b"));
        let [a, b, c] = ["a", "b", "c"].map(|id| store.fingerprint(&[id]));
        assert!(!store.claim_in_order([a, b, c]));
        assert!(
            !store.claim_now("a"),
            "`a` was claimed before the duplicate"
        );
        assert!(store.claim_now("c"), "`c` came after the duplicate");
    }

    impl MemoryDedup {
        fn order_len(&self) -> usize {
            self.lock().order.len()
        }
    }

    mod properties {
        use std::collections::VecDeque;

        use proptest::prelude::*;

        use super::*;

        #[derive(Debug, Clone)]
        enum Op {
            Claim(u8),
            Release(u8),
        }

        fn op() -> impl Strategy<Value = Op> {
            // A small alphabet of ids, so that ids repeat, are released and come back.
            prop_oneof![
                3 => (0u8..24).prop_map(Op::Claim),
                1 => (0u8..24).prop_map(Op::Release),
            ]
        }

        proptest! {
            /// The store answers exactly like its definition: an id is a duplicate while it is
            /// among the last `capacity` ids claimed and not released; its memory stays within
            /// a constant factor of `capacity`, whatever the order of claims and releases.
            #[test]
            fn remembers_exactly_its_window_in_bounded_memory(
                capacity in 1usize..12,
                ops in proptest::collection::vec(op(), 0..400),
            ) {
                let store = MemoryDedup::new(capacity);
                let mut window: VecDeque<u8> = VecDeque::new();
                for op in ops {
                    match op {
                        Op::Claim(n) => {
                            let expected = !window.contains(&n);
                            if expected {
                                window.push_back(n);
                                if window.len() > capacity {
                                    window.pop_front();
                                }
                            }
                            prop_assert_eq!(store.claim_now(&format!("evt_{n}")), expected, "claim {}", n);
                        }
                        Op::Release(n) => {
                            window.retain(|&w| w != n);
                            store.release_now(&format!("evt_{n}"));
                        }
                    }
                    prop_assert_eq!(store.len(), window.len());
                    prop_assert!(store.len() <= capacity);
                    prop_assert_eq!(store.order_len(), store.len());
                }
            }
        }
    }
}
