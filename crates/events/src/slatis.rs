//! Slatis: booking lifecycle events signed with `x-slatis-signature: sha256=<hex>`.
//!
//! Every delivery is `{event, timestamp, webhook_id, data}` where `data` is the booking.
//! `webhook_id` names the *subscription* and is the same on every delivery, so it is not a
//! delivery id: deduplicate Slatis deliveries by a hash of the body.
//!
//! ```
//! use bookhook_events::slatis::{BookingStatus, Event};
//!
//! let event = Event::from_slice(bookhook_events::samples::booking_created(bookhook_events::Provider::Slatis).as_bytes())?;
//! let Event::BookingCreated(envelope) = &event else { panic!("not a creation") };
//! assert_eq!(envelope.data.attendee.email, "jane@example.com");
//! assert_eq!(envelope.data.status, BookingStatus::Scheduled);
//! assert_eq!(envelope.data.end_time, None);
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::booking::{Attendee as BookingAttendee, BookingEvent, BookingKind, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The event names Slatis documents, in the order of its docs.
pub const EVENT_NAMES: [&str; 7] = [
    "BOOKING_CREATED",
    "BOOKING_UPDATED",
    "BOOKING_CANCELLED",
    "BOOKING_RESCHEDULED",
    "BOOKING_COMPLETED",
    "BOOKING_NO_SHOW",
    "ASSIGNMENT_CHANGED",
];

/// The delivery envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event name, e.g. `"BOOKING_CREATED"`.
    pub event: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The webhook subscription's id (the same on every delivery).
    pub webhook_id: String,
    /// The booking.
    pub data: Booking,
}

impl Envelope {
    /// An envelope for `data`.
    pub fn new(
        event: impl Into<String>,
        timestamp: OffsetDateTime,
        webhook_id: impl Into<String>,
        data: Booking,
    ) -> Self {
        Envelope {
            event: event.into(),
            timestamp,
            webhook_id: webhook_id.into(),
            data,
        }
    }
}

/// A Slatis booking as sent in `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Booking {
    /// Booking id, e.g. `"bkg_01xyz"`.
    pub id: String,
    /// Booking status.
    pub status: BookingStatus,
    /// Start of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    /// End of the slot, when sent.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<OffsetDateTime>,
    /// The person who booked.
    pub attendee: Attendee,
}

impl Booking {
    /// A booking without an end time.
    pub fn new(
        id: impl Into<String>,
        status: BookingStatus,
        start_time: OffsetDateTime,
        attendee: Attendee,
    ) -> Self {
        Booking {
            id: id.into(),
            status,
            start_time,
            end_time: None,
            attendee,
        }
    }
}

/// The booking's attendee (`data.attendee`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attendee {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
}

impl Attendee {
    /// An attendee.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Attendee {
            name: name.into(),
            email: email.into(),
        }
    }
}

/// `data.status`. A status Slatis adds later parses as [`BookingStatus::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum BookingStatus {
    /// `SCHEDULED`
    Scheduled,
    /// `CANCELLED`
    Cancelled,
    /// `COMPLETED`
    Completed,
    /// `NO_SHOW`
    NoShow,
    /// Any other value, kept verbatim. Compare with [`BookingStatus::as_str`] rather than
    /// matching on it: a value may get its own variant in a later release.
    Other(String),
}

impl BookingStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            BookingStatus::Scheduled => "SCHEDULED",
            BookingStatus::Cancelled => "CANCELLED",
            BookingStatus::Completed => "COMPLETED",
            BookingStatus::NoShow => "NO_SHOW",
            BookingStatus::Other(s) => s,
        }
    }
}

impl From<String> for BookingStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "SCHEDULED" => BookingStatus::Scheduled,
            "CANCELLED" => BookingStatus::Cancelled,
            "COMPLETED" => BookingStatus::Completed,
            "NO_SHOW" => BookingStatus::NoShow,
            _ => BookingStatus::Other(s),
        }
    }
}

