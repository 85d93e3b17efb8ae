//! Standard Webhooks verification, side by side in one run: the floor (a pre-keyed
//! `Hmac<Sha256>` over the same bytes), bookhook through `Verifier::verify(&HeaderMap, body)`,
//! and the `svix` and `standardwebhooks` crates' `verify`, at 256 B, 1 KiB, 16 KiB and
//! 256 KiB; plus bookhook with three active secrets and the match last.
//!
//! Every implementation gets the same body and the same `http::HeaderMap` (the three
//! Standard Webhooks headers among those any HTTP client sends), signed with the current
//! time just before it is measured: the peers check the real clock. Each verifier is built
//! once, outside the measured loop (the peers' `Webhook::new` only decodes the secret).
//!
//! `cargo bench -p bookhook-bench --bench peers`, or `scripts/bench.sh`.

use std::hint::black_box;
use std::time::Duration;

use bookhook_bench::{
    Floor, MESSAGE_ID, OTHER_STANDARD_SECRETS, SIZES, STANDARD_SECRET, body, delivery_headers,
};
use bookhook_testkit::clock::{now, verifier_at};
use bookhook_verify::{Provider, SignParams, Verifier};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A fresh delivery signed now, with bookhook's clock stopped at the same second.
struct Delivery {
    body: Vec<u8>,
    headers: http::HeaderMap,
    now: i64,
}

impl Delivery {
    fn new(size: usize, secret: &str) -> Self {
        let now = now();
        let body = body(size);
        let params = SignParams::at(now).id(MESSAGE_ID);
        let headers = delivery_headers(Provider::StandardWebhooks, secret, &body, &params);
        Delivery { body, headers, now }
    }

    fn verifier(&self, secrets: &[&str]) -> Verifier {
        verifier_at(Provider::StandardWebhooks, secrets, self.now)
    }
}

fn standard_webhooks(c: &mut Criterion) {
    let mut group = c.benchmark_group("standard-webhooks");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));

        group.bench_function(BenchmarkId::new("floor", size), |b| {
            let d = Delivery::new(size, STANDARD_SECRET);
            let floor = Floor::standard(STANDARD_SECRET, MESSAGE_ID, d.now, &d.body);
            assert!(floor.verify(&d.body) && !floor.verify(&d.body[1..]));
            b.iter(|| assert!(floor.verify(black_box(&d.body))));
        });

        group.bench_function(BenchmarkId::new("bookhook", size), |b| {
            let d = Delivery::new(size, STANDARD_SECRET);
            let verifier = d.verifier(&[STANDARD_SECRET]);
            verifier.verify(&d.headers, &d.body).expect("verifies");
            b.iter(|| {
                verifier
                    .verify(black_box(&d.headers), black_box(&d.body))
                    .expect("verifies")
            });
        });

        group.bench_function(BenchmarkId::new("bookhook-3-secrets", size), |b| {
            let d = Delivery::new(size, STANDARD_SECRET);
            let [first, second] = OTHER_STANDARD_SECRETS;
            let verifier = d.verifier(&[first, second, STANDARD_SECRET]);
            let verified = verifier.verify(&d.headers, &d.body).expect("verifies");
            assert_eq!(verified.secret_index(), 2);
            b.iter(|| {
                verifier
                    .verify(black_box(&d.headers), black_box(&d.body))
                    .expect("verifies")
            });
        });

        group.bench_function(BenchmarkId::new("svix", size), |b| {
            let d = Delivery::new(size, STANDARD_SECRET);
            let webhook = svix::webhooks::Webhook::new(STANDARD_SECRET).expect("valid secret");
            webhook.verify(&d.body, &d.headers).expect("verifies");
            b.iter(|| {
                webhook
                    .verify(black_box(&d.body), black_box(&d.headers))
                    .expect("verifies")
            });
        });

        group.bench_function(BenchmarkId::new("standardwebhooks", size), |b| {
            let d = Delivery::new(size, STANDARD_SECRET);
            let webhook = standardwebhooks::Webhook::new(STANDARD_SECRET).expect("valid secret");
            webhook.verify(&d.body, &d.headers).expect("verifies");
            b.iter(|| {
                webhook
                    .verify(black_box(&d.body), black_box(&d.headers))
                    .expect("verifies")
            });
        });
    }
    group.finish();
}

fn config() -> Criterion {
    // Short windows: 20 benchmarks on a shared 2-core machine. Criterion's estimate is over
    // many thousands of calls per sample; what we publish are ratios within this run.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .noise_threshold(0.03)
}

criterion_group! {
    name = benches;
    config = config();
    targets = standard_webhooks
}
criterion_main!(benches);
