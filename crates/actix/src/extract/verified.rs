//! [`Verified<T>`]: a verified delivery parsed as a `bookhook-events` type.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, ResponseError, dev};
use bookhook_events::{Delivery, EventError, FromDelivery};
use bookhook_verify::RejectionCause;
use bytes::Bytes;

use crate::extract::VerifiedBodyFut;
use crate::{VerifiedBody, VerifiedBodyError};

/// Extracts a verified delivery parsed as `T`, e.g.
/// [`BookingEvent`](bookhook_events::BookingEvent) or a provider's own `Event`.
///
/// Builds on [`VerifiedBody`] (same body limit, same verification, same reuse of the
/// [`Verify`](crate::Verify) middleware's result), then hands the verified bytes with the
/// provider and the header delivery id to [`FromDelivery::from_delivery`]. The event is
/// field `0`; field `1` is the [`VerifiedBody`]: the raw bytes (to store, hash or forward)
/// and what the verification established. See also [`into_parts`](Self::into_parts).
///
/// An event type the crate does not know is not an error: it reaches the handler as the
/// type's `Unknown` variant, so the service can acknowledge it with a 2xx.
///
/// # Errors
///
/// Rejects with a [`VerifiedError`]: any [`VerifiedBodyError`], or 400 `invalid JSON: ...`
/// when the verified body is not the provider's envelope.
///
/// # Example
///
/// ```
/// use actix_web::{App, HttpResponse, test, web};
/// use bookhook_actix::{Verified, VerifyConfig};
/// use bookhook_events::{BookingEvent, BookingKind};
/// use bookhook_verify::{Provider, SignParams, Signer, Verifier};
///
/// async fn hook(Verified(event, ..): Verified<BookingEvent>) -> HttpResponse {
///     match event.kind {
///         BookingKind::Created => HttpResponse::Ok().body("created"),
///         _ => HttpResponse::Ok().body("ignored"),
///     }
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let verifier = Verifier::builder(Provider::Slatis).secrets("whsec_a").build()?;
/// let app = test::init_service(
///     App::new().service(
///         web::resource("/hook")
///             .app_data(VerifyConfig::new(verifier))
///             .route(web::post().to(hook)),
///     ),
/// )
/// .await;
///
/// let send = |body: &'static [u8], secret: &str| {
///     let signed = Signer::new(Provider::Slatis, secret).unwrap().sign(body, &SignParams::now());
///     let mut req = test::TestRequest::post().uri("/hook").set_payload(body);
///     for (name, value) in signed.headers() {
///         req = req.insert_header((*name, value.as_str()));
///     }
///     req.to_request()
/// };
///
/// // A real Slatis body, as shipped with bookhook-events.
/// let body = bookhook_events::samples::booking_created(bookhook_events::Provider::Slatis).as_bytes();
/// let res = test::call_service(&app, send(body, "whsec_a")).await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(test::read_body(res).await, "created");
///
/// let res = test::call_service(&app, send(body, "whsec_other")).await;
/// assert_eq!(res.status(), 401);
/// assert_eq!(test::read_body(res).await, "signature mismatch");
///
/// let res = test::call_service(&app, send(b"[1, 2]", "whsec_a")).await;
/// assert_eq!(res.status(), 400);
/// assert!(test::read_body(res).await.starts_with(b"invalid JSON"));
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// # }).unwrap();
/// ```
pub struct Verified<T>(pub T, pub VerifiedBody);

impl<T> Verified<T> {
    /// The parsed event.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// The parsed event and the verified raw body with what the verification established.
    pub fn into_parts(self) -> (T, VerifiedBody) {
        (self.0, self.1)
    }

    /// The body exactly as received and verified (to store, hash or forward it).
    pub fn body(&self) -> &Bytes {
        &self.1.bytes
    }

    /// What the verification established: provider, matching secret, signed timestamp,
    /// delivery id.
    pub fn verified(&self) -> &bookhook_verify::Verified {
        &self.1.verified
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Verified<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Verified<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Verified")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<T: FromDelivery> FromRequest for Verified<T> {
    type Error = VerifiedError;
    type Future = VerifiedFut<T>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        VerifiedFut {
            body: VerifiedBody::from_request(req, payload),
            _event: PhantomData,
        }
    }
}

/// The future of [`Verified<T>`]'s extraction.
#[must_use = "futures do nothing unless polled"]
pub struct VerifiedFut<T> {
    body: VerifiedBodyFut,
    _event: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for VerifiedFut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedFut")
            .field("body", &self.body)
            .finish()
    }
}

impl<T: FromDelivery> Future for VerifiedFut<T> {
    type Output = Result<Verified<T>, VerifiedError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let body = ready!(Pin::new(&mut this.body).poll(cx))?;
        // The only generic line; the provider mapping and the error handling around it are
        // compiled once for all `T`.
        let parsed = with_delivery(&body, |delivery| T::from_delivery(delivery));
        Poll::Ready(parsed.map(|event| Verified(event, body)))
    }
}

