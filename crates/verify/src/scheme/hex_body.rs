//! The "hex HMAC of the raw body in one header" format shared by Slatis, SchedulingKit and
//! Cal.com.

use super::encoding::{hex_tag, to_hex};
use super::header::Text;
use super::{Bounded, Credential, Parsed, Request, Scheme, SignedPrefix, sign_mac};
use crate::secret::TAG_LEN;
use crate::sign::{SignParams, SignedDelivery};
use crate::{Malformed, VerifyError};

/// A provider that sends one hex HMAC-SHA256 of the raw body in one header.
pub(crate) struct HexBody {
    /// The header, lowercase.
    pub(super) header: &'static str,
    /// The header as the provider spells it, for signing.
    pub(super) spelled: &'static str,
    /// How the `sha256=` style prefix is treated.
    pub(super) prefix: Prefix,
}

impl Scheme for HexBody {
    fn header_names(&self) -> &[&'static str] {
        std::slice::from_ref(&self.header)
    }

    fn parse<'h>(&self, request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError> {
        credential(request, 0, self.prefix).map(Parsed::new)
    }

    fn sign(&self, key: &[u8], body: &[u8], _params: &SignParams) -> SignedDelivery {
        SignedDelivery::from_headers(vec![(self.spelled, sign(key, body, self.prefix))])
    }
}

/// How a signature entry's `sha256=` style prefix is treated.
#[derive(Clone, Copy)]
pub(super) enum Prefix {
    /// Every entry must start with it (case-insensitively).
    Required(&'static str),
    /// Entries may start with it.
    Optional(&'static str),
    /// Entries are bare hex.
    Absent,
}

/// Reads every signature entry of the header at `index` in the scheme's
/// [`header_names`](Scheme::header_names): several headers and comma-separated entries are
/// all candidates (rotation on the sender's side).
pub(super) fn credential<'h>(
    request: &Request<'h, '_>,
    index: usize,
    prefix: Prefix,
) -> Result<Credential<'h>, VerifyError> {
    let mut tags = Bounded::new();
    let count = request.fields.for_each(index, |value| {
        for entry in value.split(b',').map(Text::trim) {
            tags.push(hex_tag(strip(entry, prefix)?)?)?;
        }
        Ok(())
    })?;
    if count == 0 {
        let name = request.fields.name(index);
        return Err(VerifyError::MissingHeader { name });
    }
    Ok(Credential::Tags {
        content: SignedPrefix::Nothing,
        tags,
    })
}

fn strip(entry: Text<'_>, prefix: Prefix) -> Result<Text<'_>, Malformed> {
    let (Prefix::Required(p) | Prefix::Optional(p)) = prefix else {
        return Ok(entry);
    };
    match entry.strip_prefix_ignore_case(p) {
        Some(rest) => Ok(rest),
        _ if entry.is_empty() => Err(Malformed::EmptySignature),
        _ if matches!(prefix, Prefix::Required(_)) => Err(Malformed::MissingPrefix(p)),
        _ => Ok(entry),
    }
}

/// The header value the provider would send for `body`.
pub(super) fn sign(key: &[u8], body: &[u8], prefix: Prefix) -> String {
    let tag: [u8; TAG_LEN] = sign_mac(key, &[body]);
    match prefix {
        Prefix::Required(p) => format!("{p}{}", to_hex(&tag)),
        Prefix::Optional(_) | Prefix::Absent => to_hex(&tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Text<'_> {
        Text::unchecked(s)
    }

    #[test]
    fn prefix_rules() {
        let hex = "ab".repeat(32);
        let with = format!("SHA256={hex}");
        assert_eq!(strip(t(&with), Prefix::Required("sha256=")), Ok(t(&hex)));
        assert_eq!(
            strip(t(&hex), Prefix::Required("sha256=")),
            Err(Malformed::MissingPrefix("sha256="))
        );
        assert_eq!(strip(t(&hex), Prefix::Optional("sha256=")), Ok(t(&hex)));
        assert_eq!(strip(t(&with), Prefix::Optional("sha256=")), Ok(t(&hex)));
        assert_eq!(
            strip(t(""), Prefix::Required("sha256=")),
            Err(Malformed::EmptySignature)
        );
        assert_eq!(strip(t(&hex), Prefix::Absent), Ok(t(&hex)));
    }
}
