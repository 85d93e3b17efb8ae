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
