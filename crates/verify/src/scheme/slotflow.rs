//! Slotflow does not sign its deliveries. The receiver registers its URL with a secret
//! `token` query parameter (`https://example.com/webhooks/slotflow?token=...`) and checks it.
//!
//! The token only proves the sender knows the URL: it does not protect the body from
//! tampering in transit (use HTTPS) nor stop replays (deduplicate). Tokens are compared
//! through their SHA-256 digests in constant time, so neither content nor length leaks.

use zeroize::Zeroizing;

use super::{Bounded, Credential, Parsed, Request, Scheme};
use crate::sign::{SignParams, SignedDelivery};
use crate::{Malformed, VerifyError};

/// The query parameter that carries the token.
const PARAM: &str = "token";

/// Short tokens can be guessed; 16 URL-safe characters are about 95 bits.
const MIN_TOKEN_LEN: usize = 16;

pub(crate) struct Slotflow;

impl Scheme for Slotflow {
    fn key_bytes(&self, secret: &[u8]) -> Result<Zeroizing<Vec<u8>>, &'static str> {
        let token = secret;
        if token.len() < MIN_TOKEN_LEN || !token.iter().all(|&b| is_unreserved(b)) {
            return Err("a URL-safe token (A-Z a-z 0-9 - . _ ~) of at least 16 characters");
        }
        Ok(Zeroizing::new(token.to_vec()))
    }

    fn uses_token(&self) -> bool {
        true
    }

    fn header_names(&self) -> &[&'static str] {
        &[]
    }

    fn parse<'h>(&self, request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError> {
        let mut tokens = Bounded::new();
        for pair in request.query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key != PARAM {
                continue;
            }
            if value.is_empty() {
                return Err(VerifyError::malformed(PARAM, Malformed::EmptySignature));
            }
            tokens
                .push(value)
                .map_err(|reason| VerifyError::malformed(PARAM, reason))?;
        }
        if tokens.is_empty() {
            return Err(VerifyError::MissingToken);
        }
        Ok(Parsed::new(Credential::Tokens(tokens)))
    }

    fn sign(&self, key: &[u8], _body: &[u8], _params: &SignParams) -> SignedDelivery {
        // `key_bytes` admits only unreserved characters: no percent-encoding is needed.
        let token = String::from_utf8_lossy(key);
        SignedDelivery::from_query(format!("{PARAM}={token}"))
    }
}

/// RFC 3986 unreserved characters: safe in a query string without encoding.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}
