//! [`VerifiedBody`]: the raw body of a delivery whose signature checked out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, dev};
use bookhook_verify::{RejectionCause, VerifyError};
use bytes::Bytes;

use crate::VerifyConfig;
use crate::body::Collect;
use crate::verification::{Prior, verify_body};

/// Extracts the raw body of a verified delivery.
///
/// Buffers the body up to the route's [`VerifyConfig`] limit and verifies it with the route's
/// verifier, so the handler only runs for an authentic delivery. Under the
/// [`Verify`](crate::Verify) middleware it takes the bytes the middleware verified instead
/// of verifying again.
///
/// Use it when the handler stores or forwards the delivery as received; use
/// [`Verified<T>`](crate::Verified) to get a parsed event as well (it carries a
/// `VerifiedBody` too). Like any body extractor, take only one of them per handler: the
/// first consumes the payload.
///
/// `Debug` shows the body's length, never its bytes (they can hold personal data).
///
/// # Errors
///
/// Rejects with a [`VerifiedBodyError`]: 401, 400, 413 or 500 as in the project's
/// rejection table, with a short `text/plain` reason.
///
/// # Example
///
/// ```
/// use actix_web::{App, HttpResponse, test, web};
/// use bookhook_actix::{VerifiedBody, VerifyConfig};
/// use bookhook_verify::{Provider, SignParams, Signer, Verifier};
///
/// async fn store(delivery: VerifiedBody) -> HttpResponse {
///     HttpResponse::Accepted().body(format!("{} bytes", delivery.bytes.len()))
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let verifier = Verifier::builder(Provider::CalCom).secrets("calcom_secret").build()?;
/// let app = test::init_service(
///     App::new()
///         .app_data(VerifyConfig::new(verifier))
///         .route("/hook", web::post().to(store)),
/// )
/// .await;
///
/// let body = br#"{"triggerEvent":"BOOKING_CREATED"}"#;
/// let signed = Signer::new(Provider::CalCom, "calcom_secret")?.sign(body, &SignParams::now());
/// let mut req = test::TestRequest::post().uri("/hook").set_payload(&body[..]);
/// for (name, value) in signed.headers() {
///     req = req.insert_header((*name, value.as_str()));
/// }
/// let res = test::call_service(&app, req.to_request()).await;
/// assert_eq!(res.status(), 202);
///
/// // Unsigned: refused before the handler runs.
/// let req = test::TestRequest::post().uri("/hook").set_payload(&body[..]).to_request();
/// let res = test::call_service(&app, req).await;
/// assert_eq!(res.status(), 401);
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// # }).unwrap();
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub struct VerifiedBody {
    /// The body exactly as received and verified.
    pub bytes: Bytes,
    /// What the verification established: provider, matching secret, signed timestamp,
    /// delivery id.
    pub verified: bookhook_verify::Verified,
}

impl fmt::Debug for VerifiedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedBody")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("verified", &self.verified)
            .finish()
    }
}

impl FromRequest for VerifiedBody {
    type Error = VerifiedBodyError;
    type Future = VerifiedBodyFut;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        if let Some(Prior(body)) = req.extensions().get::<Prior>() {
            return VerifiedBodyFut::done(Ok(body.clone()));
        }
        let Some(config) = VerifyConfig::from_req(req) else {
            tracing::error!(
                path = req.path(),
                "no VerifyConfig in app_data for this route: refusing the webhook with 500"
            );
            return VerifiedBodyFut::done(Err(VerifiedBodyError::NotConfigured));
        };
        VerifiedBodyFut {
            state: State::Reading {
                collect: Collect::new(req.headers(), payload.take(), config),
                req: req.clone(),
                config: config.clone(),
            },
        }
    }
}

/// The future of [`VerifiedBody`]'s extraction: reads the body, then verifies it.
#[must_use = "futures do nothing unless polled"]
pub struct VerifiedBodyFut {
    state: State,
}

enum State {
    Reading {
        collect: Collect,
        req: HttpRequest,
        config: VerifyConfig,
    },
    Done(Option<Result<VerifiedBody, VerifiedBodyError>>),
}

impl VerifiedBodyFut {
    fn done(result: Result<VerifiedBody, VerifiedBodyError>) -> Self {
        VerifiedBodyFut {
            state: State::Done(Some(result)),
        }
    }
}

impl fmt::Debug for VerifiedBodyFut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Reading { .. } => "Reading",
            State::Done(_) => "Done",
        };
        f.debug_struct("VerifiedBodyFut")
            .field("state", &state)
            .finish()
    }
}

impl Future for VerifiedBodyFut {
    type Output = Result<VerifiedBody, VerifiedBodyError>;

    /// # Panics
    ///
    /// If polled again after it completed, as futures may.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.state {
            State::Reading {
                collect,
                req,
                config,
            } => {
                let body = std::task::ready!(Pin::new(collect).poll(cx));
                let result = verify_body(config, req.query_string(), req.headers(), body);
                this.state = State::Done(None);
                Poll::Ready(result)
            }
            State::Done(result) => Poll::Ready(
                result
                    .take()
                    .expect("VerifiedBodyFut polled after completion"),
            ),
        }
    }
}

