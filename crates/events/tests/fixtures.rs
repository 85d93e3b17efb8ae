//! Every fixture under `tests/vectors/events/` parses into the right typed variant and
//! normalizes with the right kind, booking id, attendee and times.

use bookhook_events::{
    BookingEvent, BookingKind, Provider, bookable, calcom, calendly, schedulingkit, slatis,
    slotflow, standard,
};
use time::OffsetDateTime;
use time::macros::datetime;

macro_rules! vector {
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

/// What a normalized event must hold.
struct Expected<'a> {
    kind: BookingKind,
    event_type: &'a str,
    booking_id: Option<&'a str>,
    name: Option<&'a str>,
    email: Option<&'a str>,
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
    occurred_at: Option<OffsetDateTime>,
    delivery_id: Option<&'a str>,
}

impl Default for Expected<'_> {
    fn default() -> Self {
        Expected {
            kind: BookingKind::Unknown,
            event_type: "",
            booking_id: None,
            name: None,
            email: None,
            start: None,
            end: None,
            occurred_at: None,
            delivery_id: None,
        }
    }
}

fn check(label: &str, provider: Provider, e: &BookingEvent, want: Expected<'_>) {
    assert_eq!(e.provider, provider, "{label}: provider");
    assert_eq!(e.kind, want.kind, "{label}: kind");
    assert_eq!(e.event_type, want.event_type, "{label}: event_type");
    assert_eq!(
        e.booking_id.as_deref(),
        want.booking_id,
        "{label}: booking_id"
    );
    assert_eq!(e.attendee_name(), want.name, "{label}: attendee name");
    assert_eq!(e.attendee_email(), want.email, "{label}: attendee email");
    assert_eq!(e.start, want.start, "{label}: start");
    assert_eq!(e.end, want.end, "{label}: end");
    assert_eq!(e.occurred_at, want.occurred_at, "{label}: occurred_at");
    assert_eq!(
        e.delivery_id.as_deref(),
        want.delivery_id,
        "{label}: delivery_id"
    );
}

// ---------------------------------------------------------------- Slatis

