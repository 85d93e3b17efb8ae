//! The `t=<unix>,v1=<hex>` format (popularised by Stripe) shared by Bookable and Calendly:
//! HMAC-SHA256 over `<t>.<body>`.

use super::encoding::{hex_tag, timestamp, to_hex};
use super::header::Text;
use super::{Bounded, Credential, Parsed, Request, Scheme, SignedPrefix, Timestamp, sign_mac};
use crate::sign::{SignParams, SignedDelivery};
use crate::{Malformed, VerifyError};

/// A provider that sends `t=<unix>,v1=<hex>` in one header.
pub(crate) struct StripeStyle {
    /// The header, lowercase.
    pub(super) header: &'static str,
    /// The header as the provider spells it, for signing.
    pub(super) spelled: &'static str,
}

impl Scheme for StripeStyle {
    fn header_names(&self) -> &[&'static str] {
        std::slice::from_ref(&self.header)
    }

    fn parse<'h>(&self, request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError> {
        parse(request)
    }

    fn sign(&self, key: &[u8], body: &[u8], params: &SignParams) -> SignedDelivery {
        let value = sign(key, body, params.timestamp());
        SignedDelivery::from_headers(vec![(self.spelled, value)])
    }
}

/// Reads `t` and every `v1` entry of `name`. Entries of other versions (`v0=`) are ignored;
/// a `t` that differs between entries or headers is ambiguous and refused.
pub(super) fn parse<'h>(request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError> {
    let name = request.fields.name(0);
    let mut ts: Option<Timestamp<'h>> = None;
    let mut tags = Bounded::new();
    let count = request.fields.for_each(0, |value| {
        for item in value.split(b',').map(Text::trim) {
            let (key, val) = item.split_once(b'=').ok_or(Malformed::Syntax)?;
            match key.trim().as_bytes() {
                b"t" => {
                    let t = timestamp(val.trim())?;
                    match ts {
                        Some(seen) if seen.raw != t.raw => return Err(Malformed::Conflicting),
                        _ => ts = Some(t),
                    }
                }
                b"v1" => tags.push(hex_tag(val.trim())?)?,
                _ => {}
            }
        }
        Ok(())
    })?;
    if count == 0 {
        return Err(VerifyError::MissingHeader { name });
    }
    let ts = ts.ok_or(VerifyError::malformed(name, Malformed::MissingTimestamp))?;
    if tags.is_empty() {
        return Err(VerifyError::malformed(name, Malformed::NoSignature));
    }
    let mut parsed = Parsed::new(Credential::Tags {
        content: SignedPrefix::Timestamp(ts.raw),
        tags,
    });
    parsed.timestamp = Some(ts);
    Ok(parsed)
}

/// The header value the provider would send for `body` at `unix`.
pub(super) fn sign(key: &[u8], body: &[u8], unix: i64) -> String {
    let t = unix.to_string();
    let tag = sign_mac(key, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", to_hex(&tag))
}
