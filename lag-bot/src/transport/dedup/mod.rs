//! Remembering which deliveries already arrived, so a redelivered event runs once: the ids a
//! delivery is known by, the store that remembers them, and the claim the dispatcher makes.

mod claim;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::Result;

#[cfg(feature = "redis")]
pub(crate) use claim::dedup_keys;
pub(crate) use claim::{Claim, Dedup, OnStoreError};

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
/// minutes; a few thousand ids cover hours of traffic for a typical robot in a few hundred
/// kilobytes. The oldest id is forgotten first.
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
    inner: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    // One allocation per id, shared by the map and the queue.
    order: VecDeque<(Arc<str>, u64)>,
    seen: HashMap<Arc<str>, u64>,
    next: u64,
}

impl MemoryDedup {
    /// The default number of remembered ids.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A store remembering the last `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Ring::default()),
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

    fn claim_now(&self, id: &str) -> bool {
        let mut ring = self.lock();
        if ring.seen.contains_key(id) {
            return false;
        }
        let generation = ring.next;
        ring.next += 1;
        let id: Arc<str> = Arc::from(id);
        ring.seen.insert(Arc::clone(&id), generation);
        ring.order.push_back((id, generation));
        while ring.seen.len() > self.capacity {
            let Some((old, generation)) = ring.order.pop_front() else {
                break;
            };
            // One lookup for the usual case, the oldest entry still current; a stale entry (the
            // id was released and claimed again since) puts the newer claim back.
            if let Some(newer) = ring.seen.remove(&old)
                && newer != generation
            {
                ring.seen.insert(old, newer);
            }
        }
        // Released ids leave stale entries behind; keep the ring from growing without bound.
        if ring.order.len() > self.capacity.saturating_mul(2) {
            let Ring { order, seen, .. } = &mut *ring;
            order.retain(|(id, generation)| seen.get(id) == Some(generation));
        }
        true
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
        self.lock().seen.remove(id);
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
    fn a_released_and_reclaimed_id_is_not_evicted_by_its_stale_entry() {
        let store = MemoryDedup::new(3);
        assert!(store.claim_now("a"));
        store.lock().seen.remove("a");
        assert!(store.claim_now("b"));
        assert!(store.claim_now("a"));
        assert!(store.claim_now("c"));
        // The first entry of `a` is evicted now, but `a` was claimed again since.
        assert!(!store.claim_now("a"));
        assert!(store.order_len() <= 6);
    }

    #[test]
    fn stale_entries_do_not_grow_without_bound() {
        let store = MemoryDedup::new(4);
        for i in 0..1000 {
            let id = format!("e{i}");
            assert!(store.claim_now(&id));
            store.lock().seen.remove(id.as_str());
        }
        assert!(store.order_len() <= 8);
        assert!(store.is_empty());
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
                            store.lock().seen.remove(format!("evt_{n}").as_str());
                        }
                    }
                    prop_assert_eq!(store.len(), window.len());
                    prop_assert!(store.len() <= capacity);
                    prop_assert!(store.order_len() <= 2 * capacity + 1);
                }
            }
        }
    }
}