#[test]
fn slatis_doc_example_is_a_creation_without_end_time() {
    let event = slatis::Event::from_slice(vector!("slatis", "BOOKING_CREATED").as_bytes()).unwrap();
    assert!(matches!(event, slatis::Event::BookingCreated(_)));
    check(
        "slatis created",
        Provider::Slatis,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "BOOKING_CREATED",
            booking_id: Some("bkg_01xyz"),
            name: Some("Jane Smith"),
            email: Some("jane@example.com"),
            start: Some(datetime!(2026-05-01 14:00 UTC)),
            occurred_at: Some(datetime!(2026-05-01 14:05 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn slatis_every_event_has_its_variant_and_kind() {
    type Check = fn(&slatis::Event) -> bool;
    let cases: [(&str, &str, Check, BookingKind); 7] = [
        (
            "BOOKING_CREATED",
            vector!("slatis", "BOOKING_CREATED"),
            |e| matches!(e, slatis::Event::BookingCreated(_)),
            BookingKind::Created,
        ),
        (
            "BOOKING_UPDATED",
            vector!("slatis", "BOOKING_UPDATED"),
            |e| matches!(e, slatis::Event::BookingUpdated(_)),
            BookingKind::Updated,
        ),
        (
            "BOOKING_CANCELLED",
            vector!("slatis", "BOOKING_CANCELLED"),
            |e| matches!(e, slatis::Event::BookingCancelled(_)),
            BookingKind::Cancelled,
        ),
        (
            "BOOKING_RESCHEDULED",
            vector!("slatis", "BOOKING_RESCHEDULED"),
            |e| matches!(e, slatis::Event::BookingRescheduled(_)),
            BookingKind::Rescheduled,
        ),
        (
            "BOOKING_COMPLETED",
            vector!("slatis", "BOOKING_COMPLETED"),
            |e| matches!(e, slatis::Event::BookingCompleted(_)),
            BookingKind::Completed,
        ),
        (
            "BOOKING_NO_SHOW",
            vector!("slatis", "BOOKING_NO_SHOW"),
            |e| matches!(e, slatis::Event::BookingNoShow(_)),
            BookingKind::NoShow,
        ),
        (
            "ASSIGNMENT_CHANGED",
            vector!("slatis", "ASSIGNMENT_CHANGED"),
            |e| matches!(e, slatis::Event::AssignmentChanged(_)),
            BookingKind::Reassigned,
        ),
    ];
    for (name, body, is_variant, kind) in cases {
        let event = slatis::Event::from_slice(body.as_bytes()).unwrap();
        assert!(is_variant(&event), "{name}: {event:?}");
        assert_eq!(event.event_type(), name);
        let normalized = BookingEvent::from(event);
        assert_eq!(normalized.kind, kind, "{name}");
        assert!(normalized.attendee_email().is_some(), "{name}");
        // Only the docs' own example omits the optional end time.
        assert_eq!(
            normalized.end.is_none(),
            name == "BOOKING_CREATED",
            "{name}"
        );
    }
}

#[test]
fn slatis_reschedule_keeps_the_offset_instant() {
    let e = BookingEvent::parse(
        Provider::Slatis,
        vector!("slatis", "BOOKING_RESCHEDULED").as_bytes(),
    )
    .unwrap();
    assert_eq!(e.start, Some(datetime!(2026-05-06 08:00 UTC)));
    assert_eq!(e.end, Some(datetime!(2026-05-06 08:45 UTC)));
    assert_eq!(e.attendee_name(), Some("Tomás García"));
}

#[test]
fn slatis_assignment_change_does_not_take_the_new_host_as_attendee() {
    let e = BookingEvent::parse(
        Provider::Slatis,
        vector!("slatis", "ASSIGNMENT_CHANGED").as_bytes(),
    )
    .unwrap();
    assert_eq!(e.kind, BookingKind::Reassigned);
    assert_eq!(e.attendee_email(), Some("lee.chen@example.com"));
}

#[test]
fn slatis_new_status_and_empty_name_parse() {
    let event = slatis::Event::from_slice(vector!("slatis", "new-status").as_bytes()).unwrap();
    let status = &event.envelope().unwrap().data.status;
    assert_eq!(status.as_str(), "AWAITING_PAYMENT");
    assert!(matches!(status, slatis::BookingStatus::Other(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.attendee_name(), None);
    assert_eq!(e.attendee_email(), Some("anon@example.com"));
    assert_eq!(e.end, None);
}

#[test]
fn slatis_unknown_event_keeps_raw_name() {
    let event = slatis::Event::from_slice(vector!("slatis", "unknown-event").as_bytes()).unwrap();
    let slatis::Event::Unknown { event: name, raw } = &event else {
        panic!("{event:?}")
    };
    assert_eq!(name, "BOOKING_PAYMENT_RECEIVED");
    assert_eq!(raw["data"]["amount"], 4500);
    check(
        "slatis unknown",
        Provider::Slatis,
        &event.into(),
        Expected {
            event_type: "BOOKING_PAYMENT_RECEIVED",
            occurred_at: Some(datetime!(2026-05-09 10:00 UTC)),
            ..Expected::default()
        },
    );
}

// ---------------------------------------------------------------- Slotflow

#[test]
fn slotflow_doc_example_is_a_creation() {
    let event =
        slotflow::Event::from_slice(vector!("slotflow", "booking.confirmed").as_bytes()).unwrap();
    assert!(matches!(event, slotflow::Event::BookingConfirmed(_)));
    check(
        "slotflow confirmed",
        Provider::Slotflow,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "booking.confirmed",
            booking_id: Some("b9e4f2a1-3c5d-4e6f-8a9b-0c1d2e3f4a5b"),
            name: Some("Alex Rivera"),
            email: Some("alex@startup.io"),
            start: Some(datetime!(2026-03-10 14:00 UTC)),
            end: Some(datetime!(2026-03-10 14:30 UTC)),
            occurred_at: Some(datetime!(2026-03-10 14:05 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn slotflow_cancellation() {
    let event =
        slotflow::Event::from_slice(vector!("slotflow", "booking.cancelled").as_bytes()).unwrap();
    let slotflow::Event::BookingCancelled(env) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(env.data.status, slotflow::BookingStatus::Cancelled);
    assert_eq!(env.data.metadata["ticket_id"], "ticket_12345");
    assert_eq!(BookingEvent::from(event).kind, BookingKind::Cancelled);
}

#[test]
fn slotflow_missing_optional_fields_parse() {
    let event = slotflow::Event::from_slice(vector!("slotflow", "minimal").as_bytes()).unwrap();
    let env = event.envelope().unwrap();
    assert_eq!(env.data.human_id, None);
    assert_eq!(env.data.duration_minutes, None);
    assert!(env.data.metadata.is_null());
    assert_eq!(env.data.status.as_str(), "pending_payment");
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Created);
    assert_eq!(e.attendee, None);
    assert_eq!(
        e.booking_id.as_deref(),
        Some("c0ffee00-0000-4000-8000-000000000001")
    );
}

#[test]
fn slotflow_unknown_event_keeps_raw_name() {
    let e = BookingEvent::parse(
        Provider::Slotflow,
        vector!("slotflow", "unknown-event").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Unknown, "booking.rescheduled")
    );
    assert_eq!(e.booking_id, None);
}

// ---------------------------------------------------------------- Bookable

#[test]
fn bookable_doc_example_has_no_attendee_and_keeps_the_envelope_id() {
    let event =
        bookable::Event::from_slice(vector!("bookable", "booking_created").as_bytes()).unwrap();
    assert!(matches!(event, bookable::Event::BookingCreated(_)));
    check(
        "bookable created",
        Provider::Bookable,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "booking_created",
            booking_id: Some("f9955a9a-bb9e-450b-8e91-09a43f0e6cd6"),
            occurred_at: Some(datetime!(2026-05-15 08:00:12 UTC)),
            delivery_id: Some("a1b2c3d4-e5f6-7890-abcd-ef1234567890"),
            ..Expected::default()
        },
    );
}

#[test]
fn bookable_lifecycle_names_map_to_kinds() {
    let cases = [
        (
            vector!("bookable", "booking_updated"),
            "booking_updated",
            BookingKind::Updated,
        ),
        (
            vector!("bookable", "booking_cancelled"),
            "booking_cancelled",
            BookingKind::Cancelled,
        ),
        (
            vector!("bookable", "booking_canceled"),
            "booking_canceled",
            BookingKind::Cancelled,
        ),
        (
            vector!("bookable", "booking_deleted"),
            "booking_deleted",
            BookingKind::Cancelled,
        ),
    ];
    for (body, name, kind) in cases {
        let event = bookable::Event::from_slice(body.as_bytes()).unwrap();
        match name {
            "booking_updated" => assert!(matches!(event, bookable::Event::BookingUpdated(_))),
            "booking_deleted" => assert!(matches!(event, bookable::Event::BookingDeleted(_))),
            _ => assert!(
                matches!(event, bookable::Event::BookingCancelled(_)),
                "{name}"
            ),
        }
        let e = BookingEvent::from(event);
        assert_eq!((e.kind, e.event_type.as_str()), (kind, name));
        assert!(e.booking_id.is_some() && e.delivery_id.is_some(), "{name}");
        assert_eq!(e.attendee, None);
    }
}

#[test]
fn bookable_unknown_event_keeps_raw_name_and_delivery_id() {
    let event =
        bookable::Event::from_slice(vector!("bookable", "unknown-event").as_bytes()).unwrap();
    assert!(
        matches!(&event, bookable::Event::Unknown { event, .. } if event == "bookable_updated")
    );
    check(
        "bookable unknown",
        Provider::Bookable,
        &event.into(),
        Expected {
            event_type: "bookable_updated",
            occurred_at: Some(datetime!(2026-05-18 10:00 UTC)),
            delivery_id: Some("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"),
            ..Expected::default()
        },
    );
}

// ---------------------------------------------------------------- SchedulingKit

#[test]
fn schedulingkit_doc_example_is_a_creation_with_a_numeric_id() {
    let event =
        schedulingkit::Event::from_slice(vector!("schedulingkit", "booking.created").as_bytes())
            .unwrap();
    let schedulingkit::Event::BookingCreated(env) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(env.data.local_start(), Some(datetime!(2025-01-20 14:00)));
    check(
        "schedulingkit created",
        Provider::SchedulingKit,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "booking.created",
            booking_id: Some("123"),
            name: Some("Jane Smith"),
            email: Some("jane@example.com"),
            occurred_at: Some(datetime!(2025-01-15 10:30 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn schedulingkit_fixtures_map_to_variants_and_kinds() {
    type Check = fn(&schedulingkit::Event) -> bool;
    let cases: [(&str, Check, BookingKind); 6] = [
        (
            vector!("schedulingkit", "event.created"),
            |e| matches!(e, schedulingkit::Event::EventCreated(_)),
            BookingKind::Created,
        ),
        (
            vector!("schedulingkit", "event.rescheduled"),
            |e| matches!(e, schedulingkit::Event::EventRescheduled(_)),
            BookingKind::Rescheduled,
        ),
        (
            vector!("schedulingkit", "booking.cancelled"),
            |e| matches!(e, schedulingkit::Event::BookingCancelled(_)),
            BookingKind::Cancelled,
        ),
        (
            vector!("schedulingkit", "event.reminder"),
            |e| matches!(e, schedulingkit::Event::EventReminder(_)),
            BookingKind::NotBooking,
        ),
        (
            vector!("schedulingkit", "payment.completed"),
            |e| matches!(e, schedulingkit::Event::PaymentCompleted(_)),
            BookingKind::NotBooking,
        ),
        (
            vector!("schedulingkit", "webhook.test"),
            |e| matches!(e, schedulingkit::Event::WebhookTest(_)),
            BookingKind::NotBooking,
        ),
    ];
    for (body, is_variant, kind) in cases {
        let event = schedulingkit::Event::from_slice(body.as_bytes()).unwrap();
        assert!(is_variant(&event), "{event:?}");
        assert_eq!(BookingEvent::from(event).kind, kind);
    }
}

#[test]
fn schedulingkit_payment_data_is_kept_as_json() {
    let event =
        schedulingkit::Event::from_slice(vector!("schedulingkit", "payment.completed").as_bytes())
            .unwrap();
    let notice = event.notice().unwrap();
    assert_eq!(notice.data["booking_id"], 123);
    assert_eq!(notice.booking(), None, "a payment id is not a booking");
}

#[test]
fn schedulingkit_cancellation_with_null_location_parses() {
    let e = BookingEvent::parse(
        Provider::SchedulingKit,
        vector!("schedulingkit", "booking.cancelled").as_bytes(),
    )
    .unwrap();
    assert_eq!(e.booking_id.as_deref(), Some("124"));
    assert_eq!(e.attendee_email(), Some("kwame@example.org"));
}

#[test]
fn schedulingkit_missing_optional_fields_and_malformed_time_parse() {
    let event =
        schedulingkit::Event::from_slice(vector!("schedulingkit", "minimal").as_bytes()).unwrap();
    let env = event.envelope().unwrap();
    assert_eq!(env.data.time.as_deref(), Some("2pm"));
    assert_eq!(env.data.local_start(), None);
    assert_eq!(env.data.invitee, None);
    let e = BookingEvent::from(event);
    assert_eq!(
        (e.kind, e.booking_id.as_deref()),
        (BookingKind::Updated, Some("125"))
    );
    assert_eq!(e.attendee, None);
}

#[test]
fn schedulingkit_unknown_event_keeps_raw_name() {
    let e = BookingEvent::parse(
        Provider::SchedulingKit,
        vector!("schedulingkit", "unknown-event").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Unknown, "invoice.created")
    );
}

// ---------------------------------------------------------------- Cal.com

#[test]
fn calcom_creation_takes_the_attendee_not_the_organizer() {
    let event = calcom::Event::from_slice(vector!("calcom", "BOOKING_CREATED").as_bytes()).unwrap();
    let calcom::Event::BookingCreated(env) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(env.payload.booking_id, Some(91));
    assert_eq!(env.payload.status, Some(calcom::BookingStatus::Accepted));
    check(
        "calcom created",
        Provider::CalCom,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "BOOKING_CREATED",
            booking_id: Some("bFJeNb2uX8ANpT3JL5EfXw"),
            name: Some("Ravi Kumar"),
            email: Some("ravi@customer.example"),
            start: Some(datetime!(2026-04-08 15:00 UTC)),
            end: Some(datetime!(2026-04-08 15:30 UTC)),
            occurred_at: Some(datetime!(2026-04-02 09:30:00.538 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn calcom_organizer_is_never_the_attendee_in_any_fixture() {
    for body in [
        vector!("calcom", "BOOKING_CREATED"),
        vector!("calcom", "BOOKING_CANCELLED"),
        vector!("calcom", "BOOKING_RESCHEDULED"),
        vector!("calcom", "BOOKING_REQUESTED"),
        vector!("calcom", "MEETING_ENDED"),
        vector!("calcom", "PING"),
    ] {
        let raw: serde_json::Value = serde_json::from_str(body).unwrap();
        let organizer = raw["payload"]["organizer"]["email"].as_str().unwrap();
        let e = BookingEvent::parse(Provider::CalCom, body.as_bytes()).unwrap();
        assert_ne!(e.attendee_email(), Some(organizer), "{}", e.event_type);
    }
}

#[test]
fn calcom_requested_booking_skips_the_host_listed_among_attendees() {
    let event =
        calcom::Event::from_slice(vector!("calcom", "BOOKING_REQUESTED").as_bytes()).unwrap();
    assert!(matches!(event, calcom::Event::BookingRequested(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Created);
    assert_eq!(e.attendee_name(), Some("Mei Lin"));
}

#[test]
fn calcom_cancellation_and_reschedule() {
    let event =
        calcom::Event::from_slice(vector!("calcom", "BOOKING_CANCELLED").as_bytes()).unwrap();
    let calcom::Event::BookingCancelled(env) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(
        env.payload.cancellation_reason.as_deref(),
        Some("Something came up")
    );
    assert_eq!(BookingEvent::from(event).kind, BookingKind::Cancelled);

    let event =
        calcom::Event::from_slice(vector!("calcom", "BOOKING_RESCHEDULED").as_bytes()).unwrap();
    let calcom::Event::BookingRescheduled(env) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(
        env.payload.reschedule_uid.as_deref(),
        Some("bFJeNb2uX8ANpT3JL5EfXw")
    );
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Rescheduled);
    assert_eq!(e.booking_id.as_deref(), Some("n3wUiDaFt3rR3sch3dule"));
    assert_eq!(e.start, Some(datetime!(2026-04-09 08:00 UTC)));
}

#[test]
fn calcom_ping_is_a_known_non_booking_event() {
    let event = calcom::Event::from_slice(vector!("calcom", "PING").as_bytes()).unwrap();
    assert!(matches!(event, calcom::Event::Ping(_)));
    check(
        "calcom ping",
        Provider::CalCom,
        &event.into(),
        Expected {
            kind: BookingKind::NotBooking,
            event_type: "PING",
            occurred_at: Some(datetime!(2026-04-01 12:00 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn calcom_meeting_ended_completes_its_booking() {
    let event = calcom::Event::from_slice(vector!("calcom", "MEETING_ENDED").as_bytes()).unwrap();
    assert!(matches!(event, calcom::Event::MeetingEnded(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Completed);
    assert_eq!(e.booking_id.as_deref(), Some("bFJeNb2uX8ANpT3JL5EfXw"));
    assert_eq!(e.attendee_email(), Some("ravi@customer.example"));
}

#[test]
fn calcom_no_show_names_the_marked_attendee() {
    let event =
        calcom::Event::from_slice(vector!("calcom", "BOOKING_NO_SHOW_UPDATED").as_bytes()).unwrap();
    assert!(matches!(event, calcom::Event::BookingNoShowUpdated(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::NoShow);
    assert_eq!(e.booking_id.as_deref(), Some("bFJeNb2uX8ANpT3JL5EfXw"));
    assert_eq!(e.attendee_email(), Some("ravi@customer.example"));
}

#[test]
fn calcom_unknown_trigger_keeps_raw_name() {
    let event = calcom::Event::from_slice(vector!("calcom", "unknown-event").as_bytes()).unwrap();
    assert!(matches!(&event, calcom::Event::Unknown { event, .. } if event == "FORM_SUBMITTED"));
    let e = BookingEvent::from(event);
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Unknown, "FORM_SUBMITTED")
    );
    assert_eq!(e.attendee, None);
}

// ---------------------------------------------------------------- Calendly

#[test]
fn calendly_invitee_created() {
    let event =
        calendly::Event::from_slice(vector!("calendly", "invitee.created").as_bytes()).unwrap();
    assert!(matches!(event, calendly::Event::InviteeCreated(_)));
    check(
        "calendly created",
        Provider::Calendly,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "invitee.created",
            booking_id: Some(
                "https://api.calendly.com/scheduled_events/CCCCCCCCCCCCCCCC/invitees/BBBBBBBBBBBBBBBB",
            ),
            name: Some("Noor Haddad"),
            email: Some("noor.haddad@example.com"),
            start: Some(datetime!(2026-06-03 16:00 UTC)),
            end: Some(datetime!(2026-06-03 16:30 UTC)),
            occurred_at: Some(datetime!(2026-06-01 17:51:19 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn calendly_host_membership_is_never_the_attendee() {
    for body in [
        vector!("calendly", "invitee.created"),
        vector!("calendly", "invitee.canceled"),
    ] {
        let e = BookingEvent::parse(Provider::Calendly, body.as_bytes()).unwrap();
        assert_eq!(e.attendee_email(), Some("noor.haddad@example.com"));
    }
}

#[test]
fn calendly_invitee_canceled() {
    let event =
        calendly::Event::from_slice(vector!("calendly", "invitee.canceled").as_bytes()).unwrap();
    let calendly::Event::InviteeCanceled(env) = &event else {
        panic!("{event:?}")
    };
    let cancellation = env.payload.cancellation.as_ref().unwrap();
    assert_eq!(cancellation.reason.as_deref(), Some("Double booked"));
    assert_eq!(BookingEvent::from(event).kind, BookingKind::Cancelled);
}

#[test]
fn calendly_rebooked_invitee_is_a_reschedule() {
    let event =
        calendly::Event::from_slice(vector!("calendly", "invitee.created.rescheduled").as_bytes())
            .unwrap();
    assert!(matches!(event, calendly::Event::InviteeCreated(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Rescheduled);
    assert_eq!(e.event_type, "invitee.created");
    assert_eq!(e.start, Some(datetime!(2026-06-04 10:00 UTC)));
}

#[test]
fn calendly_no_show_points_at_the_invitee() {
    let event =
        calendly::Event::from_slice(vector!("calendly", "invitee_no_show.created").as_bytes())
            .unwrap();
    assert!(matches!(event, calendly::Event::InviteeNoShowCreated(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::NoShow);
    assert_eq!(
        e.booking_id.as_deref(),
        Some(
            "https://api.calendly.com/scheduled_events/CCCCCCCCCCCCCCCC/invitees/BBBBBBBBBBBBBBBB"
        )
    );
}

#[test]
fn calendly_unknown_event_keeps_raw_name() {
    let e = BookingEvent::parse(
        Provider::Calendly,
        vector!("calendly", "unknown-event").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Unknown, "meeting_recap.created")
    );
    assert_eq!(e.occurred_at, Some(datetime!(2026-06-05 12:00 UTC)));
}

// ---------------------------------------------------------------- Standard Webhooks

#[test]
fn standard_nested_attendee_not_host() {
    let event =
        standard::Event::from_slice(vector!("standard", "booking.created").as_bytes()).unwrap();
    assert!(matches!(event, standard::Event::BookingCreated(_)));
    check(
        "standard created",
        Provider::StandardWebhooks,
        &event.into(),
        Expected {
            kind: BookingKind::Created,
            event_type: "booking.created",
            booking_id: Some("bk_2f9c1d"),
            name: Some("Ana Souza"),
            email: Some("ana.souza@example.com"),
            start: Some(datetime!(2026-07-05 09:00 UTC)),
            end: Some(datetime!(2026-07-05 09:45 UTC)),
            occurred_at: Some(datetime!(2026-07-01 10:15:30.344522 UTC)),
            ..Expected::default()
        },
    );
}

#[test]
fn standard_flat_attendee_and_numeric_id() {
    let event =
        standard::Event::from_slice(vector!("standard", "booking.cancelled").as_bytes()).unwrap();
    assert!(matches!(event, standard::Event::BookingCancelled(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Cancelled);
    assert_eq!(e.booking_id.as_deref(), Some("4821"));
    assert_eq!(e.attendee_name(), Some("Bo Lindqvist"));
    assert_eq!(e.attendee_email(), Some("bo.lindqvist@example.se"));
    assert_eq!(e.start, Some(datetime!(2026-07-06 11:00 UTC)));
}

#[test]
fn standard_reschedule_reads_booking_id_and_short_time_keys() {
    let event =
        standard::Event::from_slice(vector!("standard", "booking.rescheduled").as_bytes()).unwrap();
    assert!(matches!(event, standard::Event::BookingRescheduled(_)));
    let e = BookingEvent::from(event);
    assert_eq!(e.kind, BookingKind::Rescheduled);
    assert_eq!(e.booking_id.as_deref(), Some("bk_2f9c1d"));
    assert_eq!(e.end, Some(datetime!(2026-07-07 09:45 UTC)));
}

#[test]
fn standard_unknown_type_keeps_raw_name() {
    let event =
        standard::Event::from_slice(vector!("standard", "unknown-event").as_bytes()).unwrap();
    let standard::Event::Unknown { event: name, raw } = &event else {
        panic!("{event:?}")
    };
    assert_eq!(name, "invoice.paid");
    assert_eq!(raw["data"]["amount"], 1200);
    let e = BookingEvent::from(event);
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Unknown, "invoice.paid")
    );
    assert_eq!(e.booking_id, None, "unknown types are not read as bookings");
}
