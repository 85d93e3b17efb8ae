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

use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{FixedClock, HeaderSource, Provider, SignParams, Signer, Verifier};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// When the deliveries are signed, and what the verifiers' clocks say.
const NOW: i64 = 1_780_000_000;
const ID: &str = "msg_2xQ7ZbN3kHc8sVd1pLmW4tRy9aE";
const SIZES: [usize; 4] = [256, 1024, 16 * 1024, 256 * 1024];

/// Each signed scheme with a secret in the form the provider issues it.
const SCHEMES: [(Provider, &str); 6] = [
    (Provider::Slatis, "whsec_slatis_bench_secret"),
    (Provider::Bookable, "wh_sec_bookable_bench_secret"),
    (Provider::SchedulingKit, "schedulingkit-bench-secret"),
    (Provider::CalCom, "calcom-bench-secret"),
    (Provider::Calendly, "calendly-bench-secret"),
    (
        Provider::StandardWebhooks,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ),
];

/// A JSON booking delivery of exactly `len` bytes (padded inside a string field).
fn body(len: usize) -> Vec<u8> {
    let head = br#"{"type":"booking.created","timestamp":"2026-05-28T10:00:00Z","data":{"attendee":{"name":"Jane Smith","email":"jane@example.com"},"notes":""#;
    let tail = br#""}}"#;
    let mut body = head.to_vec();
    body.resize(len - tail.len(), b'x');
    body.extend_from_slice(tail);
    assert_eq!(body.len(), len);
    body
}

/// The headers a delivery arrives with: the provider's, plus what every HTTP client sends
/// (a verifier has to find its headers among these).
fn delivery_headers(
    provider: Provider,
    secret: &str,
    body: &[u8],
    params: &SignParams,
) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        ("host", "hooks.example.com"),
        ("user-agent", "Webhooks/1.0 (+https://example.com/webhooks)"),
        ("accept", "*/*"),
        ("accept-encoding", "gzip"),
        ("content-type", "application/json"),
    ] {
        headers.insert(name, http::HeaderValue::from_static(value));
    }
    headers.insert(http::header::CONTENT_LENGTH, body.len().into());
    headers.extend(
        Signer::new(provider, secret)
            .expect("valid secret")
            .sign(body, params)
            .header_map(),
    );
    headers
}

fn verifier(provider: Provider, secrets: &[&str]) -> Verifier {
    let at = OffsetDateTime::from_unix_timestamp(NOW).expect("valid time");
    secrets
        .iter()
        .fold(Verifier::builder(provider), |b, s| b.secret(s))
        .clock(FixedClock::new(at))
        .build()
        .expect("valid secrets")
}

/// The floor: what any correct verifier must compute for one delivery and one secret.
struct Floor {
    keyed: Hmac<Sha256>,
    prefix: Vec<Vec<u8>>,
    expected: [u8; 32],
}

impl Floor {
    /// `key` is the HMAC key (already decoded from `whsec_` for Standard Webhooks);
    /// `prefix` the parts signed before the body.
    fn new(key: &[u8], prefix: &[&[u8]], body: &[u8]) -> Self {
        let keyed = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        let prefix: Vec<Vec<u8>> = prefix.iter().map(|p| p.to_vec()).collect();
        let mut floor = Floor {
            keyed,
            prefix,
            expected: [0; 32],
        };
        floor.expected = floor.mac(body);
        floor
    }

    fn mac(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        for part in &self.prefix {
            mac.update(part);
        }
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    fn verify(&self, body: &[u8]) -> bool {
        bool::from(self.mac(body).ct_eq(&self.expected))
    }
}

/// The floor for `provider`'s signed content.
fn floor(provider: Provider, secret: &str, body: &[u8]) -> Floor {
    let t = NOW.to_string();
    match provider {
        Provider::StandardWebhooks => {
            use base64::Engine as _;
            let key = base64::engine::general_purpose::STANDARD
                .decode(secret.trim_start_matches("whsec_"))
                .expect("base64 secret");
            Floor::new(&key, &[ID.as_bytes(), b".", t.as_bytes(), b"."], body)
        }
        Provider::Bookable | Provider::Calendly => {
            Floor::new(secret.as_bytes(), &[t.as_bytes(), b"."], body)
        }
        _ => Floor::new(secret.as_bytes(), &[], body),
    }
}

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
            assert!(floor.verify(&body));

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
    let secrets = [
        "whsec_c2Vjb25kLXNlY3JldC1vZi1zdGFuZGFyZA==",
        "whsec_dGhpcmQtc2VjcmV0LW9mLXN0YW5kYXJkLXdo",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ];
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
    targets = schemes, rotation, token, headermap
}
criterion_main!(benches);
