//! The entry point: a [`Verifier`] per route, built once, checking each delivery.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use subtle::Choice;
use time::{OffsetDateTime, PrimitiveDateTime};
use zeroize::Zeroizing;

use crate::ed25519::{PublicKey, StrictSignature};
use crate::provider::SchemeOf;
use crate::scheme::header::{Fields, Text};
use crate::scheme::{
    Bounded, Credential, Parsed, Request, SignedPrefix, Timestamp, decode_signature,
};
use crate::secret::{HmacSha256, Keys, TAG_LEN, split_list, tags_equal, token_matches};
use crate::{
    Clock, ConfigError, HeaderSource, KeyKind, Provider, SecretSet, SystemClock, VerifyError,
};

/// How far a signed timestamp may be from now, by default: the five minutes Bookable asks for
/// and Standard Webhooks and Stripe use.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Checks deliveries of one provider against that route's active secrets.
///
/// Build it once at start-up and share it: cloning is cheap (one reference count), and each
/// secret's HMAC key state is computed once, not per request.
///
/// # Example
///
/// ```
/// use bookhook_verify::{Provider, SignParams, Signer, Verifier, VerifyError};
///
/// let verifier = Verifier::builder(Provider::Slatis)
///     .secrets("whsec_current,whsec_previous") // rotation: both accepted
///     .build()?;
///
/// let body = br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1"}}"#;
/// let signed = Signer::new(Provider::Slatis, "whsec_previous")?.sign(body, &SignParams::now());
/// let headers = signed.header_map();
///
/// let verified = verifier.verify(&headers, body).expect("signed with an active secret");
/// assert_eq!(verified.secret_index(), 1);
///
/// // One changed byte and the delivery is refused.
/// let err = verifier.verify(&headers, br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_2"}}"#);
/// assert_eq!(err.unwrap_err(), VerifyError::SignatureMismatch);
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    provider: Provider,
    secrets: Option<SecretSet>,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
}

impl Verifier {
    /// Starts building a verifier for `provider`.
    pub fn builder(provider: Provider) -> VerifierBuilder {
        VerifierBuilder {
            provider,
            secrets: Vec::new(),
            set: None,
            tolerance: DEFAULT_TOLERANCE,
            clock: Arc::new(SystemClock),
        }
    }

    /// A verifier with these secrets and the default tolerance and clock.
    pub fn new(secrets: SecretSet) -> Self {
        Self::builder(secrets.provider())
            .secret_set(secrets)
            .finish()
    }

    /// A verifier for a route whose secret is not configured: it refuses every delivery with
    /// [`VerifyError::NoSecret`] (HTTP 500), so a misconfigured route fails loudly instead of
    /// accepting unsigned requests or vanishing.
    pub fn unconfigured(provider: Provider) -> Self {
        Self::builder(provider).finish()
    }

    /// The provider this verifier checks.
    pub fn provider(&self) -> Provider {
        self.inner.provider
    }

