//! [`ReplayKey`]: what two deliveries have in common when one replays the other.

use std::fmt;

use bookhook_verify::{Provider, Verified};
use sha2::{Digest, Sha256};

/// Where a key's digest comes from.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// The delivery id the signature covers (Standard Webhooks' `webhook-id`).
    SignedId,
    /// The verified body.
    Body,
}

/// The replay key of a verified delivery: the provider, the source and a SHA-256 digest.
///
/// Fixed-size whatever the id or body, so a store's memory per entry is bounded; the id is
/// hashed too (with a domain prefix), so no id can be chosen to look like a body hash.
///
/// ```
/// use bookhook_replay::{KeySource, ReplayKey};
/// use bookhook_verify::{Provider, SignParams, Signer, Verifier};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // SchedulingKit's delivery id header is unsigned: the key is the body's, whatever the id.
/// let signer = Signer::new(Provider::SchedulingKit, "sk")?;
/// let verifier = Verifier::builder(Provider::SchedulingKit).secret("sk").build()?;
/// let first = signer.sign(b"{}", &SignParams::now().id("dlv_1")).header_map();
/// let replay = signer.sign(b"{}", &SignParams::now().id("dlv_attacker")).header_map();
/// let a = ReplayKey::of(&verifier.verify(&first, b"{}")?, b"{}");
/// let b = ReplayKey::of(&verifier.verify(&replay, b"{}")?, b"{}");
/// assert_eq!(a, b);
/// assert_eq!(a.source(), KeySource::Body);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplayKey {
    provider: Provider,
    source: KeySource,
    digest: [u8; 32],
}

impl ReplayKey {
    /// The key of a verified delivery: its signed delivery id if the scheme signs one, else
    /// its body.
    pub fn of(verified: &Verified, body: &[u8]) -> Self {
        match verified.signed_delivery_id() {
            Some(id) if !id.is_empty() => Self::signed_id(verified.provider(), id),
            _ => Self::body(verified.provider(), body),
        }
    }

    /// The key of a body.
    pub fn body(provider: Provider, body: &[u8]) -> Self {
        ReplayKey {
            provider,
            source: KeySource::Body,
            digest: Sha256::digest(body).into(),
        }
    }

    /// The key of a delivery id. Only for an id the signature covers: anyone replaying a
    /// body can change an unsigned one.
    pub fn signed_id(provider: Provider, id: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(b"bookhook-replay-id\0")
            .chain_update(id.as_bytes())
            .finalize()
            .into();
        ReplayKey {
            provider,
            source: KeySource::SignedId,
            digest,
        }
    }

    /// The provider.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Where the digest comes from.
    pub fn source(&self) -> KeySource {
        self.source
    }

    /// The SHA-256 digest.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// A printable form, also the Redis key after a prefix:
    /// `<provider>:<id|body>:<hex digest>`.
    pub fn to_text(&self) -> String {
        let source = match self.source {
            KeySource::SignedId => "id",
            KeySource::Body => "body",
        };
        let mut text = String::with_capacity(self.provider.as_str().len() + 6 + 64);
        text.push_str(self.provider.as_str());
        text.push(':');
        text.push_str(source);
        text.push(':');
        for byte in self.digest {
            use fmt::Write;
            let _ = write!(text, "{byte:02x}");
        }
        text
    }
}

impl fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_never_collides_with_a_body_of_the_same_bytes() {
        let id = ReplayKey::signed_id(Provider::StandardWebhooks, "msg_1");
        let body = ReplayKey::body(Provider::StandardWebhooks, b"msg_1");
        assert_ne!(id, body);
        assert_ne!(id.digest(), body.digest());
    }

    #[test]
    fn providers_do_not_share_keys() {
        assert_ne!(
            ReplayKey::body(Provider::Slatis, b"{}"),
            ReplayKey::body(Provider::CalCom, b"{}")
        );
    }

    #[test]
    fn text_names_provider_source_and_digest() {
        let key = ReplayKey::body(Provider::CalCom, b"{}");
        assert_eq!(
            key.to_text(),
            "calcom:body:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
