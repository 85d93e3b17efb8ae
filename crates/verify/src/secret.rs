//! Active secrets of one route, pre-keyed once so that verification never re-keys.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::ed25519::{KeyProblem, PublicKey};
use crate::provider::SchemeOf;
use crate::scheme::{Key, KeyError};
use crate::{ConfigError, Provider};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The length of an HMAC-SHA256 tag, and of a SHA-256 digest.
pub(crate) const TAG_LEN: usize = 32;

/// The active secrets of one route, in the form verification needs them.
///
/// The raw secret bytes are zeroized as soon as the keys are derived; only keyed HMAC states,
/// ed25519 public keys (or, for URL tokens, the tokens' SHA-256) are kept.
#[derive(Clone)]
pub(crate) enum Keys {
    /// Signature keys, each with its position in the configured list (which
    /// [`Verified::secret_index`](crate::Verified::secret_index) reports), in that order.
    Signing {
        /// Keyed HMAC-SHA256 states, cloned for every message instead of re-keying.
        macs: Vec<(usize, HmacSha256)>,
        /// Ed25519 public keys (Standard Webhooks `whpk_`), checked to be of large order.
        public: Vec<(usize, PublicKey)>,
    },
    /// SHA-256 of each URL token: comparing digests keeps the comparison fixed-length, so a
    /// token's length does not leak through timing either.
    Tokens(Vec<[u8; TAG_LEN]>),
}

/// HMAC-SHA256 over the concatenation of `parts`, from a pre-keyed state.
pub(crate) fn mac(keyed: &HmacSha256, parts: &[&[u8]]) -> [u8; TAG_LEN] {
    let mut mac = keyed.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `token` has the digest `expected`, in constant time over the digests.
pub(crate) fn token_matches(expected: &[u8; TAG_LEN], token: &[u8]) -> Choice {
    tags_equal(&Sha256::digest(token).into(), expected)
}

/// Whether two tags are equal, in constant time: `subtle` compares them as four 64-bit
/// words rather than as 32 bytes, the same guarantee for a quarter of the work on every
/// delivery.
pub(crate) fn tags_equal(a: &[u8; TAG_LEN], b: &[u8; TAG_LEN]) -> Choice {
    words(a)[..].ct_eq(&words(b)[..])
}

/// A tag as four 64-bit words.
fn words(tag: &[u8; TAG_LEN]) -> [u64; TAG_LEN / 8] {
    std::array::from_fn(|i| {
        u64::from_ne_bytes(tag[i * 8..i * 8 + 8].try_into().unwrap_or_default())
    })
}

/// Which kind of key matched a delivery (see [`Verified::key_kind`](crate::Verified::key_kind)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A shared secret, by HMAC-SHA256 (every signing provider; Standard Webhooks `v1`,
    /// with a `whsec_` secret).
    Hmac,
    /// An ed25519 public key (Standard Webhooks `v1a`, with a `whpk_` key).
    Ed25519,
    /// A URL token (Slotflow).
    Token,
}

/// Turns one configured secret into the key the provider's scheme uses.
pub(crate) fn parse_key(
    provider: Provider,
    secret: &[u8],
    index: usize,
) -> Result<Key, ConfigError> {
    if secret.is_empty() {
        return Err(ConfigError::EmptySecret { provider, index });
    }
    provider.scheme().key(secret).map_err(|err| match err {
        KeyError::Form(expected) => ConfigError::InvalidSecret {
            provider,
            index,
            expected,
        },
        KeyError::Ed25519(KeyProblem::NotAPoint) => {
            ConfigError::InvalidPublicKey { provider, index }
        }
        KeyError::Ed25519(KeyProblem::Weak) => ConfigError::WeakPublicKey { provider, index },
        KeyError::Ed25519(KeyProblem::Mismatch) => ConfigError::KeyPairMismatch { provider, index },
    })
}

/// The active secrets of one route: one or more, so that a secret can be rotated without
/// refusing deliveries signed with the old one while the sender switches over.
///
/// `Debug` is redacted: it shows the provider and the number of secrets, never their bytes.
///
/// # Example
///
/// ```
/// use bookhook_verify::{Provider, SecretSet};
///
/// // As read from an environment variable such as SLATIS_WEBHOOK_SECRET="new,old".
/// let secrets = SecretSet::from_list(Provider::Slatis, "whsec_new, whsec_old")?;
/// assert_eq!(secrets.len(), 2);
/// assert!(!format!("{secrets:?}").contains("whsec"));
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SecretSet {
    provider: Provider,
    keys: Keys,
    len: usize,
}

