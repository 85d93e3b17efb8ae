//! The normalized event every provider's delivery becomes.

use core::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::delivery::{Delivery, FromDelivery};
use crate::error::EventError;
use crate::provider::Provider;

/// One booking event, the same shape for every provider.
///
/// It is always produced for a valid envelope: an event name this crate does not know
/// gives [`BookingKind::Unknown`] with the raw name kept in `event_type`, so a web handler
/// can answer 2xx and decide later. Build it from a delivery with [`BookingEvent::parse`]
/// or [`FromDelivery`], or from a typed provider event with `From`.
///
/// # Example
///
/// ```
/// use bookhook_events::{BookingEvent, BookingKind, Provider};
///
/// let body = br#"{"event":"BOOKING_CANCELLED","timestamp":"2026-05-01T14:05:00Z","webhook_id":"wh_1",
///   "data":{"id":"bkg_1","status":"CANCELLED","start_time":"2026-05-02T09:00:00Z",
///           "attendee":{"name":"Jane Smith","email":"jane@example.com"}}}"#;
/// let event = BookingEvent::parse(Provider::Slatis, body)?;
/// assert_eq!(event.kind, BookingKind::Cancelled);
/// assert_eq!(event.booking_id.as_deref(), Some("bkg_1"));
/// assert_eq!(event.attendee_email(), Some("jane@example.com"));
/// # Ok::<(), bookhook_events::EventError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BookingEvent {
    /// Who sent it.
    pub provider: Provider,
    /// What happened, mapped from the provider's event name.
    pub kind: BookingKind,
    /// The provider's raw event name, e.g. `"BOOKING_CREATED"` or `"invitee.canceled"`.
    pub event_type: String,
    /// The provider's booking identifier (SchedulingKit's numeric id as a decimal string).
    pub booking_id: Option<String>,
    /// The person who booked (attendee or invitee), never the host or organizer.
    pub attendee: Option<Attendee>,
    /// Start of the booked slot, when the provider sends it with an offset.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start: Option<OffsetDateTime>,
    /// End of the booked slot, when the provider sends it with an offset.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end: Option<OffsetDateTime>,
    /// When the provider says the event happened (the envelope's timestamp).
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
    /// Identifies this delivery for deduplication: the envelope `id` (Bookable), the
    /// `X-Webhook-Delivery-Id` header (SchedulingKit) or the `webhook-id` header
    /// (Standard Webhooks). Headers are filled in by [`FromDelivery`].
    pub delivery_id: Option<String>,
}

impl BookingEvent {
    /// An event with only its provider, kind and raw event name; set the other public
    /// fields as needed (handy in tests).
    ///
    /// ```
    /// use bookhook_events::{Attendee, BookingEvent, BookingKind, Provider};
    ///
    /// let mut e = BookingEvent::new(Provider::CalCom, BookingKind::Created, "BOOKING_CREATED");
    /// e.attendee = Some(Attendee::new(Some("Ada Lovelace".into()), Some("ada@example.com".into())));
    /// assert!(e.is_booking());
    /// assert_eq!(e.attendee_email(), Some("ada@example.com"));
    /// ```
    pub fn new(provider: Provider, kind: BookingKind, event_type: impl Into<String>) -> Self {
        BookingEvent {
            provider,
            kind,
            event_type: event_type.into(),
            booking_id: None,
            attendee: None,
            start: None,
            end: None,
            occurred_at: None,
            delivery_id: None,
        }
    }

    /// Parses a verified body from `provider` and normalizes it.
    ///
    /// Same as [`FromDelivery::from_delivery`] with a [`Delivery`] that has no headers.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] if the body is not the provider's envelope.
    pub fn parse(provider: Provider, body: &[u8]) -> Result<Self, EventError> {
        Self::from_delivery(&Delivery::new(provider, body))
    }

    /// Whether this is about a booking's lifecycle (see [`BookingKind::is_booking`]).
    pub const fn is_booking(&self) -> bool {
        self.kind.is_booking()
    }

    /// The attendee's email, if the provider sent one (Bookable never does).
    pub fn attendee_email(&self) -> Option<&str> {
        self.attendee.as_ref()?.email.as_deref()
    }

    /// The attendee's full name, if the provider sent one.
    pub fn attendee_name(&self) -> Option<&str> {
        self.attendee.as_ref()?.name.as_deref()
    }
}

