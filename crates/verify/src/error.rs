//! Errors: [`VerifyError`] for a delivery that is refused, [`ConfigError`] for a verifier or
//! signer that cannot be built.
//!
//! No error ever carries a secret, an expected signature or a computed MAC, in `Display` or
//! `Debug`: the reason is safe to log and to send back to the caller.

use http::StatusCode;

use crate::{Provider, RejectionCause};

/// Why a delivery was refused.
///
/// `Display` gives the short reason that adapters send as the response body
/// (`"signature mismatch"`, `"timestamp too old"`, ...); [`status`](Self::status) the HTTP
/// status of the rejection table in the project design, so every adapter answers the same.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The signature header (or another header the scheme requires) is absent.
    #[error("missing {name} header")]
    MissingHeader {
        /// The header's lowercase name.
        name: &'static str,
    },
    /// The URL-token scheme found no `token` query parameter.
    #[error("missing token")]
    MissingToken,
    /// A required header is present but cannot be parsed.
    #[error("malformed {header} header: {reason}")]
    Malformed {
        /// The header's lowercase name (or `token` for the query parameter).
        header: &'static str,
        /// What is wrong with it.
        reason: Malformed,
    },
    /// No signature entry matches any active secret.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The URL token matches none of the configured tokens.
    #[error("token mismatch")]
    TokenMismatch,
    /// The signed timestamp is further in the past than the tolerance allows.
    #[error("timestamp too old")]
    TimestampTooOld {
        /// How far in the past the timestamp is, in seconds.
        age_secs: u64,
        /// The verifier's tolerance, in seconds.
        tolerance_secs: u64,
    },
    /// The signed timestamp is further in the future than the tolerance allows.
    #[error("timestamp in the future")]
    TimestampInFuture {
        /// How far in the future the timestamp is, in seconds.
        ahead_secs: u64,
        /// The verifier's tolerance, in seconds.
        tolerance_secs: u64,
    },
    /// The verifier has no secret: the route is misconfigured (see [`Verifier::unconfigured`]).
    ///
    /// [`Verifier::unconfigured`]: crate::Verifier::unconfigured
    #[error("no secret configured")]
    NoSecret,
}

impl VerifyError {
    /// The HTTP status of this rejection: 401 for missing, mismatched or stale credentials,
    /// 400 for malformed ones, 500 for a route without a secret.
    ///
    /// ```
    /// use bookhook_verify::VerifyError;
    /// use http::StatusCode;
    ///
    /// assert_eq!(VerifyError::SignatureMismatch.status(), StatusCode::UNAUTHORIZED);
    /// assert_eq!(VerifyError::NoSecret.status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.cause().status()
    }

    /// The cause, whose label (`missing_header`, `missing_token`, `malformed`,
    /// `signature_mismatch`, `token_mismatch`, `timestamp_too_old`, `timestamp_in_future` or
    /// `no_secret`) logs and metrics use.
    pub const fn cause(&self) -> RejectionCause {
        match self {
            VerifyError::MissingHeader { .. } => RejectionCause::MissingHeader,
            VerifyError::MissingToken => RejectionCause::MissingToken,
            VerifyError::Malformed { .. } => RejectionCause::Malformed,
            VerifyError::SignatureMismatch => RejectionCause::SignatureMismatch,
            VerifyError::TokenMismatch => RejectionCause::TokenMismatch,
            VerifyError::TimestampTooOld { .. } => RejectionCause::TimestampTooOld,
            VerifyError::TimestampInFuture { .. } => RejectionCause::TimestampInFuture,
            VerifyError::NoSecret => RejectionCause::NoSecret,
        }
    }

    pub(crate) const fn malformed(header: &'static str, reason: Malformed) -> Self {
        VerifyError::Malformed { header, reason }
    }
}