impl From<BookingStatus> for String {
    fn from(s: BookingStatus) -> Self {
        match s {
            BookingStatus::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

/// A Slatis delivery, by event name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `BOOKING_CREATED`
    BookingCreated(Box<Envelope>),
    /// `BOOKING_UPDATED`: the attendee's details changed.
    BookingUpdated(Box<Envelope>),
    /// `BOOKING_CANCELLED`
    BookingCancelled(Box<Envelope>),
    /// `BOOKING_RESCHEDULED`
    BookingRescheduled(Box<Envelope>),
    /// `BOOKING_COMPLETED`
    BookingCompleted(Box<Envelope>),
    /// `BOOKING_NO_SHOW`
    BookingNoShow(Box<Envelope>),
    /// `ASSIGNMENT_CHANGED`: the assigned team member changed.
    AssignmentChanged(Box<Envelope>),
    /// An event name this crate does not know, with the whole body.
    Unknown {
        /// The raw event name.
        event: String,
        /// The whole JSON body.
        raw: Value,
    },
}

#[derive(Deserialize)]
struct Head {
    event: String,
}

impl Event {
    /// The provider these events come from.
    pub const PROVIDER: Provider = Provider::Slatis;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string `event`, or a
    /// known event's envelope lacks a required field or has one of the wrong type. An
    /// unknown event name is not an error: it gives [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let variant: fn(Box<Envelope>) -> Event = match head.event.as_str() {
            "BOOKING_CREATED" => Event::BookingCreated,
            "BOOKING_UPDATED" => Event::BookingUpdated,
            "BOOKING_CANCELLED" => Event::BookingCancelled,
            "BOOKING_RESCHEDULED" => Event::BookingRescheduled,
            "BOOKING_COMPLETED" => Event::BookingCompleted,
            "BOOKING_NO_SHOW" => Event::BookingNoShow,
            "ASSIGNMENT_CHANGED" => Event::AssignmentChanged,
            _ => {
                return Ok(Event::Unknown {
                    raw: Self::PROVIDER.decode(body)?,
                    event: head.event,
                });
            }
        };
        Ok(variant(Box::new(Self::PROVIDER.decode(body)?)))
    }

    /// The raw event name.
    pub fn event_type(&self) -> &str {
        match self {
            Event::Unknown { event, .. } => event,
            known => known.envelope().map_or("", |e| e.event.as_str()),
        }
    }

    /// The envelope of a known event.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            Event::BookingCreated(e)
            | Event::BookingUpdated(e)
            | Event::BookingCancelled(e)
            | Event::BookingRescheduled(e)
            | Event::BookingCompleted(e)
            | Event::BookingNoShow(e)
            | Event::AssignmentChanged(e) => Some(e),
            Event::Unknown { .. } => None,
        }
    }

    /// The normalized kind of this event.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::BookingCreated(_) => BookingKind::Created,
            Event::BookingUpdated(_) => BookingKind::Updated,
            Event::BookingCancelled(_) => BookingKind::Cancelled,
            Event::BookingRescheduled(_) => BookingKind::Rescheduled,
            Event::BookingCompleted(_) => BookingKind::Completed,
            Event::BookingNoShow(_) => BookingKind::NoShow,
            Event::AssignmentChanged(_) => BookingKind::Reassigned,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

