//! [`ResponseFuture`]: collect the body, verify, then call the inner service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::{HttpMessage, HttpResponse};
use bookhook_replay::{Admission, DuplicateDelivery, ReplayOutcome, Reservation};
use bytes::Bytes;
use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::VerifyConfig;
use crate::body::Collect;
use crate::verification::{Prior, verify_body};

pin_project! {
    /// The response future of [`VerifyMiddleware`](crate::VerifyMiddleware):
    /// `Collecting` the body, then `Calling` the inner service, or answering the rejection.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<S: Service<ServiceRequest>> {
        #[pin]
        state: State<S>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S: Service<ServiceRequest>> {
        Collecting {
            collect: Collect,
            // `Some` until the body is read.
            req: Option<ServiceRequest>,
            service: Rc<S>,
            config: VerifyConfig,
        },
        /// Verified, with a replay guard: waiting for the store's decision.
        Admitting {
            admit: GuardFuture<Admission>,
            req: Option<ServiceRequest>,
            service: Rc<S>,
            // The guard's `pass_duplicates`.
            passes: bool,
        },
        /// Verified (and admitted): the inner service; with a guard, the reservation to
        /// settle with its answer.
        Calling {
            #[pin]
            fut: S::Future,
            reservation: Option<Reservation>,
        },
        /// Committing or releasing the key before answering with the inner response.
        Settling {
            settle: GuardFuture<()>,
            res: Option<S::Response>,
        },
    }
}

/// A boxed future of the replay guard (its store's futures are boxed already, `dyn` stores).
type GuardFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The guard's own answer (logged by the guard), carrying the [`ReplayOutcome`] in the
/// extensions, as a rejection carries its cause.
fn guard_response(outcome: ReplayOutcome) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(outcome.status().as_u16())
        .unwrap_or(actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
    let mut res = HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(outcome.body_text());
    res.extensions_mut().insert(outcome);
    res
}

impl<S: Service<ServiceRequest>> ResponseFuture<S> {
    pub(crate) fn new(
        req: ServiceRequest,
        collect: Collect,
        service: Rc<S>,
        config: VerifyConfig,
    ) -> Self {
        ResponseFuture {
            state: State::Collecting {
                collect,
                req: Some(req),
                service,
                config,
            },
        }
    }
}

impl<S: Service<ServiceRequest>> fmt::Debug for ResponseFuture<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Collecting { .. } => "Collecting",
            State::Admitting { .. } => "Admitting",
            State::Calling { .. } => "Calling",
            State::Settling { .. } => "Settling",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

/// The verified body as the payload of the request handed on, for any body extractor.
///
/// A one-item stream: one allocation, where `Payload::from(Bytes)` builds a whole HTTP/1
/// payload channel (a shared buffer and its queue) to hold the same bytes.
fn restored(bytes: Bytes) -> Payload {
    Payload::Stream {
        payload: Box::pin(Restored(Some(bytes))),
    }
}

/// Yields its bytes once, then ends.
struct Restored(Option<Bytes>);

impl Stream for Restored {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().0.take().map(Ok))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.0.is_some());
        (n, Some(n))
    }
}

impl<S, B> Future for ResponseFuture<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, S::Error>;

    /// # Panics
    ///
    /// If polled again after it completed, as futures may.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Collecting {
                    collect,
                    req,
                    service,
                    config,
                } => {
                    let body = ready!(Pin::new(collect).poll(cx));
                    let mut req = req.take().expect("ResponseFuture polled after completion");
                    match verify_body(config, req.query_string(), req.headers(), body) {
                        Ok(verified) => {
                            let admit = config.replay.as_ref().map(|guard| {
                                let tolerance = config.verifier.tolerance();
                                Box::pin(guard.admit(
                                    &verified.verified,
                                    tolerance,
                                    &verified.bytes,
                                )) as GuardFuture<Admission>
                            });
                            req.extensions_mut().insert(verified.verified.clone());
                            req.set_payload(restored(verified.bytes.clone()));
                            req.extensions_mut().insert(Prior(verified));
                            match admit {
                                Some(admit) => {
                                    let service = Rc::clone(service);
                                    let passes = config
                                        .replay
                                        .as_ref()
                                        .is_some_and(|guard| guard.passes_duplicates());
                                    this.state.set(State::Admitting {
                                        admit,
                                        req: Some(req),
                                        service,
                                        passes,
                                    });
                                }
                                None => {
                                    let fut = service.call(req);
                                    this.state.set(State::Calling {
                                        fut,
                                        reservation: None,
                                    });
                                }
                            }
                        }
                        Err(err) => {
                            return Poll::Ready(Ok(req.error_response(err).map_into_right_body()));
                        }
                    }
                }
                StateProj::Admitting {
                    admit,
                    req,
                    service,
                    passes,
                } => {
                    let admission = ready!(admit.as_mut().poll(cx));
                    let req = req.take().expect("ResponseFuture polled after completion");
                    let reservation = match admission {
                        Admission::First(reservation) => Some(reservation),
                        Admission::Answered(ReplayOutcome::Duplicate, _) if *passes => {
                            req.extensions_mut().insert(DuplicateDelivery);
                            None
                        }
                        Admission::Answered(outcome, _) => {
                            let res = req.into_response(guard_response(outcome));
                            return Poll::Ready(Ok(res.map_into_right_body()));
                        }
                    };
                    let fut = service.call(req);
                    this.state.set(State::Calling { fut, reservation });
                }
                StateProj::Calling { fut, reservation } => {
                    // On an error the reservation is dropped, which releases the key.
                    let res = ready!(fut.poll(cx))?;
                    let Some(reservation) = reservation.take() else {
                        return Poll::Ready(Ok(res.map_into_left_body()));
                    };
                    let success = res.status().is_success();
                    // A settle error is logged by the guard; the response stands: the
                    // handler ran, whatever the store says now.
                    let settle = Box::pin(async move {
                        let _ = reservation.settle(success).await;
                    });
                    this.state.set(State::Settling {
                        settle,
                        res: Some(res),
                    });
                }
                StateProj::Settling { settle, res } => {
                    ready!(settle.as_mut().poll(cx));
                    let res = res.take().expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(res.map_into_left_body()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::dev::Service as _;
    use actix_web::test::{TestRequest, ok_service};
    use bookhook_verify::{Provider, Verifier};

    use super::*;
    use crate::VerifyMiddleware;

    #[test]
    fn the_restored_payload_announces_one_chunk_then_none() {
        let mut restored = Restored(Some(Bytes::from_static(b"body")));
        assert_eq!(restored.size_hint(), (1, Some(1)));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(matches!(
            Pin::new(&mut restored).poll_next(&mut cx),
            Poll::Ready(Some(Ok(bytes))) if bytes == "body"
        ));
        assert_eq!(restored.size_hint(), (0, Some(0)));
        assert!(matches!(
            Pin::new(&mut restored).poll_next(&mut cx),
            Poll::Ready(None)
        ));
    }

    #[actix_web::test]
    async fn the_response_future_prints_its_state_and_nothing_of_the_request() {
        let config = VerifyConfig::new(
            Verifier::builder(Provider::CalCom)
                .secret("calcom-secret")
                .build()
                .unwrap(),
        );
        let middleware = VerifyMiddleware::new(ok_service(), config);
        let req = TestRequest::post()
            .uri("/hook?token=calcom-secret")
            .set_payload("jane@example.com")
            .to_srv_request();
        let fut = middleware.call(req);
        assert_eq!(
            format!("{fut:?}"),
            r#"ResponseFuture { state: "Collecting" }"#
        );
    }
}
