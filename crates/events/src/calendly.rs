//! Calendly: `{event, created_at, created_by, payload}` deliveries signed with
//! `Calendly-Webhook-Signature: t=..,v1=..`.
//!
//! `invitee.created` and `invitee.canceled` carry the invitee (the person who booked)
//! with the `scheduled_event` it belongs to. A reschedule sends both: `invitee.canceled`
//! with `rescheduled: true` for the old slot, then `invitee.created` with `old_invitee`
//! set for the new one; both normalize to [`BookingKind::Rescheduled`]. Other events keep
//! their payload as JSON ([`Notice`]). Deduplicate by a hash of the body.
//!
//! ```
//! use bookhook_events::{calendly::Event, BookingEvent, BookingKind, Provider};
//!
//! let body = bookhook_events::samples::booking_created(Provider::Calendly).as_bytes();
//! let event = Event::from_slice(body)?;
//! let Event::InviteeCreated(envelope) = &event else { panic!("not an invitee") };
//! assert_eq!(envelope.payload.scheduled_event.name.as_deref(), Some("30 Minute Meeting"));
//!
//! let normalized = BookingEvent::from(event);
//! assert_eq!(normalized.kind, BookingKind::Created);
//! assert_eq!(normalized.attendee_email(), Some("noor.haddad@example.com"));
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::booking::{Attendee, BookingEvent, BookingKind, id_in, rfc3339_in};
use crate::error::EventError;
use crate::provider::{Decode, Provider};

/// The event names this crate knows.
pub const EVENT_NAMES: [&str; 5] = [
    "invitee.created",
    "invitee.canceled",
    "invitee_no_show.created",
    "invitee_no_show.deleted",
    "routing_form_submission.created",
];

/// The envelope of an invitee event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event name, e.g. `"invitee.created"`.
    pub event: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// URI of the user who created the webhook subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The invitee.
    pub payload: Invitee,
}

impl Envelope {
    /// An envelope for `payload`.
    pub fn new(event: impl Into<String>, created_at: OffsetDateTime, payload: Invitee) -> Self {
        Envelope {
            event: event.into(),
            created_at,
            created_by: None,
            payload,
        }
    }
}

/// The envelope of a non-invitee event (no-shows, routing forms): `payload` is kept as
/// JSON and every field but `event` is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notice {
    /// The event name, e.g. `"invitee_no_show.created"`.
    pub event: String,
    /// When the event happened, if sent.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// URI of the user who created the webhook subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The payload as sent (`null` when absent).
    #[serde(default)]
    pub payload: Value,
}

impl Notice {
    /// A notice.
    pub fn new(
        event: impl Into<String>,
        created_at: Option<OffsetDateTime>,
        payload: Value,
    ) -> Self {
        Notice {
            event: event.into(),
            created_at,
            created_by: None,
            payload,
        }
    }
}

/// An invitee as sent in `payload` (only the fields this crate reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invitee {
    /// The invitee's URI; the normalized `booking_id`.
    pub uri: String,
    /// Email address.
    pub email: String,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First name, when the event type asks for it separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name, when the event type asks for it separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `active` or `canceled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The invitee's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// On `invitee.canceled`: whether the cancellation is half of a reschedule
    /// (`null` or absent reads as `false`).
    #[serde(default, deserialize_with = "null_as_false")]
    pub rescheduled: bool,
    /// On the `invitee.created` of a reschedule: the URI of the replaced invitee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_invitee: Option<String>,
    /// On the `invitee.canceled` of a reschedule: the URI of the new invitee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_invitee: Option<String>,
    /// Link the invitee can use to cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// Link the invitee can use to reschedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reschedule_url: Option<String>,
    /// On `invitee.canceled`: who cancelled and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Cancellation>,
    /// The meeting.
    pub scheduled_event: ScheduledEvent,
}

impl Invitee {
    /// An invitee with only the required fields.
    pub fn new(
        uri: impl Into<String>,
        email: impl Into<String>,
        scheduled_event: ScheduledEvent,
    ) -> Self {
        Invitee {
            uri: uri.into(),
            email: email.into(),
            name: None,
            first_name: None,
            last_name: None,
            status: None,
            timezone: None,
            rescheduled: false,
            old_invitee: None,
            new_invitee: None,
            cancel_url: None,
            reschedule_url: None,
            cancellation: None,
            scheduled_event,
        }
    }

    /// `name`, or `first_name` and `last_name` joined when `name` is empty.
    pub fn full_name(&self) -> Option<String> {
        if let Some(name) = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            return Some(name.to_owned());
        }
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// `payload.scheduled_event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScheduledEvent {
    /// The event's URI.
    pub uri: String,
    /// The event type's name, e.g. `"30 Minute Meeting"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Start of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    /// End of the slot.
    #[serde(with = "time::serde::rfc3339")]
    pub end_time: OffsetDateTime,
    /// `active` or `canceled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The event type's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

impl ScheduledEvent {
    /// A scheduled event.
    pub fn new(
        uri: impl Into<String>,
        start_time: OffsetDateTime,
        end_time: OffsetDateTime,
    ) -> Self {
        ScheduledEvent {
            uri: uri.into(),
            name: None,
            start_time,
            end_time,
            status: None,
            event_type: None,
        }
    }
}

fn null_as_false<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

/// `payload.cancellation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cancellation {
    /// Name of who cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canceled_by: Option<String>,
    /// The reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `host` or `invitee`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canceler_type: Option<String>,
}