/// What is wrong with a malformed header.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The value holds bytes other than visible ASCII.
    #[error("not visible ASCII")]
    NotAscii,
    /// A signature entry is empty.
    #[error("empty signature")]
    EmptySignature,
    /// A signature entry does not decode to its length: a 32-byte HMAC-SHA256 tag, or a
    /// 64-byte ed25519 signature (Standard Webhooks `v1a`).
    #[error("signature has the wrong length")]
    WrongLength,
    /// A signature entry is not valid hex or base64.
    #[error("signature is not valid {0}")]
    BadEncoding(&'static str),
    /// The header is missing its expected prefix (e.g. `sha256=`).
    #[error("expected the {0} prefix")]
    MissingPrefix(&'static str),
    /// The header holds no signature entry of a version bookhook verifies.
    #[error("no v1 signature")]
    NoSignature,
    /// The header holds more signature entries than bookhook will try.
    #[error("more than {} signatures", crate::MAX_SIGNATURES)]
    TooManySignatures,
    /// The timestamp is absent from a header that must carry one.
    #[error("no timestamp")]
    MissingTimestamp,
    /// The timestamp is not a plain decimal Unix time that fits in 64 bits.
    #[error("timestamp is not a Unix time in seconds")]
    BadTimestamp,
    /// A value that must appear once appears several times with different values.
    #[error("conflicting values")]
    Conflicting,
    /// The value is not in the scheme's syntax (e.g. an entry without `=` in `t=..,v1=..`).
    #[error("unexpected syntax")]
    Syntax,
    /// The value is longer than bookhook accepts for it.
    #[error("too long")]
    TooLong,
}

/// Why a [`Verifier`](crate::Verifier) or [`Signer`](crate::Signer) could not be built.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No secret was given. Configure at least one, or build an explicitly
    /// [`unconfigured`](crate::Verifier::unconfigured) verifier that answers 500.
    #[error("no secret configured for {provider}: set at least one")]
    NoSecret {
        /// The provider the verifier was for.
        provider: Provider,
    },
    /// One secret of the list is empty (e.g. a stray comma in `a,,b`).
    #[error("secret #{index} for {provider} is empty")]
    EmptySecret {
        /// The provider.
        provider: Provider,
        /// Position of the secret in the list, from 0.
        index: usize,
    },
    /// One secret is not in the form the provider issues.
    #[error("secret #{index} for {provider} is invalid: expected {expected}")]
    InvalidSecret {
        /// The provider.
        provider: Provider,
        /// Position of the secret in the list, from 0.
        index: usize,
        /// The form the provider's secrets take.
        expected: &'static str,
    },
    /// A `whsk_` ed25519 *secret* key was given to a verifier. A receiver verifies `v1a`
    /// signatures with the sender's public key; holding the signing key would let anyone who
    /// reads the receiver's configuration forge deliveries.
    #[error(
        "secret #{index} for {provider} is a `whsk_` signing key: configure the sender's `whpk_` public key instead, and keep the signing key with the sender only"
    )]
    SigningKeyForVerifier {
        /// The provider.
        provider: Provider,
        /// Position of the secret in the list, from 0.
        index: usize,
    },
    /// A `whpk_` ed25519 public key was given to a signer: public keys only verify.
    #[error(
        "secret #{index} for {provider} is a `whpk_` public key, which cannot sign: sign with the `whsk_` secret key"
    )]
    PublicKeyForSigner {
        /// The provider.
        provider: Provider,
        /// Position of the secret in the list, from 0.
        index: usize,
    },
    /// An ed25519 key (`whpk_`, or the public half of a `whsk_`) is well encoded but is not
    /// the encoding of a point on the curve: it cannot be anyone's public key.
    #[error(
        "key #{index} for {provider} is not a valid ed25519 public key: copy the sender's `whpk_` key again"
    )]
    InvalidPublicKey {
        /// The provider.
        provider: Provider,
        /// Position of the key in the list, from 0.
        index: usize,
    },
    /// An ed25519 public key of small order ("weak"): signatures under it can be forged for
    /// any message, so it is refused even before strict verification would refuse its
    /// deliveries one by one.
    #[error(
        "key #{index} for {provider} is a weak (small-order) ed25519 public key that would accept forged signatures: configure the sender's real `whpk_` key"
    )]
    WeakPublicKey {
        /// The provider.
        provider: Provider,
        /// Position of the key in the list, from 0.
        index: usize,
    },
    /// A `whsk_` secret key whose second half is not the public key of its first half (the
    /// seed): it is truncated, or two keys were pasted together.
    #[error(
        "secret #{index} for {provider} is an inconsistent `whsk_` key: its public half does not belong to its seed; copy the whole key again"
    )]
    KeyPairMismatch {
        /// The provider.
        provider: Provider,
        /// Position of the secret in the list, from 0.
        index: usize,
    },
    /// Several secrets were given to a [`Signer`](crate::Signer) for a provider whose
    /// deliveries carry one signature (only Standard Webhooks carries several).
    #[error("{provider} deliveries carry one signature: sign with one secret")]
    OneSecretOnly {
        /// The provider.
        provider: Provider,
    },
    /// [`VerifierBuilder::secret_set`](crate::VerifierBuilder::secret_set) was given the
    /// secrets of another provider: build the set for the verifier's provider.
    #[error("the secret set is for {set}, the verifier for {provider}")]
    SecretSetProvider {
        /// The verifier's provider.
        provider: Provider,
        /// The provider the set was built for.
        set: Provider,
    },
    /// Both a [`SecretSet`](crate::SecretSet) and secrets one by one were given: one would
    /// silently replace the other. Put every secret in one of the two.
    #[error("secrets for {provider} were given both as a secret set and one by one: use one")]
    SecretsTwice {
        /// The provider.
        provider: Provider,
    },
}
