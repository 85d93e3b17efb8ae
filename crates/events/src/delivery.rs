//! The seam between a web adapter (which verified a request) and the event types.

use core::fmt;

use crate::error::EventError;
use crate::provider::{Decode, Provider};
use crate::registry::ProviderEvent;

/// What a verified request carries besides its body.
///
/// Web adapters build one after signature verification and hand it to
/// [`FromDelivery::from_delivery`]. `Debug` prints the body's length, never its bytes.
///
/// # Example
///
/// ```
/// use bookhook_events::{schedulingkit, BookingEvent, BookingKind, Delivery, FromDelivery, Provider};
///
/// let body = bookhook_events::samples::booking_created(Provider::SchedulingKit).as_bytes();
/// let delivery = Delivery::new(Provider::SchedulingKit, body)
///     .with_delivery_id(Some("dlv_123"))
///     .with_event_type(Some("booking.created"));
/// let event = BookingEvent::from_delivery(&delivery)?;
/// assert_eq!(event.kind, BookingKind::Created);
/// assert_eq!(event.booking_id.as_deref(), Some("123"));
/// assert_eq!(event.delivery_id.as_deref(), Some("dlv_123"));
///
/// // Typed access to the same body:
/// let typed = schedulingkit::Event::from_delivery(&delivery)?;
/// assert!(matches!(typed, schedulingkit::Event::BookingCreated(_)));
/// # Ok::<(), bookhook_events::EventError>(())
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Delivery<'a> {
    /// The provider whose scheme verified the request.
    pub provider: Provider,
    /// The verified raw body.
    pub body: &'a [u8],
    /// A delivery id from a header (`X-Webhook-Delivery-Id`, `webhook-id`), if any.
    pub delivery_id: Option<&'a str>,
    /// An event type from a header (`X-Webhook-Event`), if any; informational only.
    pub event_type: Option<&'a str>,
}

impl<'a> Delivery<'a> {
    /// A delivery with only a provider and a body.
    pub fn new(provider: Provider, body: &'a [u8]) -> Self {
        Delivery {
            provider,
            body,
            delivery_id: None,
            event_type: None,
        }
    }

    /// Sets the delivery id read from a header.
    pub fn with_delivery_id(self, id: Option<&'a str>) -> Self {
        Delivery {
            delivery_id: id,
            ..self
        }
    }

    /// Sets the event type read from a header.
    pub fn with_event_type(self, e: Option<&'a str>) -> Self {
        Delivery {
            event_type: e,
            ..self
        }
    }
}

impl fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("provider", &self.provider)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .field("delivery_id", &self.delivery_id)
            .field("event_type", &self.event_type)
            .finish()
    }
}

/// Types an adapter can build from a verified delivery.
///
/// Implemented for every provider's `Event` (which checks the provider first), for
/// [`BookingEvent`](crate::BookingEvent) (which dispatches on the provider) and for
/// `serde_json::Value` (any JSON body).
pub trait FromDelivery: Sized {
    /// Parses the delivery.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] for a body that is not the expected JSON, and
    /// [`EventError::WrongProvider`] when a provider-specific type gets another
    /// provider's delivery.
    fn from_delivery(delivery: &Delivery<'_>) -> Result<Self, EventError>;
}

impl FromDelivery for serde_json::Value {
    fn from_delivery(delivery: &Delivery<'_>) -> Result<Self, EventError> {
        delivery.provider.decode(delivery.body)
    }
}

/// Every provider module's `Event`: checks the provider first.
impl<E: ProviderEvent> FromDelivery for E {
    fn from_delivery(delivery: &Delivery<'_>) -> Result<Self, EventError> {
        if delivery.provider != E::PROVIDER {
            return Err(EventError::WrongProvider {
                expected: E::PROVIDER,
                got: delivery.provider,
            });
        }
        E::from_slice(delivery.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_length_not_the_body() {
        let d = Delivery::new(Provider::Slatis, b"{\"email\":\"secret@example.com\"}");
        let s = format!("{d:?}");
        assert!(s.contains("[30 bytes]"), "{s}");
        assert!(!s.contains("secret"), "{s}");
    }

    #[test]
    fn builders_set_the_header_values() {
        let d = Delivery::new(Provider::StandardWebhooks, b"{}")
            .with_delivery_id(Some("msg_1"))
            .with_event_type(Some("booking.created"));
        assert_eq!(d.delivery_id, Some("msg_1"));
        assert_eq!(d.event_type, Some("booking.created"));
        let d = d.with_delivery_id(None);
        assert_eq!(d.delivery_id, None);
    }

    #[test]
    fn value_accepts_any_json_and_rejects_the_rest() {
        let v =
            serde_json::Value::from_delivery(&Delivery::new(Provider::Calendly, b"[1,2]")).unwrap();
        assert_eq!(v, serde_json::json!([1, 2]));
        let err = serde_json::Value::from_delivery(&Delivery::new(Provider::Calendly, b"nope"))
            .unwrap_err();
        assert!(matches!(
            err,
            EventError::InvalidJson {
                provider: Provider::Calendly,
                ..
            }
        ));
    }
}
