//! Typed loaders of `tests/vectors/*.json`, compiled in (`include_str!`), so a test needs no
//! path at run time.

use bookhook_verify::{Provider, Verifier};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::clock::fixed_at;

/// A valid delivery computed with openssl by `tests/vectors/generate.sh`.
#[derive(Debug, Clone, Deserialize)]
pub struct Delivery {
    /// What it is.
    pub name: String,
    /// The provider's stable name.
    pub provider: String,
    /// The secret, as the provider issues it.
    pub secret: String,
    /// The raw body.
    pub body: String,
    /// The Unix time to verify at (timestamped schemes).
    pub now: Option<i64>,
    /// The query string (Slotflow).
    #[serde(default)]
    pub query: Option<String>,
    /// The headers as sent.
    pub headers: Vec<(String, String)>,
    /// The delivery id the verifier must report.
    #[serde(default)]
    pub expect_delivery_id: Option<String>,
    /// The event type the verifier must report.
    #[serde(default)]
    pub expect_event_type: Option<String>,
    /// The signature published by the scheme's authors, where there is one.
    #[serde(default)]
    pub published_signature: Option<String>,
    /// How the signature was computed.
    pub command: String,
}

impl Delivery {
    /// The provider.
    pub fn provider(&self) -> Provider {
        self.provider
            .parse()
            .expect("vector names a known provider")
    }

    /// The headers as an `http::HeaderMap`.
    pub fn header_map(&self) -> HeaderMap {
        self.headers
            .iter()
            .map(|(n, v)| {
                (
                    HeaderName::from_bytes(n.as_bytes()).expect("valid name"),
                    HeaderValue::from_str(v).expect("valid value"),
                )
            })
            .collect()
    }

    /// A verifier with the vector's secret, its clock stopped at `now` where given.
    pub fn verifier(&self) -> Verifier {
        let builder = Verifier::builder(self.provider()).secret(&self.secret);
        match self.now {
            Some(now) => builder.clock(fixed_at(now)),
            None => builder,
        }
        .build()
        .expect("vector secret is valid")
    }
}

/// The array under `key` of the vector file `file` (its text `json`), each element typed.
fn load<T: DeserializeOwned>(json: &str, file: &str, key: &str) -> Vec<T> {
    let mut value: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    serde_json::from_value(value[key].take())
        .unwrap_or_else(|e| panic!("{file}: `{key}` is not a list of vectors: {e}"))
}

/// Every valid delivery of `tests/vectors/deliveries.json`.
pub fn deliveries() -> Vec<Delivery> {
    load(
        include_str!("../../../tests/vectors/deliveries.json"),
        "deliveries.json",
        "deliveries",
    )
}

/// An RFC 4231 HMAC-SHA-256 test case.
#[derive(Debug, Clone, Deserialize)]
pub struct Rfc4231Case {
    /// The case number in the RFC.
    pub case: u32,
    /// Key, hex.
    pub key: String,
    /// Data, hex.
    pub data: String,
    /// Expected MAC, hex (truncated where `truncated_bits` is set).
    pub mac: String,
    /// Bits of the published, truncated output.
    #[serde(default)]
    pub truncated_bits: Option<u32>,
}

/// RFC 4231's HMAC-SHA-256 cases.
pub fn rfc4231() -> Vec<Rfc4231Case> {
    load(
        include_str!("../../../tests/vectors/rfc4231.json"),
        "rfc4231.json",
        "cases",
    )
}

/// A Standard Webhooks `v1a` (ed25519) delivery from `tests/vectors/standard_v1a.json`: keys
/// from `openssl genpkey`, signatures from `openssl pkeyutl -sign -rawin`.
#[derive(Debug, Clone, Deserialize)]
pub struct V1aVector {
    /// What it is.
    pub name: String,
    /// The sender's `whsk_` secret key.
    pub secret_key: String,
    /// The receiver's `whpk_` public key.
    pub public_key: String,
    /// The `whsec_` secret that signed the `v1,` entry, where the header has one.
    #[serde(default)]
    pub hmac_secret: Option<String>,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`, also the instant to verify at.
    pub timestamp: i64,
    /// The raw body.
    pub body: String,
    /// `webhook-signature`, as openssl computed it.
    pub signature: String,
    /// The signature published by the Standard Webhooks authors, where there is one.
    #[serde(default)]
    pub published_signature: Option<String>,
    /// How the signature was computed.
    pub command: String,
}

impl V1aVector {
    /// The three Standard Webhooks headers.
    pub fn header_map(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("webhook-id", self.id.clone()),
            ("webhook-timestamp", self.timestamp.to_string()),
            ("webhook-signature", self.signature.clone()),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).expect("valid value"));
        }
        headers
    }

    /// A verifier with `secrets`, its clock stopped at the vector's timestamp.
    ///
    /// # Errors
    ///
    /// The verifier's `ConfigError`.
    pub fn verifier(&self, secrets: &[&str]) -> Result<Verifier, bookhook_verify::ConfigError> {
        secrets
            .iter()
            .fold(Verifier::builder(Provider::StandardWebhooks), |b, s| {
                b.secret(s)
            })
            .clock(fixed_at(self.timestamp))
            .build()
    }
}

/// Every delivery of `tests/vectors/standard_v1a.json`.
pub fn standard_v1a() -> Vec<V1aVector> {
    load(
        include_str!("../../../tests/vectors/standard_v1a.json"),
        "standard_v1a.json",
        "vectors",
    )
}
