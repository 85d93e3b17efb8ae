//! Producing deliveries exactly as a provider would send them: for tests, fixtures, the
//! `bookhook` CLI, and for checking a receiver end to end.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;

use crate::provider::SchemeOf;
use crate::scheme::Key;
use crate::secret::{parse_key, split_list};
use crate::{ConfigError, Provider};

/// Signs bodies the way one provider does, with one secret (or, for Standard Webhooks,
/// several at once, as a sender rotating keys does).
///
/// For Standard Webhooks, a `whsec_` secret signs a `v1` entry (HMAC-SHA256) and a `whsk_`
/// ed25519 secret key a `v1a` entry; [`Signer::from_list`] signs with each, in order, into
/// one `webhook-signature` header.
///
/// `Debug` is redacted.
///
/// # Example
///
/// ```
/// use bookhook_verify::{Provider, SignParams, Signer, Verifier};
///
/// let signer = Signer::new(Provider::Bookable, "wh_sec_test")?;
/// let body = br#"{"id":"a1","event_name":"booking_created"}"#;
/// let signed = signer.sign(body, &SignParams::now());
/// assert!(signed.header("x-samna-signature").unwrap().starts_with("t="));
///
/// let verifier = Verifier::builder(Provider::Bookable).secret("wh_sec_test").build()?;
/// assert!(verifier.verify(&signed.header_map(), body).is_ok());
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
///
/// An asymmetric (`v1a`) Standard Webhooks delivery, verified with the public key alone:
///
/// ```
/// use bookhook_verify::{KeyKind, Provider, SignParams, Signer, Verifier};
///
/// // The published example key pair of the Standard Webhooks reference server.
/// let secret_key = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
/// let public_key = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
///
/// let body = br#"{"type":"booking.created"}"#;
/// let signed = Signer::new(Provider::StandardWebhooks, secret_key)?.sign(body, &SignParams::now());
/// assert!(signed.header("webhook-signature").unwrap().starts_with("v1a,"));
///
/// let verifier = Verifier::builder(Provider::StandardWebhooks).secret(public_key).build()?;
/// let verified = verifier.verify(&signed.header_map(), body).expect("signed with the pair");
/// assert_eq!(verified.key_kind(), KeyKind::Ed25519);
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
pub struct Signer {
    provider: Provider,
    keys: Vec<Key>,
}

impl Signer {
    /// A signer for `provider` with `secret` in the form the provider issues it (for
    /// Standard Webhooks a `whsec_` secret, or a `whsk_` ed25519 secret key).
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptySecret`] or [`ConfigError::InvalidSecret`], as for a verifier;
    /// for a `whsk_` key also [`ConfigError::KeyPairMismatch`] (its public half is not its
    /// seed's), [`ConfigError::InvalidPublicKey`] or [`ConfigError::WeakPublicKey`]; and
    /// [`ConfigError::PublicKeyForSigner`] for a `whpk_` public key, which cannot sign.
    pub fn new(provider: Provider, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::with_secrets(provider, [secret])
    }

    /// A signer with several secrets from a comma-separated list (whitespace around entries
    /// ignored), each signing one entry of the delivery's signature header, in order: a
    /// Standard Webhooks sender rotating from `whsec_` to `whsk_`, or between two keys.
    ///
    /// # Errors
    ///
    /// As [`Signer::new`] (the index counts entries from 0); [`ConfigError::NoSecret`] for
    /// an empty list, and [`ConfigError::OneSecretOnly`] for several secrets of a provider
    /// whose deliveries carry one signature (every provider but Standard Webhooks).
    pub fn from_list(provider: Provider, list: &str) -> Result<Self, ConfigError> {
        Self::with_secrets(provider, split_list(list))
    }

    fn with_secrets<I, S>(provider: Provider, secrets: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let keys = secrets
            .into_iter()
            .enumerate()
            .map(
                |(index, secret)| match parse_key(provider, secret.as_ref(), index)? {
                    Key::Ed25519Public(_) => {
                        Err(ConfigError::PublicKeyForSigner { provider, index })
                    }
                    key => Ok(key),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        match keys.len() {
            0 => Err(ConfigError::NoSecret { provider }),
            1 => Ok(Signer { provider, keys }),
            _ if provider.scheme().signs_several() => Ok(Signer { provider, keys }),
            _ => Err(ConfigError::OneSecretOnly { provider }),
        }
    }

    /// The provider this signer imitates.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The headers (and, for Slotflow, the query string) the provider would send with `body`.
    pub fn sign(&self, body: &[u8], params: &SignParams) -> SignedDelivery {
        self.provider.scheme().sign_with(&self.keys, body, params)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("provider", &self.provider)
            .field("keys", &format_args!("[REDACTED; {}]", self.keys.len()))
            .finish()
    }
}

/// What a provider puts in a delivery besides the body: when it was sent, its id, its
/// event type. Each scheme uses what it signs or sends and ignores the rest.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignParams {
    timestamp: i64,
    id: Option<String>,
    event_type: Option<String>,
}

impl SignParams {
    /// Sent at `unix` (seconds since the Unix epoch).
    pub fn at(unix: i64) -> Self {
        SignParams {
            timestamp: unix,
            id: None,
            event_type: None,
        }
    }

    /// Sent now, by the system clock.
    pub fn now() -> Self {
        Self::at(OffsetDateTime::now_utc().unix_timestamp())
    }

    /// With a delivery id (Standard Webhooks' `webhook-id`, SchedulingKit's
    /// `X-Webhook-Delivery-Id`). Standard Webhooks derives one from the content if unset.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// With an event type header (SchedulingKit's `X-Webhook-Event`).
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    pub(crate) fn timestamp(&self) -> i64 {
        self.timestamp
    }

    pub(crate) fn id_ref(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub(crate) fn event_type_ref(&self) -> Option<&str> {
        self.event_type.as_deref()
    }
}

/// A signed delivery's headers, as the provider spells them, and its query string.
///
/// `Debug` redacts the query string, which carries Slotflow's secret token.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedDelivery {
    headers: Vec<(&'static str, String)>,
    query: Option<String>,
}

impl SignedDelivery {
    pub(crate) fn from_headers(headers: Vec<(&'static str, String)>) -> Self {
        SignedDelivery {
            headers,
            query: None,
        }
    }

    pub(crate) fn from_query(query: String) -> Self {
        SignedDelivery {
            headers: Vec::new(),
            query: Some(query),
        }
    }

    /// The headers, in order, named as the provider spells them.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The value of header `name` (case-insensitive), if the provider sends it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string to append to the URL (`token=...` for Slotflow), if any.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The headers as an [`http::HeaderMap`].
    pub fn header_map(&self) -> HeaderMap {
        self.headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    // `from_bytes` lowercases the provider's spelling.
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(value).ok()?,
                ))
            })
            .collect()
    }
}

impl fmt::Debug for SignedDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedDelivery")
            .field("headers", &self.headers)
            .field("query", &self.query.as_ref().map(|_| "REDACTED"))
            .finish()
    }
}