    /// The timestamp tolerance (unused by providers that sign no timestamp).
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }

    /// Whether the verifier has secrets (see [`Verifier::unconfigured`]).
    pub fn is_configured(&self) -> bool {
        self.inner.secrets.is_some()
    }

    /// Checks a delivery from its headers and raw body.
    ///
    /// For Slotflow, whose credential is in the URL, use [`Verifier::verify_with_query`]:
    /// this method answers [`VerifyError::MissingToken`].
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] saying why the delivery must be refused; its
    /// [`status`](VerifyError::status) is the HTTP status to answer with.
    ///
    /// # Security
    ///
    /// Every signature entry is compared with every active secret over fixed-length tags in
    /// constant time. The body is hashed once per secret (not per entry) and never copied.
    /// Standard Webhooks `v1a` entries are checked only against `whpk_` public keys and `v1`
    /// entries only against HMAC secrets, so a key of one kind never verifies an entry of
    /// the other; ed25519 verification is strict (see `SECURITY.md`).
    pub fn verify<H>(&self, headers: &H, body: &[u8]) -> Result<Verified, VerifyError>
    where
        H: HeaderSource + ?Sized,
    {
        self.verify_with_query(None, headers, body)
    }

    /// Checks a delivery from its URL query string (without the `?`), headers and raw body.
    /// Schemes other than Slotflow ignore the query.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    pub fn verify_with_query<H>(
        &self,
        query: Option<&str>,
        headers: &H,
        body: &[u8],
    ) -> Result<Verified, VerifyError>
    where
        H: HeaderSource + ?Sized,
    {
        let inner = &*self.inner;
        let secrets = inner.secrets.as_ref().ok_or(VerifyError::NoSecret)?;
        let scheme = inner.provider.scheme();
        let fields = Fields::gather(&headers, scheme.header_names());
        let request = Request {
            fields: &fields,
            query,
        };
        let parsed = scheme.parse(&request)?;
        let timestamp = match parsed.timestamp {
            Some(ts) => Some(self.check_tolerance(ts)?),
            None => None,
        };
        let (secret_index, key_kind) = matching_secret(secrets.keys(), &parsed, body, |f| {
            scheme.for_each_ed25519(&request, f);
        })?;
        let delivery_id_signed = parsed
            .delivery_id
            .is_some_and(|id| parsed.credential.signs_id(id));
        Ok(Verified {
            provider: inner.provider,
            secret_index,
            key_kind,
            timestamp,
            delivery_id: parsed.delivery_id.map(HeaderText::new),
            delivery_id_signed,
            event_type: parsed.event_type.map(HeaderText::new),
        })
    }

    /// Refuses a timestamp further than the tolerance from now, in either direction.
    /// `abs_diff` cannot overflow, whatever the two values.
    fn check_tolerance(&self, ts: Timestamp<'_>) -> Result<SignedAt, VerifyError> {
        let now = self.inner.clock.now_unix();
        let tolerance_secs = self.inner.tolerance.as_secs();
        let distance = now.abs_diff(ts.unix);
        if distance > tolerance_secs {
            return Err(if ts.unix > now {
                VerifyError::TimestampInFuture {
                    ahead_secs: distance,
                    tolerance_secs,
                }
            } else {
                VerifyError::TimestampTooOld {
                    age_secs: distance,
                    tolerance_secs,
                }
            });
        }
        // Within the tolerance of a real clock, so within `OffsetDateTime`'s range; a clock
        // set beyond year 9999 is refused rather than trusted. (A range check: building the
        // date itself is left to `Verified::timestamp`, for callers who want it.)
        if !(SignedAt::MIN..=SignedAt::MAX).contains(&ts.unix) {
            return Err(VerifyError::TimestampInFuture {
                ahead_secs: distance,
                tolerance_secs,
            });
        }
        Ok(SignedAt(ts.unix))
    }
}

