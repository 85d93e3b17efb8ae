//! SchedulingKit: events signed with `X-Webhook-Signature` (HMAC over the raw body), with
//! unsigned `X-Webhook-Event` and `X-Webhook-Delivery-Id` headers.
//!
//! Every delivery is `{event, timestamp, data}`. For booking events `data` is the
//! booking, whose numeric `id` is the booking id; its `date` and `time` carry **no time
//! zone**, so [`Booking::local_start`] gives a [`PrimitiveDateTime`] and the normalized
//! [`BookingEvent`] leaves `start`/`end` empty. Payment and test events have other `data`
//! shapes and are kept as JSON ([`Notice`]) so they never fail to parse.
//!
//! ```
//! use bookhook_events::schedulingkit::Event;
//! use time::macros::datetime;
//!
//! let body = bookhook_events::samples::booking_created(bookhook_events::Provider::SchedulingKit);
//! let event = Event::from_slice(body.as_bytes())?;
//! let Event::BookingCreated(envelope) = &event else { panic!("not a booking") };
//! assert_eq!(envelope.data.id, 123);
//! assert_eq!(envelope.data.local_start(), Some(datetime!(2025-01-20 14:00)));
//! assert_eq!(envelope.data.local_end(), Some(datetime!(2025-01-20 14:30)));
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

use crate::booking::{Attendee, BookingEvent, BookingKind, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The 13 event names SchedulingKit documents, in the order of its docs.
pub const EVENT_NAMES: [&str; 13] = [
    "event.created",
    "event.updated",
    "event.cancelled",
    "event.rescheduled",
    "event.reminder",
    "event.follow_up",
    "booking.created",
    "booking.confirmed",
    "booking.cancelled",
    "payment.completed",
    "payment.failed",
    "payment.refunded",
    "webhook.test",
];

/// The envelope of a booking event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event name, e.g. `"booking.created"`.
    pub event: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The booking.
    pub data: Booking,
}

impl Envelope {
    /// An envelope for `data`.
    pub fn new(event: impl Into<String>, timestamp: OffsetDateTime, data: Booking) -> Self {
        Envelope {
            event: event.into(),
            timestamp,
            data,
        }
    }
}

/// The envelope of a non-booking event (payments, reminders, tests): `data` is kept as
/// JSON and every field is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notice {
    /// The event name, e.g. `"payment.completed"`.
    pub event: String,
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

impl Notice {
    /// A notice.
    pub fn new(event: impl Into<String>, timestamp: Option<OffsetDateTime>, data: Value) -> Self {
        Notice {
            event: event.into(),
            timestamp,
            data,
        }
    }

    /// `data` read as a booking, when it has that shape (reminders and follow-ups do).
    pub fn booking(&self) -> Option<Booking> {
        Booking::deserialize(&self.data).ok()
    }
}

/// A SchedulingKit booking as sent in `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Booking {
    /// Numeric booking id.
    pub id: u64,
    /// The event type's slug, e.g. `"30-min-consultation"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Local date, `YYYY-MM-DD`, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Local time, `HH:MM`, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Length in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// The person who booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitee: Option<Invitee>,
    /// Where, e.g. `"Zoom"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Link to join the meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_link: Option<String>,
}

impl Booking {
    /// A booking with only its id.
    pub fn new(id: u64) -> Self {
        Booking {
            id,
            event_type: None,
            date: None,
            time: None,
            duration: None,
            invitee: None,
            location: None,
            meeting_link: None,
        }
    }

