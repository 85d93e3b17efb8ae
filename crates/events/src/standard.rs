//! Standard Webhooks: the generic `{type, timestamp, data}` payload used by Svix-based
//! platforms, signed with `webhook-id`, `webhook-timestamp` and `webhook-signature`.
//!
//! `data` has no fixed shape, so it is kept as JSON and read leniently: the attendee
//! from `data.attendee {name, email}` or a flat `data.email` / `data.name`; the booking
//! id from `data.booking_id`, `data.id` or `data.uid` (string or integer); the slot from
//! `start_time`/`end_time`, `starts_at`/`ends_at` or `start`/`end` (RFC 3339). The
//! `webhook-id` header is the delivery id and the deduplication key.
//!
//! ```
//! use bookhook_events::{standard::Event, BookingEvent, BookingKind, Delivery, FromDelivery, Provider};
//!
//! let body = bookhook_events::samples::booking_created(Provider::StandardWebhooks).as_bytes();
//! let delivery = Delivery::new(Provider::StandardWebhooks, body).with_delivery_id(Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"));
//! let event = BookingEvent::from_delivery(&delivery)?;
//! assert_eq!(event.kind, BookingKind::Created);
//! assert_eq!(event.attendee_email(), Some("ana.souza@example.com"));
//! assert_eq!(event.delivery_id.as_deref(), Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"));
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::booking::{Attendee, BookingEvent, BookingKind, id_in, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The `type` names this crate maps to booking kinds (`booking.canceled` is accepted
/// as well).
pub const EVENT_NAMES: [&str; 6] = [
    "booking.created",
    "booking.updated",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.completed",
    "booking.no_show",
];

/// The payload envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event type (`type` on the wire), e.g. `"booking.created"`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened, if sent.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// The event's data as sent (`null` when absent).
    #[serde(default)]
    pub data: Value,
}

impl Envelope {
    /// An envelope.
    pub fn new(
        event_type: impl Into<String>,
        timestamp: Option<OffsetDateTime>,
        data: Value,
    ) -> Self {
        Envelope {
            event_type: event_type.into(),
            timestamp,
            data,
        }
    }

    /// `data.booking_id`, `data.id` or `data.uid`, the first that is a non-empty string
    /// or an integer.
    pub fn booking_id(&self) -> Option<String> {
        ["booking_id", "id", "uid"]
            .into_iter()
            .find_map(|key| id_in(self.data.get(key)))
    }

    /// `data.attendee {name, email}`, else the flat `data.name` / `data.email`.
    pub fn attendee(&self) -> Option<Attendee> {
        let read = |v: &Value| {
            Attendee::from_parts(
                v.get("name").and_then(Value::as_str),
                v.get("email").and_then(Value::as_str),
            )
        };
        self.data
            .get("attendee")
            .filter(|a| a.is_object())
            .and_then(read)
            .or_else(|| read(&self.data))
    }

    /// `data.start_time`, `data.starts_at` or `data.start` as RFC 3339.
    pub fn start(&self) -> Option<OffsetDateTime> {
        ["start_time", "starts_at", "start"]
            .into_iter()
            .find_map(|key| rfc3339_in(self.data.get(key)))
    }

    /// `data.end_time`, `data.ends_at` or `data.end` as RFC 3339.
    pub fn end(&self) -> Option<OffsetDateTime> {
        ["end_time", "ends_at", "end"]
            .into_iter()
            .find_map(|key| rfc3339_in(self.data.get(key)))
    }
}

/// A Standard Webhooks delivery, by `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `booking.created`
    BookingCreated(Box<Envelope>),
    /// `booking.updated`
    BookingUpdated(Box<Envelope>),
    /// `booking.cancelled` or `booking.canceled`
    BookingCancelled(Box<Envelope>),
    /// `booking.rescheduled`
    BookingRescheduled(Box<Envelope>),
    /// `booking.completed`
    BookingCompleted(Box<Envelope>),
    /// `booking.no_show`
    BookingNoShow(Box<Envelope>),
    /// Any other type, with the whole body.
    Unknown {
        /// The raw `type`.
        event: String,
        /// The whole JSON body.
        raw: Value,
    },
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    event_type: String,
}