/// The index and kind of the first active secret (in configured order) that any credential
/// entry matches. `ed25519_entries` offers the request's ed25519 entries, read again from
/// the headers (see [`Credential::Signatures`]).
fn matching_secret<'h>(
    keys: &Keys,
    parsed: &Parsed<'h>,
    body: &[u8],
    ed25519_entries: impl FnOnce(&mut dyn FnMut(Text<'h>)),
) -> Result<(usize, KeyKind), VerifyError> {
    match (&parsed.credential, keys) {
        (Credential::Tags { content, tags }, Keys::Signing { macs, .. }) => {
            matching_mac(macs, content, tags, body)
                .map(|index| (index, KeyKind::Hmac))
                .ok_or(VerifyError::SignatureMismatch)
        }
        (
            Credential::Signatures {
                content,
                tags,
                ed25519_count,
            },
            Keys::Signing { macs, public },
        ) => {
            // HMAC first: it is cheap, and a public key listed after the matching secret
            // need not be tried at all.
            let mac = if tags.is_empty() {
                None
            } else {
                matching_mac(macs, content, tags, body).map(|index| (index, KeyKind::Hmac))
            };
            let before = mac.map_or(usize::MAX, |(index, _)| index);
            let wanted = *ed25519_count > 0 && public.first().is_some_and(|(i, _)| *i < before);
            wanted
                .then(|| matching_public_key(public, before, content, ed25519_entries, body))
                .flatten()
                .map(|index| (index, KeyKind::Ed25519))
                .or(mac)
                .ok_or(VerifyError::SignatureMismatch)
        }
        (Credential::Tokens(tokens), Keys::Tokens(digests)) => digests
            .iter()
            .position(|digest| {
                let hit = tokens.iter().fold(Choice::from(0), |hit, token| {
                    hit | token_matches(digest, token.as_bytes())
                });
                bool::from(hit)
            })
            .map(|index| (index, KeyKind::Token))
            .ok_or(VerifyError::TokenMismatch),
        // A scheme's credential kind and its keys' kind come from the same provider, so they
        // always agree; refusing is the safe answer should they ever not.
        (Credential::Tags { .. } | Credential::Signatures { .. }, Keys::Tokens(_)) => {
            Err(VerifyError::SignatureMismatch)
        }
        (Credential::Tokens(_), Keys::Signing { .. }) => Err(VerifyError::TokenMismatch),
    }
}

/// The configured index of the first HMAC secret that any tag matches. Every tag is compared
/// with each secret's MAC in constant time (no early exit inside a secret's comparisons).
fn matching_mac(
    macs: &[(usize, HmacSha256)],
    content: &SignedPrefix<'_>,
    tags: &Bounded<[u8; TAG_LEN]>,
    body: &[u8],
) -> Option<usize> {
    macs.iter().find_map(|(index, key)| {
        let expected = content.mac(key, body);
        let hit = tags
            .iter()
            .fold(Choice::from(0), |hit, tag| hit | tags_equal(tag, &expected));
        bool::from(hit).then_some(*index)
    })
}

/// The configured index (below `before`) of the first public key that any `v1a` signature
/// verifies under, strictly. Signatures and keys are public: early exits leak nothing.
fn matching_public_key<'h>(
    public: &[(usize, PublicKey)],
    before: usize,
    content: &SignedPrefix<'_>,
    entries: impl FnOnce(&mut dyn FnMut(Text<'h>)),
    body: &[u8],
) -> Option<usize> {
    let mut best: Option<usize> = None;
    entries(&mut |entry| {
        // Checked to decode when parsed; the key-independent strict checks once per entry.
        let Some(signature) = decode_signature(entry).and_then(|s| StrictSignature::new(&s)) else {
            return;
        };
        let limit = best.unwrap_or(before);
        // `public` is in configured order: the first match is the lowest index.
        let found = public
            .iter()
            .take_while(|(index, _)| *index < limit)
            .find(|(_, key)| content.ed25519_verifies(key, &signature, body));
        if let Some((index, _)) = found {
            best = Some(*index);
        }
    });
    best
}

/// Configures a [`Verifier`]. `Debug` is redacted.
#[must_use]
pub struct VerifierBuilder {
    provider: Provider,
    secrets: Vec<Zeroizing<Vec<u8>>>,
    set: Option<SecretSet>,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
}

impl VerifierBuilder {
    /// Adds one active secret, in the form the provider issues it.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.push(Zeroizing::new(secret.as_ref().to_vec()));
        self
    }

    /// Adds a comma-separated list of active secrets (as kept in one environment variable).
    /// Whitespace around entries is ignored; an empty entry fails [`build`](Self::build).
    pub fn secrets(mut self, list: &str) -> Self {
        for secret in split_list(list) {
            self = self.secret(secret);
        }
        self
    }

    /// Uses an already built [`SecretSet`] (of the same provider) instead of secrets added
    /// one by one; [`build`](Self::build) refuses a set of another provider, or a set given
    /// together with secrets one by one, rather than silently dropping either.
    pub fn secret_set(mut self, set: SecretSet) -> Self {
        self.set = Some(set);
        self
    }

    /// How far a signed timestamp may be from now, in either direction (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Where "now" comes from (default [`SystemClock`]); use
    /// [`FixedClock`](crate::FixedClock) in tests or to check a recorded delivery.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoSecret`] without any secret; [`ConfigError::EmptySecret`] or
    /// [`ConfigError::InvalidSecret`] for a secret that cannot be used (the index counts
    /// from the first secret added).
    pub fn build(mut self) -> Result<Verifier, ConfigError> {
        let provider = self.provider;
        match &self.set {
            None => self.set = Some(SecretSet::new(provider, self.secrets.drain(..))?),
            Some(set) if set.provider() != provider => {
                return Err(ConfigError::SecretSetProvider {
                    provider,
                    set: set.provider(),
                });
            }
            Some(_) if !self.secrets.is_empty() => {
                return Err(ConfigError::SecretsTwice { provider });
            }
            Some(_) => {}
        }
        Ok(self.finish())
    }

    fn finish(self) -> Verifier {
        Verifier {
            inner: Arc::new(Inner {
                provider: self.provider,
                secrets: self.set,
                tolerance: self.tolerance,
                clock: self.clock,
            }),
        }
    }
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("provider", &self.provider)
            .field(
                "secrets",
                &format_args!("[REDACTED; {}]", self.secrets.len()),
            )
            .field("secret_set", &self.set)
            .field("tolerance", &self.tolerance)
            .field("clock", &self.clock)
            .finish()
    }
}

