//! The fixtures every bookhook benchmark measures with: the deliveries, the secrets and the
//! floor.
//!
//! `bookhook-verify`'s benches and `bookhook-bench` (the peer comparison and load tools) both
//! take them from here, so the floor and the deliveries are the same in every table of
//! `BENCHMARKS.md`.

use base64::Engine as _;
use bookhook_verify::{Provider, SignParams, Signer};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secrets::{SECRETS, STANDARD_SECRET};

/// When the deliveries are signed, and what the verifiers' clocks say.
pub const NOW: i64 = 1_780_000_000;

/// A message id as Svix sends them.
pub const MESSAGE_ID: &str = "msg_2xQ7ZbN3kHc8sVd1pLmW4tRy9aE";

/// Three active Standard Webhooks secrets, the one deliveries are signed with last, so a
/// verifier has to try all three.
pub const ROTATION: [&str; 3] = [
    SECRETS.standard.previous,
    "whsec_dGhpcmQtc2VjcmV0LW9mLXN0YW5kYXJkLXdo",
    STANDARD_SECRET,
];

/// The body sizes measured: a small delivery, a typical one, a large one, and the default
/// body limit of the adapters.
pub const SIZES: [usize; 4] = [256, 1024, 16 * 1024, 256 * 1024];

/// A JSON booking delivery of exactly `len` bytes (at least 160), padded inside a string.
pub fn body(len: usize) -> Vec<u8> {
    let head = br#"{"type":"booking.created","timestamp":"2026-05-28T10:00:00Z","data":{"attendee":{"name":"Jane Smith","email":"jane@example.com"},"notes":""#;
    let tail = br#""}}"#;
    let len = len.max(head.len() + tail.len());
    let mut body = head.to_vec();
    body.resize(len - tail.len(), b'x');
    body.extend_from_slice(tail);
    assert_eq!(body.len(), len);
    body
}

/// The headers a delivery arrives with: the provider's, after what every HTTP client sends
/// (a verifier has to find its headers among these).
pub fn delivery_headers(
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
    let signed = Signer::new(provider, secret)
        .expect("a valid secret")
        .sign(body, params);
    headers.extend(signed.header_map());
    headers
}

/// The floor: the work any correct verifier must do for one delivery and one secret — a
/// pre-keyed `Hmac<Sha256>` cloned, fed the signed bytes without copying them, finalized
/// and compared in constant time with the (already decoded) expected tag.
#[derive(Debug, Clone)]
pub struct Floor {
    keyed: Hmac<Sha256>,
    prefix: Vec<Vec<u8>>,
    expected: [u8; 32],
}

impl Floor {
    /// The floor for a Standard Webhooks delivery: HMAC of `id.timestamp.body` keyed with
    /// the base64 part of `secret`.
    pub fn standard(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Self {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .expect("a base64 secret");
        let timestamp = timestamp.to_string();
        let prefix = [id.as_bytes(), b".", timestamp.as_bytes(), b"."];
        Self::new(&key, &prefix, body)
    }

    /// The floor for a delivery whose signed content is the `prefix` parts, then the body.
    pub fn new(key: &[u8], prefix: &[&[u8]], body: &[u8]) -> Self {
        let mut floor = Floor {
            keyed: Hmac::new_from_slice(key).expect("HMAC takes any key length"),
            prefix: prefix.iter().map(|part| part.to_vec()).collect(),
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

    /// Whether `body` has the expected tag, compared in constant time as four 64-bit words,
    /// as bookhook compares (`subtle`'s byte-slice comparison would add ~250 instructions to
    /// the floor, flattering every ratio to it).
    pub fn verify(&self, body: &[u8]) -> bool {
        let words = |tag: [u8; 32]| -> [u64; 4] {
            std::array::from_fn(|i| {
                u64::from_ne_bytes(tag[i * 8..i * 8 + 8].try_into().unwrap_or_default())
            })
        };
        bool::from(words(self.mac(body))[..].ct_eq(&words(self.expected)[..]))
    }
}