impl FromDelivery for BookingEvent {
    /// Dispatches on `delivery.provider`, normalizes, and takes `delivery.delivery_id`
    /// (a header) when present, else keeps the id the body carried (Bookable's envelope
    /// `id`). The body's event name is authoritative; `delivery.event_type` is not used.
    fn from_delivery(delivery: &Delivery<'_>) -> Result<Self, EventError> {
        let mut event = crate::registry::normalize_as(delivery.provider, delivery.body)?;
        if let Some(id) = delivery.delivery_id.filter(|id| !id.is_empty()) {
            event.delivery_id = Some(id.to_owned());
        }
        Ok(event)
    }
}

/// What happened to the booking, across providers.
///
/// | kind | e.g. |
/// |---|---|
/// | `Created` | `BOOKING_CREATED`, `booking.confirmed` (Slotflow), `invitee.created` |
/// | `Updated` | `BOOKING_UPDATED`, `booking_updated`, `event.updated` |
/// | `Cancelled` | `BOOKING_CANCELLED`, `booking_deleted`, `BOOKING_REJECTED`, `invitee.canceled` |
/// | `Rescheduled` | `BOOKING_RESCHEDULED`, `event.rescheduled`, Calendly's reschedule pair |
/// | `Completed` | `BOOKING_COMPLETED`, Cal.com `MEETING_ENDED` |
/// | `NoShow` | `BOOKING_NO_SHOW`, `invitee_no_show.created` |
/// | `Reassigned` | Slatis `ASSIGNMENT_CHANGED` |
/// | `NotBooking` | payments, reminders, tests, pings |
/// | `Unknown` | any event name this crate does not know |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BookingKind {
    /// A booking was made (or a requested booking awaits confirmation).
    Created,
    /// Details of an existing booking changed (attendee, confirmation, location).
    Updated,
    /// The booking was cancelled, rejected or deleted.
    Cancelled,
    /// The booking moved to another time.
    Rescheduled,
    /// The meeting took place.
    Completed,
    /// The attendee did not show up.
    NoShow,
    /// The booking was assigned to another host.
    Reassigned,
    /// A known event that is not about a booking's lifecycle (payments, `webhook.test`,
    /// reminders, Cal.com's `PING`).
    NotBooking,
    /// An event name this crate does not know; see `BookingEvent::event_type`.
    Unknown,
}

impl BookingKind {
    /// True for the lifecycle kinds (`Created` .. `Reassigned`), false for `NotBooking`
    /// and `Unknown`.
    ///
    /// ```
    /// use bookhook_events::BookingKind;
    ///
    /// assert!(BookingKind::Cancelled.is_booking());
    /// assert!(!BookingKind::NotBooking.is_booking());
    /// assert!(!BookingKind::Unknown.is_booking());
    /// ```
    pub const fn is_booking(&self) -> bool {
        !matches!(self, BookingKind::NotBooking | BookingKind::Unknown)
    }

    /// A stable snake_case name for logs and storage, e.g. `"no_show"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            BookingKind::Created => "created",
            BookingKind::Updated => "updated",
            BookingKind::Cancelled => "cancelled",
            BookingKind::Rescheduled => "rescheduled",
            BookingKind::Completed => "completed",
            BookingKind::NoShow => "no_show",
            BookingKind::Reassigned => "reassigned",
            BookingKind::NotBooking => "not_booking",
            BookingKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for BookingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person who booked: the attendee or invitee, never the host or organizer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attendee {
    /// Full name as the provider sent it.
    pub name: Option<String>,
    /// Email address as the provider sent it.
    pub email: Option<String>,
}

impl Attendee {
    /// An attendee with the given name and email.
    pub fn new(name: Option<String>, email: Option<String>) -> Self {
        Attendee { name, email }
    }

    /// Trims both parts, drops empty ones, and gives `None` when nothing is left.
    pub(crate) fn from_parts(name: Option<&str>, email: Option<&str>) -> Option<Self> {
        let keep = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (name, email) = (keep(name), keep(email));
        (name.is_some() || email.is_some()).then_some(Attendee { name, email })
    }

