//! Standard Webhooks' mixed `webhook-signature` header: `v1,` (HMAC) and `v1a,` (ed25519)
//! entries side by side, for a route that holds one key of each kind.
//!
//! An input is a list of entries, each a real signature of the delivery under a configured
//! or an attacker's key of either kind (possibly mangled, or written under the other kind's
//! label), an entry of another version, or arbitrary bytes; plus the body, the id, the signing
//! time, and whether the header is split over two header lines. [`MixedDelivery::check`]
//! asserts, for every input:
//!
//! 1. no panic;
//! 2. an acceptance names the configured key of the kind that matched (`whsec_` at index 0
//!    for [`KeyKind::Hmac`], `whpk_` at index 1 for [`KeyKind::Ed25519`]) and the header holds
//!    that key's exact entry under that kind's label: `v1,<the HMAC tag>` or
//!    `v1a,<the ed25519 signature>` of `id.timestamp.body` (ed25519 signatures are
//!    deterministic, so "the" signature is well defined). So a public key never verifies a
//!    `v1` entry, an HMAC secret never a `v1a` entry, and no attacker's key passes;
//! 3. a refusal is 400 or 401 and its text holds no secret, key or real signature.

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_testkit::clock::fixed_at;
use bookhook_verify::{
    KeyKind, Provider, SignParams, Signer, Verified, Verifier, VerifyError,
};
use http::{HeaderMap, HeaderValue};

use bookhook_testkit::secrets::{
    HMAC_SECRET_EQUAL_TO_PUBLIC_KEY_A, PUBLIC_KEY_A, SECRET_KEY_A, SECRET_KEY_B, SECRETS,
};

use crate::{NOW, Pairs};

const P: Provider = Provider::StandardWebhooks;

/// The route's HMAC secret (index 0).
const HMAC: &str = SECRETS.standard.current;
/// The route's public key (index 1) and the sender's secret key of the same pair (the
/// Standard Webhooks reference server's published example).
const PUBLIC_KEY: &str = PUBLIC_KEY_A;
const SECRET_KEY: &str = SECRET_KEY_A;
/// An attacker's HMAC secret, and an attacker's key pair (made with `openssl genpkey`).
const ATTACKER_HMAC: &str = SECRETS.standard.unrelated[0];
const ATTACKER_SECRET_KEY: &str = SECRET_KEY_B;
/// An HMAC secret whose bytes are the route's public key (anyone can compute its tags).
const PUBLIC_KEY_AS_HMAC: &str = HMAC_SECRET_EQUAL_TO_PUBLIC_KEY_A;

/// Who made a signature.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Signatory {
    /// The route's HMAC secret (`v1`).
    Hmac,
    /// The route's key pair (`v1a`).
    KeyPair,
    /// An attacker's HMAC secret.
    AttackerHmac,
    /// An attacker's key pair.
    AttackerKeyPair,
    /// HMAC keyed with the bytes of the route's *public* key: what an attacker can compute.
    PublicKeyAsHmac,
}

impl Signatory {
    fn secret(self) -> &'static str {
        match self {
            Signatory::Hmac => HMAC,
            Signatory::KeyPair => SECRET_KEY,
            Signatory::AttackerHmac => ATTACKER_HMAC,
            Signatory::AttackerKeyPair => ATTACKER_SECRET_KEY,
            Signatory::PublicKeyAsHmac => PUBLIC_KEY_AS_HMAC,
        }
    }
}

/// The label an entry is written under.
#[derive(Debug, Clone, Arbitrary)]
pub enum Label {
    /// The signatory's own (`v1,` for HMAC, `v1a,` for ed25519).
    Own,
    /// `v1,`
    V1,
    /// `v1a,`
    V1a,
    /// Any other bytes before the comma (`v2`, `V1A`, `v1 a`, …).
    Other(Vec<u8>),
}

/// A change to the encoded signature.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Mangle {
    /// As is.
    None,
    /// Cut to this many characters.
    Truncate(u8),
    /// One bit of the text flipped.
    FlipText(u16),
    /// One bit of the decoded signature flipped, re-encoded (still well-formed).
    FlipDecoded(u16),
    /// One more character.
    Append(u8),
}

/// One entry of the header.
#[derive(Debug, Clone, Arbitrary)]
pub enum Entry {
    /// A real signature of the delivery.
    Signed {
        /// Who signed.
        by: Signatory,
        /// The label written before it.
        label: Label,
        /// What is changed.
        mangle: Mangle,
    },
    /// Arbitrary bytes as an entry.
    Raw(Vec<u8>),
    /// What separates this entry from the previous one (a space, a tab, several, a comma…).
    Separator(Vec<u8>),
}

