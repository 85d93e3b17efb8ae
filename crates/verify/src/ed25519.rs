//! Ed25519 for Standard Webhooks' asymmetric `v1a` signatures: keys checked when they are
//! configured, and strict verification over the signed parts without copying the body.
//!
//! # Why not `VerifyingKey::verify_strict` itself
//!
//! `verify_strict` takes the message as one slice, so verifying `<id>.<timestamp>.<body>`
//! would copy every body (up to the adapters' 256 KiB limit) into a fresh buffer on every
//! delivery. `ed25519-dalek`'s streaming verifier hashes the parts in place, but performs only
//! the checks of the non-strict `verify`. This module adds the two checks that make
//! `verify_strict` strict, so that the result is the same as `verify_strict`'s on the
//! concatenated message (the tests below compare the two on crafted and random inputs):
//!
//! - the public key is not of small order: checked once, when it is configured
//!   ([`PublicKey::new`]), since such a key accepts forged signatures on any message;
//! - the signature's `R` is the encoding of a point, not of small order
//!   ([`StrictSignature::new`]), which rules out the known malleable and "valid for every key"
//!   signatures.
//!
//! The remaining checks are the stream verifier's own, as in `verify_strict`: `s` must be a
//! canonical scalar (below the group order), and the recomputed `R` is compared with the
//! signature's bytes, so a non-canonical encoding of `R` never matches.
//!
//! Everything here is public data (public keys, signatures, the signed content): no
//! constant-time discipline is needed, and early exits are fine.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// The length of an ed25519 public key, and of the seed of a secret key.
pub(crate) const KEY_LEN: usize = 32;
/// The length of an ed25519 signature.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// Why key bytes cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    /// Not the encoding of a curve point.
    NotAPoint,
    /// A point of small order: a "weak" key that accepts forged signatures.
    Weak,
    /// A secret key whose second half is not the public key of its first half.
    Mismatch,
}

/// A public key accepted for verification: a curve point of large order.
#[derive(Clone, Copy)]
pub(crate) struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The key with these bytes, if it is one that strict verification would accept.
    pub(crate) fn new(bytes: &[u8; KEY_LEN]) -> Result<Self, KeyProblem> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyProblem::NotAPoint)?;
        if key.is_weak() {
            return Err(KeyProblem::Weak);
        }
        Ok(PublicKey(key))
    }

    /// Whether `signature` is this key's signature of the concatenation of `parts`.
    pub(crate) fn verifies(&self, signature: &StrictSignature, parts: &[&[u8]]) -> bool {
        // `verify_stream` refuses an `s` that is not a canonical scalar.
        let Ok(mut stream) = self.0.verify_stream(&signature.0) else {
            return false;
        };
        for part in parts {
            stream.update(part);
        }
        stream.finalize_and_verify().is_ok()
    }
}

/// A signature that passed the checks of `verify_strict` that do not depend on the key or the
/// message: its `R` decodes to a point that is not of small order.
#[derive(Clone, Copy)]
pub(crate) struct StrictSignature(Signature);

impl StrictSignature {
    /// `None` for a signature that strict verification refuses whatever the key.
    pub(crate) fn new(bytes: &[u8; SIGNATURE_LEN]) -> Option<Self> {
        let r: &[u8; KEY_LEN] = bytes[..KEY_LEN].try_into().ok()?;
        // A point's decoding and order test are what `VerifyingKey` does to a key's bytes.
        let r = VerifyingKey::from_bytes(r).ok()?;
        if r.is_weak() {
            return None;
        }
        Some(StrictSignature(Signature::from_bytes(bytes)))
    }
}

/// A signing key (the sender's side). Wiped on drop (`ed25519-dalek`'s `zeroize` feature).
#[derive(Clone)]
pub(crate) struct SecretKey(SigningKey);

impl SecretKey {
    /// A key from its 32-byte seed followed by its 32-byte public key, the form of `whsk_`
    /// keys; the public half must be the seed's.
    pub(crate) fn from_keypair(bytes: &[u8; 2 * KEY_LEN]) -> Result<Self, KeyProblem> {
        let public: &[u8; KEY_LEN] = bytes[KEY_LEN..]
            .try_into()
            .map_err(|_| KeyProblem::Mismatch)?;
        // Tell a public half that is no point (or a weak one) from a mere mismatch.
        PublicKey::new(public)?;
        SigningKey::from_keypair_bytes(bytes)
            .map(SecretKey)
            .map_err(|_| KeyProblem::Mismatch)
    }

    /// The signature of the concatenation of `parts` (signing is not a hot path: the parts
    /// are copied into one message).
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(&parts.concat()).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 8032 test 1 key and the order of the group, for crafted signatures.
    const SEED: [u8; 32] = [
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c,
        0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae,
        0x7f, 0x60,
    ];
    /// ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    /// Encodings of small-order points: the identity, and the point of order 2 (y = -1).
    const IDENTITY: [u8; 32] = {
        let mut b = [0; 32];
        b[0] = 1;
        b
    };
    const ORDER_TWO: [u8; 32] = [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ];

    /// What this module decides for (key, signature, parts), to compare with `verify_strict`.
    fn ours(key: &[u8; 32], sig: &[u8; 64], parts: &[&[u8]]) -> bool {
        match (PublicKey::new(key), StrictSignature::new(sig)) {
            (Ok(key), Some(sig)) => key.verifies(&sig, parts),
            _ => false,
        }
    }