impl Event {
    /// The provider these events come from.
    pub const PROVIDER: Provider = Provider::StandardWebhooks;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string `type`, or has
    /// a `timestamp` that is not RFC 3339. `data` may be anything. An unknown type gives
    /// [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let variant: fn(Box<Envelope>) -> Event = match head.event_type.as_str() {
            "booking.created" => Event::BookingCreated,
            "booking.updated" => Event::BookingUpdated,
            "booking.cancelled" | "booking.canceled" => Event::BookingCancelled,
            "booking.rescheduled" => Event::BookingRescheduled,
            "booking.completed" => Event::BookingCompleted,
            "booking.no_show" => Event::BookingNoShow,
            _ => {
                return Ok(Event::Unknown {
                    raw: Self::PROVIDER.decode(body)?,
                    event: head.event_type,
                });
            }
        };
        Ok(variant(Box::new(Self::PROVIDER.decode(body)?)))
    }

    /// The raw `type`.
    pub fn event_type(&self) -> &str {
        match self {
            Event::Unknown { event, .. } => event,
            known => known.envelope().map_or("", |e| e.event_type.as_str()),
        }
    }

    /// The envelope of a known type.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            Event::BookingCreated(e)
            | Event::BookingUpdated(e)
            | Event::BookingCancelled(e)
            | Event::BookingRescheduled(e)
            | Event::BookingCompleted(e)
            | Event::BookingNoShow(e) => Some(e),
            Event::Unknown { .. } => None,
        }
    }

    /// The normalized kind.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::BookingCreated(_) => BookingKind::Created,
            Event::BookingUpdated(_) => BookingKind::Updated,
            Event::BookingCancelled(_) => BookingKind::Cancelled,
            Event::BookingRescheduled(_) => BookingKind::Rescheduled,
            Event::BookingCompleted(_) => BookingKind::Completed,
            Event::BookingNoShow(_) => BookingKind::NoShow,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

impl From<Event> for BookingEvent {
    /// `delivery_id` comes from the `webhook-id` header through
    /// [`FromDelivery`](crate::FromDelivery), not from the body.
    fn from(event: Event) -> Self {
        let kind = event.kind();
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::StandardWebhooks, kind, event);
                out.occurred_at = rfc3339_in(raw.get("timestamp"));
                out
            }
            Event::BookingCreated(e)
            | Event::BookingUpdated(e)
            | Event::BookingCancelled(e)
            | Event::BookingRescheduled(e)
            | Event::BookingCompleted(e)
            | Event::BookingNoShow(e) => {
                let mut out =
                    BookingEvent::new(Provider::StandardWebhooks, kind, e.event_type.clone());
                out.booking_id = e.booking_id();
                out.attendee = e.attendee();
                out.start = e.start();
                out.end = e.end();
                out.occurred_at = e.timestamp;
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn envelope(data: Value) -> Envelope {
        Envelope::new("booking.created", None, data)
    }

    #[test]
    fn nested_attendee_wins_over_flat_fields() {
        let e = envelope(
            json!({"attendee": {"name": "A", "email": "a@x.example"}, "email": "host@x.example"}),
        );
        assert_eq!(
            e.attendee(),
            Attendee::from_parts(Some("A"), Some("a@x.example"))
        );
    }

    #[test]
    fn flat_fields_are_read_when_there_is_no_attendee_object() {
        let e = envelope(json!({"attendee": "a@x.example", "name": "B", "email": "b@x.example"}));
        assert_eq!(
            e.attendee(),
            Attendee::from_parts(Some("B"), Some("b@x.example"))
        );
        assert_eq!(envelope(json!({"id": 1})).attendee(), None);
        assert_eq!(envelope(Value::Null).attendee(), None);
    }

    #[test]
    fn booking_id_prefers_booking_id_and_accepts_integers() {
        assert_eq!(
            envelope(json!({"id": "evt", "booking_id": 7}))
                .booking_id()
                .as_deref(),
            Some("7")
        );
        assert_eq!(
            envelope(json!({"id": "b1"})).booking_id().as_deref(),
            Some("b1")
        );
        assert_eq!(
            envelope(json!({"uid": "u1", "id": 2.5}))
                .booking_id()
                .as_deref(),
            Some("u1")
        );
        assert_eq!(envelope(json!([1])).booking_id(), None);
    }

    #[test]
    fn slot_times_accept_the_common_spellings() {
        let e = envelope(
            json!({"starts_at": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00+01:00"}),
        );
        assert_eq!(e.start(), Some(datetime!(2026-01-01 10:00 UTC)));
        assert_eq!(e.end(), Some(datetime!(2026-01-01 10:00 UTC)));
        assert_eq!(envelope(json!({"start_time": "tomorrow"})).start(), None);
    }

    #[test]
    fn data_and_timestamp_are_optional_but_a_bad_timestamp_is_invalid() {
        let event = Event::from_slice(br#"{"type":"booking.canceled"}"#).unwrap();
        assert!(matches!(event, Event::BookingCancelled(_)));
        assert_eq!(event.event_type(), "booking.canceled");
        let err = Event::from_slice(br#"{"type":"booking.created","timestamp":12}"#).unwrap_err();
        assert!(matches!(err, EventError::InvalidJson { .. }));
    }

    #[test]
    fn non_string_type_is_invalid() {
        let err = Event::from_slice(br#"{"type":["booking.created"],"data":{}}"#).unwrap_err();
        assert!(
            err.to_string().ends_with("invalid type, expected a string"),
            "{err}"
        );
    }
}
