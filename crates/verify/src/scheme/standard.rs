//! Standard Webhooks (used by Svix and others): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64> [v1a,<base64> ...]` over `<id>.<timestamp>.<body>`:
//!
//! - `v1`: HMAC-SHA256 keyed with the base64 part of a `whsec_...` secret;
//! - `v1a`: ed25519, signed with a `whsk_...` secret key (base64 of the 32-byte seed followed
//!   by the 32-byte public key) and verified with a `whpk_...` public key (base64 of the
//!   32-byte public key).
//!
//! A verifier may hold both kinds (a sender moving from one to the other). Entries of other
//! versions are ignored, as the specification asks; a header with neither a `v1` nor a `v1a`
//! entry is malformed, as is a `v1` or `v1a` entry that does not decode to its length.

use zeroize::Zeroizing;

use super::encoding::{base64_secret, base64_signature, base64_tag, timestamp, to_base64, to_hex};
use super::header::{Fields, Text};
use super::{Bounded, Credential, Key, KeyError, Parsed, Request, Scheme, SignedPrefix, sign_mac};
use crate::ed25519::{KEY_LEN, PublicKey, SecretKey};
use crate::sign::{SignParams, SignedDelivery};
use crate::{MAX_SIGNATURES, Malformed, VerifyError};

const ID: &str = "webhook-id";
const TIMESTAMP: &str = "webhook-timestamp";
const SIGNATURE: &str = "webhook-signature";
/// The headers read, in the order [`Fields`] indexes them.
const NAMES: [&str; 3] = [ID, TIMESTAMP, SIGNATURE];
const SECRET_PREFIX: &[u8] = b"whsec_";
const PUBLIC_KEY_PREFIX: &[u8] = b"whpk_";
const SECRET_KEY_PREFIX: &[u8] = b"whsk_";

/// The expected forms, for [`ConfigError::InvalidSecret`](crate::ConfigError).
const SECRET_FORM: &str = "`whsec_` followed by standard base64";
const PUBLIC_KEY_FORM: &str =
    "`whpk_` followed by the standard base64 of a 32-byte ed25519 public key";
const SECRET_KEY_FORM: &str =
    "`whsk_` followed by the standard base64 of 64 bytes (the ed25519 seed, then its public key)";

/// Message ids are short (`msg_` and a ULID); a longer one is refused rather than hashed.
const MAX_ID_LEN: usize = 256;

pub(crate) struct StandardWebhooks;

impl Scheme for StandardWebhooks {
    fn key(&self, secret: &[u8]) -> Result<Key, KeyError> {
        let secret = secret.trim_ascii();
        if let Some(encoded) = secret.strip_prefix(PUBLIC_KEY_PREFIX) {
            let bytes = fixed_base64::<KEY_LEN>(encoded).ok_or(KeyError::Form(PUBLIC_KEY_FORM))?;
            return PublicKey::new(&bytes)
                .map(Key::Ed25519Public)
                .map_err(KeyError::Ed25519);
        }
        if let Some(encoded) = secret.strip_prefix(SECRET_KEY_PREFIX) {
            let bytes =
                fixed_base64::<{ 2 * KEY_LEN }>(encoded).ok_or(KeyError::Form(SECRET_KEY_FORM))?;
            return SecretKey::from_keypair(&bytes)
                .map(Key::Ed25519Secret)
                .map_err(KeyError::Ed25519);
        }
        // No prefix: the base64 of an HMAC secret, as accepted before `v1a` existed.
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        base64_secret(encoded)
            .map(|key| Key::Bytes(Zeroizing::new(key)))
            .ok_or(KeyError::Form(SECRET_FORM))
    }

    fn signs_several(&self) -> bool {
        true
    }

    fn header_names(&self) -> &[&'static str] {
        &NAMES
    }

