//! `Verifier::verify` for every scheme at the body sizes deliveries have (256 B to 256 KiB),
//! side by side with the floor: a pre-keyed `Hmac<Sha256>`, cloned per call, fed exactly the
//! bytes the scheme signs, finalized and compared in constant time. That is the work no
//! verifier can skip; the gap between the two is what bookhook adds (header lookups, decoding,
//! tolerance, the result).
//!
//! The peers (`svix`, `standardwebhooks`) are compared in `crates/bench`, so that their
//! dependencies stay out of this crate's `cargo test`. Run with `scripts/bench.sh` or
//! `cargo bench -p bookhook-verify --bench verify`.

use std::hint::black_box;
use std::time::Duration;

use bookhook_verify::{HeaderSource, Provider, SignParams};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{
    Ed25519Floor, ID, NOW, ROTATION, SCHEMES, SIZES, V1A_PUBLIC_KEY, V1A_SECRET_KEY, body,
    delivery_headers, floor, verifier,
};

fn schemes(c: &mut Criterion) {
    for (provider, secret) in SCHEMES {
        let mut group = c.benchmark_group(format!("verify/{provider}"));
        for size in SIZES {
            let body = body(size);
            let params = SignParams::at(NOW).id(ID).event_type("booking.created");
            let headers = delivery_headers(provider, secret, &body, &params);
            let verifier = verifier(provider, &[secret]);
            verifier
                .verify(&headers, &body)
                .expect("signed delivery verifies");
            let floor = floor(provider, secret, &body);
            assert!(
                floor.verify(&body) && !floor.verify(&body[1..]),
                "the floor checks"
            );

            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new("floor", size), |b| {
                b.iter(|| assert!(floor.verify(black_box(&body))));
            });
            group.bench_function(BenchmarkId::new("bookhook", size), |b| {
                b.iter(|| {
                    verifier
                        .verify(black_box(&headers), black_box(&body))
                        .expect("ok")
                });
            });
        }
        group.finish();
    }
}

/// Three active secrets, the delivery signed with the last: three HMACs are unavoidable,
/// re-keying and copies are not.
fn rotation(c: &mut Criterion) {
    let secrets = ROTATION;
    let provider = Provider::StandardWebhooks;
    let mut group = c.benchmark_group("verify/standard-3-secrets");
    for size in SIZES {
        let body = body(size);
        let headers = delivery_headers(provider, secrets[2], &body, &SignParams::at(NOW).id(ID));
        let verifier = verifier(provider, &secrets);
        let verified = verifier
            .verify(&headers, &body)
            .expect("signed delivery verifies");
        assert_eq!(verified.secret_index(), 2);
        let floor = floor(provider, secrets[2], &body);

        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("floor", size), |b| {
            b.iter(|| assert!(floor.verify(black_box(&body))));
        });
        group.bench_function(BenchmarkId::new("bookhook", size), |b| {
            b.iter(|| {
                verifier
                    .verify(black_box(&headers), black_box(&body))
                    .expect("ok")
            });
        });
    }
    group.finish();
}