impl SecretSet {
    /// Secrets for `provider`, in the form the provider issues them (for Standard Webhooks
    /// `whsec_` followed by base64, or an ed25519 public key `whpk_` followed by base64, in
    /// any mix; for the others the raw string, used as bytes; for Slotflow the URL token,
    /// which must be URL-safe: `A-Z a-z 0-9 - . _ ~`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoSecret`] if `secrets` is empty, [`ConfigError::EmptySecret`] or
    /// [`ConfigError::InvalidSecret`] for an entry that cannot be used. For Standard
    /// Webhooks also [`ConfigError::SigningKeyForVerifier`] for a `whsk_` secret key (a
    /// receiver needs only the public key), [`ConfigError::InvalidPublicKey`] and
    /// [`ConfigError::WeakPublicKey`].
    pub fn new<I, S>(provider: Provider, secrets: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let parsed = secrets
            .into_iter()
            .enumerate()
            .map(|(index, secret)| parse_key(provider, secret.as_ref(), index))
            .collect::<Result<Vec<_>, _>>()?;
        if parsed.is_empty() {
            return Err(ConfigError::NoSecret { provider });
        }
        let len = parsed.len();
        let keys = if provider.scheme().uses_token() {
            Keys::Tokens(
                parsed
                    .iter()
                    .filter_map(|key| match key {
                        Key::Bytes(token) => Some(Sha256::digest(&token[..]).into()),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            let mut macs = Vec::new();
            let mut public = Vec::new();
            for (index, key) in parsed.into_iter().enumerate() {
                match key {
                    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
                    Key::Bytes(bytes) => macs.extend(
                        HmacSha256::new_from_slice(&bytes)
                            .ok()
                            .map(|mac| (index, mac)),
                    ),
                    Key::Ed25519Public(key) => public.push((index, key)),
                    // Never the signing key on the receiving side: whoever reads the
                    // receiver's configuration could then sign deliveries.
                    Key::Ed25519Secret(_) => {
                        return Err(ConfigError::SigningKeyForVerifier { provider, index });
                    }
                }
            }
            Keys::Signing { macs, public }
        };
        Ok(SecretSet {
            provider,
            keys,
            len,
        })
    }

    /// Secrets from a comma-separated list, as kept in one environment variable.
    /// Whitespace around each entry is ignored.
    ///
    /// # Errors
    ///
    /// As [`SecretSet::new`]; an empty entry (`"a,,b"`, a trailing comma) is
    /// [`ConfigError::EmptySecret`] rather than silently skipped.
    pub fn from_list(provider: Provider, list: &str) -> Result<Self, ConfigError> {
        Self::new(provider, split_list(list))
    }

    /// The provider these secrets belong to.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// How many secrets are active.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a `SecretSet` holds at least one secret.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.keys
    }
}

/// The entries of a comma-separated list of secrets, trimmed. A blank list has no entries; a
/// blank entry inside a list is kept (and then refused as empty).
pub(crate) fn split_list(list: &str) -> impl Iterator<Item = &str> {
    let blank = list.trim().is_empty();
    list.split(',').map(str::trim).filter(move |_| !blank)
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSet")
            .field("provider", &self.provider)
            .field("secrets", &format_args!("[REDACTED; {}]", self.len))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_equal_sees_every_bit_of_every_word() {
        let tag: [u8; TAG_LEN] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        assert!(bool::from(tags_equal(&tag, &tag)));
        for byte in 0..TAG_LEN {
            for bit in 0..8 {
                let mut other = tag;
                other[byte] ^= 1 << bit;
                assert!(
                    !bool::from(tags_equal(&tag, &other)),
                    "byte {byte} bit {bit}"
                );
                assert!(
                    !bool::from(tags_equal(&other, &tag)),
                    "byte {byte} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn empty_list_is_no_secret() {
        assert_eq!(
            SecretSet::from_list(Provider::Slatis, "  ").unwrap_err(),
            ConfigError::NoSecret {
                provider: Provider::Slatis
            }
        );
        let none: [&str; 0] = [];
        assert!(matches!(
            SecretSet::new(Provider::CalCom, none),
            Err(ConfigError::NoSecret { .. })
        ));
    }

    #[test]
    fn stray_comma_is_an_empty_secret_with_its_index() {
        assert_eq!(
            SecretSet::from_list(Provider::Bookable, "a,,b").unwrap_err(),
            ConfigError::EmptySecret {
                provider: Provider::Bookable,
                index: 1
            }
        );
    }

    #[test]
    fn debug_shows_count_but_no_secret_bytes() {
        let set = SecretSet::from_list(Provider::Slatis, "hunter2secret,zz_other").unwrap();
        let dbg = format!("{set:?}");
        assert!(dbg.contains("REDACTED; 2"), "{dbg}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(!dbg.contains("zz_other"), "{dbg}");
    }
}
