use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bookhook_replay::{Admission, DuplicateDelivery, ReplayGuard, ReplayOutcome, Reservation};
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
        guard: Option<ReplayGuard>,
    }
}

/// A boxed future of the replay guard (its store's futures are boxed already, `dyn` stores).
type GuardFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    #[project = StateProj]
    enum State<B, F, R> {
        /// Reading the body, bounded by the limit and the body timeout.
        Buffering {
            #[pin]
            buffer: Buffer<B>,
        },
        /// Verified, with a replay guard: waiting for the store's decision.
        Admitting {
            admit: GuardFuture<Admission>,
            request: Option<Request<Full<Bytes>>>,
        },
        /// Verified (and admitted): the inner service's future; with a guard, the
        /// reservation to settle with its answer.
        Calling {
            #[pin]
            fut: F,
            reservation: Option<Reservation>,
        },
        /// Committing or releasing the key before answering with the inner response.
        Settling {
            settle: GuardFuture<()>,
            response: Option<R>,
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
            guard: config.replay.clone(),
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

/// The guard's own answer (logged by the guard), carrying the [`ReplayOutcome`] in the
/// extensions as a rejection carries its cause, for a surrounding middleware to count.
fn guard_response<ResBody: From<String>>(outcome: ReplayOutcome) -> Response<ResBody> {
    let mut response = Response::new(ResBody::from(outcome.body_text().to_owned()));
    *response.status_mut() = outcome.status();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response.extensions_mut().insert(outcome);
    response
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
                    let admit = this.guard.as_ref().map(|guard| {
                        Box::pin(guard.admit(&verified, this.verifier.tolerance(), &body))
                            as GuardFuture<Admission>
                    });
                    parts.extensions.insert(verified);
                    parts.extensions.insert(VerifiedBytes(body.clone()));
                    let request = Request::from_parts(parts, Full::new(body));
                    match admit {
                        Some(admit) => this.state.set(State::Admitting {
                            admit,
                            request: Some(request),
                        }),
                        None => {
                            let fut = this.inner.call(request);
                            this.state.set(State::Calling {
                                fut,
                                reservation: None,
                            });
                        }
                    }
                }
                StateProj::Admitting { admit, request } => {
                    let admission = ready!(admit.as_mut().poll(cx));
                    let passes = this
                        .guard
                        .as_ref()
                        .is_some_and(ReplayGuard::passes_duplicates);
                    let mut request = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let reservation = match admission {
                        Admission::First(reservation) => Some(reservation),
                        Admission::Answered(ReplayOutcome::Duplicate, _) if passes => {
                            request.extensions_mut().insert(DuplicateDelivery);
                            None
                        }
                        Admission::Answered(outcome, _) => {
                            return Poll::Ready(Ok(guard_response(outcome)));
                        }
                    };
                    let fut = this.inner.call(request);
                    this.state.set(State::Calling { fut, reservation });
                }
                StateProj::Calling { fut, reservation } => {
                    let result = ready!(fut.poll(cx));
                    let Some(reservation) = reservation.take() else {
                        return Poll::Ready(result);
                    };
                    match result {
                        Ok(response) => {
                            let success = response.status().is_success();
                            // A settle error is logged by the guard; the response stands:
                            // the handler ran, whatever the store says now.
                            let settle = Box::pin(async move {
                                let _ = reservation.settle(success).await;
                            });
                            this.state.set(State::Settling {
                                settle,
                                response: Some(response),
                            });
                        }
                        // The service failed: release the key (its drop does), so the
                        // provider's retry is not refused as in flight.
                        Err(err) => return Poll::Ready(Err(err)),
                    }
                }
                StateProj::Settling { settle, response } => {
                    ready!(settle.as_mut().poll(cx));
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response));
                }
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bookhook_verify::Provider;

    use super::*;
    use crate::Verify;

    #[test]
    fn the_response_future_prints_its_provider_and_nothing_of_the_request() {
        let verifier = Verifier::builder(Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap();
        let mut service = Verify::new(
            tower::service_fn(|_: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(String::new()))
            }),
            verifier,
        );
        let request = Request::post("/hook?token=calcom-secret")
            .header("x-cal-signature-256", "00".repeat(32))
            .body(Full::new(Bytes::from_static(b"jane@example.com")))
            .unwrap();
        let printed = format!("{:?}", service.call(request));
        assert_eq!(
            printed,
            format!("ResponseFuture {{ provider: {:?}, .. }}", Provider::CalCom)
        );
    }
}
