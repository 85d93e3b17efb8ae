//! `FromDelivery` as the web adapters use it.

use std::fmt::Debug;

use bookhook_events::{
    BookingEvent, BookingKind, Delivery, EventError, FromDelivery, Provider, bookable, calcom,
    calendly, samples, schedulingkit, slatis, slotflow, standard,
};

fn assert_rejects_other_providers<T: FromDelivery + Debug>(expected: Provider) {
    let body = samples::booking_created(expected).as_bytes();
    assert!(
        T::from_delivery(&Delivery::new(expected, body)).is_ok(),
        "{expected}"
    );
    for got in Provider::ALL.into_iter().filter(|p| *p != expected) {
        let err = T::from_delivery(&Delivery::new(got, body)).unwrap_err();
        assert_eq!(err, EventError::WrongProvider { expected, got });
    }
}

#[test]
fn provider_events_reject_deliveries_of_other_providers() {
    assert_rejects_other_providers::<slatis::Event>(Provider::Slatis);
    assert_rejects_other_providers::<slotflow::Event>(Provider::Slotflow);
    assert_rejects_other_providers::<bookable::Event>(Provider::Bookable);
    assert_rejects_other_providers::<schedulingkit::Event>(Provider::SchedulingKit);
    assert_rejects_other_providers::<calcom::Event>(Provider::CalCom);
    assert_rejects_other_providers::<calendly::Event>(Provider::Calendly);
    assert_rejects_other_providers::<standard::Event>(Provider::StandardWebhooks);
}

#[test]
fn booking_event_dispatches_on_the_provider() {
    for provider in Provider::ALL {
        let body = samples::booking_created(provider).as_bytes();
        let event = BookingEvent::from_delivery(&Delivery::new(provider, body)).unwrap();
        assert_eq!(event.provider, provider);
        assert_eq!(event.kind, BookingKind::Created, "{provider}");
        assert!(event.booking_id.is_some(), "{provider}");
        if provider != Provider::Bookable {
            assert!(event.attendee_email().is_some(), "{provider}");
        }
    }
}

#[test]
fn another_providers_body_is_invalid_json_for_the_envelope() {
    let body = samples::booking_created(Provider::Slatis).as_bytes();
    let err = BookingEvent::from_delivery(&Delivery::new(Provider::CalCom, body)).unwrap_err();
    assert!(
        matches!(&err, EventError::InvalidJson { provider: Provider::CalCom, reason, .. } if reason == "missing field `triggerEvent`"),
        "{err:?}"
    );
}

#[test]
fn header_delivery_id_is_used_for_schedulingkit_and_standard() {
    for (provider, id) in [
        (Provider::SchedulingKit, "5f0c9a2e-dlv"),
        (Provider::StandardWebhooks, "msg_2LJGlJ9m8WPQ"),
    ] {
        let body = samples::booking_created(provider).as_bytes();
        let without = BookingEvent::from_delivery(&Delivery::new(provider, body)).unwrap();
        assert_eq!(without.delivery_id, None, "{provider}");
        let with =
            BookingEvent::from_delivery(&Delivery::new(provider, body).with_delivery_id(Some(id)))
                .unwrap();
        assert_eq!(with.delivery_id.as_deref(), Some(id), "{provider}");
    }
}

#[test]
fn bookable_delivery_id_is_the_envelope_id_unless_a_header_says_otherwise() {
    let body = samples::booking_created(Provider::Bookable).as_bytes();
    let plain = BookingEvent::from_delivery(&Delivery::new(Provider::Bookable, body)).unwrap();
    assert_eq!(
        plain.delivery_id.as_deref(),
        Some("a1b2c3d4-e5f6-7890-abcd-ef1234567890")
    );
    let empty_header = Delivery::new(Provider::Bookable, body).with_delivery_id(Some(""));
    let e = BookingEvent::from_delivery(&empty_header).unwrap();
    assert_eq!(
        e.delivery_id, plain.delivery_id,
        "an empty header is ignored"
    );
    let header = Delivery::new(Provider::Bookable, body).with_delivery_id(Some("hdr"));
    assert_eq!(
        BookingEvent::from_delivery(&header)
            .unwrap()
            .delivery_id
            .as_deref(),
        Some("hdr")
    );
}

#[test]
fn slatis_webhook_id_is_not_a_delivery_id() {
    let body = samples::booking_created(Provider::Slatis).as_bytes();
    let e = BookingEvent::from_delivery(&Delivery::new(Provider::Slatis, body)).unwrap();
    assert_eq!(e.delivery_id, None);
}

#[test]
fn event_type_header_does_not_override_the_body() {
    let body = samples::booking_created(Provider::SchedulingKit).as_bytes();
    let d = Delivery::new(Provider::SchedulingKit, body).with_event_type(Some("payment.completed"));
    let e = BookingEvent::from_delivery(&d).unwrap();
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Created, "booking.created")
    );
}

#[test]
fn value_parses_any_providers_body() {
    for provider in Provider::ALL {
        let body = samples::booking_created(provider).as_bytes();
        let v = serde_json::Value::from_delivery(&Delivery::new(provider, body)).unwrap();
        assert!(v.is_object(), "{provider}");
    }
}

#[test]
fn unknown_event_is_delivered_as_unknown_not_an_error() {
    let body = br#"{"triggerEvent":"OOO_CREATED","createdAt":"2026-01-01T00:00:00Z","payload":{"oooEntry":{}}}"#;
    let d = Delivery::new(Provider::CalCom, body);
    let typed = calcom::Event::from_delivery(&d).unwrap();
    assert!(matches!(&typed, calcom::Event::Unknown { event, .. } if event == "OOO_CREATED"));
    let e = BookingEvent::from_delivery(&d).unwrap();
    assert_eq!(
        (e.kind, e.event_type.as_str()),
        (BookingKind::Unknown, "OOO_CREATED")
    );
    assert!(!e.is_booking());
}
