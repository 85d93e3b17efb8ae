//! Realistic example bodies per provider, for tools (`bookhook send --event ..`), tests
//! and documentation.
//!
//! They are the JSON fixtures under `tests/vectors/events/<provider>/`, compiled in:
//! the seeds' documented examples verbatim, plus samples written for the providers whose
//! docs are public. Every sample parses into its provider's `Event` and normalizes to a
//! [`BookingEvent`](crate::BookingEvent) of the matching kind.
//!
//! ```
//! use bookhook_events::{samples, BookingEvent, Provider};
//!
//! for provider in Provider::ALL {
//!     let event = BookingEvent::parse(provider, samples::booking_created(provider).as_bytes())?;
//!     assert!(event.is_booking(), "{provider}");
//! }
//! assert!(samples::for_event(Provider::CalCom, "PING").is_some());
//! assert!(samples::for_event(Provider::CalCom, "NOT_A_TRIGGER").is_none());
//! # Ok::<(), bookhook_events::EventError>(())
//! ```

use crate::provider::{ByProvider, Provider};

macro_rules! fixture {
    ($provider:literal, $name:literal) => {
        include_str!(concat!(
            "../../../tests/vectors/events/",
            $provider,
            "/",
            $name,
            ".json"
        ))
    };
}

/// (provider, event name, body) for every sample that is a real event name.
const SAMPLES: &[(Provider, &str, &str)] = &[
    (
        Provider::Slatis,
        "BOOKING_CREATED",
        fixture!("slatis", "BOOKING_CREATED"),
    ),
    (
        Provider::Slatis,
        "BOOKING_UPDATED",
        fixture!("slatis", "BOOKING_UPDATED"),
    ),
    (
        Provider::Slatis,
        "BOOKING_CANCELLED",
        fixture!("slatis", "BOOKING_CANCELLED"),
    ),
    (
        Provider::Slatis,
        "BOOKING_RESCHEDULED",
        fixture!("slatis", "BOOKING_RESCHEDULED"),
    ),
    (
        Provider::Slatis,
        "BOOKING_COMPLETED",
        fixture!("slatis", "BOOKING_COMPLETED"),
    ),
    (
        Provider::Slatis,
        "BOOKING_NO_SHOW",
        fixture!("slatis", "BOOKING_NO_SHOW"),
    ),
    (
        Provider::Slatis,
        "ASSIGNMENT_CHANGED",
        fixture!("slatis", "ASSIGNMENT_CHANGED"),
    ),
    (
        Provider::Slotflow,
        "booking.confirmed",
        fixture!("slotflow", "booking.confirmed"),
    ),
    (
        Provider::Slotflow,
        "booking.cancelled",
        fixture!("slotflow", "booking.cancelled"),
    ),
    (
        Provider::Bookable,
        "booking_created",
        fixture!("bookable", "booking_created"),
    ),
    (
        Provider::Bookable,
        "booking_updated",
        fixture!("bookable", "booking_updated"),
    ),
    (
        Provider::Bookable,
        "booking_cancelled",
        fixture!("bookable", "booking_cancelled"),
    ),
    (
        Provider::Bookable,
        "booking_canceled",
        fixture!("bookable", "booking_canceled"),
    ),
    (
        Provider::Bookable,
        "booking_deleted",
        fixture!("bookable", "booking_deleted"),
    ),
    (
        Provider::SchedulingKit,
        "booking.created",
        fixture!("schedulingkit", "booking.created"),
    ),
    (
        Provider::SchedulingKit,
        "booking.cancelled",
        fixture!("schedulingkit", "booking.cancelled"),
    ),
    (
        Provider::SchedulingKit,
        "event.created",
        fixture!("schedulingkit", "event.created"),
    ),
    (
        Provider::SchedulingKit,
        "event.rescheduled",
        fixture!("schedulingkit", "event.rescheduled"),
    ),
    (
        Provider::SchedulingKit,
        "event.reminder",
        fixture!("schedulingkit", "event.reminder"),
    ),
    (
        Provider::SchedulingKit,
        "payment.completed",
        fixture!("schedulingkit", "payment.completed"),
    ),
    (
        Provider::SchedulingKit,
        "webhook.test",
        fixture!("schedulingkit", "webhook.test"),
    ),
    (
        Provider::CalCom,
        "BOOKING_CREATED",
        fixture!("calcom", "BOOKING_CREATED"),
    ),
    (
        Provider::CalCom,
        "BOOKING_CANCELLED",
        fixture!("calcom", "BOOKING_CANCELLED"),
    ),
    (
        Provider::CalCom,
        "BOOKING_RESCHEDULED",
        fixture!("calcom", "BOOKING_RESCHEDULED"),
    ),
    (
        Provider::CalCom,
        "BOOKING_REQUESTED",
        fixture!("calcom", "BOOKING_REQUESTED"),
    ),
    (
        Provider::CalCom,
        "BOOKING_NO_SHOW_UPDATED",
        fixture!("calcom", "BOOKING_NO_SHOW_UPDATED"),
    ),
    (
        Provider::CalCom,
        "MEETING_ENDED",
        fixture!("calcom", "MEETING_ENDED"),
    ),
    (Provider::CalCom, "PING", fixture!("calcom", "PING")),
    (
        Provider::Calendly,
        "invitee.created",
        fixture!("calendly", "invitee.created"),
    ),
    (
        Provider::Calendly,
        "invitee.canceled",
        fixture!("calendly", "invitee.canceled"),
    ),
    (
        Provider::Calendly,
        "invitee_no_show.created",
        fixture!("calendly", "invitee_no_show.created"),
    ),
    (
        Provider::StandardWebhooks,
        "booking.created",
        fixture!("standard", "booking.created"),
    ),
    (
        Provider::StandardWebhooks,
        "booking.cancelled",
        fixture!("standard", "booking.cancelled"),
    ),
    (
        Provider::StandardWebhooks,
        "booking.rescheduled",
        fixture!("standard", "booking.rescheduled"),
    ),
];

