//! The HTTP surface: one verified route per configured provider, `/healthz`, `/stats`.
//!
//! A provider route is `POST /webhooks/<provider>` behind `bookhook-axum`'s
//! [`VerifyLayer`], so the handler only ever sees verified requests. The handler parses
//! the body ([`BookingEvent::from_delivery`]), stores it in the inbox and answers only
//! after the inbox committed:
//!
//! | case | answer |
//! |---|---|
//! | new delivery | `202 {"status":"accepted"}` (also for skipped ones) |
//! | redelivery (same dedupe key) | `200 {"status":"duplicate"}` |
//! | verified but not the provider's JSON envelope | `400`, not stored |
//! | the inbox cannot commit | `503` (the provider retries) |
//! | refused by the verifier | the design's rejection table (401/400/413/408) |
//!
//! A route whose secret is not configured is not mounted: it answers 404.

use std::str::FromStr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bookhook_axum::{VerifiedBody, VerifyLayer};
use bookhook_events::{BookingEvent, Delivery, FromDelivery};
use bookhook_verify::VerifyError;
use serde_json::json;
use time::OffsetDateTime;

use crate::config::Config;
use crate::contact::Disposition;
use crate::dedupe::dedupe_key;
use crate::inbox::{Inbox, NewDelivery, Status, Stored};
use crate::stats::Stats;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The durable inbox.
    pub inbox: Inbox,
    /// The `/stats` counters.
    pub stats: Arc<Stats>,
}

/// Marks a response whose outcome the handler has already counted, so that the
/// rejection counter around the route does not count it again.
#[derive(Debug, Clone, Copy)]
struct Counted;

/// The application: every live provider route, `/healthz` and `/stats`.
pub fn router(config: &Config, state: AppState) -> Router {
    let mut webhooks = Router::new();
    for route in config.routes.iter() {
        let Some(verifier) = route.verifier.clone() else {
            continue;
        };
        webhooks = webhooks.route(
            &route.path(),
            post(receive).route_layer(VerifyLayer::new(verifier).limit(config.body_limit)),
        );
    }
    let webhooks = webhooks.route_layer(middleware::from_fn_with_state(
        state.clone(),
        count_rejections,
    ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/stats", get(stats))
        .merge(webhooks)
        .with_state(state)
}

/// Liveness: the process serves HTTP.
async fn healthz() -> &'static str {
    "ok"
}

/// The counters and the inbox's row counts as JSON.
async fn stats(State(state): State<AppState>) -> Response {
    Json(state.stats.snapshot(state.inbox.counts())).into_response()
}

/// A verified delivery: parse, store, then acknowledge.
async fn receive(
    State(state): State<AppState>,
    VerifiedBody {
        bytes: body,
        verified,
        ..
    }: VerifiedBody,
) -> Response {
    let received_at = OffsetDateTime::now_utc();
    let provider_name = verified.provider().as_str();
    let Ok(provider) = bookhook_events::Provider::from_str(provider_name) else {
        tracing::error!(provider = provider_name, "no event types for this provider");
        state.stats.rejected("unsupported_provider");
        return counted(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unsupported provider",
        ));
    };
    let delivery = Delivery::new(provider, &body)
        .with_delivery_id(verified.delivery_id())
        .with_event_type(verified.event_type());
    let event = match BookingEvent::from_delivery(&delivery) {
        Ok(event) => event,
        Err(err) => {
            // The message locates the problem without repeating any of the body.
            tracing::warn!(
                provider = provider_name,
                outcome = "rejected",
                cause = "invalid_json",
                reason = %err,
                "webhook refused"
            );
            state.stats.rejected("invalid_json");
            return counted(plain(
                StatusCode::BAD_REQUEST,
                &format!("invalid JSON: {err}"),
            ));
        }
    };
    let disposition = Disposition::of(&event);
    let skip_reason = match &disposition {
        Disposition::Skip(reason) => Some(reason.as_str()),
        Disposition::Sync(_) => None,
    };
    let new = NewDelivery {
        provider: provider.as_str(),
        dedupe_key: dedupe_key(&event, verified.delivery_id(), &body),
        event_type: event.event_type.clone(),
        kind: event.kind.as_str(),
        disposition,
        body,
        received_at,
    };
    match state.inbox.store(new).await {
        Ok(Stored::Accepted { id, status }) => {
            state.stats.received(false);
            let outcome = match status {
                Status::Skipped => "skipped",
                _ => "accepted",
            };
            tracing::info!(
                provider = provider_name,
                event = %event.event_type,
                kind = event.kind.as_str(),
                outcome,
                skip_reason,
                id,
                "delivery stored"
            );
            counted((StatusCode::ACCEPTED, Json(json!({"status": "accepted"}))).into_response())
        }
        Ok(Stored::Duplicate) => {
            state.stats.received(true);
            tracing::info!(
                provider = provider_name,
                event = %event.event_type,
                kind = event.kind.as_str(),
                outcome = "duplicate",
                "delivery already stored"
            );
            counted((StatusCode::OK, Json(json!({"status": "duplicate"}))).into_response())
        }
        Err(err) => {
            tracing::error!(
                provider = provider_name,
                event = %event.event_type,
                outcome = "error",
                error = %err,
                "delivery not stored; answering 503 so the provider retries"
            );
            state.stats.rejected("inbox_unavailable");
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "inbox unavailable");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            counted(response)
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, text.to_owned()).into_response()
}