/// One fuzzed mixed-header delivery.
#[derive(Debug, Clone, Arbitrary)]
pub struct MixedDelivery {
    /// Seconds from [`NOW`] the delivery is signed at, `v % 661 - 330` (both sides of the
    /// 300 s tolerance).
    pub skew: u16,
    /// The `webhook-id`.
    pub id: String,
    /// The signature header's entries.
    pub entries: Vec<Entry>,
    /// Send the entries over two `webhook-signature` header lines, split here.
    pub split_at: Option<u8>,
    /// The body.
    pub body: Vec<u8>,
}

fn verifier() -> &'static Verifier {
    static VERIFIER: std::sync::OnceLock<Verifier> = std::sync::OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::builder(P)
            .secret(HMAC)
            .secret(PUBLIC_KEY)
            .clock(fixed_at(NOW))
            .build()
            .expect("fuzz keys are valid")
    })
}

/// `secret`'s entry for the delivery: (`v1` or `v1a`, the base64 signature).
fn entry_of(secret: &str, body: &[u8], unix: i64, id: &str) -> (String, String) {
    let signed = Signer::new(P, secret)
        .expect("fuzz keys are valid")
        .sign(body, &SignParams::at(unix).id(id));
    let value = signed
        .header("webhook-signature")
        .expect("a signature header");
    let (label, sig) = value.split_once(',').expect("label,signature");
    (label.to_owned(), sig.to_owned())
}

fn mangle(sig: &str, how: Mangle) -> Vec<u8> {
    let mut text = sig.as_bytes().to_vec();
    match how {
        Mangle::None => {}
        Mangle::Truncate(n) => text.truncate(usize::from(n)),
        Mangle::FlipText(bit) => {
            let bit = usize::from(bit) % (text.len() * 8).max(1);
            if let Some(b) = text.get_mut(bit / 8) {
                *b ^= 1 << (bit % 8);
            }
        }
        Mangle::FlipDecoded(bit) => {
            if let Ok(mut raw) = STANDARD.decode(sig) {
                let bit = usize::from(bit) % (raw.len() * 8).max(1);
                if let Some(b) = raw.get_mut(bit / 8) {
                    *b ^= 1 << (bit % 8);
                }
                text = STANDARD.encode(raw).into_bytes();
            }
        }
        Mangle::Append(c) => text.push(c),
    }
    text
}

impl MixedDelivery {
    /// Verifies this delivery with the route's verifier and asserts the properties of the
    /// module docs (a panic is a libFuzzer crash).
    pub fn check(&self) -> Result<Verified, VerifyError> {
        let unix = NOW + i64::from(self.skew % 661) - 330;
        let id = if self.id.is_empty() {
            "msg_fuzz"
        } else {
            &self.id
        };
        let mut value = Vec::new();
        let mut separated = true;
        let mut real = Vec::new();
        for entry in self.entries.iter().take(40) {
            match entry {
                Entry::Separator(bytes) => {
                    value.extend_from_slice(bytes);
                    separated = true;
                    continue;
                }
                _ if !separated => value.push(b' '),
                _ => {}
            }
            separated = false;
            match entry {
                Entry::Signed {
                    by,
                    label,
                    mangle: how,
                } => {
                    let (own, sig) = entry_of(by.secret(), &self.body, unix, id);
                    let label: Vec<u8> = match label {
                        Label::Own => own.into_bytes(),
                        Label::V1 => b"v1".to_vec(),
                        Label::V1a => b"v1a".to_vec(),
                        Label::Other(bytes) => bytes.clone(),
                    };
                    value.extend_from_slice(&label);
                    value.push(b',');
                    value.extend_from_slice(&mangle(&sig, *how));
                    real.push(sig);
                }
                Entry::Raw(bytes) => value.extend_from_slice(bytes),
                Entry::Separator(_) => {}
            }
        }
        let mut pairs = vec![
            ("webhook-id".to_owned(), id.as_bytes().to_vec()),
            (
                "webhook-timestamp".to_owned(),
                unix.to_string().into_bytes(),
            ),
        ];
        match self.split_at.map(|at| usize::from(at).min(value.len())) {
            Some(at) => {
                pairs.push(("webhook-signature".to_owned(), value[..at].to_vec()));
                pairs.push(("webhook-signature".to_owned(), value[at..].to_vec()));
            }
            None => pairs.push(("webhook-signature".to_owned(), value)),
        }
        let pairs = Pairs(pairs);
        let result = verifier().verify(&pairs, &self.body);

        // The http::HeaderMap implementation agrees whenever the pairs fit in one.
        let map: Option<HeaderMap> = pairs
            .0
            .iter()
            .map(|(n, v)| {
                Some((
                    http::HeaderName::from_bytes(n.as_bytes()).ok()?,
                    HeaderValue::from_bytes(v).ok()?,
                ))
            })
            .collect::<Option<Vec<_>>>()
            .map(|list| {
                let mut map = HeaderMap::new();
                for (n, v) in list {
                    map.append(n, v);
                }
                map
            });
        if let Some(map) = map {
            assert_eq!(
                result,
                verifier().verify(&map, &self.body),
                "HeaderMap disagrees"
            );
        }

        match &result {
            Ok(verified) => self.accepted_with_the_right_kind(verified, &pairs),
            Err(err) => refusal_is_safe(err, &real),
        }
        result
    }

