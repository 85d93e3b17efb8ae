use std::task::{Context, Poll};

use bookhook_verify::Verifier;
use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use super::{ResponseFuture, VerifyLayer};
use crate::buffer::BoxError;

/// Middleware that verifies webhook deliveries before its inner service sees them.
///
/// For each request it:
///
/// 1. refuses a `content-length` (or body size hint) over the limit with `413`, without
///    reading the body;
/// 2. buffers the body, refusing it with `413` once it exceeds the limit and with `408` if
///    it does not arrive within the body timeout;
/// 3. verifies the query string, headers and body with the [`Verifier`]; a refusal is
///    answered with [`VerifyError::status`](bookhook_verify::VerifyError::status) and
///    the error's short text;
/// 4. calls the inner service with the body restored as [`Full<Bytes>`] and the
///    [`bookhook_verify::Verified`] in the request extensions.
///
/// Rejections are `Ok` responses with a `text/plain` body; the service's error type is the
/// inner service's. Every rejection is logged with `tracing` (`warn`, or `error` for 5xx)
/// with the provider and a cause label, never a secret, a signature or the body.
///
/// It works with any `tower` service taking an `http::Request<Full<Bytes>>` (axum's routers
/// and routes take any body) whose response body can be made `From<String>` (axum's `Body`,
/// `Full<Bytes>`, `String`), not only axum. The request body may be any
/// [`http_body::Body`]. Build it with [`VerifyLayer`], or [`Verify::new`] for the default
/// limits.
#[derive(Debug, Clone)]
pub struct Verify<S> {
    inner: S,
    config: VerifyLayer,
}

impl<S> Verify<S> {
    /// Wraps `inner` with the default body limit and timeout.
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self::from_layer(inner, VerifyLayer::new(verifier))
    }

    pub(crate) fn from_layer(inner: S, config: VerifyLayer) -> Self {
        Verify { inner, config }
    }

    /// A [`VerifyLayer`] with `verifier`, to configure and apply to a service.
    pub fn layer(verifier: Verifier) -> VerifyLayer {
        VerifyLayer::new(verifier)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Verify<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // `self.inner` was driven to readiness by `poll_ready`: hand that instance to the
        // future, which calls it once the body is verified, and keep a fresh clone here.
        let mut inner = self.inner.clone();
        std::mem::swap(&mut self.inner, &mut inner);
        ResponseFuture::new(req, inner, &self.config)
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use bookhook_verify::Provider;

    use super::*;

    /// A service whose readiness is set by the test; it answers nothing (never called).
    #[derive(Clone)]
    struct Readiness(Poll<Result<(), &'static str>>);

    impl Service<Request<Full<Bytes>>> for Readiness {
        type Response = Response<String>;
        type Error = &'static str;
        type Future = std::future::Ready<Result<Response<String>, &'static str>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.0
        }

        fn call(&mut self, _: Request<Full<Bytes>>) -> Self::Future {
            unreachable!("only readiness is tested")
        }
    }

    fn verify(readiness: Poll<Result<(), &'static str>>) -> Verify<Readiness> {
        let verifier = Verifier::builder(Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap();
        Verify::new(Readiness(readiness), verifier)
    }

    fn poll_ready(service: &mut Verify<Readiness>) -> Poll<Result<(), &'static str>> {
        Service::<Request<Full<Bytes>>>::poll_ready(
            service,
            &mut Context::from_waker(Waker::noop()),
        )
    }

    #[test]
    fn the_middleware_is_ready_only_when_its_inner_service_is() {
        // A service that is not ready (a concurrency limit reached) or has failed must not be
        // called: the middleware passes both on instead of claiming to be ready.
        assert!(poll_ready(&mut verify(Poll::Pending)).is_pending());
        assert_eq!(
            poll_ready(&mut verify(Poll::Ready(Err("inner failed")))),
            Poll::Ready(Err("inner failed"))
        );
        assert_eq!(
            poll_ready(&mut verify(Poll::Ready(Ok(())))),
            Poll::Ready(Ok(()))
        );
    }
}
