//! A flood of distinct keys cannot grow the in-memory store past its cap.

use std::time::Duration;

use bookhook_replay::{MemoryStore, ReplayKey, Reserve, StoreError};
use bookhook_verify::Provider;

#[test]
fn a_million_distinct_keys_keep_the_memory_store_at_its_cap() {
    const CAP: usize = 10_000;
    const FLOOD: u64 = 1_000_000;
    let store = MemoryStore::new(CAP);
    let (lease, window) = (Duration::from_secs(60), Duration::from_secs(600));
    let (mut admitted, mut refused, mut max_len) = (0usize, 0usize, 0usize);
    for n in 0..FLOOD {
        let key = ReplayKey::body(Provider::Slatis, &n.to_le_bytes());
        match store.reserve_now(key, lease) {
            Ok(Reserve::Reserved(_)) => {
                store.commit_now(key, window);
                admitted += 1;
            }
            Ok(other) => panic!("key {n} is new, got {other:?}"),
            Err(StoreError::Full { capacity }) => {
                assert_eq!(capacity, CAP);
                refused += 1;
            }
            Err(err) => panic!("{err}"),
        }
        if n % 1024 == 0 {
            max_len = max_len.max(store.len());
        }
    }
    assert_eq!(store.len(), CAP);
    assert!(max_len <= CAP, "{max_len}");
    assert_eq!(admitted, CAP);
    assert_eq!(refused, FLOOD as usize - CAP);
    // The first keys are still remembered: nothing live was evicted to make room.
    let first = ReplayKey::body(Provider::Slatis, &0u64.to_le_bytes());
    assert_eq!(store.reserve_now(first, lease).unwrap(), Reserve::Committed);
}