    /// Property 2.
    fn accepted_with_the_right_kind(&self, verified: &Verified, pairs: &Pairs) {
        let unix = verified
            .timestamp()
            .expect("Standard Webhooks signs a timestamp")
            .unix_timestamp();
        assert!((unix - NOW).abs() <= 300, "accepted t={unix}");
        let id = verified.delivery_id().expect("a signed id");
        let (secret, label) = match (verified.key_kind(), verified.secret_index()) {
            (KeyKind::Hmac, 0) => (HMAC, "v1"),
            (KeyKind::Ed25519, 1) => (SECRET_KEY, "v1a"),
            (kind, index) => panic!("accepted by {kind:?} key #{index}: not the configured kind"),
        };
        let (own, sig) = entry_of(secret, &self.body, unix, id);
        assert_eq!(own, label);
        let needle = format!("{label},{sig}");
        // Entries are separated by spaces or tabs, within one header value or across two.
        let found = pairs
            .0
            .iter()
            .filter(|(n, _)| n == "webhook-signature")
            .flat_map(|(_, v)| v.split(|&b| b == b' ' || b == b'\t'))
            .any(|word| word == needle.as_bytes());
        assert!(
            found,
            "accepted as {label} without the exact `{needle}` entry: {pairs:?}"
        );
    }
}

/// Property 3.
fn refusal_is_safe(err: &VerifyError, real: &[String]) {
    let status = err.status().as_u16();
    assert!(status == 400 || status == 401, "{err:?} answers {status}");
    for text in [err.to_string(), format!("{err:?}")] {
        for secret in [HMAC, SECRET_KEY, ATTACKER_HMAC, ATTACKER_SECRET_KEY] {
            assert!(!text.contains(&secret[5..]), "{text:?} contains a key");
        }
        for sig in real {
            assert!(
                !text.contains(sig.as_str()),
                "{text:?} contains a signature"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use arbitrary::Unstructured;

    use super::*;

    fn delivery(entries: Vec<Entry>) -> MixedDelivery {
        MixedDelivery {
            skew: 330,
            id: "msg_mixed".into(),
            entries,
            split_at: None,
            body: br#"{"type":"booking.created"}"#.to_vec(),
        }
    }

    fn signed(by: Signatory, label: Label) -> Entry {
        Entry::Signed {
            by,
            label,
            mangle: Mangle::None,
        }
    }

    /// The harness reaches both accepting paths, and its property holds on them; crossed
    /// labels and attackers' keys are refused.
    #[test]
    fn the_harness_accepts_each_kind_and_refuses_crossings() {
        let hmac = delivery(vec![signed(Signatory::Hmac, Label::Own)]).check();
        assert_eq!(hmac.map(|v| v.key_kind()), Ok(KeyKind::Hmac));
        let ed = delivery(vec![
            signed(Signatory::AttackerHmac, Label::Own),
            signed(Signatory::KeyPair, Label::Own),
        ])
        .check();
        assert_eq!(ed.map(|v| v.key_kind()), Ok(KeyKind::Ed25519));
        for refused in [
            vec![signed(Signatory::PublicKeyAsHmac, Label::Own)],
            vec![signed(Signatory::AttackerKeyPair, Label::Own)],
            vec![signed(Signatory::KeyPair, Label::V1)],
            vec![signed(Signatory::Hmac, Label::V1a)],
        ] {
            assert!(delivery(refused.clone()).check().is_err(), "{refused:?}");
        }
    }

    /// Arbitrary inputs from a fixed pseudo-random stream: the properties hold (the run
    /// panics otherwise), without libFuzzer.
    #[test]
    fn arbitrary_inputs_keep_the_properties() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut accepted = 0;
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..512)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            if let Ok(input) = MixedDelivery::arbitrary(&mut Unstructured::new(&bytes)) {
                accepted += usize::from(input.check().is_ok());
            }
        }
        // Random bytes rarely make a valid delivery; the count is informative only.
        eprintln!("accepted {accepted} of 300");
    }
}
