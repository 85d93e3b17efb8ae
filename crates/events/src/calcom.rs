//! Cal.com: `{triggerEvent, createdAt, payload}` deliveries signed with
//! `X-Cal-Signature-256` (HMAC over the raw body).
//!
//! Booking triggers carry the booking in `payload`, with the **organizer** (the host)
//! and the **attendees** (the booker and guests) side by side; the normalized attendee is
//! always taken from `attendees` (falling back to the booking form's `responses`) and
//! never equals the organizer. Meeting, payment, no-show and test (`PING`) triggers keep
//! their payload as JSON ([`Notice`]) because their shapes vary between Cal.com versions.
//! Deduplicate by a hash of the body.
//!
//! ```
//! use bookhook_events::{calcom::Event, BookingEvent, BookingKind, Provider};
//!
//! let body = bookhook_events::samples::booking_created(Provider::CalCom).as_bytes();
//! let event = Event::from_slice(body)?;
//! let Event::BookingCreated(envelope) = &event else { panic!("not a booking") };
//! assert_eq!(envelope.payload.organizer.as_ref().unwrap().email, "olivia@acme.example");
//!
//! let normalized = BookingEvent::from(event);
//! assert_eq!(normalized.kind, BookingKind::Created);
//! assert_eq!(normalized.attendee_email(), Some("ravi@customer.example"));
//! assert_eq!(normalized.booking_id.as_deref(), Some("bFJeNb2uX8ANpT3JL5EfXw"));
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::booking::{Attendee, BookingEvent, BookingKind, id_in, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The trigger names this crate knows.
pub const EVENT_NAMES: [&str; 12] = [
    "BOOKING_CREATED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
    "BOOKING_REQUESTED",
    "BOOKING_REJECTED",
    "BOOKING_PAYMENT_INITIATED",
    "BOOKING_PAID",
    "BOOKING_NO_SHOW_UPDATED",
    "MEETING_STARTED",
    "MEETING_ENDED",
    "RECORDING_READY",
    "PING",
];

/// The envelope of a booking trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Envelope {
    /// The trigger, e.g. `"BOOKING_CREATED"`.
    pub trigger_event: String,
    /// When the webhook was triggered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The booking.
    pub payload: Booking,
}

impl Envelope {
    /// An envelope for `payload`.
    pub fn new(
        trigger_event: impl Into<String>,
        created_at: OffsetDateTime,
        payload: Booking,
    ) -> Self {
        Envelope {
            trigger_event: trigger_event.into(),
            created_at,
            payload,
        }
    }
}

/// The envelope of a non-booking trigger (`PING`, meetings, payments, no-shows,
/// recordings): `payload` is kept as JSON and every field but the trigger is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Notice {
    /// The trigger, e.g. `"PING"`.
    pub trigger_event: String,
    /// When the webhook was triggered, if sent.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// The payload as sent (`null` when absent).
    #[serde(default)]
    pub payload: Value,
}

impl Notice {
    /// A notice.
    pub fn new(
        trigger_event: impl Into<String>,
        created_at: Option<OffsetDateTime>,
        payload: Value,
    ) -> Self {
        Notice {
            trigger_event: trigger_event.into(),
            created_at,
            payload,
        }
    }

    /// `payload` read as a booking, when it has that shape (meetings and payments do; a
    /// `PING` has no `uid` and does not).
    pub fn booking(&self) -> Option<Booking> {
        Booking::deserialize(&self.payload).ok()
    }
}

/// A Cal.com booking as sent in `payload` (only the fields this crate reads; the rest
/// is ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Booking {
    /// The booking's public uid; the normalized `booking_id`.
    pub uid: String,
    /// The numeric database id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<u64>,
    /// Title, e.g. `"30 Min Meeting between A and B"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The event type's slug (`type` on the wire).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// The event type's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_id: Option<u64>,
    /// Start of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    /// End of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub end_time: OffsetDateTime,
    /// The host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<Person>,
    /// The booker and any guests (not the host).
    #[serde(default)]
    pub attendees: Vec<Person>,
    /// Booking status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BookingStatus>,
    /// Where, e.g. `"integrations:daily"` or an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// On `BOOKING_RESCHEDULED`: the uid of the booking this one replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_uid: Option<String>,
    /// On `BOOKING_CANCELLED`: the reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// The booking form's answers, as JSON (`{"email": {"value": ..}, ..}`).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub responses: Value,
    /// Extra data such as `videoCallUrl`, as JSON.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
}

