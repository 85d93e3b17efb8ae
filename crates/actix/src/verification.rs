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

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use bookhook_verify::{Provider, SignParams, Signer, Verifier};

    use super::*;
    use crate::log::tests::captured;

    const BODY: &[u8] = br#"{"triggerEvent":"PING"}"#;

    fn config() -> VerifyConfig {
        VerifyConfig::new(
            Verifier::builder(Provider::CalCom)
                .secret("calcom-secret")
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn a_refused_delivery_is_logged_once_with_its_cause() {
        let req = TestRequest::post()
            .insert_header(("x-cal-signature-256", "00".repeat(32)))
            .to_http_request();
        let mut result = None;
        let lines = captured(|| {
            result = Some(verify_body(
                &config(),
                "",
                req.headers(),
                Ok(Bytes::from_static(BODY)),
            ));
        });
        assert!(matches!(
            result,
            Some(Err(VerifiedBodyError::Verify(
                bookhook_verify::VerifyError::SignatureMismatch
            )))
        ));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(
                "WARN message=webhook refused provider=calcom cause=signature_mismatch status=401"
            ),
            "{lines:?}"
        );
    }

    #[test]
    fn a_body_that_could_not_be_read_is_logged_as_such() {
        let req = TestRequest::post().to_http_request();
        let lines = captured(|| {
            let result = verify_body(
                &config(),
                "",
                req.headers(),
                Err(VerifiedBodyError::BodyTimeout),
            );
            assert!(matches!(result, Err(VerifiedBodyError::BodyTimeout)));
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(
                "WARN message=webhook refused provider=calcom cause=body_timeout status=408"
            ),
            "{lines:?}"
        );
    }

    #[test]
    fn a_verified_delivery_is_logged_at_debug_without_a_refusal() {
        let signed = Signer::new(Provider::CalCom, "calcom-secret")
            .unwrap()
            .sign(BODY, &SignParams::now());
        let mut req = TestRequest::post();
        for (name, value) in signed.headers() {
            req = req.insert_header((*name, value.as_str()));
        }
        let req = req.to_http_request();
        let lines = captured(|| {
            let verified =
                verify_body(&config(), "", req.headers(), Ok(Bytes::from_static(BODY))).unwrap();
            assert_eq!(verified.bytes, BODY);
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("DEBUG message=webhook verified provider=calcom bytes=23"),
            "{lines:?}"
        );
    }
}
