use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use axum_core::body::Body;
use axum_core::extract::{FromRequest, Request};
use bytes::Bytes;
use http::HeaderMap;

use super::{FromLayer, VerifierSource};
use crate::buffer::Buffer;
use crate::rejection::{NoVerifier, VerifiedBodyRejection};
use crate::verify::VerifiedBytes;
use crate::{DEFAULT_BODY_TIMEOUT, DEFAULT_LIMIT, VerifyLayer};

/// The raw body of a verified delivery, with what verification established.
///
/// Use it to store the exact bytes (an inbox, a body-hash dedupe key) or to parse them
/// yourself; [`Verified<T>`](crate::Verified) parses them for you. It consumes the body, so
/// it must be the handler's last argument. `V` says where the verifier comes from when no
/// [`VerifyLayer`] ran (see [`VerifierSource`]). `Debug` shows the body's length only.
///
/// # Example
///
/// ```
/// use axum::{Router, routing::post};
/// use bookhook_axum::{VerifiedBody, VerifyLayer};
/// use bookhook_verify::{Provider, Verifier};
///
/// async fn store(VerifiedBody { bytes, verified, .. }: VerifiedBody) -> String {
///     format!("{} bytes from {}", bytes.len(), verified.provider())
/// }
///
/// let verifier = Verifier::builder(Provider::StandardWebhooks)
///     .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
///     .build()?;
/// let app: Router = Router::new().route("/hook", post(store).layer(VerifyLayer::new(verifier)));
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
pub struct VerifiedBody<V = FromLayer> {
    /// The body, exactly as received and verified.
    pub bytes: Bytes,
    /// Provider, matching secret, timestamp, delivery id and event type header.
    pub verified: bookhook_verify::Verified,
    source: PhantomData<fn() -> V>,
}

impl<V> VerifiedBody<V> {
    /// Puts a body and its verification together (e.g. to call a handler in a test).
    pub fn new(bytes: Bytes, verified: bookhook_verify::Verified) -> Self {
        VerifiedBody {
            bytes,
            verified,
            source: PhantomData,
        }
    }
}

impl<V> Clone for VerifiedBody<V> {
    fn clone(&self) -> Self {
        VerifiedBody::new(self.bytes.clone(), self.verified.clone())
    }
}

impl<V> fmt::Debug for VerifiedBody<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedBody")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("verified", &self.verified)
            .finish()
    }
}

impl<S, V> FromRequest<S> for VerifiedBody<V>
where
    S: Send + Sync,
    V: VerifierSource<S>,
{
    type Rejection = VerifiedBodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = V::from_state(state);
        let (bytes, verified) = verified_body(req, config).await?;
        Ok(VerifiedBody::new(bytes, verified))
    }
}

/// The work of both extractors, compiled once: take what a `VerifyLayer` verified, or
/// buffer and verify with the state's configuration. Logs every rejection.
pub(crate) async fn verified_body(
    req: Request,
    config: Option<VerifyLayer>,
) -> Result<(Bytes, bookhook_verify::Verified), VerifiedBodyRejection> {
    let (mut parts, body) = req.into_parts();

    // Behind a `VerifyLayer`: no second verification.
    if let Some(verified) = parts.extensions.remove::<bookhook_verify::Verified>() {
        let bytes = match parts.extensions.remove::<VerifiedBytes>() {
            Some(VerifiedBytes(bytes)) => bytes,
            // Another middleware vouched for the request without handing over the bytes.
            None => {
                let (limit, timeout) = config
                    .as_ref()
                    .map_or((DEFAULT_LIMIT, DEFAULT_BODY_TIMEOUT), |c| {
                        (c.limit, c.body_timeout)
                    });
                read(&parts.headers, body, limit, timeout)
                    .await
                    .inspect_err(|r| r.log(Some(verified.provider())))?
            }
        };
        return Ok((bytes, verified));
    }

    let Some(config) = config else {
        let rejection = VerifiedBodyRejection::from(NoVerifier);
        rejection.log(None);
        return Err(rejection);
    };
    let result = async {
        let bytes = read(&parts.headers, body, config.limit, config.body_timeout).await?;
        let verified =
            config
                .verifier
                .verify_with_query(parts.uri.query(), &parts.headers, &bytes)?;
        Ok((bytes, verified))
    }
    .await;
    result.inspect_err(|r: &VerifiedBodyRejection| r.log(Some(config.verifier.provider())))
}

/// Buffers `body`, refusing a declared length over the limit before reading anything.
async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, VerifiedBodyRejection> {
    Buffer::new(headers, body, limit, timeout)?.await
}

#[cfg(test)]
mod tests {
    use bookhook_verify::{Provider, SignParams, Signer, Verifier};

    use super::*;

    #[test]
    fn debug_prints_the_verification_but_only_the_body_length() {
        let body: &[u8] = br#"{"attendee":"jane@example.com"}"#;
        let verifier = Verifier::builder(Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap();
        let signed = Signer::new(Provider::CalCom, "calcom-secret")
            .unwrap()
            .sign(body, &SignParams::now());
        let verified = verifier.verify(&signed.header_map(), body).unwrap();
        let extracted: VerifiedBody = VerifiedBody::new(Bytes::from_static(body), verified.clone());
        let printed = format!("{extracted:?}");
        assert_eq!(
            printed,
            format!(
                "VerifiedBody {{ bytes: [{} bytes], verified: {verified:?} }}",
                body.len()
            )
        );
        assert!(!printed.contains("jane"), "{printed}");
    }
}