impl Booking {
    /// A booking with only the required fields.
    pub fn new(
        uid: impl Into<String>,
        start_time: OffsetDateTime,
        end_time: OffsetDateTime,
    ) -> Self {
        Booking {
            uid: uid.into(),
            booking_id: None,
            title: None,
            event_type: None,
            event_type_id: None,
            start_time,
            end_time,
            organizer: None,
            attendees: Vec::new(),
            status: None,
            location: None,
            reschedule_uid: None,
            cancellation_reason: None,
            responses: Value::Null,
            metadata: Value::Null,
        }
    }

    /// The booker: the first attendee whose email is not the organizer's, else the
    /// booking form's `responses` (`email.value`, `name.value`) if that is not the
    /// organizer either. Never the organizer.
    pub fn booker(&self) -> Option<Attendee> {
        let organizer = self.organizer.as_ref().map(|o| o.email.trim());
        let is_organizer = |email: &str| {
            organizer.is_some_and(|o| !o.is_empty() && o.eq_ignore_ascii_case(email.trim()))
        };
        if let Some(p) = self.attendees.iter().find(|p| !is_organizer(&p.email)) {
            return Attendee::from_parts(p.name.as_deref(), Some(&p.email));
        }
        let email = self
            .responses
            .pointer("/email/value")
            .and_then(Value::as_str)?;
        if is_organizer(email) {
            return None;
        }
        let name = self
            .responses
            .pointer("/name/value")
            .and_then(Value::as_str);
        Attendee::from_parts(name, Some(email))
    }
}

/// An organizer or attendee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Person {
    /// Full name (an organizer's may be missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address.
    pub email: String,
    /// IANA time zone, e.g. `"Europe/London"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl Person {
    /// A person.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Person {
            name: Some(name.into()),
            email: email.into(),
            time_zone: None,
        }
    }
}

/// `payload.status`. A status Cal.com adds later parses as [`BookingStatus::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum BookingStatus {
    /// `ACCEPTED`
    Accepted,
    /// `PENDING` (awaiting the host's confirmation)
    Pending,
    /// `CANCELLED`
    Cancelled,
    /// `REJECTED`
    Rejected,
    /// `AWAITING_HOST`
    AwaitingHost,
    /// Any other value, kept verbatim; compare with [`BookingStatus::as_str`].
    Other(String),
}

impl BookingStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            BookingStatus::Accepted => "ACCEPTED",
            BookingStatus::Pending => "PENDING",
            BookingStatus::Cancelled => "CANCELLED",
            BookingStatus::Rejected => "REJECTED",
            BookingStatus::AwaitingHost => "AWAITING_HOST",
            BookingStatus::Other(s) => s,
        }
    }
}

impl From<String> for BookingStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "ACCEPTED" => BookingStatus::Accepted,
            "PENDING" => BookingStatus::Pending,
            "CANCELLED" => BookingStatus::Cancelled,
            "REJECTED" => BookingStatus::Rejected,
            "AWAITING_HOST" => BookingStatus::AwaitingHost,
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

