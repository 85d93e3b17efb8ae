//! Bodies that are not a valid envelope give `EventError::InvalidJson` — never a panic,
//! and never an error message that repeats any part of the body. Also sweeps every
//! fixture file under `tests/vectors/events/`.

use std::fs;
use std::path::{Path, PathBuf};

use bookhook_events::{BookingEvent, ByProvider, EventError, Provider};
use serde_json::Value;

const MARKER: &str = "LEAKMARKER";

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/events")
}

/// Every fixture as (provider, file name, body), from the provider's folder.
fn all_fixtures() -> Vec<(Provider, String, String)> {
    let mut out = Vec::new();
    for provider in Provider::ALL {
        let dir = vectors_dir().join(provider.as_str());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{provider} has fixtures");
        for path in files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((provider, name, fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// All string values in a JSON document that are long enough to be recognizable.
fn strings_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() >= 6 => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings_in(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings_in(i, out)),
        _ => {}
    }
}

/// JSON pointers of every leaf (non-container) value.
fn leaf_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                leaf_pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                leaf_pointers(
                    item,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => out.push(at),
    }
}

fn assert_clean(err: &EventError, provider: Provider, secrets: &[String], label: &str) {
    let EventError::InvalidJson { provider: p, .. } = err else {
        panic!("{label}: expected InvalidJson, got {err:?}");
    };
    assert_eq!(*p, provider, "{label}");
    let msg = err.to_string();
    assert!(msg.len() < 200, "{label}: long message {msg}");
    assert!(!msg.contains(MARKER), "{label}: {msg}");
    for s in secrets {
        assert!(
            !msg.contains(s.as_str()),
            "{label}: message repeats {s:?}: {msg}"
        );
    }
}

/// The body field that names the event, per provider.
const EVENT_NAME_KEY: ByProvider<&str> = ByProvider {
    slatis: "event",
    slotflow: "event",
    bookable: "event_name",
    schedulingkit: "event",
    calcom: "triggerEvent",
    calendly: "event",
    standard: "type",
};

#[test]
fn every_fixture_parses_and_keeps_its_event_name() {
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 40, "{} fixtures", fixtures.len());
    for (provider, name, body) in fixtures {
        let event = BookingEvent::parse(provider, body.as_bytes())
            .unwrap_or_else(|e| panic!("{provider}/{name}: {e}"));
        let raw: Value = serde_json::from_str(&body).unwrap();
        let key = *EVENT_NAME_KEY.get(provider);
        assert_eq!(
            Some(event.event_type.as_str()),
            raw[key].as_str(),
            "{provider}/{name}"
        );
        assert_eq!(event.provider, provider);
    }
}

#[test]
fn replacing_any_value_never_panics_and_errors_never_echo_the_body() {
    for (provider, name, body) in all_fixtures() {
        let original: Value = serde_json::from_str(&body).unwrap();
        let mut secrets = Vec::new();
        strings_in(&original, &mut secrets);
        let mut pointers = Vec::new();
        leaf_pointers(&original, String::new(), &mut pointers);
        for pointer in pointers {
            for replacement in [
                Value::from(vec![format!("{MARKER}-{pointer}")]),
                Value::from(-987_654_321_i64),
                serde_json::json!({ MARKER: true }),
                Value::from(format!("{MARKER} \"quoted\" `ticked`")),
            ] {
                let mut mutated = original.clone();
                *mutated.pointer_mut(&pointer).unwrap() = replacement;
                let bytes = serde_json::to_vec_pretty(&mutated).unwrap();
                if let Err(err) = BookingEvent::parse(provider, &bytes) {
                    let label = format!("{provider}/{name} at {pointer}");
                    assert_clean(&err, provider, &secrets, &label);
                    assert!(!err.to_string().contains("987654321"), "{label}: {err}");
                }
            }
        }
    }
}

#[test]
fn every_truncation_is_an_error_without_body_content() {
    for (provider, name, body) in all_fixtures() {
        let original: Value = serde_json::from_str(&body).unwrap();
        let mut secrets = Vec::new();
        strings_in(&original, &mut secrets);
        let trimmed = body.trim_end();
        for end in 0..trimmed.len() {
            if !trimmed.is_char_boundary(end) {
                continue;
            }
            let err = BookingEvent::parse(provider, &trimmed.as_bytes()[..end])
                .expect_err("a truncated body is never valid");
            assert_clean(
                &err,
                provider,
                &secrets,
                &format!("{provider}/{name}[..{end}]"),
            );
        }
    }
}

