//! Signing as a provider would, and where each provider puts its signature.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_verify::{ByProvider, Provider, SignParams, Signer};

/// Headers as text name/value pairs, and the query string (Slotflow's token), of one signed
/// delivery.
pub type SignedParts = (Vec<(String, String)>, Option<String>);

/// Signs `body` as `provider` with `secret` at Unix time `at` (delivery id `msg_case_1`).
///
/// # Panics
///
/// If `secret` is not a valid signing secret of `provider`.
pub fn sign(provider: Provider, secret: &str, body: &[u8], at: i64) -> SignedParts {
    sign_with(
        &Signer::new(provider, secret).expect("a valid test secret"),
        body,
        &SignParams::at(at).id("msg_case_1"),
    )
}

/// Signs `body` with `signer` and `params`.
pub fn sign_with(signer: &Signer, body: &[u8], params: &SignParams) -> SignedParts {
    let signed = signer.sign(body, params);
    let headers = signed
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    (headers, signed.query().map(str::to_owned))
}

/// The header that carries each provider's signature (lowercase); `None` for Slotflow, which
/// signs nothing (its token is in the query string).
pub const SIGNATURE_HEADER: ByProvider<Option<&str>> = ByProvider {
    slatis: Some("x-slatis-signature"),
    slotflow: None,
    bookable: Some("x-samna-signature"),
    schedulingkit: Some("x-webhook-signature"),
    calcom: Some("x-cal-signature-256"),
    calendly: Some("calendly-webhook-signature"),
    standard: Some("webhook-signature"),
};

/// The header that carries `provider`'s signature.
///
/// # Panics
///
/// For a provider that signs nothing (Slotflow).
pub fn signature_header(provider: Provider) -> &'static str {
    SIGNATURE_HEADER
        .get(provider)
        .unwrap_or_else(|| panic!("{provider} is not signed"))
}

/// The real tag `provider` sends for `body` signed with `secret` and `params`, decoded (32
/// bytes): what no error, log line or `Debug` may ever show, and what an accepted request
/// must carry. For Slotflow, which signs nothing, the token's bytes.
///
/// # Panics
///
/// If `secret` is not a valid signing secret of `provider`.
pub fn real_tag(provider: Provider, secret: &str, body: &[u8], params: &SignParams) -> Vec<u8> {
    let Some(name) = *SIGNATURE_HEADER.get(provider) else {
        return secret.as_bytes().to_vec();
    };
    let signed = Signer::new(provider, secret)
        .expect("a valid test secret")
        .sign(body, params);
    let value = signed
        .header(name)
        .expect("the signer sends the signature header");
    let encoded = value
        .strip_prefix("sha256=")
        .or_else(|| value.split_once("v1=").map(|(_, t)| t))
        .or_else(|| value.strip_prefix("v1,"))
        .unwrap_or(value);
    if provider == Provider::StandardWebhooks {
        STANDARD.decode(encoded).expect("the signer writes base64")
    } else {
        hex::decode(encoded).expect("the signer writes hex")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::secret;

    #[test]
    fn the_signer_sends_each_signature_header_and_only_slotflow_has_none() {
        for (p, header) in SIGNATURE_HEADER.iter() {
            let (headers, query) = sign(p, secret(p), b"{}", 1_780_000_000);
            match header {
                Some(name) => assert!(
                    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)),
                    "{p}"
                ),
                None => assert!(query.is_some_and(|q| q.starts_with("token=")), "{p}"),
            }
            let tag = real_tag(p, secret(p), b"{}", &SignParams::at(1_780_000_000));
            match header {
                Some(_) => assert_eq!(tag.len(), 32, "{p}"),
                None => assert_eq!(tag, secret(p).as_bytes(), "{p}"),
            }
        }
    }
}
