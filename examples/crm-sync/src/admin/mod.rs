//! The admin page: `/admin` (server-rendered HTML) and its JSON twin `/admin/api/…`,
//! mounted only when `CRM_SYNC_ADMIN_TOKEN` is set (otherwise every `/admin` path is 404).
//!
//! HTML comes from [`maud`] templates: every spliced value is HTML-escaped unless a
//! template marks it otherwise (none does), so a stored body holding `<script>` renders
//! as text by construction rather than by remembering to escape. No JavaScript at all: the
//! Retry buttons are plain forms. Every page is sent with a `Content-Security-Policy` that
//! allows no script, `Cache-Control: no-store`, `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: same-origin`.
//!
//! Nothing here can show a secret: webhook secrets and the HubSpot token are not in the
//! state these handlers get; the admin token itself is kept only as a digest.
//!
//! See [`auth`] for how access, sessions and CSRF work.

pub mod auth;
mod pages;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

pub use self::auth::Admin;
use self::auth::{Access, csrf_ok};
use crate::inbox::{RetryTarget, Status};
use crate::routes::AppState;
use crate::rows::{self, Filter};

/// The admin route templates (for the metrics' `route` label).
pub const ROUTES: &[&str] = &[
    "/admin",
    "/admin/login",
    "/admin/logout",
    "/admin/deliveries/{id}",
    "/admin/deliveries/{id}/retry",
    "/admin/retry-failed",
    "/admin/api/summary",
    "/admin/api/deliveries",
    "/admin/api/deliveries/{id}",
    "/admin/api/deliveries/{id}/retry",
    "/admin/api/retry-failed",
];

/// How many rows the page's tables show.
pub const PAGE_ROWS: usize = 50;

/// The admin routes (the caller mounts them only when the token is set).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/login", post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/deliveries/{id}", get(delivery))
        .route("/admin/deliveries/{id}/retry", post(retry_one))
        .route("/admin/retry-failed", post(retry_failed))
        .route("/admin/api/summary", get(api_summary))
        .route("/admin/api/deliveries", get(api_list))
        .route("/admin/api/deliveries/{id}", get(api_delivery))
        .route("/admin/api/deliveries/{id}/retry", post(api_retry_one))
        .route("/admin/api/retry-failed", post(api_retry_failed))
}

/// Why an admin request is refused before its handler does anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The admin page is off (no token configured).
    Off,
    /// No valid session or bearer: the login form.
    Login,
    /// A cookie-borne POST without the session's CSRF token, or from another origin.
    Csrf,
    /// The JSON API without a valid bearer token.
    Bearer,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Off => StatusCode::NOT_FOUND.into_response(),
            Refusal::Login => html(StatusCode::UNAUTHORIZED, pages::login(None)),
            Refusal::Csrf => (StatusCode::FORBIDDEN, "CSRF check failed").into_response(),
            Refusal::Bearer => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(json!({"error": "bearer token required"})),
            )
                .into_response(),
        }
    }
}

fn admin(state: &AppState) -> Result<&Admin, Refusal> {
    state.admin.as_deref().ok_or(Refusal::Off)
}

/// An HTML page with the security headers.
fn html(status: StatusCode, markup: maud::Markup) -> Response {
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: under it Chromium sends `Origin: null` with the page's own form
    // POSTs, which the origin check must refuse (found by the browser test).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

fn server_error(what: &str, err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "admin: {what} failed");
    (StatusCode::INTERNAL_SERVER_ERROR, format!("{what} failed")).into_response()
}

/// Everything the dashboard and the summary API show.
#[derive(Debug, serde::Serialize)]
struct Summary {
    counts: crate::inbox::StatusCounts,
    by_provider: BTreeMap<String, BTreeMap<Status, u64>>,
    rotation_since: String,
    rotation: Vec<crate::rotation::Matches>,
    crm_paused: Option<String>,
    inbox_fault: Option<String>,
}