/// What a successful verification established.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    provider: Provider,
    secret_index: usize,
    key_kind: KeyKind,
    timestamp: Option<SignedAt>,
    delivery_id: Option<HeaderText>,
    /// Whether `delivery_id` is part of the signed string (decided from the credential
    /// that was checked, not from a per-provider flag that could drift from the scheme).
    delivery_id_signed: bool,
    event_type: Option<HeaderText>,
}

/// A signed timestamp that passed the tolerance check, in Unix seconds: within
/// `OffsetDateTime`'s range, so [`date_time`](Self::date_time) always succeeds.
#[derive(Clone, Copy, PartialEq, Eq)]
struct SignedAt(i64);

impl SignedAt {
    const MIN: i64 = PrimitiveDateTime::MIN.assume_utc().unix_timestamp();
    const MAX: i64 = PrimitiveDateTime::MAX.assume_utc().unix_timestamp();

    fn date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.0).ok()
    }
}

/// As the date and time, as `OffsetDateTime` prints it.
impl fmt::Debug for SignedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date_time() {
            Some(at) => fmt::Debug::fmt(&at, f),
            None => fmt::Debug::fmt(&self.0, f),
        }
    }
}

/// A header value kept in a [`Verified`]: inline up to [`INLINE_TEXT`] bytes (delivery ids
/// are ULIDs, UUIDs and the like), so that a successful verification allocates nothing;
/// longer values on the heap.
#[derive(Clone, PartialEq, Eq)]
enum HeaderText {
    Inline { len: u8, bytes: [u8; INLINE_TEXT] },
    Heap(Box<str>),
}

const INLINE_TEXT: usize = 64;

impl HeaderText {
    fn new(text: Text<'_>) -> Self {
        let bytes = text.as_bytes();
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE_TEXT => {
                let mut inline = [0; INLINE_TEXT];
                inline[..bytes.len()].copy_from_slice(bytes);
                HeaderText::Inline { len, bytes: inline }
            }
            _ => HeaderText::Heap(text.to_str().into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Only visible ASCII is stored, which is UTF-8: the check always passes.
            HeaderText::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            HeaderText::Heap(text) => text,
        }
    }
}

