//! [`MemoryStore`]: one process, bounded by entries and time.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::ReplayKey;
use crate::store::{ReplayStore, Reserve, StoreError, StoreFuture, Token};

/// An in-memory [`ReplayStore`] for a single process, holding at most `capacity` entries.
///
/// # When full
///
/// A reservation that finds the store full first sweeps the expired entries (only when one
/// can have expired: the earliest expiry is tracked, so a flood of fresh keys costs O(1)
/// per refusal, not a scan). If it is still full, the key is refused with
/// [`StoreError::Full`] (`503`), and **no unexpired entry is ever evicted**: evicting one
/// would reopen the replay window of exactly that delivery, silently, whereas a `503` only
/// delays a new delivery, which its provider retries. Reaching the cap means more distinct
/// verified deliveries within a window than configured: a signal to raise the cap or shorten
/// the window, not something a replay can cause (a replay has an existing key).
///
/// Each entry is a fixed-size key (see [`ReplayKey`]) plus its state and expiry, about
/// 100 bytes with the map's overhead, so memory is bounded by the cap.
///
/// ```
/// use std::time::Duration;
/// use bookhook_replay::{MemoryStore, ReplayKey, ReplayStore, Reserve, StoreError};
/// use bookhook_verify::Provider;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryStore::new(1);
/// let lease = Duration::from_secs(30);
/// let a = ReplayKey::body(Provider::Slatis, b"a");
/// assert!(matches!(store.reserve(a, lease).await, Ok(Reserve::Reserved(_))));
/// assert!(matches!(store.reserve(a, lease).await, Ok(Reserve::InFlight)));
/// let b = ReplayKey::body(Provider::Slatis, b"b");
/// assert!(matches!(store.reserve(b, lease).await, Err(StoreError::Full { capacity: 1 })));
/// assert_eq!(store.len(), 1);
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    map: Mutex<Map>,
    next_token: AtomicU64,
    clock: Box<dyn Fn() -> Instant + Send + Sync>,
}

struct Map {
    entries: HashMap<ReplayKey, Entry>,
    /// No entry expires before this (a lower bound: entries may have been removed or
    /// extended since it was computed), so a sweep before it would free nothing.
    earliest_expiry: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Entry {
    state: State,
    expires_at: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Reserved(Token),
    Committed,
}

impl MemoryStore {
    /// A store holding at most `capacity` entries (in flight and committed).
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, Instant::now)
    }

    /// As [`new`](Self::new), reading "now" from `clock` (tests move time forward with it).
    pub fn with_clock(
        capacity: usize,
        clock: impl Fn() -> Instant + Send + Sync + 'static,
    ) -> Self {
        MemoryStore {
            inner: Arc::new(Inner {
                capacity,
                map: Mutex::new(Map {
                    entries: HashMap::new(),
                    earliest_expiry: None,
                }),
                next_token: AtomicU64::new(1),
                clock: Box::new(clock),
            }),
        }
    }

    /// The configured maximum number of entries.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// The number of entries held now, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // Every critical section leaves the map consistent (single inserts and removals),
        // so a panic elsewhere while holding the lock cannot have broken it.
        self.inner
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// [`ReplayStore::reserve`] without a future: the in-memory store never waits.
    ///
    /// # Errors
    ///
    /// [`StoreError::Full`] when the store holds `capacity` unexpired entries.
    pub fn reserve_now(&self, key: ReplayKey, lease: Duration) -> Result<Reserve, StoreError> {
        let now = (self.inner.clock)();
        let mut map = self.lock();
        if let Some(entry) = map.entries.get(&key) {
            if entry.expires_at > now {
                return Ok(match entry.state {
                    State::Reserved(_) => Reserve::InFlight,
                    State::Committed => Reserve::Committed,
                });
            }
        } else if map.entries.len() >= self.inner.capacity {
            map.sweep(now);
            if map.entries.len() >= self.inner.capacity {
                return Err(StoreError::Full {
                    capacity: self.inner.capacity,
                });
            }
        }
        let token = Token(self.inner.next_token.fetch_add(1, Ordering::Relaxed));
        let expires_at = now
            .checked_add(lease)
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        map.entries.insert(
            key,
            Entry {
                state: State::Reserved(token),
                expires_at,
            },
        );
        map.note_expiry(expires_at);
        Ok(Reserve::Reserved(token))
    }

    /// [`ReplayStore::commit`] without a future.
    pub fn commit_now(&self, key: ReplayKey, window: Duration) {
        let now = (self.inner.clock)();
        let expires_at = now
            .checked_add(window)
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        let mut map = self.lock();
        // Inserting may exceed the cap by the entries whose reservation expired and was
        // swept meanwhile; they were counted when reserved, so the overshoot is bounded by
        // the number of requests in flight, and the handled delivery must be remembered.
        map.entries.insert(
            key,
            Entry {
                state: State::Committed,
                expires_at,
            },
        );
        map.note_expiry(expires_at);
    }

    /// [`ReplayStore::release`] without a future.
    pub fn release_now(&self, key: ReplayKey, token: Token) {
        let mut map = self.lock();
        if map
            .entries
            .get(&key)
            .is_some_and(|e| e.state == State::Reserved(token))
        {
            map.entries.remove(&key);
        }
    }
}