    fn strict(key: &[u8; 32], sig: &[u8; 64], parts: &[&[u8]]) -> bool {
        VerifyingKey::from_bytes(key).is_ok_and(|key| {
            key.verify_strict(&parts.concat(), &Signature::from_bytes(sig))
                .is_ok()
        })
    }

    /// `s + ℓ`: the same signature with a non-canonical scalar (what malleability exploits).
    fn add_order(s: &[u8]) -> [u8; 32] {
        let mut out = [0; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(s[i]) + u16::from(ORDER[i]) + carry;
            out[i] = sum as u8;
            carry = sum >> 8;
        }
        out
    }

    #[test]
    fn agrees_with_verify_strict_on_crafted_signatures() {
        let signing = SigningKey::from_bytes(&SEED);
        let key = signing.verifying_key().to_bytes();
        let parts: [&[u8]; 5] = [b"msg_1", b".", b"1614265330", b".", b"{}"];
        let good = signing.sign(&parts.concat()).to_bytes();
        let mut malleable = good;
        malleable[32..].copy_from_slice(&add_order(&good[32..]));
        let mut small_r = good;
        small_r[..32].copy_from_slice(&ORDER_TWO);
        // R = identity, s = 0 with the identity as the key: "valid" for every message under
        // the non-strict equation [s]B = R + [k]A.
        let mut universal = [0; 64];
        universal[..32].copy_from_slice(&IDENTITY);
        let mut not_a_point = good;
        not_a_point[..32].copy_from_slice(&[0xff; 32]);
        let cases: [(&str, [u8; 32], [u8; 64], bool); 6] = [
            ("valid", key, good, true),
            ("s + order", key, malleable, false),
            ("small-order R", key, small_r, false),
            (
                "identity key, universal signature",
                IDENTITY,
                universal,
                false,
            ),
            ("order-two key", ORDER_TWO, universal, false),
            ("R not a point", key, not_a_point, false),
        ];
        for (name, key, sig, expected) in cases {
            assert_eq!(
                strict(&key, &sig, &parts),
                expected,
                "{name}: verify_strict"
            );
            assert_eq!(ours(&key, &sig, &parts), expected, "{name}: bookhook");
        }
        // The non-strict stream alone would accept the universal signature under the
        // identity key: the checks above are what refuse it.
        let weak = VerifyingKey::from_bytes(&IDENTITY).unwrap();
        let stream = weak.verify_stream(&Signature::from_bytes(&universal));
        assert!(stream.is_ok_and(|mut s| {
            s.update(b"any message at all");
            s.finalize_and_verify().is_ok()
        }));
    }

    #[test]
    fn weak_and_invalid_public_keys_are_refused_when_configured() {
        assert!(matches!(PublicKey::new(&IDENTITY), Err(KeyProblem::Weak)));
        assert!(matches!(PublicKey::new(&ORDER_TWO), Err(KeyProblem::Weak)));
        // y = 2 is not the y of any curve point.
        let mut not_a_point = [0; 32];
        not_a_point[0] = 2;
        assert!(matches!(
            PublicKey::new(&not_a_point),
            Err(KeyProblem::NotAPoint)
        ));
        let key = SigningKey::from_bytes(&SEED).verifying_key().to_bytes();
        assert!(PublicKey::new(&key).is_ok());
    }

    #[test]
    fn secret_key_needs_its_own_public_half() {
        let signing = SigningKey::from_bytes(&SEED);
        let pair = signing.to_keypair_bytes();
        assert!(SecretKey::from_keypair(&pair).is_ok());
        let mut other = pair;
        other[32..].copy_from_slice(&SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes());
        assert!(matches!(
            SecretKey::from_keypair(&other),
            Err(KeyProblem::Mismatch)
        ));
        let mut weak = pair;
        weak[32..].copy_from_slice(&IDENTITY);
        assert!(matches!(
            SecretKey::from_keypair(&weak),
            Err(KeyProblem::Weak)
        ));
    }

    proptest::proptest! {
        /// Random keys, messages split anywhere, and signatures that are valid, bit-flipped
        /// or random: the streaming path decides exactly as `verify_strict` does.
        #[test]
        fn agrees_with_verify_strict_on_random_inputs(
            seed in proptest::array::uniform32(proptest::prelude::any::<u8>()),
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            flip in proptest::option::of(0usize..512),
            random_sig in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 64)),
        ) {
            let signing = SigningKey::from_bytes(&seed);
            let key = signing.verifying_key().to_bytes();
            let mut sig = signing.sign(&message).to_bytes();
            if let Some(bit) = flip {
                sig[bit / 8] ^= 1 << (bit % 8);
            }
            if let Some(random) = &random_sig {
                sig.copy_from_slice(random);
            }
            let at = cut.index(message.len() + 1);
            let parts: [&[u8]; 2] = [&message[..at], &message[at..]];
            proptest::prop_assert_eq!(ours(&key, &sig, &parts), strict(&key, &sig, &parts));
            if flip.is_none() && random_sig.is_none() {
                proptest::prop_assert!(ours(&key, &sig, &parts));
            }
            let signer = SecretKey::from_keypair(&signing.to_keypair_bytes()).unwrap();
            proptest::prop_assert_eq!(signer.sign(&parts), signing.sign(&message).to_bytes());
        }
    }
}