impl fmt::Debug for HeaderText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Verified {
    /// The provider whose scheme matched.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Which active secret matched (0 is the first configured). Useful while rotating: once
    /// no delivery matches the old secret any more, it can be removed.
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }

    /// The kind of the key that matched: [`KeyKind::Hmac`] for a shared secret,
    /// [`KeyKind::Ed25519`] for a Standard Webhooks `whpk_` public key (a `v1a` signature),
    /// [`KeyKind::Token`] for a Slotflow URL token. While a sender moves from `v1` to `v1a`,
    /// this says which deliveries already arrive signed the new way.
    pub fn key_kind(&self) -> KeyKind {
        self.key_kind
    }

    /// The signed timestamp, for schemes that sign one.
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.timestamp.and_then(SignedAt::date_time)
    }

    /// The delivery id the provider sent: Standard Webhooks' signed `webhook-id`, or
    /// SchedulingKit's unsigned `X-Webhook-Delivery-Id`.
    ///
    /// # Security
    ///
    /// An unsigned id may be changed by anyone replaying a captured body: use
    /// [`signed_delivery_id`](Self::signed_delivery_id) for anything that must hold against
    /// an attacker, such as a replay or dedupe key.
    pub fn delivery_id(&self) -> Option<&str> {
        self.delivery_id.as_ref().map(HeaderText::as_str)
    }

    /// The delivery id only when the signature covers it (Standard Webhooks' `webhook-id`,
    /// part of `<id>.<timestamp>.<body>`); `None` for an unsigned id (SchedulingKit's
    /// `X-Webhook-Delivery-Id`) and for schemes without one. Replay and dedupe keys are
    /// built from this, or else from the verified body.
    ///
    /// ```
    /// use bookhook_verify::{Provider, SignParams, Signer, Verifier};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let params = SignParams::now().id("dlv_1");
    /// for (provider, secret, signed) in [
    ///     (Provider::StandardWebhooks, "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=", Some("dlv_1")),
    ///     (Provider::SchedulingKit, "sk-secret", None),
    /// ] {
    ///     let delivery = Signer::new(provider, secret)?.sign(b"{}", &params);
    ///     let verifier = Verifier::builder(provider).secret(secret).build()?;
    ///     let verified = verifier.verify(&delivery.header_map(), b"{}")?;
    ///     assert_eq!(verified.delivery_id(), Some("dlv_1"));
    ///     assert_eq!(verified.signed_delivery_id(), signed);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn signed_delivery_id(&self) -> Option<&str> {
        self.delivery_id().filter(|_| self.delivery_id_signed)
    }

    /// The event type the provider sent in a header (SchedulingKit's unsigned
    /// `X-Webhook-Event`). Prefer the type in the signed body.
    pub fn event_type(&self) -> Option<&str> {
        self.event_type.as_ref().map(HeaderText::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_at_covers_exactly_the_range_of_offset_date_time() {
        assert!(OffsetDateTime::from_unix_timestamp(SignedAt::MIN).is_ok());
        assert!(OffsetDateTime::from_unix_timestamp(SignedAt::MAX).is_ok());
        assert!(OffsetDateTime::from_unix_timestamp(SignedAt::MIN - 1).is_err());
        assert!(OffsetDateTime::from_unix_timestamp(SignedAt::MAX + 1).is_err());
        let at = SignedAt(1_780_000_000);
        let expected = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        assert_eq!(at.date_time(), Some(expected));
        assert_eq!(format!("{at:?}"), format!("{expected:?}"));
    }

    #[test]
    fn a_secret_set_must_be_the_verifiers_provider_and_the_only_secrets() {
        let slatis = SecretSet::new(Provider::Slatis, ["whsec_a"]).unwrap();
        let err = Verifier::builder(Provider::CalCom)
            .secret_set(slatis.clone())
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::SecretSetProvider {
                provider: Provider::CalCom,
                set: Provider::Slatis
            }
        );
        let err = Verifier::builder(Provider::Slatis)
            .secret("whsec_b")
            .secret_set(slatis.clone())
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::SecretsTwice {
                provider: Provider::Slatis
            }
        );
        let verifier = Verifier::builder(Provider::Slatis)
            .secret_set(slatis)
            .build()
            .unwrap();
        assert_eq!(verifier.provider(), Provider::Slatis);
    }

    #[test]
    fn header_text_keeps_short_values_inline_and_long_ones_whole() {
        for len in [0, 1, 31, INLINE_TEXT, INLINE_TEXT + 1, 300] {
            let value = "x".repeat(len);
            let text = HeaderText::new(Text::unchecked(&value));
            assert_eq!(text.as_str(), value);
            assert_eq!(format!("{text:?}"), format!("{value:?}"));
            assert_eq!(
                matches!(text, HeaderText::Inline { .. }),
                len <= INLINE_TEXT
            );
            // Equal to the same value built again, inline or not.
            assert_eq!(text.clone(), HeaderText::new(Text::unchecked(&value)));
        }
        let a = HeaderText::new(Text::unchecked("msg_a"));
        assert_ne!(a, HeaderText::new(Text::unchecked("msg_b")));
    }
}
