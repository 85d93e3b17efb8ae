//! One module per provider, each implementing [`Scheme`]; the registry is
//! [`Provider::scheme`](crate::Provider).
//!
//! A scheme only *parses*: it turns headers (and, for URL tokens, the query) into the
//! credentials to check and the exact bytes that were signed. The verifier does the
//! cryptography, the tolerance check and the constant-time comparison in one place for all.

pub(crate) mod bookable;
pub(crate) mod calcom;
pub(crate) mod calendly;
pub(crate) mod schedulingkit;
pub(crate) mod slatis;
pub(crate) mod slotflow;
pub(crate) mod standard;

mod encoding;
pub(crate) mod header;
pub(crate) mod hex_body;
pub(crate) mod stripe_style;

use zeroize::Zeroizing;

use crate::ed25519::{KeyProblem, PublicKey, SecretKey};
use crate::scheme::header::{Fields, Text};
use crate::secret::{HmacSha256, TAG_LEN, mac};
use crate::sign::{SignParams, SignedDelivery};
use crate::{MAX_SIGNATURES, Malformed, VerifyError};

/// A provider's signature scheme.
pub(crate) trait Scheme: Sync {
    /// The bytes to key HMAC (or compare tokens) with, from a secret as the provider issues
    /// it. Most providers use the secret's bytes exactly as given (no trimming: a key is
    /// bytes, and RFC 4231 keys are made of bytes such as `0x0c` that look like whitespace).
    ///
    /// The error names the expected form, for [`ConfigError::InvalidSecret`](crate::ConfigError).
    fn key_bytes(&self, secret: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
        Ok(Zeroizing::new(secret.to_vec()))
    }

    /// The key a configured secret stands for. Most schemes have one kind of key, the bytes
    /// of [`Scheme::key_bytes`]; Standard Webhooks also takes ed25519 keys (`whpk_`, `whsk_`).
    fn key(&self, secret: &[u8]) -> Result<Key, KeyError> {
        self.key_bytes(secret)
            .map(Key::Bytes)
            .map_err(KeyError::Form)
    }

    /// Whether a delivery may carry several signatures, so that a [`Signer`](crate::Signer)
    /// may sign with several keys at once (a sender rotating).
    fn signs_several(&self) -> bool {
        false
    }

    /// Whether the credential is a URL token rather than an HMAC signature.
    fn uses_token(&self) -> bool {
        false
    }

    /// The headers [`Scheme::parse`] reads, lowercase, at most
    /// [`MAX_NAMES`](header::MAX_NAMES): the verifier collects their values in one pass over
    /// the request's headers, and the scheme then reads them by index in this list.
    fn header_names(&self) -> &[&'static str];

    /// Reads what must be checked from the request.
    fn parse<'h>(&self, request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError>;

    /// What the provider would send for `body`, keyed with `key` (from [`Scheme::key_bytes`]).
    fn sign(&self, key: &[u8], body: &[u8], params: &SignParams) -> SignedDelivery;

    /// Calls `f` with each ed25519 signature entry of the request (the base64 text, already
    /// checked by [`Scheme::parse`]), for a [`Credential::Signatures`] with any.
    fn for_each_ed25519<'h>(&self, request: &Request<'h, '_>, f: &mut dyn FnMut(Text<'h>)) {
        let _ = (request, f);
    }

    /// What the provider would send for `body` signed with every key of `keys`, in order.
    ///
    /// Schemes that override neither this nor [`Scheme::key`] get exactly one
    /// [`Key::Bytes`] from the [`Signer`](crate::Signer), which checks
    /// [`Scheme::signs_several`]; should that ever not hold, the delivery carries no
    /// signature at all, which every verifier refuses (never a signature with a wrong key).
    fn sign_with(&self, keys: &[Key], body: &[u8], params: &SignParams) -> SignedDelivery {
        match keys {
            [Key::Bytes(key)] => self.sign(key, body, params),
            _ => SignedDelivery::from_headers(Vec::new()),
        }
    }
}

/// A configured secret, in the form the scheme uses it.
pub(crate) enum Key {
    /// Bytes to key HMAC-SHA256 with (or, for URL tokens, the token).
    Bytes(Zeroizing<Vec<u8>>),
    /// An ed25519 public key (Standard Webhooks `whpk_`): verifies `v1a` signatures.
    Ed25519Public(PublicKey),
    /// An ed25519 secret key (Standard Webhooks `whsk_`): signs `v1a` signatures.
    Ed25519Secret(SecretKey),
}

/// Why a secret cannot be used, before the provider and index are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyError {
    /// Not in the form the provider issues: the expected form.
    Form(&'static str),
    /// An ed25519 key that is unusable although well encoded.
    Ed25519(KeyProblem),
}

/// The parts of a request a scheme may read.
#[derive(Clone, Copy)]
pub(crate) struct Request<'h, 'f> {
    /// The values of [`Scheme::header_names`].
    pub(crate) fields: &'f Fields<'h>,
    pub(crate) query: Option<&'h str>,
}

/// What a scheme found in a request.
pub(crate) struct Parsed<'h> {
    /// The signed timestamp, if the scheme has one.
    pub(crate) timestamp: Option<Timestamp<'h>>,
    /// A delivery id the provider sends (signed or not).
    pub(crate) delivery_id: Option<Text<'h>>,
    /// An event type the provider sends in a header.
    pub(crate) event_type: Option<Text<'h>>,
    /// The credentials to check.
    pub(crate) credential: Credential<'h>,
}