impl From<Event> for BookingEvent {
    fn from(event: Event) -> Self {
        let kind = event.kind();
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::Slatis, kind, event);
                out.occurred_at = rfc3339_in(raw.get("timestamp"));
                out
            }
            Event::BookingCreated(e)
            | Event::BookingUpdated(e)
            | Event::BookingCancelled(e)
            | Event::BookingRescheduled(e)
            | Event::BookingCompleted(e)
            | Event::BookingNoShow(e)
            | Event::AssignmentChanged(e) => {
                let Envelope {
                    event,
                    timestamp,
                    data,
                    ..
                } = *e;
                let mut out = BookingEvent::new(Provider::Slatis, kind, event);
                out.booking_id = Some(data.id);
                out.attendee = BookingAttendee::from_parts(
                    Some(&data.attendee.name),
                    Some(&data.attendee.email),
                );
                out.start = Some(data.start_time);
                out.end = data.end_time;
                out.occurred_at = Some(timestamp);
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
        include_str!("../../../tests/vectors/events/slatis/BOOKING_CREATED.json");

    #[test]
    fn doc_example_parses_into_booking_created() {
        let event = Event::from_slice(DOC_EXAMPLE.as_bytes()).unwrap();
        let Event::BookingCreated(env) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(env.webhook_id, "wh_01abc");
        assert_eq!(env.timestamp, datetime!(2026-05-01 14:05 UTC));
        assert_eq!(env.data.id, "bkg_01xyz");
        assert_eq!(env.data.start_time, datetime!(2026-05-01 14:00 UTC));
        assert_eq!(
            env.data.attendee,
            Attendee::new("Jane Smith", "jane@example.com")
        );
        assert_eq!(event.event_type(), "BOOKING_CREATED");
    }

    #[test]
    fn every_documented_name_has_its_variant() {
        for name in EVENT_NAMES {
            let body = DOC_EXAMPLE.replace("BOOKING_CREATED", name);
            let event = Event::from_slice(body.as_bytes()).unwrap();
            assert_eq!(event.event_type(), name);
            assert!(event.envelope().is_some(), "{name}");
            assert!(event.kind().is_booking(), "{name}");
        }
    }

    #[test]
    fn unknown_status_is_kept() {
        let body = DOC_EXAMPLE.replace("SCHEDULED", "PENDING_APPROVAL");
        let event = Event::from_slice(body.as_bytes()).unwrap();
        let status = &event.envelope().unwrap().data.status;
        assert_eq!(status, &BookingStatus::Other("PENDING_APPROVAL".into()));
        assert_eq!(status.as_str(), "PENDING_APPROVAL");
    }

    #[test]
    fn envelope_serializes_back_to_the_wire_shape() {
        let mut booking = Booking::new(
            "bkg_1",
            BookingStatus::NoShow,
            datetime!(2026-01-02 03:04:05 UTC),
            Attendee::new("A B", "a@b.example"),
        );
        booking.end_time = Some(datetime!(2026-01-02 04:04:05 UTC));
        let env = Envelope::new(
            "BOOKING_NO_SHOW",
            datetime!(2026-01-02 05:00 UTC),
            "wh_1",
            booking,
        );
        let json = serde_json::to_vec(&env).unwrap();
        let back = Event::from_slice(&json).unwrap();
        assert_eq!(back, Event::BookingNoShow(Box::new(env)));
    }

    #[test]
    fn unknown_event_keeps_name_and_body() {
        let body = br#"{"event":"BOOKING_ARCHIVED","timestamp":"2026-05-01T14:05:00Z","data":{}}"#;
        let event = Event::from_slice(body).unwrap();
        let Event::Unknown { event: name, raw } = &event else {
            panic!("{event:?}")
        };
        assert_eq!(name, "BOOKING_ARCHIVED");
        assert_eq!(raw["data"], serde_json::json!({}));
        let normalized = BookingEvent::from(event);
        assert_eq!(normalized.kind, BookingKind::Unknown);
        assert_eq!(normalized.event_type, "BOOKING_ARCHIVED");
        assert_eq!(
            normalized.occurred_at,
            Some(datetime!(2026-05-01 14:05 UTC))
        );
    }

    #[test]
    fn missing_event_name_is_invalid() {
        let err = Event::from_slice(br#"{"timestamp":"2026-05-01T14:05:00Z"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `event`"), "{err}");
    }

    #[test]
    fn wrong_type_of_start_time_is_invalid() {
        let body = DOC_EXAMPLE.replace("\"2026-05-01T14:00:00.000Z\"", "1746108000");
        let err = Event::from_slice(body.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                EventError::InvalidJson {
                    provider: Provider::Slatis,
                    line: 8,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_timestamp_is_invalid() {
        let body = DOC_EXAMPLE.replace("2026-05-01T14:05:00.000Z", "yesterday");
        assert!(Event::from_slice(body.as_bytes()).is_err());
    }
}
