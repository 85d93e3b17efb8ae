//! The CRM contact a booking event becomes, and whether an event should reach the CRM at
//! all.
//!
//! The contact is always the booking's attendee (invitee), never the host: that is what
//! [`BookingEvent::attendee`] holds for every provider.

use bookhook_events::{Attendee, BookingEvent};

/// The person to upsert in the CRM: an email (the upsert key) and, when the provider sent
/// one, the full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The attendee's email, trimmed, as the provider sent it.
    pub email: String,
    /// The attendee's full name, if any.
    pub name: Option<String>,
}

impl Contact {
    /// A contact with an email and an optional full name.
    pub fn new(email: impl Into<String>, name: Option<String>) -> Self {
        Contact {
            email: email.into(),
            name,
        }
    }

    /// Splits the full name into (`firstname`, `lastname`): the first word and the other
    /// words joined by single spaces, as the Slatis CRM guide does. A part that would be
    /// empty is `None`, so the CRM keeps whatever it already has instead of being blanked.
    ///
    /// ```
    /// use crm_sync::contact::Contact;
    ///
    /// let c = Contact::new("jane@example.com", Some("Jane  van der Berg".into()));
    /// assert_eq!(c.first_last(), (Some("Jane".into()), Some("van der Berg".into())));
    /// let c = Contact::new("cher@example.com", Some("Cher".into()));
    /// assert_eq!(c.first_last(), (Some("Cher".into()), None));
    /// ```
    pub fn first_last(&self) -> (Option<String>, Option<String>) {
        Attendee::new(self.name.clone(), None).split_name()
    }

    /// The key two contacts are "the same person" by in one CRM batch: the email, ASCII
    /// lowercased (HubSpot treats emails case-insensitively and refuses a batch that
    /// names one contact twice).
    pub fn merge_key(&self) -> String {
        self.email.to_ascii_lowercase()
    }
}

/// What the service does with a verified, parsed delivery besides storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Upsert this contact in the CRM.
    Sync(Contact),
    /// Store only; the reason is recorded with the row and in the log.
    Skip(SkipReason),
}

/// Why a stored delivery causes no CRM call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The event is not about a booking's lifecycle (payments, tests, pings) or its name
    /// is unknown.
    NotBooking,
    /// The booking event carries no attendee email (Bookable never does).
    NoAttendeeEmail,
}

impl SkipReason {
    /// A stable label for logs and the inbox's `reason` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            SkipReason::NotBooking => "not a booking event",
            SkipReason::NoAttendeeEmail => "no attendee email",
        }
    }
}

impl Disposition {
    /// Decides from the normalized event: booking lifecycle events with an attendee email
    /// are synced; everything else is stored and skipped.
    ///
    /// Every lifecycle kind (created, updated, cancelled, ...) upserts the contact: the
    /// upsert by email is idempotent and keeps the attendee's details current.
    pub fn of(event: &BookingEvent) -> Self {
        if !event.is_booking() {
            return Disposition::Skip(SkipReason::NotBooking);
        }
        match event
            .attendee_email()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(email) => Disposition::Sync(Contact::new(
                email,
                event
                    .attendee_name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            )),
            None => Disposition::Skip(SkipReason::NoAttendeeEmail),
        }
    }

    /// The contact to sync, if any.
    pub fn contact(&self) -> Option<&Contact> {
        match self {
            Disposition::Sync(contact) => Some(contact),
            Disposition::Skip(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use bookhook_events::{BookingKind, Provider};

    use super::*;

    fn event(kind: BookingKind, name: Option<&str>, email: Option<&str>) -> BookingEvent {
        let mut e = BookingEvent::new(Provider::Slatis, kind, "X");
        if name.is_some() || email.is_some() {
            e.attendee = Some(Attendee::new(
                name.map(str::to_owned),
                email.map(str::to_owned),
            ));
        }
        e
    }

    #[test]
    fn booking_with_email_is_synced_with_trimmed_fields() {
        let d = Disposition::of(&event(
            BookingKind::Created,
            Some(" Jane Smith "),
            Some(" jane@example.com "),
        ));
        assert_eq!(
            d,
            Disposition::Sync(Contact::new("jane@example.com", Some("Jane Smith".into())))
        );
    }

    #[test]
    fn cancellation_with_email_is_synced_too() {
        let d = Disposition::of(&event(BookingKind::Cancelled, None, Some("a@b.c")));
        assert_eq!(d.contact(), Some(&Contact::new("a@b.c", None)));
    }

    #[test]
    fn booking_without_email_is_skipped() {
        assert_eq!(
            Disposition::of(&event(BookingKind::Created, Some("Jane"), None)),
            Disposition::Skip(SkipReason::NoAttendeeEmail)
        );
        assert_eq!(
            Disposition::of(&event(BookingKind::Created, None, Some("   "))),
            Disposition::Skip(SkipReason::NoAttendeeEmail)
        );
        assert_eq!(
            Disposition::of(&event(BookingKind::Created, None, None)),
            Disposition::Skip(SkipReason::NoAttendeeEmail)
        );
    }

    #[test]
    fn unknown_and_non_booking_events_are_skipped_even_with_an_email() {
        for kind in [BookingKind::Unknown, BookingKind::NotBooking] {
            assert_eq!(
                Disposition::of(&event(kind, Some("Jane"), Some("jane@example.com"))),
                Disposition::Skip(SkipReason::NotBooking)
            );
        }
    }

    #[test]
    fn skip_reasons_have_the_stable_labels_the_inbox_stores() {
        // The inbox's `reason` column and the log hold these labels: rows already stored
        // and searches over them depend on the exact text.
        assert_eq!(SkipReason::NotBooking.as_str(), "not a booking event");
        assert_eq!(SkipReason::NoAttendeeEmail.as_str(), "no attendee email");
    }

    #[test]
    fn first_last_split_follows_the_crm_guide() {
        let c = Contact::new("x@y.z", Some("Jean Claude Van Damme".into()));
        assert_eq!(
            c.first_last(),
            (Some("Jean".into()), Some("Claude Van Damme".into()))
        );
        assert_eq!(Contact::new("x@y.z", None).first_last(), (None, None));
    }

    #[test]
    fn merge_key_ignores_ascii_case() {
        assert_eq!(
            Contact::new("Jane@Example.COM", None).merge_key(),
            Contact::new("jane@example.com", None).merge_key()
        );
    }
}