fn with_delivery<T>(
    body: &VerifiedBody,
    parse: impl FnOnce(&Delivery<'_>) -> Result<T, EventError>,
) -> Result<T, VerifiedError> {
    let delivery = Delivery::new(body.verified.provider(), &body.bytes)
        .with_delivery_id(body.verified.delivery_id())
        .with_event_type(body.verified.event_type());
    parse(&delivery).map_err(|err| rejected(body.verified.provider(), err))
}

fn rejected(provider: bookhook_verify::Provider, err: EventError) -> VerifiedError {
    let err = match err {
        EventError::InvalidJson { .. } => VerifiedError::InvalidJson(err),
        other => VerifiedError::Event(other),
    };
    crate::log::refused(provider, err.cause(), &err);
    err
}

/// Why [`Verified<T>`] refused a request.
///
/// As for [`VerifiedBodyError`], the response is a short `text/plain` reason with the status
/// of [`status_code`](ResponseError::status_code); parse errors never quote the body.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum VerifiedError {
    /// The body could not be read or verified (see [`VerifiedBodyError`]).
    #[error(transparent)]
    Body(#[from] VerifiedBodyError),
    /// The body is authentic but not the provider's JSON envelope (400).
    #[error("invalid JSON: {0}")]
    InvalidJson(#[source] EventError),
    /// `T` cannot take this delivery for a reason that is not the sender's fault, e.g. a
    /// route wired to another provider's event type (500, logged at `error` level).
    #[error("{0}")]
    Event(#[source] EventError),
}

impl VerifiedError {
    /// The cause, whose label logs and metrics use: [`VerifiedBodyError::cause`]'s,
    /// `invalid_json`, `wrong_provider` or `invalid_event`.
    pub fn cause(&self) -> RejectionCause {
        match self {
            VerifiedError::Body(err) => err.cause(),
            VerifiedError::InvalidJson(_) => RejectionCause::InvalidJson,
            VerifiedError::Event(EventError::WrongProvider { .. }) => RejectionCause::WrongProvider,
            VerifiedError::Event(_) => RejectionCause::InvalidEvent,
        }
    }
}

impl ResponseError for VerifiedError {
    fn status_code(&self) -> StatusCode {
        crate::log::status(self.cause())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use bookhook_events::Provider;
    use bookhook_verify::{SignParams, Signer, Verifier};

    use super::*;

    #[test]
    fn invalid_json_is_a_400_that_says_so_without_the_body() {
        let err = rejected(
            bookhook_verify::Provider::Slatis,
            bookhook_events::slatis::Event::from_slice(br#"{"event": "jane@example.com""#)
                .unwrap_err(),
        );
        assert_eq!(err.status_code(), 400);
        let text = err.to_string();
        assert!(text.starts_with("invalid JSON: "), "{text}");
        assert!(!text.contains("jane"), "{text}");
    }

    fn verified_body(body: &'static [u8]) -> VerifiedBody {
        let verifier = Verifier::builder(bookhook_verify::Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap();
        let signed = Signer::new(bookhook_verify::Provider::CalCom, "calcom-secret")
            .unwrap()
            .sign(body, &SignParams::now());
        VerifiedBody {
            bytes: Bytes::from_static(body),
            verified: verifier.verify(&signed.header_map(), body).unwrap(),
        }
    }

    #[test]
    fn the_accessors_give_back_the_body_and_the_verification() {
        let body = verified_body(br#"{"triggerEvent":"PING"}"#);
        let event = Verified("event", body.clone());
        assert_eq!(event.body(), &body.bytes);
        assert_eq!(
            event.verified().provider(),
            bookhook_verify::Provider::CalCom
        );
        assert_eq!(*event, "event");
        let (inner, parts) = event.into_parts();
        assert_eq!((inner, parts.bytes), ("event", body.bytes));
    }

    #[test]
    fn debug_prints_the_event_and_the_verified_body_without_its_bytes() {
        let body = verified_body(br#"{"attendee":"jane@example.com"}"#);
        let printed = format!("{:?}", Verified("event", body.clone()));
        assert_eq!(printed, format!("Verified(\"event\", {body:?})"));
        assert!(!printed.contains("jane"), "{printed}");
    }

    #[test]
    fn the_extraction_future_prints_the_body_future() {
        let (req, mut payload) = TestRequest::post().to_http_parts();
        let fut = Verified::<serde_json::Value>::from_request(&req, &mut payload);
        assert_eq!(
            format!("{fut:?}"),
            r#"VerifiedFut { body: VerifiedBodyFut { state: "Done" } }"#
        );
    }

    #[test]
    fn wrong_provider_is_a_server_error() {
        let err = rejected(
            bookhook_verify::Provider::CalCom,
            EventError::WrongProvider {
                expected: Provider::Slatis,
                got: Provider::CalCom,
            },
        );
        assert_eq!(err.status_code(), 500);
        assert_eq!(err.cause(), "wrong_provider");
    }
}