/// A realistic booking-created body for `provider` (Slotflow's `booking.confirmed`,
/// Calendly's `invitee.created`, the others' creation event). For the seeded providers
/// this is the example from their docs, verbatim.
pub fn booking_created(provider: Provider) -> &'static str {
    BOOKING_CREATED.get(provider)
}

/// The registry line per provider: its booking-created sample.
const BOOKING_CREATED: ByProvider<&str> = ByProvider {
    slatis: fixture!("slatis", "BOOKING_CREATED"),
    slotflow: fixture!("slotflow", "booking.confirmed"),
    bookable: fixture!("bookable", "booking_created"),
    schedulingkit: fixture!("schedulingkit", "booking.created"),
    calcom: fixture!("calcom", "BOOKING_CREATED"),
    calendly: fixture!("calendly", "invitee.created"),
    standard: fixture!("standard", "booking.created"),
};

/// The sample body for `provider`'s event `name` (the raw name, e.g. `"invitee.canceled"`),
/// if there is one.
pub fn for_event(provider: Provider, name: &str) -> Option<&'static str> {
    SAMPLES
        .iter()
        .find(|(p, n, _)| *p == provider && *n == name)
        .map(|(_, _, body)| *body)
}

/// The event names [`for_event`] has a sample for, for `provider`.
pub fn event_names(provider: Provider) -> impl Iterator<Item = &'static str> {
    SAMPLES
        .iter()
        .filter(move |(p, _, _)| *p == provider)
        .map(|(_, name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BookingEvent;

    #[test]
    fn every_sample_is_its_named_event() {
        for (provider, name, body) in SAMPLES {
            let event = BookingEvent::parse(*provider, body.as_bytes())
                .unwrap_or_else(|e| panic!("{provider} {name}: {e}"));
            assert_eq!(event.event_type, *name, "{provider}");
            assert_ne!(event.kind, crate::BookingKind::Unknown, "{provider} {name}");
        }
    }

    #[test]
    fn every_provider_has_a_booking_created_sample_listed() {
        for provider in Provider::ALL {
            let body = booking_created(provider);
            assert!(
                SAMPLES.iter().any(|(p, _, b)| *p == provider && *b == body),
                "{provider}"
            );
            assert!(event_names(provider).next().is_some());
        }
    }
}
