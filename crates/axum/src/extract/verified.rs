use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use axum_core::extract::{FromRequest, Request};
use bookhook_events::{Delivery, EventError, FromDelivery};
use bookhook_verify::Provider;
use bytes::Bytes;

use super::verified_body::verified_body;
use super::{FromLayer, VerifierSource};
use crate::rejection::{InvalidEvent, VerifiedRejection, log};

/// A verified delivery parsed as `T`: a [`BookingEvent`](bookhook_events::BookingEvent),
/// a provider's typed `Event`, or a `serde_json::Value` (any
/// [`FromDelivery`] type).
///
/// Field `0` is the event; field `1` is what verification established (provider, matching
/// secret, timestamp, and the delivery-id / event-type headers, which the parse also
/// receives); field `2` is the verified bytes, exactly as received (to store, hash or
/// forward, as `bookhook-actix`'s `Verified` gives them too); field `3` only carries `V`, so
/// patterns end with `..`: `Verified(event, ..)`, `Verified(event, info, ..)` or
/// `Verified(event, info, bytes, ..)`. An unknown event type is not a rejection: it parses
/// as the type's `Unknown` variant and the handler decides. A body that is not valid JSON
/// for `T` is refused with `400 invalid JSON: ...`. `V` says where the verifier comes from
/// when no [`VerifyLayer`](crate::VerifyLayer) ran (see [`VerifierSource`]).
///
/// It consumes the body, so it must be the handler's last argument.
///
/// # Example
///
/// ```
/// use axum::{Router, routing::post};
/// use bookhook_axum::{Verified, VerifyLayer};
/// use bookhook_events::BookingEvent;
/// use bookhook_verify::{Provider, Verifier};
///
/// async fn booking(Verified(event, info, ..): Verified<BookingEvent>) -> String {
///     format!("{} {} (secret #{})", event.provider, event.kind, info.secret_index())
/// }
///
/// let verifier = Verifier::builder(Provider::Slatis).secrets("whsec_new,whsec_old").build()?;
/// let app: Router = Router::new().route("/hook", post(booking).layer(VerifyLayer::new(verifier)));
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
pub struct Verified<T, V = FromLayer>(
    /// The parsed event.
    pub T,
    /// What verification established.
    pub bookhook_verify::Verified,
    /// The verified bytes, exactly as received.
    pub Bytes,
    /// Where the verifier comes from without a layer (a type-level marker, no data).
    pub PhantomData<fn() -> V>,
);

impl<T, V> Verified<T, V> {
    /// Puts an event, its verification and its bytes together (e.g. to call a handler in a
    /// test).
    pub fn new(event: T, verified: bookhook_verify::Verified, bytes: Bytes) -> Self {
        Verified(event, verified, bytes, PhantomData)
    }

    /// What verification established.
    pub fn info(&self) -> &bookhook_verify::Verified {
        &self.1
    }

    /// The verified bytes, exactly as received.
    pub fn bytes(&self) -> &Bytes {
        &self.2
    }

    /// The event.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// The event, what verification established, and the verified bytes.
    pub fn into_parts(self) -> (T, bookhook_verify::Verified, Bytes) {
        (self.0, self.1, self.2)
    }
}

impl<T, V> Deref for Verified<T, V> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T, V> DerefMut for Verified<T, V> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Clone, V> Clone for Verified<T, V> {
    fn clone(&self) -> Self {
        Verified::new(self.0.clone(), self.1.clone(), self.2.clone())
    }
}

impl<T: fmt::Debug, V> fmt::Debug for Verified<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The length only: a body can hold personal data.
        f.debug_tuple("Verified")
            .field(&self.0)
            .field(&self.1)
            .field(&format_args!("[{} bytes]", self.2.len()))
            .finish()
    }
}

impl<T, S, V> FromRequest<S> for Verified<T, V>
where
    T: FromDelivery,
    S: Send + Sync,
    V: VerifierSource<S>,
{
    type Rejection = VerifiedRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = V::from_state(state);
        let (bytes, verified) = verified_body(req, config).await?;
        let delivery = Delivery::new(verified.provider(), &bytes)
            .with_delivery_id(verified.delivery_id())
            .with_event_type(verified.event_type());
        match T::from_delivery(&delivery) {
            Ok(event) => Ok(Verified::new(event, verified, bytes)),
            Err(err) => Err(invalid_event(verified.provider(), err)),
        }
    }
}

fn invalid_event(provider: Provider, err: EventError) -> VerifiedRejection {
    let rejection = VerifiedRejection::from(InvalidEvent::new(err));
    log(
        Some(provider),
        rejection.status(),
        rejection.cause(),
        &rejection,
    );
    rejection
}

#[cfg(test)]
mod tests {
    use bookhook_verify::{SignParams, Signer, Verifier};

    use super::*;

    const BODY: &[u8] = br#"{"attendee":"jane@example.com"}"#;

    fn verified() -> bookhook_verify::Verified {
        let verifier = Verifier::builder(Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap();
        let signed = Signer::new(Provider::CalCom, "calcom-secret")
            .unwrap()
            .sign(BODY, &SignParams::now());
        verifier.verify(&signed.header_map(), BODY).unwrap()
    }

    #[test]
    fn the_accessors_give_back_the_parts_it_was_built_from() {
        let bytes = Bytes::from_static(BODY);
        let verified = verified();
        let event: Verified<&str> = Verified::new("event", verified.clone(), bytes.clone());
        assert_eq!(event.bytes(), &bytes);
        assert_eq!(event.info().provider(), Provider::CalCom);
        assert_eq!(*event, "event");
        let (inner, info, body) = event.clone().into_parts();
        assert_eq!(
            (inner, info.provider(), body),
            ("event", Provider::CalCom, bytes)
        );
        assert_eq!(event.into_inner(), "event");
    }

    #[test]
    fn debug_prints_the_event_and_verification_but_only_the_body_length() {
        let verified = verified();
        let event: Verified<&str> =
            Verified::new("event", verified.clone(), Bytes::from_static(BODY));
        let printed = format!("{event:?}");
        assert_eq!(
            printed,
            format!("Verified(\"event\", {verified:?}, [{} bytes])", BODY.len())
        );
        assert!(!printed.contains("jane"), "{printed}");
    }
}