    fn parse<'h>(&self, request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError> {
        let fields = request.fields;
        let id = fields.required(0)?;
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(VerifyError::malformed(ID, Malformed::TooLong));
        }
        let ts = timestamp(fields.required(1)?)
            .map_err(|reason| VerifyError::malformed(TIMESTAMP, reason))?;
        let mut tags = Bounded::new();
        let mut ed25519_count = 0;
        let count = for_each_entry(fields, |version, signature| {
            match version.as_bytes() {
                b"v1" => tags.push(base64_tag(signature)?)?,
                b"v1a" => {
                    base64_signature(signature)?;
                    ed25519_count += 1;
                }
                _ => return Ok(()),
            }
            // The bound is on all the entries checked, whatever their kind.
            if tags.len() + ed25519_count > MAX_SIGNATURES {
                return Err(Malformed::TooManySignatures);
            }
            Ok(())
        })?;
        if count == 0 {
            return Err(VerifyError::MissingHeader { name: SIGNATURE });
        }
        if tags.is_empty() && ed25519_count == 0 {
            return Err(VerifyError::malformed(SIGNATURE, Malformed::NoSignature));
        }
        let mut parsed = Parsed::new(Credential::Signatures {
            content: SignedPrefix::IdTimestamp(id, ts.raw),
            tags,
            ed25519_count,
        });
        parsed.timestamp = Some(ts);
        parsed.delivery_id = Some(id);
        Ok(parsed)
    }

    fn for_each_ed25519<'h>(&self, request: &Request<'h, '_>, f: &mut dyn FnMut(Text<'h>)) {
        // `parse` accepted these headers, so the walk succeeds; were it ever to fail, the
        // entries after the failure are not offered, which can only refuse.
        let _ = for_each_entry(request.fields, |version, signature| {
            if version.as_bytes() == b"v1a" {
                f(signature);
            }
            Ok(())
        });
    }

    fn sign(&self, key: &[u8], body: &[u8], params: &SignParams) -> SignedDelivery {
        self.sign_with(&[Key::Bytes(Zeroizing::new(key.to_vec()))], body, params)
    }

    fn sign_with(&self, keys: &[Key], body: &[u8], params: &SignParams) -> SignedDelivery {
        let t = params.timestamp().to_string();
        // Without an id, derive a stable one from what is signed, so signing is repeatable.
        let id = params.id_ref().map_or_else(
            || {
                format!(
                    "msg_{}",
                    &to_hex(&sign_mac(b"bookhook-id", &[t.as_bytes(), body]))[..24]
                )
            },
            str::to_owned,
        );
        let parts: [&[u8]; 5] = [id.as_bytes(), b".", t.as_bytes(), b".", body];
        let entries: Vec<String> = keys
            .iter()
            .filter_map(|key| match key {
                Key::Bytes(key) => Some(format!("v1,{}", to_base64(&sign_mac(key, &parts)))),
                Key::Ed25519Secret(key) => Some(format!("v1a,{}", to_base64(&key.sign(&parts)))),
                // The signer refuses public keys: they cannot sign.
                Key::Ed25519Public(_) => None,
            })
            .collect();
        SignedDelivery::from_headers(vec![
            ("webhook-id", id),
            ("webhook-timestamp", t),
            ("webhook-signature", entries.join(" ")),
        ])
    }
}

/// Calls `f` with the version and signature of each entry of every `webhook-signature` value;
/// returns how many values there were.
fn for_each_entry<'h>(
    fields: &Fields<'h>,
    mut f: impl FnMut(Text<'h>, Text<'h>) -> Result<(), Malformed>,
) -> Result<usize, VerifyError> {
    fields.for_each(2, |value| {
        value.for_each_word(|entry| {
            let (version, signature) = entry.split_once(b',').ok_or(Malformed::Syntax)?;
            f(version, signature)
        })
    })
}

/// Exactly `N` bytes of standard base64 (an ed25519 key), wiped after use when secret.
fn fixed_base64<const N: usize>(encoded: &[u8]) -> Option<Zeroizing<[u8; N]>> {
    let decoded = Zeroizing::new(base64_secret(encoded)?);
    let mut bytes = Zeroizing::new([0; N]);
    bytes.copy_from_slice(decoded.get(..N).filter(|_| decoded.len() == N)?);
    Some(bytes)
}
