//! Bookable (by Samna): platform events signed with `X-Samna-Signature: t=..,v1=..`.
//!
//! Every delivery is the standard event envelope `{id, event_name, timestamp, context}`.
//! `context` only references objects by id; **there is no attendee email in the payload**,
//! so a CRM sync has to fetch the booking or mark the delivery skipped. The envelope `id`
//! identifies the delivery and is the deduplication key.
//!
//! ```
//! use bookhook_events::{bookable::Event, BookingEvent, Provider};
//!
//! let body = bookhook_events::samples::booking_created(Provider::Bookable).as_bytes();
//! let event = Event::from_slice(body)?;
//! assert_eq!(event.envelope().unwrap().booking_id(), Some("f9955a9a-bb9e-450b-8e91-09a43f0e6cd6"));
//!
//! let normalized = BookingEvent::from(event);
//! assert_eq!(normalized.delivery_id.as_deref(), Some("a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
//! assert_eq!(normalized.attendee, None);
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::booking::{BookingEvent, BookingKind, id_in, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The booking event names this crate knows (`booking_canceled` is accepted as well).
pub const EVENT_NAMES: [&str; 4] = [
    "booking_created",
    "booking_updated",
    "booking_cancelled",
    "booking_deleted",
];

/// The standard event envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// Unique id of this event; deduplicate on it.
    pub id: String,
    /// The event name, e.g. `"booking_created"`.
    pub event_name: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// References to the objects involved.
    pub context: Context,
}

impl Envelope {
    /// An envelope.
    pub fn new(
        id: impl Into<String>,
        event_name: impl Into<String>,
        timestamp: OffsetDateTime,
        context: Context,
    ) -> Self {
        Envelope {
            id: id.into(),
            event_name: event_name.into(),
            timestamp,
            context,
        }
    }

    /// `context.booking.id`, if present.
    pub fn booking_id(&self) -> Option<&str> {
        self.context.booking.as_ref().map(|r| r.id.as_str())
    }
}

/// The objects an event is about, by id. Each reference may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// The booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<Reference>,
    /// The bookable resource (room, desk, person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookable: Option<Reference>,
    /// The user who acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Reference>,
}

impl Context {
    /// A context that references only a booking.
    pub fn for_booking(id: impl Into<String>) -> Self {
        Context {
            booking: Some(Reference::new(id)),
            ..Context::default()
        }
    }
}

/// `{ "id": ... }`
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reference {
    /// The object's id (a UUID).
    pub id: String,
}

impl Reference {
    /// A reference.
    pub fn new(id: impl Into<String>) -> Self {
        Reference { id: id.into() }
    }
}

/// A Bookable delivery, by event name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `booking_created`
    BookingCreated(Box<Envelope>),
    /// `booking_updated`
    BookingUpdated(Box<Envelope>),
    /// `booking_cancelled` or `booking_canceled`
    BookingCancelled(Box<Envelope>),
    /// `booking_deleted`
    BookingDeleted(Box<Envelope>),
    /// Any other event name (the platform has many non-booking events), with the whole
    /// body.
    Unknown {
        /// The raw event name.
        event: String,
        /// The whole JSON body.
        raw: Value,
    },
}

#[derive(Deserialize)]
struct Head {
    event_name: String,
}

impl Event {
    /// The provider these events come from.
    pub const PROVIDER: Provider = Provider::Bookable;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string `event_name`,
    /// or a known event's envelope lacks `id`, `timestamp` or `context`, or has a field
    /// of the wrong type. An unknown event name gives [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let variant: fn(Box<Envelope>) -> Event = match head.event_name.as_str() {
            "booking_created" => Event::BookingCreated,
            "booking_updated" => Event::BookingUpdated,
            "booking_cancelled" | "booking_canceled" => Event::BookingCancelled,
            "booking_deleted" => Event::BookingDeleted,
            _ => {
                return Ok(Event::Unknown {
                    raw: Self::PROVIDER.decode(body)?,
                    event: head.event_name,
                });
            }
        };
        Ok(variant(Box::new(Self::PROVIDER.decode(body)?)))
    }

    /// The raw event name (`booking_canceled` stays spelled as sent).
    pub fn event_type(&self) -> &str {
        match self {
            Event::Unknown { event, .. } => event,
            known => known.envelope().map_or("", |e| e.event_name.as_str()),
        }
    }

    /// The envelope of a known event.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            Event::BookingCreated(e)
            | Event::BookingUpdated(e)
            | Event::BookingCancelled(e)
            | Event::BookingDeleted(e) => Some(e),
            Event::Unknown { .. } => None,
        }
    }

    /// The normalized kind: a deleted booking counts as cancelled.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::BookingCreated(_) => BookingKind::Created,
            Event::BookingUpdated(_) => BookingKind::Updated,
            Event::BookingCancelled(_) | Event::BookingDeleted(_) => BookingKind::Cancelled,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