impl<'h> Parsed<'h> {
    pub(crate) fn new(credential: Credential<'h>) -> Self {
        Parsed {
            timestamp: None,
            delivery_id: None,
            event_type: None,
            credential,
        }
    }
}

/// A Unix timestamp as sent (the digits are signed as received) and as a number.
#[derive(Clone, Copy)]
pub(crate) struct Timestamp<'h> {
    pub(crate) raw: Text<'h>,
    pub(crate) unix: i64,
}

/// The credentials a request carries. It lives on the stack for one request: boxing the tags
/// would allocate per request. (Its two tag variants are about the same size, so clippy's
/// `large_enum_variant` no longer fires on the small `Tokens` one.)
pub(crate) enum Credential<'h> {
    /// HMAC-SHA256 tags over `content` followed by the body.
    Tags {
        content: SignedPrefix<'h>,
        tags: Bounded<[u8; TAG_LEN]>,
    },
    /// HMAC-SHA256 tags and ed25519 signatures over the same content (Standard Webhooks'
    /// `v1` and `v1a` entries). Only the *number* of ed25519 entries is kept (each checked
    /// to decode to 64 bytes): they are read again with [`Scheme::for_each_ed25519`] when a
    /// public key needs them. A list of them here would add 264 bytes that every `v1`
    /// delivery builds and moves (~150 instructions per verify, measured), for entries that
    /// cost ~30 µs each to verify anyway.
    Signatures {
        content: SignedPrefix<'h>,
        tags: Bounded<[u8; TAG_LEN]>,
        ed25519_count: usize,
    },
    /// URL tokens.
    Tokens(Bounded<&'h str>),
}

/// What is signed before the body.
#[derive(Clone, Copy)]
pub(crate) enum SignedPrefix<'h> {
    /// The raw body alone.
    Nothing,
    /// `<timestamp>.<body>`.
    Timestamp(Text<'h>),
    /// `<id>.<timestamp>.<body>`.
    IdTimestamp(Text<'h>, Text<'h>),
}

impl<'h> Credential<'h> {
    /// Whether `id` is the delivery id inside the signed string (Standard Webhooks'
    /// `<id>.<timestamp>.<body>`): only then may it serve as a replay key.
    pub(crate) fn signs_id(&self, id: Text<'h>) -> bool {
        match self {
            Credential::Tags { content, .. } | Credential::Signatures { content, .. } => {
                matches!(content, SignedPrefix::IdTimestamp(signed, _) if *signed == id)
            }
            Credential::Tokens(_) => false,
        }
    }
}

impl SignedPrefix<'_> {
    /// HMAC-SHA256 of this prefix followed by `body`, without copying the body.
    pub(crate) fn mac(&self, key: &HmacSha256, body: &[u8]) -> [u8; TAG_LEN] {
        match *self {
            SignedPrefix::Nothing => mac(key, &[body]),
            SignedPrefix::Timestamp(t) => mac(key, &[t.as_bytes(), b".", body]),
            SignedPrefix::IdTimestamp(id, t) => {
                mac(key, &[id.as_bytes(), b".", t.as_bytes(), b".", body])
            }
        }
    }

    /// Whether `key` signed this prefix followed by `body` (ed25519), without copying the body.
    pub(crate) fn ed25519_verifies(
        &self,
        key: &PublicKey,
        signature: &crate::ed25519::StrictSignature,
        body: &[u8],
    ) -> bool {
        match *self {
            SignedPrefix::Nothing => key.verifies(signature, &[body]),
            SignedPrefix::Timestamp(t) => key.verifies(signature, &[t.as_bytes(), b".", body]),
            SignedPrefix::IdTimestamp(id, t) => {
                key.verifies(signature, &[id.as_bytes(), b".", t.as_bytes(), b".", body])
            }
        }
    }
}

/// A list of at most [`MAX_SIGNATURES`] entries on the stack: a request with thousands of
/// signature entries costs a bounded amount of work and no allocation.
///
/// Slots past `len` hold `T::default()` (not `Option<T>`: 16 tags stay 512 bytes, which the
/// request path builds and moves once per delivery).
pub(crate) struct Bounded<T> {
    items: [T; MAX_SIGNATURES],
    len: usize,
}

impl<T: Copy + Default> Bounded<T> {
    pub(crate) fn new() -> Self {
        Bounded {
            items: [T::default(); MAX_SIGNATURES],
            len: 0,
        }
    }

    /// Adds `item`, or fails with [`Malformed::TooManySignatures`] once full.
    pub(crate) fn push(&mut self, item: T) -> Result<(), Malformed> {
        let slot = self
            .items
            .get_mut(self.len)
            .ok_or(Malformed::TooManySignatures)?;
        *slot = item;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items[..self.len].iter()
    }
}

/// A `v1a` entry kept by [`Credential::Signatures`], decoded again for verification
/// (`None` cannot happen for an entry the scheme kept: it was checked to decode).
pub(crate) fn decode_signature(entry: Text<'_>) -> Option<[u8; crate::ed25519::SIGNATURE_LEN]> {
    encoding::base64_signature(entry).ok()
}

/// HMAC-SHA256 of `parts` with a raw key, for signing (not a hot path).
pub(crate) fn sign_mac(key: &[u8], parts: &[&[u8]]) -> [u8; TAG_LEN] {
    use hmac::Mac;
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let keyed = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac(&keyed, parts)
}