impl Ord for Status {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

impl PartialOrd for Status {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

async fn summary(state: &AppState) -> Result<Summary, Response> {
    let by = state
        .inbox
        .counts_by_provider()
        .await
        .map_err(|e| server_error("reading the inbox", e))?;
    let mut by_provider: BTreeMap<String, BTreeMap<Status, u64>> = BTreeMap::new();
    for (provider, status, n) in by {
        by_provider.entry(provider).or_default().insert(status, n);
    }
    let now = OffsetDateTime::now_utc();
    Ok(Summary {
        counts: state.inbox.counts(),
        by_provider,
        rotation_since: pages::when(state.rotation.since()),
        rotation: state.rotation.last_24h(now),
        crm_paused: state.crm.paused(),
        inbox_fault: state.inbox.health().err(),
    })
}

async fn list(state: &AppState, filter: Filter) -> Result<Vec<rows::Row>, Response> {
    state
        .inbox
        .list(filter)
        .await
        .map_err(|e| server_error("reading the inbox", e))
}

async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let admin = match admin(&state) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(access) = admin.access(&headers, false) else {
        return html(StatusCode::UNAUTHORIZED, pages::login(None));
    };
    let summary = match summary(&state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let filter = |status| Filter {
        status,
        provider: None,
        limit: PAGE_ROWS,
    };
    let newest = match list(&state, filter(None)).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let failed = match list(&state, filter(Some(Status::Failed))).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    html(
        StatusCode::OK,
        pages::dashboard(&summary, &newest, &failed, csrf_of(&access)),
    )
}

fn csrf_of(access: &Access) -> Option<&str> {
    match access {
        Access::Cookie(s) => Some(s.csrf.as_str()),
        Access::Bearer => None,
    }
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let admin = match admin(&state) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    if !admin.is_token(&form.token) {
        tracing::warn!("admin login refused: wrong token");
        return html(
            StatusCode::UNAUTHORIZED,
            pages::login(Some("That token is not right.")),
        );
    }
    let Some((id, _)) = admin.login() else {
        return server_error("creating a session", "no randomness");
    };
    let mut response = see_other("/admin");
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(&id, &headers)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    tracing::info!("admin logged in");
    response
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

/// The admin behind a state-changing HTML request that passed the session and CSRF checks,
/// or the refusal to answer with (404 when the admin page is off).
fn authorize_post<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    form: &CsrfForm,
) -> Result<&'a Admin, Refusal> {
    let admin = admin(state)?;
    let Some(access) = admin.access(headers, false) else {
        return Err(Refusal::Login);
    };
    if !csrf_ok(&access, headers, form.csrf.as_deref()) {
        tracing::warn!(
            origin = ?headers.get(header::ORIGIN),
            host = ?headers.get(header::HOST),
            with_token = form.csrf.is_some(),
            "admin: a POST without a valid CSRF token or from another origin"
        );
        return Err(Refusal::Csrf);
    }
    Ok(admin)
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let admin = match authorize_post(&state, &headers, &form) {
        Ok(admin) => admin,
        Err(r) => return r.into_response(),
    };
    admin.logout(&headers);
    let mut response = see_other("/admin");
    if let Ok(v) = HeaderValue::from_str(&auth::clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let admin = match admin(&state) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(access) = admin.access(&headers, false) else {
        return html(StatusCode::UNAUTHORIZED, pages::login(None));
    };
    match state.inbox.get(id).await {
        Ok(Some(row)) => html(StatusCode::OK, pages::delivery(&row, csrf_of(&access))),
        Ok(None) => html(StatusCode::NOT_FOUND, pages::not_found(id)),
        Err(e) => server_error("reading the inbox", e),
    }
}

async fn retry_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = authorize_post(&state, &headers, &form) {
        return r.into_response();
    }
    match state.inbox.retry(RetryTarget::Ids(vec![id])).await {
        Ok(moved) => {
            tracing::info!(id, moved = moved.len(), "admin: retry");
            see_other("/admin")
        }
        Err(e) => server_error("retrying", e),
    }
}

async fn retry_failed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = authorize_post(&state, &headers, &form) {
        return r.into_response();
    }
    match state.inbox.retry(RetryTarget::AllFailed).await {
        Ok(moved) => {
            tracing::info!(moved = moved.len(), "admin: retry every failed row");
            see_other("/admin")
        }
        Err(e) => server_error("retrying", e),
    }
}

// --- JSON twin: bearer only ------------------------------------------------------------

fn api_access(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    match admin(state)?.access(headers, true) {
        Some(_) => Ok(()),
        None => Err(Refusal::Bearer),
    }
}

async fn api_summary(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = api_access(&state, &headers) {
        return r.into_response();
    }
    match summary(&state).await {
        Ok(s) => Json(s).into_response(),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    provider: Option<String>,
    limit: Option<usize>,
}

async fn api_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(r) = api_access(&state, &headers) {
        return r.into_response();
    }
    let status = match q.status.as_deref().map(Status::parse) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "status: expected pending, delivered, failed or skipped"})),
            )
                .into_response();
        }
    };
    let filter = Filter {
        status,
        provider: q.provider,
        limit: q.limit.unwrap_or(PAGE_ROWS).min(10_000),
    };
    match list(&state, filter).await {
        Ok(r) => Json(r).into_response(),
        Err(r) => r,
    }
}

async fn api_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(r) = api_access(&state, &headers) {
        return r.into_response();
    }
    match state.inbox.get(id).await {
        Ok(Some(found)) => {
            let mut value = serde_json::to_value(&found.row).unwrap_or_default();
            value["body"] = String::from_utf8_lossy(&found.body).into_owned().into();
            Json(value).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no row with id {id}")})),
        )
            .into_response(),
        Err(e) => server_error("reading the inbox", e),
    }
}

async fn api_retry(state: &AppState, headers: &HeaderMap, target: RetryTarget) -> Response {
    if let Err(r) = api_access(state, headers) {
        return r.into_response();
    }
    match state.inbox.retry(target).await {
        Ok(moved) if moved.is_empty() => (
            StatusCode::NOT_FOUND,
            Json(json!({"retried": moved, "error": "no failed row matched"})),
        )
            .into_response(),
        Ok(moved) => Json(json!({ "retried": moved })).into_response(),
        Err(e) => server_error("retrying", e),
    }
}

async fn api_retry_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    api_retry(&state, &headers, RetryTarget::Ids(vec![id])).await
}

async fn api_retry_failed(State(state): State<AppState>, headers: HeaderMap) -> Response {
    api_retry(&state, &headers, RetryTarget::AllFailed).await
}
