use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bookhook_verify::Verifier;
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::VerifyLayer;
use crate::buffer::{BoxError, Buffer};
use crate::rejection::{VerifiedBodyRejection, text_response};

/// The verified body, as the layer buffered it. Crate-private, so no other code can insert
/// one: the extractors take the body from it instead of reading the restored body again.
#[derive(Clone)]
pub(crate) struct VerifiedBytes(pub(crate) Bytes);

pin_project! {
    /// Response future of [`Verify`](super::Verify).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<Full<Bytes>>>,
    {
        #[pin]
        state: State<B, S::Future, S::Response>,
        parts: Option<Parts>,
        inner: S,
        verifier: Verifier,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, F, R> {
        /// Reading the body, bounded by the limit and the body timeout.
        Buffering {
            #[pin]
            buffer: Buffer<B>,
        },
        /// Verified: the inner service's future.
        Calling {
            #[pin]
            fut: F,
        },
        /// Refused before reading the body (declared over the limit).
        Rejected {
            response: Option<R>,
        },
    }
}

impl<S, B, ResBody> ResponseFuture<S, B>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>>,
    B: Body,
    B::Error: Into<BoxError>,
    ResBody: From<String>,
{
    pub(super) fn new(req: Request<B>, inner: S, config: &VerifyLayer) -> Self {
        let verifier = config.verifier.clone();
        let (parts, body) = req.into_parts();
        let state = match Buffer::new(&parts.headers, body, config.limit, config.body_timeout) {
            Ok(buffer) => State::Buffering { buffer },
            Err(too_large) => State::Rejected {
                response: Some(reject(&verifier, too_large.into())),
            },
        };
        ResponseFuture {
            state,
            parts: Some(parts),
            inner,
            verifier,
        }
    }
}

/// Logs a rejection and turns it into a response of the inner service's body type.
fn reject<ResBody: From<String>>(
    verifier: &Verifier,
    rejection: VerifiedBodyRejection,
) -> Response<ResBody> {
    rejection.log(Some(verifier.provider()));
    text_response(rejection.status(), rejection.cause(), rejection.body_text())
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>>,
    B: Body,
    B::Error: Into<BoxError>,
    ResBody: From<String>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Buffering { buffer } => {
                    let body = match ready!(buffer.poll(cx)) {
                        Ok(body) => body,
                        Err(rejection) => return Poll::Ready(Ok(reject(this.verifier, rejection))),
                    };
                    let mut parts = this
                        .parts
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let verified = match this.verifier.verify_with_query(
                        parts.uri.query(),
                        &parts.headers,
                        &body,
                    ) {
                        Ok(verified) => verified,
                        Err(err) => {
                            return Poll::Ready(Ok(reject(this.verifier, err.into())));
                        }
                    };
                    parts.extensions.insert(verified);
                    parts.extensions.insert(VerifiedBytes(body.clone()));
                    let fut = this.inner.call(Request::from_parts(parts, Full::new(body)));
                    this.state.set(State::Calling { fut });
                }
                StateProj::Calling { fut } => return fut.poll(cx),
                StateProj::Rejected { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<Full<Bytes>>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("provider", &self.verifier.provider())
            .finish_non_exhaustive()
    }
}
