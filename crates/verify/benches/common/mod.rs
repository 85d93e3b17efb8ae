//! What the verify benchmarks share beyond `bookhook-testkit`'s bench fixtures: the
//! verifiers, the floor per scheme and the `v1a` floor.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_testkit::clock::verifier_at;
use bookhook_testkit::secrets::SECRETS;
use bookhook_verify::{ByProvider, Provider, Verifier};
use ed25519_dalek::{Signature, VerifyingKey};

pub(crate) use bookhook_testkit::bench::{
    Floor, MESSAGE_ID as ID, NOW, ROTATION, SIZES, body, delivery_headers,
};
/// A Standard Webhooks `v1a` key pair (the reference server's published example): the
/// sender's `whsk_` secret key and the receiver's `whpk_` public key.
pub(crate) use bookhook_testkit::secrets::{
    PUBLIC_KEY_A as V1A_PUBLIC_KEY, SECRET_KEY_A as V1A_SECRET_KEY,
};

/// Each signed scheme with its current test secret.
pub(crate) const SCHEMES: [(Provider, &str); 6] = [
    (Provider::Slatis, SECRETS.slatis.current),
    (Provider::Bookable, SECRETS.bookable.current),
    (Provider::SchedulingKit, SECRETS.schedulingkit.current),
    (Provider::CalCom, SECRETS.calcom.current),
    (Provider::Calendly, SECRETS.calendly.current),
    (Provider::StandardWebhooks, SECRETS.standard.current),
];

pub(crate) fn verifier(provider: Provider, secrets: &[&str]) -> Verifier {
    verifier_at(provider, secrets, NOW)
}

/// What each scheme signs before the body: nothing, `<t>.`, or Standard Webhooks'
/// `<id>.<t>.` with a base64 key (`None`: Slotflow signs nothing).
#[derive(Clone, Copy)]
enum Signs {
    Body,
    TimestampDotBody,
    Standard,
}

const SIGNS: ByProvider<Option<Signs>> = ByProvider {
    slatis: Some(Signs::Body),
    slotflow: None,
    bookable: Some(Signs::TimestampDotBody),
    schedulingkit: Some(Signs::Body),
    calcom: Some(Signs::Body),
    calendly: Some(Signs::TimestampDotBody),
    standard: Some(Signs::Standard),
};

/// The floor for `provider`'s signed content.
pub(crate) fn floor(provider: Provider, secret: &str, body: &[u8]) -> Floor {
    let t = NOW.to_string();
    match SIGNS.get(provider).expect("a signed scheme") {
        Signs::Standard => Floor::standard(secret, ID, NOW, body),
        Signs::TimestampDotBody => Floor::new(secret.as_bytes(), &[t.as_bytes(), b"."], body),
        Signs::Body => Floor::new(secret.as_bytes(), &[], body),
    }
}

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
