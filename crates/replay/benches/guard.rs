//! The in-memory guard's own cost: one reserve-commit of a new key, and one lookup of a
//! committed key (the duplicate path), without hashing a body (the key is precomputed).

use std::hint::black_box;
use std::time::Duration;

use bookhook_replay::{MemoryStore, ReplayKey, Reserve};
use bookhook_verify::Provider;
use criterion::{Criterion, criterion_group, criterion_main};

fn guard(c: &mut Criterion) {
    let store = MemoryStore::new(1 << 20);
    let lease = Duration::from_secs(60);
    let window = Duration::from_secs(600);
    let committed = ReplayKey::body(Provider::CalCom, b"committed");
    store.reserve_now(committed, lease).unwrap();
    store.commit_now(committed, window);
    c.bench_function("memory/lookup_committed", |b| {
        b.iter(|| black_box(store.reserve_now(black_box(committed), lease)))
    });
    // New keys, precomputed; the store is emptied between batches so it never fills.
    let keys: Vec<_> = (0u64..10_000)
        .map(|n| ReplayKey::body(Provider::CalCom, &n.to_le_bytes()))
        .collect();
    c.bench_function("memory/reserve_commit_new", |b| {
        b.iter_batched(
            || MemoryStore::new(1 << 20),
            |store| {
                for key in &keys {
                    let Ok(Reserve::Reserved(_)) = store.reserve_now(*key, lease) else {
                        unreachable!()
                    };
                    store.commit_now(*key, window);
                }
                store
            },
            criterion::BatchSize::PerIteration,
        )
    });
    c.bench_function("key/sha256_1KiB_body", |b| {
        let body = vec![b'x'; 1024];
        b.iter(|| black_box(ReplayKey::body(Provider::CalCom, black_box(&body))))
    });
}

criterion_group!(benches, guard);
criterion_main!(benches);
