//! What the verify benchmarks share: the signed deliveries, the verifiers and the floor.

use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{FixedClock, Provider, Verifier};

// `pub` items for `bookhook-bench`, which includes the same file; private in a bench.
#[allow(unreachable_pub)]
mod fixtures;
pub(crate) use fixtures::{Floor, SIZES, body, delivery_headers};

/// When the deliveries are signed, and what the verifiers' clocks say.
pub(crate) const NOW: i64 = 1_780_000_000;
pub(crate) const ID: &str = "msg_2xQ7ZbN3kHc8sVd1pLmW4tRy9aE";

/// Each signed scheme with a secret in the form the provider issues it.
pub(crate) const SCHEMES: [(Provider, &str); 6] = [
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

/// Three active Standard Webhooks secrets; deliveries are signed with the last, so a
/// verifier has to try all three.
pub(crate) const ROTATION: [&str; 3] = [
    "whsec_c2Vjb25kLXNlY3JldC1vZi1zdGFuZGFyZA==",
    "whsec_dGhpcmQtc2VjcmV0LW9mLXN0YW5kYXJkLXdo",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
];

pub(crate) fn verifier(provider: Provider, secrets: &[&str]) -> Verifier {
    let at = OffsetDateTime::from_unix_timestamp(NOW).expect("valid time");
    secrets
        .iter()
        .fold(Verifier::builder(provider), |b, s| b.secret(s))
        .clock(FixedClock::new(at))
        .build()
        .expect("valid secrets")
}

/// The floor for `provider`'s signed content.
pub(crate) fn floor(provider: Provider, secret: &str, body: &[u8]) -> Floor {
    let t = NOW.to_string();
    match provider {
        Provider::StandardWebhooks => Floor::standard(secret, ID, NOW, body),
        Provider::Bookable | Provider::Calendly => {
            Floor::new(secret.as_bytes(), &[t.as_bytes(), b"."], body)
        }
        _ => Floor::new(secret.as_bytes(), &[], body),
    }
}