/// A Calendly delivery, by event name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `invitee.created`: a meeting was booked (or rebooked, see `old_invitee`).
    InviteeCreated(Box<Envelope>),
    /// `invitee.canceled`: a booking was cancelled (or moved, see `rescheduled`).
    InviteeCanceled(Box<Envelope>),
    /// `invitee_no_show.created`: the invitee was marked as a no-show.
    InviteeNoShowCreated(Box<Notice>),
    /// `invitee_no_show.deleted`: the no-show mark was removed.
    InviteeNoShowDeleted(Box<Notice>),
    /// `routing_form_submission.created`
    RoutingFormSubmissionCreated(Box<Notice>),
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
    pub const PROVIDER: Provider = Provider::Calendly;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not JSON, has no string `event`, or an
    /// invitee event lacks `created_at`, `payload.uri`, `payload.email` or
    /// `payload.scheduled_event` (`uri`, `start_time`, `end_time`), or has a field of the
    /// wrong type. Other known events only need `event`. An unknown event name gives
    /// [`Event::Unknown`].
    pub fn from_slice(body: &[u8]) -> Result<Self, EventError> {
        let head: Head = Self::PROVIDER.decode(body)?;
        let invitee: fn(Box<Envelope>) -> Event = match head.event.as_str() {
            "invitee.created" => Event::InviteeCreated,
            "invitee.canceled" => Event::InviteeCanceled,
            other => {
                let notice: fn(Box<Notice>) -> Event = match other {
                    "invitee_no_show.created" => Event::InviteeNoShowCreated,
                    "invitee_no_show.deleted" => Event::InviteeNoShowDeleted,
                    "routing_form_submission.created" => Event::RoutingFormSubmissionCreated,
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
        Ok(invitee(Box::new(Self::PROVIDER.decode(body)?)))
    }

    /// The raw event name.
    pub fn event_type(&self) -> &str {
        match self {
            Event::InviteeCreated(e) | Event::InviteeCanceled(e) => &e.event,
            Event::InviteeNoShowCreated(n)
            | Event::InviteeNoShowDeleted(n)
            | Event::RoutingFormSubmissionCreated(n) => &n.event,
            Event::Unknown { event, .. } => event,
        }
    }

    /// The envelope of an invitee event.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            Event::InviteeCreated(e) | Event::InviteeCanceled(e) => Some(e),
            _ => None,
        }
    }

    /// The normalized kind: `Created`/`Cancelled`, or `Rescheduled` for either half of a
    /// reschedule; `NoShow` for a no-show mark and `Updated` for its removal;
    /// `NotBooking` for routing forms.
    pub fn kind(&self) -> BookingKind {
        match self {
            Event::InviteeCreated(e) if e.payload.old_invitee.is_some() => BookingKind::Rescheduled,
            Event::InviteeCreated(_) => BookingKind::Created,
            Event::InviteeCanceled(e) if e.payload.rescheduled => BookingKind::Rescheduled,
            Event::InviteeCanceled(_) => BookingKind::Cancelled,
            Event::InviteeNoShowCreated(_) => BookingKind::NoShow,
            Event::InviteeNoShowDeleted(_) => BookingKind::Updated,
            Event::RoutingFormSubmissionCreated(_) => BookingKind::NotBooking,
            Event::Unknown { .. } => BookingKind::Unknown,
        }
    }
}