    /// `date` and `time` combined, in the account's (unstated) local time zone; `None`
    /// if either is missing or malformed. Accepts `HH:MM` and `HH:MM:SS`.
    pub fn local_start(&self) -> Option<PrimitiveDateTime> {
        let date = Date::parse(
            self.date.as_deref()?.trim(),
            format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        let raw = self.time.as_deref()?.trim();
        let time = Time::parse(raw, format_description!("[hour]:[minute]"))
            .or_else(|_| Time::parse(raw, format_description!("[hour]:[minute]:[second]")))
            .ok()?;
        Some(PrimitiveDateTime::new(date, time))
    }

    /// [`Booking::local_start`] plus `duration`; `None` if either is missing.
    pub fn local_end(&self) -> Option<PrimitiveDateTime> {
        self.local_start()?.checked_add(self.duration()?)
    }

    /// `duration` as a [`Duration`].
    pub fn duration(&self) -> Option<Duration> {
        self.duration.map(|m| Duration::minutes(i64::from(m)))
    }
}

/// `data.invitee`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invitee {
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Invitee {
    /// An invitee.
    pub fn new(name: Option<String>, email: Option<String>) -> Self {
        Invitee { name, email }
    }
}

/// A SchedulingKit delivery, by event name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `event.created`: a new event/booking was created.
    EventCreated(Box<Envelope>),
    /// `event.updated`: details changed.
    EventUpdated(Box<Envelope>),
    /// `event.cancelled`
    EventCancelled(Box<Envelope>),
    /// `event.rescheduled`
    EventRescheduled(Box<Envelope>),
    /// `event.reminder`: fires before the event.
    EventReminder(Box<Notice>),
    /// `event.follow_up`: fires after the event.
    EventFollowUp(Box<Notice>),
    /// `booking.created` (customer side).
    BookingCreated(Box<Envelope>),
    /// `booking.confirmed`
    BookingConfirmed(Box<Envelope>),
    /// `booking.cancelled`
    BookingCancelled(Box<Envelope>),
    /// `payment.completed`
    PaymentCompleted(Box<Notice>),
    /// `payment.failed`
    PaymentFailed(Box<Notice>),
    /// `payment.refunded`
    PaymentRefunded(Box<Notice>),
    /// `webhook.test`, sent by the dashboard's Test button.
    WebhookTest(Box<Notice>),
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
    pub const PROVIDER: Provider = Provider::SchedulingKit;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string `event`, or a
    /// booking event lacks `timestamp` or a numeric `data.id`, or has a field of the
    /// wrong type. Payment, reminder and test events only need `event`. An unknown event
    /// name gives [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let booking: fn(Box<Envelope>) -> Event = match head.event.as_str() {
            "event.created" => Event::EventCreated,
            "event.updated" => Event::EventUpdated,
            "event.cancelled" => Event::EventCancelled,
            "event.rescheduled" => Event::EventRescheduled,
            "booking.created" => Event::BookingCreated,
            "booking.confirmed" => Event::BookingConfirmed,
            "booking.cancelled" => Event::BookingCancelled,
            other => {
                let notice: fn(Box<Notice>) -> Event = match other {
                    "event.reminder" => Event::EventReminder,
                    "event.follow_up" => Event::EventFollowUp,
                    "payment.completed" => Event::PaymentCompleted,
                    "payment.failed" => Event::PaymentFailed,
                    "payment.refunded" => Event::PaymentRefunded,
                    "webhook.test" => Event::WebhookTest,
                    _ => {
                        return Ok(Event::Unknown {
                            raw: Self::PROVIDER.decode(body)?,
                            event: head.event,
                        });
                    }
                };
                return Ok(notice(Box::new(Self::PROVIDER.decode(body)?)));
            }
        };
        Ok(booking(Box::new(Self::PROVIDER.decode(body)?)))
    }

    /// The raw event name.
    pub fn event_type(&self) -> &str {
        match self {
            Event::Unknown { event, .. } => event,
            other => match (other.envelope(), other.notice()) {
                (Some(e), _) => &e.event,
                (_, Some(n)) => &n.event,
                (None, None) => "",
            },
        }
    }

    /// The envelope of a booking event.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            Event::EventCreated(e)
            | Event::EventUpdated(e)
            | Event::EventCancelled(e)
            | Event::EventRescheduled(e)
            | Event::BookingCreated(e)
            | Event::BookingConfirmed(e)
            | Event::BookingCancelled(e) => Some(e),
            _ => None,
        }
    }

    /// The envelope of a non-booking event.
    pub fn notice(&self) -> Option<&Notice> {
        match self {
            Event::EventReminder(n)
            | Event::EventFollowUp(n)
            | Event::PaymentCompleted(n)
            | Event::PaymentFailed(n)
            | Event::PaymentRefunded(n)
            | Event::WebhookTest(n) => Some(n),
            _ => None,
        }
    }

    /// The normalized kind. `event.created` and `booking.created` are both `Created`
    /// (the same booking may send both); `booking.confirmed` is `Updated`; reminders,
    /// follow-ups, payments and tests are `NotBooking`.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::EventCreated(_) | Event::BookingCreated(_) => BookingKind::Created,
            Event::EventUpdated(_) | Event::BookingConfirmed(_) => BookingKind::Updated,
            Event::EventCancelled(_) | Event::BookingCancelled(_) => BookingKind::Cancelled,
            Event::EventRescheduled(_) => BookingKind::Rescheduled,
            Event::EventReminder(_)
            | Event::EventFollowUp(_)
            | Event::PaymentCompleted(_)
            | Event::PaymentFailed(_)
            | Event::PaymentRefunded(_)
            | Event::WebhookTest(_) => BookingKind::NotBooking,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

fn fill_from_booking(out: &mut BookingEvent, data: &Booking) {
    out.booking_id = Some(data.id.to_string());
    out.attendee = data
        .invitee
        .as_ref()
        .and_then(|i| Attendee::from_parts(i.name.as_deref(), i.email.as_deref()));
}