/// Why [`VerifiedBody`] refused a request (also the [`Verify`](crate::Verify) middleware's
/// rejection).
///
/// The response is the status of [`status_code`](ResponseError::status_code) with the
/// `Display` text as a `text/plain` body: a short reason that never holds a secret, an
/// expected signature or a computed MAC.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum VerifiedBodyError {
    /// The route has no [`VerifyConfig`] in its `app_data` (500): a wiring mistake in the
    /// service, logged at `error` level.
    #[error("no verifier configured")]
    NotConfigured,
    /// The `content-length` announces more than the limit (413); nothing was read.
    #[error("payload too large: {length} bytes, the limit is {limit}")]
    OverflowKnownLength {
        /// The announced length, in bytes.
        length: usize,
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The body (sent without a length, or longer than announced) passed the limit (413).
    #[error("payload too large: over the limit of {limit} bytes")]
    Overflow {
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The body did not arrive within the configured body timeout (408).
    #[error("request body timeout")]
    BodyTimeout,
    /// The body could not be read, e.g. the client went away mid-body (400).
    #[error("could not read the body")]
    Payload(#[source] PayloadError),
    /// Verification refused the delivery: 401, 400 or 500 as
    /// [`VerifyError::status`] says.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl VerifiedBodyError {
    /// The cause, whose label logs and metrics use: `not_configured`, `payload_too_large`,
    /// `body_timeout`, `body_read_failed`, or [`VerifyError::cause`]'s.
    pub fn cause(&self) -> RejectionCause {
        match self {
            VerifiedBodyError::NotConfigured => RejectionCause::NotConfigured,
            VerifiedBodyError::OverflowKnownLength { .. } | VerifiedBodyError::Overflow { .. } => {
                RejectionCause::PayloadTooLarge
            }
            VerifiedBodyError::BodyTimeout => RejectionCause::BodyTimeout,
            VerifiedBodyError::Payload(_) => RejectionCause::BodyReadFailed,
            VerifiedBodyError::Verify(err) => err.cause(),
        }
    }
}

impl ResponseError for VerifiedBodyError {
    fn status_code(&self) -> StatusCode {
        crate::log::status(self.cause())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use bookhook_verify::{Provider, SignParams, Signer, Verifier};

    use super::*;

    #[test]
    fn statuses_follow_the_rejection_table() {
        let cases = [
            (VerifiedBodyError::NotConfigured, 500),
            (
                VerifiedBodyError::OverflowKnownLength {
                    length: 10,
                    limit: 5,
                },
                413,
            ),
            (VerifiedBodyError::Overflow { limit: 5 }, 413),
            (VerifiedBodyError::BodyTimeout, 408),
            (
                VerifiedBodyError::Payload(PayloadError::Incomplete(None)),
                400,
            ),
            (VerifyError::SignatureMismatch.into(), 401),
            (VerifyError::MissingToken.into(), 401),
            (VerifyError::NoSecret.into(), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
        }
    }

    #[test]
    fn bodies_are_short_reasons_with_numbers() {
        let err = VerifiedBodyError::OverflowKnownLength {
            length: 10,
            limit: 5,
        };
        assert_eq!(
            err.to_string(),
            "payload too large: 10 bytes, the limit is 5"
        );
        assert_eq!(
            VerifiedBodyError::from(VerifyError::SignatureMismatch).to_string(),
            "signature mismatch"
        );
    }

    fn verified(body: &[u8]) -> bookhook_verify::Verified {
        let verifier = Verifier::builder(Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap();
        let signed = Signer::new(Provider::CalCom, "calcom-secret")
            .unwrap()
            .sign(body, &SignParams::now());
        verifier.verify(&signed.header_map(), body).unwrap()
    }

    #[test]
    fn debug_prints_the_verification_but_only_the_body_length() {
        let body: &[u8] = br#"{"attendee":"jane@example.com"}"#;
        let verified = verified(body);
        let extracted = VerifiedBody {
            bytes: Bytes::from_static(body),
            verified: verified.clone(),
        };
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

    #[test]
    fn the_extraction_future_prints_its_state() {
        let (req, mut payload) = TestRequest::post().to_http_parts();
        let fut = VerifiedBody::from_request(&req, &mut payload);
        assert_eq!(format!("{fut:?}"), r#"VerifiedBodyFut { state: "Done" }"#);

        let config = VerifyConfig::new(
            Verifier::builder(Provider::CalCom)
                .secret("calcom-secret")
                .build()
                .unwrap(),
        );
        let (req, mut payload) = TestRequest::post().app_data(config).to_http_parts();
        let fut = VerifiedBody::from_request(&req, &mut payload);
        assert_eq!(
            format!("{fut:?}"),
            r#"VerifiedBodyFut { state: "Reading" }"#
        );
    }

    #[actix_web::test]
    async fn response_is_plain_text_with_the_reason() {
        let res = VerifiedBodyError::Verify(VerifyError::TokenMismatch).error_response();
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "text/plain; charset=utf-8"
        );
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        assert_eq!(body, "token mismatch");
    }
}
