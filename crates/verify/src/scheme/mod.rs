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

/// The credentials a request carries.
#[expect(
    clippy::large_enum_variant,
    reason = "lives on the stack for one request; boxing the tags would allocate per request"
)]
pub(crate) enum Credential<'h> {
    /// HMAC-SHA256 tags over `content` followed by the body.
    Tags {
        content: SignedPrefix<'h>,
        tags: Bounded<[u8; TAG_LEN]>,
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

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items[..self.len].iter()
    }
}

/// HMAC-SHA256 of `parts` with a raw key, for signing (not a hot path).
pub(crate) fn sign_mac(key: &[u8], parts: &[&[u8]]) -> [u8; TAG_LEN] {
    use hmac::Mac;
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let keyed = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac(&keyed, parts)
}
