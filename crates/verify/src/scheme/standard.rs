//! Standard Webhooks (used by Svix and others): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64> [v1,<base64> ...]`, the HMAC-SHA256 of
//! `<id>.<timestamp>.<body>` keyed with the base64 part of a `whsec_...` secret.
//!
//! Entries of other versions (such as `v1a,` asymmetric signatures) are ignored, as the
//! specification asks; a header with no `v1` entry at all is malformed.

use zeroize::Zeroizing;

use super::encoding::{base64_secret, base64_tag, timestamp, to_base64, to_hex};
use super::{Bounded, Credential, Parsed, Request, Scheme, SignedPrefix, sign_mac};
use crate::sign::{SignParams, SignedDelivery};
use crate::{Malformed, VerifyError};

const ID: &str = "webhook-id";
const TIMESTAMP: &str = "webhook-timestamp";
const SIGNATURE: &str = "webhook-signature";
/// The headers read, in the order [`Fields`](super::header::Fields) indexes them.
const NAMES: [&str; 3] = [ID, TIMESTAMP, SIGNATURE];
const SECRET_PREFIX: &[u8] = b"whsec_";

/// Message ids are short (`msg_` and a ULID); a longer one is refused rather than hashed.
const MAX_ID_LEN: usize = 256;

pub(crate) struct StandardWebhooks;

impl Scheme for StandardWebhooks {
    fn key_bytes(&self, secret: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
        let secret = secret.trim_ascii();
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        base64_secret(encoded)
            .map(Zeroizing::new)
            .ok_or("`whsec_` followed by standard base64")
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
        let count = fields.for_each(2, |value| {
            value.for_each_word(|entry| {
                let (version, signature) = entry.split_once(b',').ok_or(Malformed::Syntax)?;
                if version.as_bytes() == b"v1" {
                    tags.push(base64_tag(signature)?)?;
                }
                Ok(())
            })
        })?;
        if count == 0 {
            return Err(VerifyError::MissingHeader { name: SIGNATURE });
        }
        if tags.is_empty() {
            return Err(VerifyError::malformed(SIGNATURE, Malformed::NoSignature));
        }
        let mut parsed = Parsed::new(Credential::Tags {
            content: SignedPrefix::IdTimestamp(id, ts.raw),
            tags,
        });
        parsed.timestamp = Some(ts);
        parsed.delivery_id = Some(id);
        Ok(parsed)
    }

    fn sign(&self, key: &[u8], body: &[u8], params: &SignParams) -> SignedDelivery {
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
        let tag = sign_mac(key, &[id.as_bytes(), b".", t.as_bytes(), b".", body]);
        SignedDelivery::from_headers(vec![
            ("webhook-id", id),
            ("webhook-timestamp", t),
            ("webhook-signature", format!("v1,{}", to_base64(&tag))),
        ])
    }
}