/// A Cal.com delivery, by trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `BOOKING_CREATED` (also sent when a requested booking is accepted).
    BookingCreated(Box<Envelope>),
    /// `BOOKING_RESCHEDULED`: `payload.uid` is the new booking, `reschedule_uid` the old.
    BookingRescheduled(Box<Envelope>),
    /// `BOOKING_CANCELLED`
    BookingCancelled(Box<Envelope>),
    /// `BOOKING_REQUESTED`: a booking awaiting the host's confirmation.
    BookingRequested(Box<Envelope>),
    /// `BOOKING_REJECTED`: the host declined a requested booking.
    BookingRejected(Box<Envelope>),
    /// `BOOKING_PAYMENT_INITIATED`
    BookingPaymentInitiated(Box<Notice>),
    /// `BOOKING_PAID`
    BookingPaid(Box<Notice>),
    /// `BOOKING_NO_SHOW_UPDATED`: attendees were marked (or unmarked) as no-shows.
    BookingNoShowUpdated(Box<Notice>),
    /// `MEETING_STARTED`
    MeetingStarted(Box<Notice>),
    /// `MEETING_ENDED`
    MeetingEnded(Box<Notice>),
    /// `RECORDING_READY`
    RecordingReady(Box<Notice>),
    /// `PING`: the test request sent from the webhook settings page.
    Ping(Box<Notice>),
    /// A trigger this crate does not know, with the whole body.
    Unknown {
        /// The raw trigger name.
        event: String,
        /// The whole JSON body.
        raw: Value,
    },
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "triggerEvent")]
    trigger_event: String,
}

impl Event {
    /// The provider these events come from.
    pub const PROVIDER: Provider = Provider::CalCom;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string
    /// `triggerEvent`, or a booking trigger lacks `createdAt`, `payload.uid`,
    /// `payload.startTime` or `payload.endTime`, or has a field of the wrong type. Other
    /// known triggers only need `triggerEvent`. An unknown trigger gives
    /// [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let booking: fn(Box<Envelope>) -> Event = match head.trigger_event.as_str() {
            "BOOKING_CREATED" => Event::BookingCreated,
            "BOOKING_RESCHEDULED" => Event::BookingRescheduled,
            "BOOKING_CANCELLED" => Event::BookingCancelled,
            "BOOKING_REQUESTED" => Event::BookingRequested,
            "BOOKING_REJECTED" => Event::BookingRejected,
            other => {
                let notice: fn(Box<Notice>) -> Event = match other {
                    "BOOKING_PAYMENT_INITIATED" => Event::BookingPaymentInitiated,
                    "BOOKING_PAID" => Event::BookingPaid,
                    "BOOKING_NO_SHOW_UPDATED" => Event::BookingNoShowUpdated,
                    "MEETING_STARTED" => Event::MeetingStarted,
                    "MEETING_ENDED" => Event::MeetingEnded,
                    "RECORDING_READY" => Event::RecordingReady,
                    "PING" => Event::Ping,
                    _ => {
                        return Ok(Event::Unknown {
                            raw: Self::PROVIDER.decode(body)?,
                            event: head.trigger_event,
                        });
                    }
                };
                return Ok(notice(Box::new(Self::PROVIDER.decode(body)?)));
            }
        };
        Ok(booking(Box::new(Self::PROVIDER.decode(body)?)))
    }

    /// The raw trigger name.
    pub fn event_type(&self) -> &str {
        match self {
            Event::Unknown { event, .. } => event,
            other => match (other.envelope(), other.notice()) {
                (Some(e), _) => &e.trigger_event,
                (_, Some(n)) => &n.trigger_event,
                (None, None) => "",
            },
        }
    }

    /// The envelope of a booking trigger.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            Event::BookingCreated(e)
            | Event::BookingRescheduled(e)
            | Event::BookingCancelled(e)
            | Event::BookingRequested(e)
            | Event::BookingRejected(e) => Some(e),
            _ => None,
        }
    }

    /// The envelope of a non-booking trigger.
    pub fn notice(&self) -> Option<&Notice> {
        match self {
            Event::BookingPaymentInitiated(n)
            | Event::BookingPaid(n)
            | Event::BookingNoShowUpdated(n)
            | Event::MeetingStarted(n)
            | Event::MeetingEnded(n)
            | Event::RecordingReady(n)
            | Event::Ping(n) => Some(n),
            _ => None,
        }
    }

    /// The normalized kind. `BOOKING_REQUESTED` is `Created` (a pending booking exists),
    /// `BOOKING_REJECTED` is `Cancelled`, `MEETING_ENDED` is `Completed`, and
    /// `BOOKING_NO_SHOW_UPDATED` is `NoShow` when an attendee is marked, `Updated` when
    /// the mark is removed. Payments, `MEETING_STARTED`, recordings and `PING` are
    /// `NotBooking`.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::BookingCreated(_) | Event::BookingRequested(_) => BookingKind::Created,
            Event::BookingRescheduled(_) => BookingKind::Rescheduled,
            Event::BookingCancelled(_) | Event::BookingRejected(_) => BookingKind::Cancelled,
            Event::BookingNoShowUpdated(n) => {
                if no_show_attendee(&n.payload).is_some() {
                    BookingKind::NoShow
                } else {
                    BookingKind::Updated
                }
            }
            Event::MeetingEnded(_) => BookingKind::Completed,
            Event::BookingPaymentInitiated(_)
            | Event::BookingPaid(_)
            | Event::MeetingStarted(_)
            | Event::RecordingReady(_)
            | Event::Ping(_) => BookingKind::NotBooking,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