impl Map {
    fn note_expiry(&mut self, at: Instant) {
        self.earliest_expiry = Some(self.earliest_expiry.map_or(at, |e| e.min(at)));
    }

    /// Removes the expired entries, if any can have expired.
    fn sweep(&mut self, now: Instant) {
        if self.earliest_expiry.is_some_and(|e| e > now) {
            return;
        }
        let mut earliest = None::<Instant>;
        self.entries.retain(|_, e| {
            let keep = e.expires_at > now;
            if keep {
                earliest = Some(earliest.map_or(e.expires_at, |x| x.min(e.expires_at)));
            }
            keep
        });
        self.earliest_expiry = earliest;
    }
}

impl ReplayStore for MemoryStore {
    fn reserve(&self, key: ReplayKey, lease: Duration) -> StoreFuture<Reserve> {
        Box::pin(std::future::ready(self.reserve_now(key, lease)))
    }

    fn commit(&self, key: ReplayKey, _token: Token, window: Duration) -> StoreFuture<()> {
        self.commit_now(key, window);
        Box::pin(std::future::ready(Ok(())))
    }

    fn release(&self, key: ReplayKey, token: Token) -> StoreFuture<()> {
        self.release_now(key, token);
        Box::pin(std::future::ready(Ok(())))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.inner.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use bookhook_verify::Provider;

    use super::*;

    fn key(n: u64) -> ReplayKey {
        ReplayKey::body(Provider::Slatis, &n.to_le_bytes())
    }

    /// A store whose clock the test moves by hand, in seconds.
    fn store(capacity: usize) -> (MemoryStore, Arc<AtomicU64>) {
        let start = Instant::now();
        let secs = Arc::new(AtomicU64::new(0));
        let clock = secs.clone();
        let store = MemoryStore::with_clock(capacity, move || {
            start + Duration::from_secs(clock.load(Ordering::Relaxed))
        });
        (store, secs)
    }

    const LEASE: Duration = Duration::from_secs(30);

    #[test]
    fn reserve_then_commit_then_duplicate() {
        let (s, _) = store(4);
        let Ok(Reserve::Reserved(t)) = s.reserve_now(key(1), LEASE) else {
            panic!()
        };
        assert_eq!(s.reserve_now(key(1), LEASE).unwrap(), Reserve::InFlight);
        s.commit_now(key(1), Duration::from_secs(60));
        let _ = t;
        assert_eq!(s.reserve_now(key(1), LEASE).unwrap(), Reserve::Committed);
    }

    #[test]
    fn release_frees_only_the_own_reservation() {
        let (s, now) = store(4);
        let Ok(Reserve::Reserved(old)) = s.reserve_now(key(1), LEASE) else {
            panic!()
        };
        now.store(31, Ordering::Relaxed); // the lease ran out: someone else reserves
        let Ok(Reserve::Reserved(new)) = s.reserve_now(key(1), LEASE) else {
            panic!()
        };
        assert_ne!(old, new);
        s.release_now(key(1), old);
        assert_eq!(s.reserve_now(key(1), LEASE).unwrap(), Reserve::InFlight);
        s.release_now(key(1), new);
        assert!(matches!(
            s.reserve_now(key(1), LEASE),
            Ok(Reserve::Reserved(_))
        ));
    }

    #[test]
    fn a_committed_key_expires_after_its_window() {
        let (s, now) = store(4);
        let Ok(Reserve::Reserved(_)) = s.reserve_now(key(1), LEASE) else {
            panic!()
        };
        s.commit_now(key(1), Duration::from_secs(60));
        now.store(60, Ordering::Relaxed);
        assert!(matches!(
            s.reserve_now(key(1), LEASE),
            Ok(Reserve::Reserved(_))
        ));
    }

    #[test]
    fn full_store_refuses_until_entries_expire_and_never_evicts_a_live_one() {
        let (s, now) = store(2);
        for n in 0..2 {
            assert!(matches!(
                s.reserve_now(key(n), LEASE),
                Ok(Reserve::Reserved(_))
            ));
            s.commit_now(key(n), Duration::from_secs(100 + n));
        }
        assert!(matches!(
            s.reserve_now(key(9), LEASE),
            Err(StoreError::Full { capacity: 2 })
        ));
        // Both live keys are still duplicates.
        assert_eq!(s.reserve_now(key(0), LEASE).unwrap(), Reserve::Committed);
        assert_eq!(s.reserve_now(key(1), LEASE).unwrap(), Reserve::Committed);
        now.store(100, Ordering::Relaxed); // key 0 expired, key 1 not yet
        assert!(matches!(
            s.reserve_now(key(9), LEASE),
            Ok(Reserve::Reserved(_))
        ));
        assert_eq!(s.len(), 2);
        assert_eq!(s.reserve_now(key(1), LEASE).unwrap(), Reserve::Committed);
    }
}