#[test]
fn non_json_bodies_are_invalid_for_every_provider() {
    let bodies: [&[u8]; 8] = [
        b"",
        b"   ",
        b"null",
        b"[]",
        b"\"BOOKING_CREATED\"",
        b"event=BOOKING_CREATED&email=jane%40example.com",
        b"\xff\xfe{}",
        b"{\"event\": \"x\", \"type\": \"x\", \"triggerEvent\": \"x\", \"event_name\": \"x\"} trailing",
    ];
    for provider in Provider::ALL {
        for body in bodies {
            let err = BookingEvent::parse(provider, body).unwrap_err();
            assert_clean(
                &err,
                provider,
                &["jane%40example.com".to_owned()],
                &format!("{provider} {body:?}"),
            );
        }
    }
}

#[test]
fn wrong_type_of_a_required_field_is_invalid_json_at_its_line() {
    // (provider, body with a required field of the wrong type, line of that field, reason)
    let cases: [(Provider, &str, usize, &str); 7] = [
        (
            Provider::Slatis,
            "{\"event\":\"BOOKING_CREATED\",\"timestamp\":\"2026-05-01T14:05:00Z\",\"webhook_id\":\"wh\",\n\"data\":{\"id\":[\"bkg\"],\"status\":\"SCHEDULED\",\"start_time\":\"2026-05-01T14:00:00Z\",\"attendee\":{\"name\":\"J\",\"email\":\"j@x.example\"}}}",
            2,
            "invalid type, expected a string",
        ),
        (
            Provider::Slotflow,
            "{\"event\":\"booking.cancelled\",\"created_at\":\"2026-03-10T14:05:00Z\",\"data\":{\"id\":\"b\",\n\"starts_at\":1773151200,\"ends_at\":\"2026-03-10T14:30:00Z\",\"status\":\"cancelled\"}}",
            2,
            "invalid type, expected an RFC3339-formatted `OffsetDateTime`",
        ),
        (
            Provider::Bookable,
            "{\"id\":\"e\",\"event_name\":\"booking_created\",\n\"timestamp\":\"2026-05-15T08:00:12Z\",\n\"context\":{\"booking\":{\"id\":17}}}",
            3,
            "invalid type, expected a string",
        ),
        (
            Provider::SchedulingKit,
            "{\"event\":\"booking.created\",\"timestamp\":\"2025-01-15T10:30:00Z\",\n\"data\":{\"id\":\"123\"}}",
            2,
            "invalid type, expected u64",
        ),
        (
            Provider::CalCom,
            "{\"triggerEvent\":\"BOOKING_CREATED\",\"createdAt\":\"2026-04-02T09:30:00Z\",\"payload\":{\"uid\":\"u\",\n\"startTime\":\"2026-04-08T15:00:00Z\",\"endTime\":\"2026-04-08T15:30:00Z\",\n\"attendees\":{\"email\":\"a@x.example\"}}}",
            3,
            "invalid type, expected a sequence",
        ),
        (
            Provider::Calendly,
            "{\"event\":\"invitee.created\",\"created_at\":\"2026-06-01T17:51:19Z\",\n\"payload\":{\"uri\":\"i\",\"email\":false,\"scheduled_event\":{}}}",
            2,
            "invalid type, expected a string",
        ),
        (
            Provider::StandardWebhooks,
            "{\n\"type\": 7,\n\"data\": {}}",
            2,
            "invalid type, expected a string",
        ),
    ];
    for (provider, body, line, reason) in cases {
        match BookingEvent::parse(provider, body.as_bytes()) {
            Err(EventError::InvalidJson {
                provider: p,
                line: l,
                reason: r,
                ..
            }) => {
                assert_eq!((p, l, r.as_str()), (provider, line, reason), "{provider}");
            }
            other => panic!("{provider}: {other:?}"),
        }
    }
}

#[test]
fn malformed_timestamp_is_invalid_without_echo() {
    let body = br#"{"event":"BOOKING_CREATED","timestamp":"2026-13-45T99:00:00Z","webhook_id":"wh","data":{}}"#;
    let err = BookingEvent::parse(Provider::Slatis, body).unwrap_err();
    assert_clean(
        &err,
        Provider::Slatis,
        &["2026-13-45T99:00:00Z".to_owned()],
        "timestamp",
    );
}
