//! The HTTP surface: one verified route per configured provider, `/healthz`, `/stats`,
//! `/metrics` and (with `CRM_SYNC_ADMIN_TOKEN`) `/admin`.
//!
//! A provider route is `POST /webhooks/<provider>` behind `bookhook-axum`'s
//! [`VerifyLayer`], so the handler only ever sees verified requests. Its
//! [`Verified<BookingEvent>`](Verified) extractor parses the body; the handler stores it in
//! the inbox and answers only after the inbox committed:
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

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bookhook_axum::rejection::RejectionCause;
use bookhook_axum::{Verified, VerifyLayer};
use bookhook_events::BookingEvent;
use serde_json::json;
use time::OffsetDateTime;

use crate::config::Config;
use crate::contact::Disposition;
use crate::dedupe::dedupe_key;
use crate::inbox::{Inbox, NewDelivery, Status, Stored};
use crate::metrics::Metrics;
use crate::rotation::Rotation;
use crate::stats::Stats;
use crate::worker::CrmHealth;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The durable inbox.
    pub inbox: Inbox,
    /// The `/stats` counters.
    pub stats: Arc<Stats>,
    /// The `/metrics` handles.
    pub metrics: Arc<Metrics>,
    /// Whether the CRM worker is paused (HubSpot refuses the token).
    pub crm: Arc<CrmHealth>,
    /// Matches per secret index over the last 24 h (the admin page's rotation panel).
    pub rotation: Arc<Rotation>,
    /// The admin page's sessions, when `CRM_SYNC_ADMIN_TOKEN` is set.
    pub admin: Option<Arc<crate::admin::Admin>>,
}

/// Every route template this service answers, for the metrics' `route` label.
pub fn route_templates(config: &Config) -> Vec<String> {
    let mut routes: Vec<String> = ["/healthz", "/stats", "/metrics"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    routes.extend(config.live_routes().map(|r| r.path()));
    if config.admin_token.is_some() {
        routes.extend(crate::admin::ROUTES.iter().map(|r| (*r).to_owned()));
    }
    routes
}

/// The application: every live provider route, `/healthz`, `/stats`, `/metrics`, and the
/// admin routes when enabled; every request timed by route template.
pub fn router(config: &Config, state: AppState) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/stats", get(stats))
        .route("/metrics", get(metrics));
    // Each live route gets its own layers (a `route_layer` on a router without routes
    // panics in axum, and there may be no live route).
    for route in config.live_routes() {
        let Some(verifier) = route.verifier.clone() else {
            continue;
        };
        app = app.route(
            &route.path(),
            post(receive)
                .route_layer(VerifyLayer::new(verifier).limit(config.body_limit))
                .route_layer(middleware::from_fn_with_state(
                    (state.clone(), route.provider.as_str()),
                    count_rejections,
                )),
        );
    }
    let app = match &state.admin {
        Some(_) => app.merge(crate::admin::router()),
        // Off: every /admin path is simply not a route (404).
        None => app,
    };
    let metrics = Arc::clone(&state.metrics);
    // `Router::layer` wraps each route (and the fallback), so `MatchedPath` is known there.
    app.with_state(state)
        .layer(crate::timing::TimeLayer::new(metrics))
}

/// Readiness: `200 ok` while the inbox can store deliveries and the CRM accepts the token,
/// else `503` with the reasons in one line (disk full, database unreachable, writer
/// stopped; HubSpot refusing the token), so a load balancer or an operator sees it.
async fn healthz(State(state): State<AppState>) -> Response {
    let reasons: Vec<String> = [state.inbox.health().err(), state.crm.paused()]
        .into_iter()
        .flatten()
        .collect();
    if reasons.is_empty() {
        plain(StatusCode::OK, "ok")
    } else {
        plain(StatusCode::SERVICE_UNAVAILABLE, &reasons.join("; "))
    }
}

/// Prometheus text (see [`crate::metrics`]).
async fn metrics(State(state): State<AppState>) -> Response {
    let oldest = state.inbox.oldest_pending().await.ok().flatten();
    let age = oldest
        .map(|at| {
            let secs = (OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0);
            Duration::from_secs_f64(secs)
        })
        .unwrap_or_default();
    let text = state
        .metrics
        .render(state.inbox.counts(), age, state.crm.is_paused());
    (
        [(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// The counters and the inbox's row counts as JSON.
async fn stats(State(state): State<AppState>) -> Response {
    Json(state.stats.snapshot(state.inbox.counts())).into_response()
}

/// A verified delivery, parsed by the extractor (a body that is not the provider's JSON
/// envelope is refused there with `400 invalid JSON: …` and counted as `invalid_json`):
/// store, then acknowledge.
async fn receive(
    State(state): State<AppState>,
    Verified(event, verified, body, ..): Verified<BookingEvent>,
) -> Response {
    let received_at = OffsetDateTime::now_utc();
    let provider = verified.provider();
    let provider_name = provider.as_str();
    let disposition = Disposition::of(&event);
    let skip_reason = match &disposition {
        Disposition::Skip(reason) => Some(reason.as_str()),
        Disposition::Sync(_) => None,
    };
    let new = NewDelivery {
        provider: provider.as_str(),
        // Only a delivery id the signature covers may key a delivery (DESIGN.md).
        dedupe_key: dedupe_key(&event, verified.signed_delivery_id(), &body),
        event_type: event.event_type.clone(),
        kind: event.kind.as_str(),
        disposition,
        body,
        received_at,
    };
    match state.inbox.store(new).await {
        Ok(Stored::Accepted { id, status }) => {
            state.stats.received(false);
            state
                .metrics
                .received(provider_name, verified.secret_index(), false);
            state
                .rotation
                .record(provider_name, verified.secret_index(), received_at);
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
                // Logged for tracing a delivery back to the sender, never used as a key.
                delivery_id = verified.delivery_id(),
                "delivery stored"
            );
            (StatusCode::ACCEPTED, Json(json!({"status": "accepted"}))).into_response()
        }
        Ok(Stored::Duplicate) => {
            state.stats.received(true);
            state
                .metrics
                .received(provider_name, verified.secret_index(), true);
            state
                .rotation
                .record(provider_name, verified.secret_index(), received_at);
            tracing::info!(
                provider = provider_name,
                event = %event.event_type,
                kind = event.kind.as_str(),
                outcome = "duplicate",
                "delivery already stored"
            );
            (StatusCode::OK, Json(json!({"status": "duplicate"}))).into_response()
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
            state.metrics.rejected(provider_name, "inbox_unavailable");
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "inbox unavailable");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            response
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, text.to_owned()).into_response()
}

/// Counts the requests the verify layer refused, by cause: `bookhook-axum` answers a
/// refusal itself (the handler never runs) and tags the response with its
/// [`RejectionCause`] (`signature_mismatch`, `timestamp_too_old`, `payload_too_large`, ...).
async fn count_rejections(
    State((state, provider)): State<(AppState, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(cause) = response.extensions().get::<RejectionCause>() {
        state.stats.rejected(cause.as_str());
        state.metrics.rejected(provider, cause.as_str());
    }
    response
}