impl From<Event> for BookingEvent {
    /// `start`/`end` stay `None` (SchedulingKit's date and time have no zone; see
    /// [`Booking::local_start`]). `delivery_id` comes from the `X-Webhook-Delivery-Id`
    /// header through [`FromDelivery`](crate::FromDelivery), not from the body.
    fn from(event: Event) -> Self {
        let kind = event.kind();
        let reminder = matches!(event, Event::EventReminder(_) | Event::EventFollowUp(_));
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::SchedulingKit, kind, event);
                out.occurred_at = rfc3339_in(raw.get("timestamp"));
                out
            }
            Event::EventCreated(e)
            | Event::EventUpdated(e)
            | Event::EventCancelled(e)
            | Event::EventRescheduled(e)
            | Event::BookingCreated(e)
            | Event::BookingConfirmed(e)
            | Event::BookingCancelled(e) => {
                let mut out = BookingEvent::new(Provider::SchedulingKit, kind, e.event);
                fill_from_booking(&mut out, &e.data);
                out.occurred_at = Some(e.timestamp);
                out
            }
            Event::EventReminder(n)
            | Event::EventFollowUp(n)
            | Event::PaymentCompleted(n)
            | Event::PaymentFailed(n)
            | Event::PaymentRefunded(n)
            | Event::WebhookTest(n) => {
                // Only reminders carry a booking; a payment's numeric `id` is not one.
                let booking = if reminder { n.booking() } else { None };
                let mut out = BookingEvent::new(Provider::SchedulingKit, kind, n.event);
                if let Some(data) = booking {
                    fill_from_booking(&mut out, &data);
                }
                out.occurred_at = n.timestamp;
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
        include_str!("../../../tests/vectors/events/schedulingkit/booking.created.json");

    #[test]
    fn doc_example_parses_every_field() {
        let event = Event::from_slice(DOC_EXAMPLE.as_bytes()).unwrap();
        let data = &event.envelope().unwrap().data;
        assert_eq!(data.event_type.as_deref(), Some("30-min-consultation"));
        assert_eq!(data.date.as_deref(), Some("2025-01-20"));
        assert_eq!(data.time.as_deref(), Some("14:00"));
        assert_eq!(data.duration, Some(30));
        assert_eq!(
            data.invitee,
            Some(Invitee::new(
                Some("Jane Smith".into()),
                Some("jane@example.com".into())
            ))
        );
        assert_eq!(data.location.as_deref(), Some("Zoom"));
        assert_eq!(data.meeting_link.as_deref(), Some("https://zoom.us/j/..."));
    }

    #[test]
    fn every_documented_name_is_known_and_tolerates_any_data_for_notices() {
        for name in EVENT_NAMES {
            let body = DOC_EXAMPLE.replace("booking.created", name);
            let event = Event::from_slice(body.as_bytes()).unwrap();
            assert_eq!(event.event_type(), name);
            assert_ne!(event.kind(), BookingKind::Unknown, "{name}");
            if event.notice().is_some() {
                let odd = format!(r#"{{"event":"{name}","data":"not an object"}}"#);
                let event = Event::from_slice(odd.as_bytes()).unwrap();
                assert_eq!(event.kind(), BookingKind::NotBooking, "{name}");
            }
        }
    }

    #[test]
    fn string_booking_id_is_invalid() {
        let body = DOC_EXAMPLE.replace("\"id\": 123", "\"id\": \"123\"");
        let err = Event::from_slice(body.as_bytes()).unwrap_err();
        assert!(
            err.to_string().ends_with("invalid type, expected u64"),
            "{err}"
        );
    }

    #[test]
    fn malformed_local_date_or_time_keeps_the_strings() {
        let mut b = Booking::new(1);
        b.date = Some("20/01/2025".into());
        b.time = Some("14:00".into());
        assert_eq!(b.local_start(), None);
        b.date = Some("2025-01-20".into());
        b.time = Some("2pm".into());
        assert_eq!(b.local_start(), None);
        b.time = Some("25:00".into());
        assert_eq!(b.local_start(), None);
        b.time = Some("09:05:30".into());
        assert_eq!(b.local_start(), Some(datetime!(2025-01-20 09:05:30)));
        assert_eq!(b.local_end(), None, "no duration");
    }

    #[test]
    fn local_end_does_not_overflow() {
        let mut b = Booking::new(1);
        b.date = Some("9999-12-31".into());
        b.time = Some("23:59".into());
        b.duration = Some(u32::MAX);
        assert_eq!(b.local_end(), None);
    }

    #[test]
    fn reminder_normalizes_with_its_booking_but_payment_does_not() {
        let reminder = DOC_EXAMPLE.replace("booking.created", "event.reminder");
        let e = BookingEvent::from(Event::from_slice(reminder.as_bytes()).unwrap());
        assert_eq!(e.kind, BookingKind::NotBooking);
        assert_eq!(e.booking_id.as_deref(), Some("123"));
        let payment = DOC_EXAMPLE.replace("booking.created", "payment.completed");
        let e = BookingEvent::from(Event::from_slice(payment.as_bytes()).unwrap());
        assert_eq!(e.kind, BookingKind::NotBooking);
        assert_eq!(e.booking_id, None);
        assert_eq!(e.attendee, None);
    }
}
