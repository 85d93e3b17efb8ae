//! The one non-generic step both the extractors and the middleware take: verify a buffered
//! body against the route's verifier, and log the outcome.

use actix_web::http::header::HeaderMap;
use bookhook_verify::Provider;
use bytes::Bytes;

use crate::{Headers, VerifiedBody, VerifiedBodyError, VerifyConfig};

/// Put into the request extensions by the [`Verify`](crate::Verify) middleware, so the
/// extractors hand out exactly the bytes that were verified instead of verifying twice.
/// Private: nothing outside this crate can forge one.
#[derive(Clone)]
pub(crate) struct Prior(pub(crate) VerifiedBody);

/// Verifies `body` (or passes on the error that prevented reading it), logging a refusal.
pub(crate) fn verify_body(
    config: &VerifyConfig,
    query: &str,
    headers: &HeaderMap,
    body: Result<Bytes, VerifiedBodyError>,
) -> Result<VerifiedBody, VerifiedBodyError> {
    let verifier = &config.verifier;
    let result = body.and_then(|bytes| {
        let query = (!query.is_empty()).then_some(query);
        match verifier.verify_with_query(query, &Headers::new(headers), &bytes) {
            Ok(verified) => Ok(VerifiedBody { bytes, verified }),
            Err(err) => Err(VerifiedBodyError::Verify(err)),
        }
    });
    match &result {
        Ok(body) => tracing::debug!(
            provider = verifier.provider().as_str(),
            bytes = body.bytes.len(),
            secret_index = body.verified.secret_index(),
            "webhook verified"
        ),
        Err(err) => log_rejection(verifier.provider(), err),
    }
    result
}

/// Logs a refusal with the one line both adapters use (see [`crate::log::refused`]).
pub(crate) fn log_rejection(provider: Provider, err: &VerifiedBodyError) {
    crate::log::refused(provider, err.cause(), err);
}