    /// Splits the name into (first, last) for a CRM: the first word, and the other words
    /// joined by single spaces. Whitespace runs and ends are ignored; a part is `None`
    /// when empty, so a CRM update can leave the property alone instead of blanking it.
    ///
    /// ```
    /// use bookhook_events::Attendee;
    ///
    /// let a = Attendee::new(Some("  Mary  Ann   Smith ".into()), None);
    /// assert_eq!(a.split_name(), (Some("Mary".into()), Some("Ann Smith".into())));
    /// let a = Attendee::new(Some("Cher".into()), None);
    /// assert_eq!(a.split_name(), (Some("Cher".into()), None));
    /// let a = Attendee::new(Some("   ".into()), None);
    /// assert_eq!(a.split_name(), (None, None));
    /// ```
    pub fn split_name(&self) -> (Option<String>, Option<String>) {
        let Some(name) = self.name.as_deref() else {
            return (None, None);
        };
        let mut words = name.split_whitespace();
        let first = words.next().map(str::to_owned);
        let rest: Vec<&str> = words.collect();
        let last = (!rest.is_empty()).then(|| rest.join(" "));
        (first, last)
    }
}

/// Reads an RFC 3339 timestamp from a loosely typed JSON value; anything else is `None`.
pub(crate) fn rfc3339_in(value: Option<&Value>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value?.as_str()?, &Rfc3339).ok()
}

/// Reads an identifier that may be a JSON string or integer.
pub(crate) fn id_in(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(name: Option<&str>) -> (Option<String>, Option<String>) {
        Attendee::new(name.map(str::to_owned), None).split_name()
    }

    #[test]
    fn split_name_matches_the_crm_guide_for_simple_names() {
        assert_eq!(
            split(Some("Jane Smith")),
            (Some("Jane".into()), Some("Smith".into()))
        );
        assert_eq!(
            split(Some("Jean Claude Van Damme")),
            (Some("Jean".into()), Some("Claude Van Damme".into()))
        );
    }

    #[test]
    fn split_name_ignores_extra_whitespace() {
        assert_eq!(
            split(Some("\tJane \n  Smith  ")),
            (Some("Jane".into()), Some("Smith".into()))
        );
    }

    #[test]
    fn split_name_of_missing_or_blank_names_is_empty() {
        assert_eq!(split(None), (None, None));
        assert_eq!(split(Some("")), (None, None));
        assert_eq!(split(Some("  \t ")), (None, None));
    }

    #[test]
    fn split_name_keeps_non_ascii_names_whole() {
        assert_eq!(
            split(Some("Zoë  Ångström-Núñez")),
            (Some("Zoë".into()), Some("Ångström-Núñez".into()))
        );
    }

    #[test]
    fn from_parts_trims_and_drops_empty_parts() {
        assert_eq!(Attendee::from_parts(Some("  "), Some("")), None);
        assert_eq!(
            Attendee::from_parts(Some(" Jo "), None),
            Some(Attendee::new(Some("Jo".into()), None))
        );
        assert_eq!(
            Attendee::from_parts(None, Some(" a@b.c ")),
            Some(Attendee::new(None, Some("a@b.c".into())))
        );
    }

    #[test]
    fn only_lifecycle_kinds_are_bookings() {
        use BookingKind::*;
        for k in [
            Created,
            Updated,
            Cancelled,
            Rescheduled,
            Completed,
            NoShow,
            Reassigned,
        ] {
            assert!(k.is_booking(), "{k}");
        }
        assert!(!NotBooking.is_booking());
        assert!(!Unknown.is_booking());
    }

    #[test]
    fn kind_serializes_as_its_name() {
        assert_eq!(
            serde_json::to_string(&BookingKind::NoShow).unwrap(),
            "\"no_show\""
        );
        assert_eq!(BookingKind::NotBooking.to_string(), "not_booking");
    }

    #[test]
    fn booking_event_round_trips_through_json() {
        let mut e = BookingEvent::new(Provider::Slatis, BookingKind::Created, "BOOKING_CREATED");
        e.start = Some(time::macros::datetime!(2026-05-01 14:00 UTC));
        e.attendee = Attendee::from_parts(Some("Jane"), Some("jane@example.com"));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<BookingEvent>(&json).unwrap(), e);
    }

    #[test]
    fn loose_readers_accept_only_their_shapes() {
        let v =
            serde_json::json!({"s": "2026-01-01T00:00:00Z", "n": 42, "bad": "yesterday", "e": ""});
        assert!(rfc3339_in(v.get("s")).is_some());
        assert!(rfc3339_in(v.get("bad")).is_none());
        assert!(rfc3339_in(v.get("n")).is_none());
        assert_eq!(id_in(v.get("n")).as_deref(), Some("42"));
        assert_eq!(id_in(v.get("s")).as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(id_in(v.get("e")), None);
        assert_eq!(id_in(v.get("missing")), None);
    }
}
