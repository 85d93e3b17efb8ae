//! What the verify benchmarks share: the signed deliveries, the verifiers and the floor.

use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{FixedClock, Provider, SignParams, Signer, Verifier};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// When the deliveries are signed, and what the verifiers' clocks say.
pub(crate) const NOW: i64 = 1_780_000_000;
pub(crate) const ID: &str = "msg_2xQ7ZbN3kHc8sVd1pLmW4tRy9aE";
pub(crate) const SIZES: [usize; 4] = [256, 1024, 16 * 1024, 256 * 1024];

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

/// A JSON booking delivery of exactly `len` bytes (padded inside a string field).
pub(crate) fn body(len: usize) -> Vec<u8> {
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
pub(crate) fn delivery_headers(
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

pub(crate) fn verifier(provider: Provider, secrets: &[&str]) -> Verifier {
    let at = OffsetDateTime::from_unix_timestamp(NOW).expect("valid time");
    secrets
        .iter()
        .fold(Verifier::builder(provider), |b, s| b.secret(s))
        .clock(FixedClock::new(at))
        .build()
        .expect("valid secrets")
}

/// The floor: what any correct verifier must compute for one delivery and one secret.
pub(crate) struct Floor {
    keyed: Hmac<Sha256>,
    prefix: Vec<Vec<u8>>,
    expected: [u8; 32],
}

impl Floor {
    /// `key` is the HMAC key (already decoded from `whsec_` for Standard Webhooks);
    /// `prefix` the parts signed before the body.
    pub(crate) fn new(key: &[u8], prefix: &[&[u8]], body: &[u8]) -> Self {
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

    pub(crate) fn mac(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        for part in &self.prefix {
            mac.update(part);
        }
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// Whether `body` has the expected tag, compared in constant time as four 64-bit words,
    /// as bookhook compares (`subtle`'s byte-slice comparison would add ~250 instructions to
    /// the floor, flattering every ratio to it).
    pub(crate) fn verify(&self, body: &[u8]) -> bool {
        let words = |tag: [u8; 32]| -> [u64; 4] {
            std::array::from_fn(|i| {
                u64::from_ne_bytes(tag[i * 8..i * 8 + 8].try_into().unwrap_or_default())
            })
        };
        bool::from(words(self.mac(body))[..].ct_eq(&words(self.expected)[..]))
    }
}

/// The floor for `provider`'s signed content.
pub(crate) fn floor(provider: Provider, secret: &str, body: &[u8]) -> Floor {
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
