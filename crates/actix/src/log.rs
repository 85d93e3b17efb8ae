//! The one log line and status mapping of a refused request, as in `bookhook-axum`.

use actix_web::http::StatusCode;
use bookhook_verify::{Provider, RejectionCause};

/// The status of `cause` as actix-web's `http` 0.2 type (the numbers are the same).
pub(crate) fn status(cause: RejectionCause) -> StatusCode {
    StatusCode::from_u16(cause.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Logs a refused request: `error` for server-side faults (5xx: someone must fix the
/// service), `warn` otherwise. Fields are the provider, the cause's label, the status and the
/// short reason, never secrets or bodies; the message is `webhook refused`.
pub(crate) fn refused(provider: Provider, cause: RejectionCause, reason: &dyn std::fmt::Display) {
    let provider = provider.as_str();
    let status = cause.status();
    let cause = cause.as_str();
    if status.is_server_error() {
        tracing::error!(provider, cause, status = status.as_u16(), %reason, "webhook refused");
    } else {
        tracing::warn!(provider, cause, status = status.as_u16(), %reason, "webhook refused");
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fmt::Write;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    use super::*;

    /// Records each event as `LEVEL field=value ...`, in field order.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut String);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    impl Subscriber for Lines {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }

        fn record(&self, _: &Id, _: &Record<'_>) {}

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, event: &Event<'_>) {
            let mut line = event.metadata().level().to_string();
            event.record(&mut Fields(&mut line));
            self.0.lock().unwrap().push(line);
        }

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }

    /// The lines `f` logs, on this thread.
    pub(crate) fn captured(f: impl FnOnce()) -> Vec<String> {
        let lines = Lines::default();
        tracing::subscriber::with_default(lines.clone(), f);
        lines.0.lock().unwrap().clone()
    }

    fn logged(cause: RejectionCause, reason: &str) -> Vec<String> {
        captured(|| refused(Provider::CalCom, cause, &reason))
    }

    #[test]
    fn a_client_fault_is_one_warn_line_with_provider_cause_status_and_reason() {
        assert_eq!(
            logged(RejectionCause::SignatureMismatch, "signature mismatch"),
            [format!(
                "{} message=webhook refused provider=calcom cause=signature_mismatch status=401 \
                 reason=signature mismatch",
                Level::WARN
            )]
        );
    }

    #[test]
    fn a_server_fault_is_one_error_line() {
        assert_eq!(
            logged(RejectionCause::NotConfigured, "no verifier configured"),
            [format!(
                "{} message=webhook refused provider=calcom cause=not_configured status=500 \
                 reason=no verifier configured",
                Level::ERROR
            )]
        );
    }

    #[test]
    fn statuses_are_the_causes_own_numbers() {
        for cause in [
            RejectionCause::SignatureMismatch,
            RejectionCause::PayloadTooLarge,
            RejectionCause::BodyTimeout,
            RejectionCause::NotConfigured,
        ] {
            assert_eq!(status(cause).as_u16(), cause.status().as_u16(), "{cause}");
        }
    }
}
