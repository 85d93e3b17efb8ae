//! Errors of parsing a delivery body, and of naming a provider.

use serde_json::error::Category;

use crate::provider::Provider;

/// Why a verified delivery could not be turned into an event.
///
/// Messages are short and say what to fix; they never contain the body or any part of
/// it (a field's *value* can be personal data or a secret), only field names, expected
/// types and the position of the problem.
///
/// An unknown event *name* is not an error: it parses as the provider's `Unknown`
/// variant and normalizes to [`BookingKind::Unknown`](crate::BookingKind::Unknown), so a
/// service can acknowledge it.
///
/// # Example
///
/// ```
/// use bookhook_events::{slatis, EventError, Provider};
///
/// let err = slatis::Event::from_slice(br#"{"event": 42}"#).unwrap_err();
/// assert!(matches!(err, EventError::InvalidJson { provider: Provider::Slatis, line: 1, .. }));
/// assert_eq!(err.to_string(), "invalid slatis webhook body at line 1, column 12: invalid type, expected a string");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not JSON, or not the provider's envelope: malformed syntax, a missing
    /// required field, or a field of the wrong type. A web adapter answers 400.
    #[error("invalid {provider} webhook body at line {line}, column {column}: {reason}")]
    InvalidJson {
        /// The provider whose envelope was expected.
        provider: Provider,
        /// 1-based line of the problem (0 if unknown).
        line: usize,
        /// 1-based column of the problem (0 if unknown).
        column: usize,
        /// What is wrong, without any content of the body.
        reason: String,
    },
    /// The delivery was routed to a parser for another provider: a wiring mistake in the
    /// service, not the sender's fault. A web adapter answers 500.
    #[error("a {got} delivery cannot be parsed as a {expected} event; check the route's provider")]
    WrongProvider {
        /// The provider the parser handles.
        expected: Provider,
        /// The provider the delivery came from.
        got: Provider,
    },
}

impl EventError {
    /// Maps a `serde_json` error without keeping any payload content from its message.
    pub(crate) fn invalid_json(provider: Provider, err: &serde_json::Error) -> Self {
        EventError::InvalidJson {
            provider,
            line: err.line(),
            column: err.column(),
            reason: redacted_reason(err),
        }
    }
}

/// `serde_json` data errors quote the offending value (`invalid type: string "jane@..",
/// expected u64`); keep the schema half only.
fn redacted_reason(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let msg = match full.rfind(" at line ") {
        Some(at) if err.line() != 0 => &full[..at],
        _ => full.as_str(),
    };
    match err.classify() {
        // Fixed texts such as "expected value" or "trailing characters".
        Category::Syntax | Category::Eof => msg.to_owned(),
        Category::Io => "the body could not be read".to_owned(),
        Category::Data => redacted_data_reason(msg),
    }
}

fn redacted_data_reason(msg: &str) -> String {
    // Field names come from our own types, not from the payload.
    if msg.starts_with("missing field `") || msg.starts_with("duplicate field `") {
        return msg.to_owned();
    }
    for prefix in ["invalid type", "invalid value", "invalid length"] {
        if msg.starts_with(prefix) {
            return match msg.split_once(", expected ") {
                Some((_, expected)) => format!("{prefix}, expected {expected}"),
                None => prefix.to_owned(),
            };
        }
    }
    if msg.starts_with("unknown variant") {
        return "unknown variant".to_owned();
    }
    // Custom messages (e.g. from `time`'s RFC 3339 parser) are fixed texts; anything that
    // quotes something is dropped to be safe.
    if msg.len() <= 120 && !msg.contains(['"', '`']) {
        msg.to_owned()
    } else {
        "the data does not match the envelope".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Decode;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        id: u64,
        name: String,
    }

    fn reason_of(body: &str) -> String {
        match Provider::Slatis
            .decode::<Shape>(body.as_bytes())
            .unwrap_err()
        {
            EventError::InvalidJson { reason, .. } => reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_type_keeps_only_the_expected_type() {
        let r = reason_of(r#"{"id": "jane@example.com", "name": "x"}"#);
        assert_eq!(r, "invalid type, expected u64");
    }

    #[test]
    fn invalid_value_does_not_echo_the_number() {
        let r = reason_of(r#"{"id": -77777, "name": "x"}"#);
        assert_eq!(r, "invalid value, expected u64");
    }

    #[test]
    fn missing_field_names_the_field() {
        assert_eq!(reason_of(r#"{"id": 1}"#), "missing field `name`");
    }

    #[test]
    fn syntax_errors_are_fixed_texts_with_a_position() {
        let err = Provider::Slatis
            .decode::<Shape>(b"{\n  \"id\": 1,\n  oops")
            .unwrap_err();
        assert_eq!(
            err,
            EventError::InvalidJson {
                provider: Provider::Slatis,
                line: 3,
                column: 3,
                reason: "key must be a string".to_owned(),
            }
        );
        assert_eq!(
            reason_of(r#"{"id": 1, "name": "secret-value"#),
            "EOF while parsing a string"
        );
        assert_eq!(reason_of(""), "EOF while parsing a value");
    }

    #[test]
    fn wrong_provider_message_names_both() {
        let err = EventError::WrongProvider {
            expected: Provider::CalCom,
            got: Provider::Calendly,
        };
        assert_eq!(
            err.to_string(),
            "a calendly delivery cannot be parsed as a calcom event; check the route's provider"
        );
    }
}