impl From<Event> for BookingEvent {
    /// Bookable sends no attendee and no slot times: `attendee`, `start` and `end` stay
    /// `None`. `delivery_id` is the envelope `id`, for unknown events too.
    fn from(event: Event) -> Self {
        let kind = event.kind();
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::Bookable, kind, event);
                out.occurred_at = rfc3339_in(raw.get("timestamp"));
                out.delivery_id = id_in(raw.get("id"));
                out
            }
            Event::BookingCreated(e)
            | Event::BookingUpdated(e)
            | Event::BookingCancelled(e)
            | Event::BookingDeleted(e) => {
                let Envelope {
                    id,
                    event_name,
                    timestamp,
                    context,
                } = *e;
                let mut out = BookingEvent::new(Provider::Bookable, kind, event_name);
                out.booking_id = context.booking.map(|r| r.id);
                out.occurred_at = Some(timestamp);
                out.delivery_id = Some(id);
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const DOC_EXAMPLE: &str =
        include_str!("../../../tests/vectors/events/bookable/booking_created.json");

    #[test]
    fn doc_example_parses_all_references() {
        let event = Event::from_slice(DOC_EXAMPLE.as_bytes()).unwrap();
        let env = event.envelope().unwrap();
        assert_eq!(env.timestamp, datetime!(2026-05-15 08:00:12 UTC));
        assert_eq!(
            env.context.bookable.as_ref().map(|r| r.id.as_str()),
            Some("c3d4e5f6-a7b8-9012-cdef-345678901234")
        );
        assert_eq!(
            env.context.user,
            Some(Reference::new("e992bfc1-0336-42c5-bd0a-4f4804a9fd24"))
        );
    }

    #[test]
    fn both_spellings_of_cancelled_are_one_variant() {
        for name in ["booking_cancelled", "booking_canceled"] {
            let body = DOC_EXAMPLE.replace("booking_created", name);
            let event = Event::from_slice(body.as_bytes()).unwrap();
            assert!(matches!(event, Event::BookingCancelled(_)), "{name}");
            assert_eq!(event.event_type(), name);
        }
    }

    #[test]
    fn context_references_are_optional() {
        let body = br#"{"id":"e1","event_name":"booking_updated","timestamp":"2026-05-15T08:00:12Z","context":{}}"#;
        let event = Event::from_slice(body).unwrap();
        assert_eq!(event.envelope().unwrap().booking_id(), None);
        assert_eq!(BookingEvent::from(event).booking_id, None);
    }

    #[test]
    fn unknown_event_keeps_the_envelope_id_for_deduplication() {
        let body = br#"{"id":"evt_9","event_name":"user_created","timestamp":"2026-05-15T08:00:12Z","context":{"user":{"id":"u"}}}"#;
        let normalized = BookingEvent::from(Event::from_slice(body).unwrap());
        assert_eq!(normalized.kind, BookingKind::Unknown);
        assert_eq!(normalized.event_type, "user_created");
        assert_eq!(normalized.delivery_id.as_deref(), Some("evt_9"));
    }

    #[test]
    fn round_trips_a_built_envelope() {
        let env = Envelope::new(
            "evt_1",
            "booking_deleted",
            datetime!(2026-01-01 00:00 UTC),
            Context::for_booking("b1"),
        );
        let back = Event::from_slice(&serde_json::to_vec(&env).unwrap()).unwrap();
        assert_eq!(back, Event::BookingDeleted(Box::new(env)));
    }
}