/// Standard Webhooks `v1a` (ed25519): bookhook's `verify` with the receiver's `whpk_` key
/// against the floor (a bare `verify_strict` of the same signed bytes with an already parsed
/// key), and the same delivery signed `v1` with a `whsec_` secret, verified by bookhook: what
/// choosing asymmetric signatures costs a receiver.
fn v1a(c: &mut Criterion) {
    let (hmac, provider) = (SCHEMES[5].1, Provider::StandardWebhooks);
    let mut group = c.benchmark_group("verify/standard-v1a");
    for size in SIZES {
        let body = body(size);
        let params = SignParams::at(NOW).id(ID);
        let signed = delivery_headers(provider, V1A_SECRET_KEY, &body, &params);
        let v1a = verifier(provider, &[V1A_PUBLIC_KEY]);
        v1a.verify(&signed, &body)
            .expect("signed delivery verifies");
        let floor = Ed25519Floor::new(&signed, &body);
        assert!(
            floor.verify(&floor.message) && !floor.verify(&floor.message[1..]),
            "the floor checks"
        );
        let hmac_signed = delivery_headers(provider, hmac, &body, &params);
        let v1 = verifier(provider, &[hmac]);
        v1.verify(&hmac_signed, &body)
            .expect("signed delivery verifies");

        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("floor", size), |b| {
            b.iter(|| assert!(floor.verify(black_box(&floor.message))));
        });
        group.bench_function(BenchmarkId::new("bookhook", size), |b| {
            b.iter(|| {
                v1a.verify(black_box(&signed), black_box(&body))
                    .expect("ok")
            });
        });
        group.bench_function(BenchmarkId::new("bookhook-v1", size), |b| {
            b.iter(|| {
                v1.verify(black_box(&hmac_signed), black_box(&body))
                    .expect("ok")
            });
        });
    }
    group.finish();
}

/// Slotflow's URL token: no body hashing, a SHA-256 of the token and a fixed-length compare.
fn token(c: &mut Criterion) {
    let token = "sf_tok_9c1b7e2a55d04f3e8a6b";
    let verifier = verifier(Provider::Slotflow, &[token]);
    let query = format!("token={token}");
    let body = body(1024);
    let headers = delivery_headers(Provider::Slotflow, token, &body, &SignParams::at(NOW));
    verifier
        .verify_with_query(Some(&query), &headers, &body)
        .expect("valid token");
    c.bench_function("verify/slotflow/bookhook", |b| {
        b.iter(|| {
            verifier
                .verify_with_query(black_box(Some(&query)), &headers, black_box(&body))
                .expect("ok")
        });
    });
}

/// What merely finding a delivery's headers in an `http::HeaderMap` costs, with no checking,
/// decoding or hashing at all: the part of the fixed cost per delivery that no verifier
/// reading a `HeaderMap` can avoid. Measured on the same nine-header map as `schemes`, so it
/// can be set against the floor's 256 B and 1 KiB times in the same run.
fn headermap(c: &mut Criterion) {
    let body = body(256);
    let params = SignParams::at(NOW).id(ID);
    let headers = delivery_headers(Provider::StandardWebhooks, SCHEMES[5].1, &body, &params);
    let wanted = ["webhook-id", "webhook-timestamp", "webhook-signature"];
    let names = wanted.map(http::HeaderName::from_static);
    let mut group = c.benchmark_group("reference/headermap");
    // Visiting every (name, value) pair once, as a one-pass scan does.
    group.bench_function("iterate", |b| {
        b.iter(|| {
            let mut total = 0;
            for (name, value) in black_box(&headers) {
                total += name.as_str().len() ^ value.len();
            }
            total
        });
    });
    // bookhook's own pass (`HeaderSource::for_each_value_of`), collecting the three.
    group.bench_function("bookhook-scan", |b| {
        b.iter(|| {
            let mut found = [0; 3];
            HeaderSource::for_each_value_of(black_box(&headers), &wanted, &mut |i, v| {
                found[i] += v.len();
            });
            found
        });
    });
    // Three lookups by already parsed names (hashing each name), the other way to find them.
    group.bench_function("get-3", |b| {
        b.iter(|| {
            let map = black_box(&headers);
            names
                .iter()
                .map(|name| map.get(name).map_or(0, http::HeaderValue::len))
                .sum::<usize>()
        });
    });
    group.finish();
}

fn config() -> Criterion {
    // Short windows: the machine is shared and the run covers 60 benchmarks; each result
    // is a median over many thousands of calls, the ratios are what we publish.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .noise_threshold(0.03)
}

criterion_group! {
    name = benches;
    config = config();
    targets = schemes, rotation, v1a, token, headermap
}
criterion_main!(benches);
