//! Slotflow: unsigned booking notifications, authenticated by a receiver-chosen URL
//! token.
//!
//! Every delivery is `{event, created_at, data}` where `data` is the full booking,
//! including the `metadata` JSON the booking was created with. Slotflow retries, so
//! deduplicate by a hash of the body.
//!
//! ```
//! use bookhook_events::slotflow::{BookingStatus, Event};
//!
//! let event = Event::from_slice(bookhook_events::samples::booking_created(bookhook_events::Provider::Slotflow).as_bytes())?;
//! let Event::BookingConfirmed(envelope) = &event else { panic!("not a confirmation") };
//! assert_eq!(envelope.data.attendee_email.as_deref(), Some("alex@startup.io"));
//! assert_eq!(envelope.data.status, BookingStatus::Confirmed);
//! assert_eq!(envelope.data.metadata["lead_id"], "lead_8294");
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::booking::{Attendee, BookingEvent, BookingKind, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The event names Slotflow documents.
pub const EVENT_NAMES: [&str; 2] = ["booking.confirmed", "booking.cancelled"];

/// The delivery envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event name, e.g. `"booking.confirmed"`.
    pub event: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The booking.
    pub data: Booking,
}

impl Envelope {
    /// An envelope for `data`.
    pub fn new(event: impl Into<String>, created_at: OffsetDateTime, data: Booking) -> Self {
        Envelope {
            event: event.into(),
            created_at,
            data,
        }
    }
}

/// A Slotflow booking as sent in `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Booking {
    /// Booking id (a UUID); Slotflow suggests it to deduplicate.
    pub id: String,
    /// A second, human-facing id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_id: Option<String>,
    /// Start of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// End of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// Length in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    /// The attendee's full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendee_name: Option<String>,
    /// The attendee's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendee_email: Option<String>,
    /// Booking status.
    pub status: BookingStatus,
    /// Whatever JSON the booking was created with (`null` when absent).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
}

impl Booking {
    /// A booking with no optional fields.
    pub fn new(
        id: impl Into<String>,
        starts_at: OffsetDateTime,
        ends_at: OffsetDateTime,
        status: BookingStatus,
    ) -> Self {
        Booking {
            id: id.into(),
            human_id: None,
            starts_at,
            ends_at,
            duration_minutes: None,
            attendee_name: None,
            attendee_email: None,
            status,
            metadata: Value::Null,
        }
    }
}

/// `data.status`. A status Slotflow adds later parses as [`BookingStatus::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum BookingStatus {
    /// `confirmed`
    Confirmed,
    /// `cancelled`
    Cancelled,
    /// Any other value, kept verbatim; compare with [`BookingStatus::as_str`].
    Other(String),
}

impl BookingStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Other(s) => s,
        }
    }
}

impl From<String> for BookingStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "confirmed" => BookingStatus::Confirmed,
            "cancelled" => BookingStatus::Cancelled,
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

/// A Slotflow delivery, by event name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `booking.confirmed`: a booking was created.
    BookingConfirmed(Box<Envelope>),
    /// `booking.cancelled`
    BookingCancelled(Box<Envelope>),
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
    pub const PROVIDER: Provider = Provider::Slotflow;

    /// Parses a body (Slotflow does not sign; check the URL token first).
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string `event`, or a
    /// known event's envelope lacks a required field (`data.id`, `starts_at`, `ends_at`,
    /// `status`) or has one of the wrong type. An unknown event name gives
    /// [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let variant: fn(Box<Envelope>) -> Event = match head.event.as_str() {
            "booking.confirmed" => Event::BookingConfirmed,
            "booking.cancelled" => Event::BookingCancelled,
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
            Event::BookingConfirmed(e) | Event::BookingCancelled(e) => Some(e),
            Event::Unknown { .. } => None,
        }
    }

    /// The normalized kind of this event.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::BookingConfirmed(_) => BookingKind::Created,
            Event::BookingCancelled(_) => BookingKind::Cancelled,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

impl From<Event> for BookingEvent {
    fn from(event: Event) -> Self {
        let kind = event.kind();
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::Slotflow, kind, event);
                out.occurred_at = rfc3339_in(raw.get("created_at"));
                out
            }
            Event::BookingConfirmed(e) | Event::BookingCancelled(e) => {
                let Envelope {
                    event,
                    created_at,
                    data,
                } = *e;
                let mut out = BookingEvent::new(Provider::Slotflow, kind, event);
                out.attendee = Attendee::from_parts(
                    data.attendee_name.as_deref(),
                    data.attendee_email.as_deref(),
                );
                out.booking_id = Some(data.id);
                out.start = Some(data.starts_at);
                out.end = Some(data.ends_at);
                out.occurred_at = Some(created_at);
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
        include_str!("../../../tests/vectors/events/slotflow/booking.confirmed.json");

    #[test]
    fn doc_example_parses_with_metadata() {
        let event = Event::from_slice(DOC_EXAMPLE.as_bytes()).unwrap();
        let env = event.envelope().unwrap();
        assert_eq!(
            env.data.human_id.as_deref(),
            Some("f47ac10b-58cc-4372-a567-0e02b2c3d479")
        );
        assert_eq!(env.data.duration_minutes, Some(30));
        assert_eq!(env.data.ends_at, datetime!(2026-03-10 14:30 UTC));
        assert_eq!(env.data.metadata["source"], "ai_sdr");
    }

    #[test]
    fn new_status_is_kept() {
        let body = DOC_EXAMPLE.replace("\"confirmed\"", "\"tentative\"");
        let event = Event::from_slice(body.as_bytes()).unwrap();
        assert_eq!(
            event.envelope().unwrap().data.status,
            BookingStatus::Other("tentative".into())
        );
    }

    #[test]
    fn metadata_may_be_any_json() {
        for metadata in ["null", "[1,2]", "\"text\"", "7"] {
            let body = DOC_EXAMPLE.replace(
                "\"metadata\": {\n      \"lead_id\": \"lead_8294\",\n      \"conversation_id\": \"conv_1847\",\n      \"source\": \"ai_sdr\"\n    }",
                &format!("\"metadata\": {metadata}"),
            );
            assert_ne!(body, DOC_EXAMPLE);
            let event = Event::from_slice(body.as_bytes()).unwrap();
            assert_eq!(
                event.envelope().unwrap().data.metadata,
                serde_json::from_str::<Value>(metadata).unwrap()
            );
        }
    }

    #[test]
    fn round_trips_a_built_envelope() {
        let mut data = Booking::new(
            "id-1",
            datetime!(2026-01-01 10:00 UTC),
            datetime!(2026-01-01 10:30 UTC),
            BookingStatus::Cancelled,
        );
        data.attendee_email = Some("x@y.example".into());
        let env = Envelope::new("booking.cancelled", datetime!(2026-01-01 09:00 UTC), data);
        let back = Event::from_slice(&serde_json::to_vec(&env).unwrap()).unwrap();
        assert_eq!(back, Event::BookingCancelled(Box::new(env)));
    }
}