impl From<Event> for BookingEvent {
    /// `booking_id` is the invitee URI (for no-shows, the `invitee` URI they point to).
    fn from(event: Event) -> Self {
        let kind = event.kind();
        match event {
            Event::Unknown { event, raw } => {
                let mut out = BookingEvent::new(Provider::Calendly, kind, event);
                out.occurred_at = rfc3339_in(raw.get("created_at"));
                out
            }
            Event::InviteeCreated(e) | Event::InviteeCanceled(e) => {
                let Envelope {
                    event,
                    created_at,
                    payload,
                    ..
                } = *e;
                let mut out = BookingEvent::new(Provider::Calendly, kind, event);
                out.attendee =
                    Attendee::from_parts(payload.full_name().as_deref(), Some(&payload.email));
                out.start = Some(payload.scheduled_event.start_time);
                out.end = Some(payload.scheduled_event.end_time);
                out.booking_id = Some(payload.uri);
                out.occurred_at = Some(created_at);
                out
            }
            Event::InviteeNoShowCreated(n)
            | Event::InviteeNoShowDeleted(n)
            | Event::RoutingFormSubmissionCreated(n) => {
                let no_show = kind != BookingKind::NotBooking;
                let mut out = BookingEvent::new(Provider::Calendly, kind, n.event);
                out.occurred_at = n.created_at;
                if no_show {
                    out.booking_id = id_in(n.payload.get("invitee"));
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

    #[test]
    fn full_name_falls_back_to_first_and_last() {
        let se = ScheduledEvent::new(
            "se",
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-01-01 1:00 UTC),
        );
        let mut i = Invitee::new("inv", "a@x.example", se);
        assert_eq!(i.full_name(), None);
        i.first_name = Some("Ada".into());
        i.last_name = Some(" Lovelace ".into());
        assert_eq!(i.full_name().as_deref(), Some("Ada Lovelace"));
        i.name = Some("Augusta Ada King".into());
        assert_eq!(i.full_name().as_deref(), Some("Augusta Ada King"));
    }

    #[test]
    fn minimal_invitee_parses() {
        let body = br#"{"event":"invitee.canceled","created_at":"2026-01-01T00:00:00.000000Z",
            "payload":{"uri":"inv","email":"a@x.example","scheduled_event":{"uri":"se",
            "start_time":"2026-01-02T10:00:00.000000Z","end_time":"2026-01-02T10:30:00.000000Z"}}}"#;
        let e = BookingEvent::from(Event::from_slice(body).unwrap());
        assert_eq!(e.kind, BookingKind::Cancelled);
        assert_eq!(e.attendee, Attendee::from_parts(None, Some("a@x.example")));
        assert_eq!(e.start, Some(datetime!(2026-01-02 10:00 UTC)));
    }

    #[test]
    fn canceled_half_of_a_reschedule_is_rescheduled() {
        let body = br#"{"event":"invitee.canceled","created_at":"2026-01-01T00:00:00Z",
            "payload":{"uri":"inv","email":"a@x.example","rescheduled":true,"new_invitee":"inv2",
            "scheduled_event":{"uri":"se","start_time":"2026-01-02T10:00:00Z","end_time":"2026-01-02T10:30:00Z"}}}"#;
        let event = Event::from_slice(body).unwrap();
        assert_eq!(event.kind(), BookingKind::Rescheduled);
        assert_eq!(
            event.envelope().unwrap().payload.new_invitee.as_deref(),
            Some("inv2")
        );
    }

    #[test]
    fn null_rescheduled_reads_as_false() {
        let body = br#"{"event":"invitee.canceled","created_at":"2026-01-01T00:00:00Z",
            "payload":{"uri":"inv","email":"a@x.example","rescheduled":null,"cancellation":{"reason":null},
            "scheduled_event":{"uri":"se","start_time":"2026-01-02T10:00:00Z","end_time":"2026-01-02T10:30:00Z"}}}"#;
        let event = Event::from_slice(body).unwrap();
        let payload = &event.envelope().unwrap().payload;
        assert!(!payload.rescheduled);
        assert_eq!(payload.cancellation, Some(Cancellation::default()));
        assert_eq!(event.kind(), BookingKind::Cancelled);
    }

    #[test]
    fn missing_scheduled_event_is_invalid() {
        let body = br#"{"event":"invitee.created","created_at":"2026-01-01T00:00:00Z","payload":{"uri":"inv","email":"a@x.example"}}"#;
        let err = Event::from_slice(body).unwrap_err();
        assert!(
            err.to_string().ends_with("missing field `scheduled_event`"),
            "{err}"
        );
    }

    #[test]
    fn no_show_deleted_is_an_update_of_the_invitee() {
        let body = br#"{"event":"invitee_no_show.deleted","created_at":"2026-01-01T00:00:00Z","payload":{"invitee":"inv"}}"#;
        let e = BookingEvent::from(Event::from_slice(body).unwrap());
        assert_eq!(e.kind, BookingKind::Updated);
        assert_eq!(e.booking_id.as_deref(), Some("inv"));
    }
}
