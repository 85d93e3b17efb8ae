//! What the verify benchmarks share: the signed deliveries, the verifiers and the floor.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{FixedClock, Provider, Verifier};
use ed25519_dalek::{Signature, VerifyingKey};

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

/// A Standard Webhooks `v1a` key pair (the reference server's published example): the
/// sender's `whsk_` secret key and the receiver's `whpk_` public key.
pub(crate) const V1A_SECRET_KEY: &str =
    "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
pub(crate) const V1A_PUBLIC_KEY: &str = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";

/// The floor of a `v1a` delivery: what any correct receiver must do — a bare
/// `ed25519-dalek` `verify_strict` of the signed bytes (`id.timestamp.body`, already
/// concatenated) with an already parsed public key and an already decoded signature.
pub(crate) struct Ed25519Floor {
    key: VerifyingKey,
    signature: Signature,
    /// `id.timestamp.body`, built once, outside the measurement.
    pub(crate) message: Vec<u8>,
}

impl Ed25519Floor {
    /// The floor for the `v1a` entry that `headers` (a delivery signed at [`NOW`] with [`ID`])
    /// carries for `body`.
    pub(crate) fn new(headers: &http::HeaderMap, body: &[u8]) -> Self {
        let public = STANDARD
            .decode(V1A_PUBLIC_KEY.trim_start_matches("whpk_"))
            .expect("base64 key");
        let key = VerifyingKey::from_bytes(&public.try_into().expect("32 bytes")).expect("a key");
        let entry = headers["webhook-signature"].to_str().expect("ASCII");
        let raw = STANDARD
            .decode(entry.strip_prefix("v1a,").expect("a v1a entry"))
            .expect("base64 signature");
        let signature = Signature::from_bytes(&raw.try_into().expect("64 bytes"));
        let message = [format!("{ID}.{NOW}.").as_bytes(), body].concat();
        Ed25519Floor {
            key,
            signature,
            message,
        }
    }

    /// Whether `message` carries the signature, strictly.
    pub(crate) fn verify(&self, message: &[u8]) -> bool {
        self.key.verify_strict(message, &self.signature).is_ok()
    }
}