fn counted(mut response: Response) -> Response {
    response.extensions_mut().insert(Counted);
    response
}

/// Counts the requests the verify layer refused, by cause.
///
/// The layer answers a refusal itself (the handler never runs), with the status of the
/// design's table and the error's short text; the cause is recovered from those two (see
/// [`rejection_cause`]). Only refusals are inspected: successful answers pass untouched.
async fn count_rejections(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.extensions().get::<Counted>().is_some() || response.status().is_success() {
        return response;
    }
    let status = response.status();
    let (parts, body) = response.into_parts();
    // Rejection bodies are one short line; anything longer is not one of them.
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    if let Some(cause) = rejection_cause(status, &String::from_utf8_lossy(&bytes)) {
        state.stats.rejected(cause);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The stable cause label of a refusal by `bookhook-axum`, from its status and text:
/// [`VerifyError::cause`] for verification failures, `payload_too_large`, `body_timeout`
/// or `body_read_failed` for body failures. `None` for answers that are not refusals of a
/// delivery (e.g. `405 Method Not Allowed`).
pub fn rejection_cause(status: StatusCode, text: &str) -> Option<&'static str> {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => return Some("payload_too_large"),
        StatusCode::REQUEST_TIMEOUT => return Some("body_timeout"),
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::INTERNAL_SERVER_ERROR => {}
        _ => return None,
    }
    let text = text.trim();
    // Errors whose text is fixed: compare with the core's own `Display`.
    let fixed = [
        VerifyError::MissingToken,
        VerifyError::SignatureMismatch,
        VerifyError::TokenMismatch,
        VerifyError::TimestampTooOld {
            age_secs: 0,
            tolerance_secs: 0,
        },
        VerifyError::TimestampInFuture {
            ahead_secs: 0,
            tolerance_secs: 0,
        },
        VerifyError::NoSecret,
    ];
    if let Some(err) = fixed.iter().find(|e| e.to_string() == text) {
        return Some(err.cause());
    }
    if text.starts_with("malformed ") {
        return Some("malformed");
    }
    if text.starts_with("missing ") && text.ends_with(" header") {
        return Some("missing_header");
    }
    if text.starts_with("failed to read") {
        return Some("body_read_failed");
    }
    Some(match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::BAD_REQUEST => "bad_request",
        _ => "internal_error",
    })
}

#[cfg(test)]
mod tests {
    use bookhook_verify::Provider;

    use super::*;

    #[test]
    fn causes_are_recovered_from_the_verify_layers_answers() {
        let cases = [
            (
                StatusCode::UNAUTHORIZED,
                "signature mismatch",
                "signature_mismatch",
            ),
            (
                StatusCode::UNAUTHORIZED,
                "timestamp too old",
                "timestamp_too_old",
            ),
            (
                StatusCode::UNAUTHORIZED,
                "timestamp in the future",
                "timestamp_in_future",
            ),
            (StatusCode::UNAUTHORIZED, "missing token", "missing_token"),
            (StatusCode::UNAUTHORIZED, "token mismatch", "token_mismatch"),
            (
                StatusCode::UNAUTHORIZED,
                "missing x-slatis-signature header",
                "missing_header",
            ),
            (
                StatusCode::BAD_REQUEST,
                "malformed x-slatis-signature header: empty signature",
                "malformed",
            ),
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload too large: the limit is 10 bytes",
                "payload_too_large",
            ),
            (
                StatusCode::REQUEST_TIMEOUT,
                "request body timeout",
                "body_timeout",
            ),
            (
                StatusCode::BAD_REQUEST,
                "failed to read the request body",
                "body_read_failed",
            ),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "no secret configured",
                "no_secret",
            ),
        ];
        for (status, text, cause) in cases {
            assert_eq!(rejection_cause(status, text), Some(cause), "{text}");
        }
        assert_eq!(rejection_cause(StatusCode::METHOD_NOT_ALLOWED, ""), None);
    }

    #[test]
    fn missing_header_text_matches_the_core() {
        let text = VerifyError::MissingHeader {
            name: "x-cal-signature-256",
        }
        .to_string();
        assert_eq!(
            rejection_cause(StatusCode::UNAUTHORIZED, &text),
            Some("missing_header")
        );
    }

    #[test]
    fn provider_names_agree_between_verify_and_events() {
        for p in Provider::ALL {
            let e = bookhook_events::Provider::from_str(p.as_str()).unwrap();
            assert_eq!(e.as_str(), p.as_str());
        }
    }
}