/// The first attendee marked `noShow: true` in a `BOOKING_NO_SHOW_UPDATED` payload.
fn no_show_attendee(payload: &Value) -> Option<&Value> {
    payload
        .get("attendees")?
        .as_array()?
        .iter()
        .find(|a| a.get("noShow").and_then(Value::as_bool) == Some(true))
}

fn fill_from_booking(out: &mut BookingEvent, booking: &Booking) {
    out.booking_id = Some(booking.uid.clone());
    out.attendee = booking.booker();
    out.start = Some(booking.start_time);
    out.end = Some(booking.end_time);
}

impl From<Event> for BookingEvent {
    /// `booking_id` is the booking's `uid`. For non-booking triggers the payload is read
    /// as a booking when it has that shape, so `MEETING_ENDED` still names its booking.
    fn from(event: Event) -> Self {
        let kind = event.kind();
        let no_show = matches!(event, Event::BookingNoShowUpdated(_));
        let ping = matches!(event, Event::Ping(_));
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::CalCom, kind, event);
                out.occurred_at = rfc3339_in(raw.get("createdAt"));
                out
            }
            Event::BookingCreated(e)
            | Event::BookingRescheduled(e)
            | Event::BookingCancelled(e)
            | Event::BookingRequested(e)
            | Event::BookingRejected(e) => {
                let mut out = BookingEvent::new(Provider::CalCom, kind, e.trigger_event.clone());
                fill_from_booking(&mut out, &e.payload);
                out.occurred_at = Some(e.created_at);
                out
            }
            Event::BookingPaymentInitiated(n)
            | Event::BookingPaid(n)
            | Event::BookingNoShowUpdated(n)
            | Event::MeetingStarted(n)
            | Event::MeetingEnded(n)
            | Event::RecordingReady(n)
            | Event::Ping(n) => {
                let mut out = BookingEvent::new(Provider::CalCom, kind, n.trigger_event.clone());
                out.occurred_at = n.created_at;
                if no_show {
                    out.booking_id = id_in(n.payload.get("bookingUid"));
                    out.attendee = no_show_attendee(&n.payload).and_then(|a| {
                        Attendee::from_parts(
                            a.get("name").and_then(Value::as_str),
                            a.get("email").and_then(Value::as_str),
                        )
                    });
                } else if !ping {
                    if let Some(booking) = n.booking() {
                        fill_from_booking(&mut out, &booking);
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CREATED: &str = include_str!("../../../tests/vectors/events/calcom/BOOKING_CREATED.json");

    #[test]
    fn organizer_is_never_the_attendee_even_when_listed_first() {
        let mut b = Booking::new(
            "u",
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-01-01 1:00 UTC),
        );
        b.organizer = Some(Person::new("Host", "Host@Acme.example"));
        b.attendees = vec![
            Person::new("Host", "host@acme.example "),
            Person::new("Guest", "g@x.example"),
        ];
        assert_eq!(
            b.booker(),
            Attendee::from_parts(Some("Guest"), Some("g@x.example"))
        );
        b.attendees.truncate(1);
        assert_eq!(b.booker(), None);
    }

    #[test]
    fn booker_falls_back_to_form_responses() {
        let mut b = Booking::new(
            "u",
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-01-01 1:00 UTC),
        );
        b.organizer = Some(Person::new("Host", "host@acme.example"));
        b.responses =
            serde_json::json!({"email": {"value": "r@x.example"}, "name": {"value": "R X"}});
        assert_eq!(
            b.booker(),
            Attendee::from_parts(Some("R X"), Some("r@x.example"))
        );
        b.responses = serde_json::json!({"email": {"value": "host@acme.example"}});
        assert_eq!(b.booker(), None);
        // A structured name is ignored, the email kept.
        b.responses = serde_json::json!({"email": {"value": "r@x.example"}, "name": {"value": {"firstName": "R"}}});
        assert_eq!(b.booker(), Attendee::from_parts(None, Some("r@x.example")));
    }

    #[test]
    fn minimal_booking_trigger_parses() {
        let body = br#"{"triggerEvent":"BOOKING_CANCELLED","createdAt":"2026-01-01T00:00:00Z",
            "payload":{"uid":"u1","startTime":"2026-01-02T10:00:00Z","endTime":"2026-01-02T10:30:00Z"}}"#;
        let e = BookingEvent::from(Event::from_slice(body).unwrap());
        assert_eq!(e.kind, BookingKind::Cancelled);
        assert_eq!(e.booking_id.as_deref(), Some("u1"));
        assert_eq!(e.attendee, None);
    }

    #[test]
    fn booking_trigger_without_uid_is_invalid() {
        let body = CREATED.replace("\"uid\"", "\"uidx\"");
        let err = Event::from_slice(body.as_bytes()).unwrap_err();
        assert!(err.to_string().ends_with("missing field `uid`"), "{err}");
    }

    #[test]
    fn ping_without_created_at_or_payload_parses() {
        for body in [
            r#"{"triggerEvent":"PING"}"#,
            r#"{"triggerEvent":"PING","payload":{}}"#,
        ] {
            let event = Event::from_slice(body.as_bytes()).unwrap();
            assert!(matches!(event, Event::Ping(_)));
            assert_eq!(BookingEvent::from(event).kind, BookingKind::NotBooking);
        }
    }

    #[test]
    fn flat_meeting_ended_parses_without_booking_details() {
        let body = br#"{"triggerEvent":"MEETING_ENDED","createdAt":"2026-01-01T00:00:00Z","uid":"u1","title":"t"}"#;
        let e = BookingEvent::from(Event::from_slice(body).unwrap());
        assert_eq!(e.kind, BookingKind::Completed);
        assert_eq!(e.booking_id, None);
    }

    #[test]
    fn no_show_unmarked_is_an_update() {
        let body =
            br#"{"triggerEvent":"BOOKING_NO_SHOW_UPDATED","createdAt":"2026-01-01T00:00:00Z",
            "payload":{"bookingUid":"u1","attendees":[{"email":"a@x.example","noShow":false}]}}"#;
        let e = BookingEvent::from(Event::from_slice(body).unwrap());
        assert_eq!(e.kind, BookingKind::Updated);
        assert_eq!(e.booking_id.as_deref(), Some("u1"));
        assert_eq!(e.attendee, None);
    }

    #[test]
    fn new_status_is_kept() {
        let body = CREATED.replace("\"ACCEPTED\"", "\"ON_HOLD\"");
        let event = Event::from_slice(body.as_bytes()).unwrap();
        let status = event.envelope().unwrap().payload.status.clone();
        assert_eq!(status, Some(BookingStatus::Other("ON_HOLD".into())));
    }
}
