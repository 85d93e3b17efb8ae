//! The admin page's HTML (maud: every splice is escaped).

use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Summary;
use crate::inbox::Status;
use crate::rows::{Row, RowWithBody};

const STYLE: &str = "
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; } .num { text-align: right; }
.failed { color: #a00; } .pending { color: #a60; } .delivered { color: #070; } .skipped { color: #666; }
.banner { padding: 6px 10px; border: 1px solid #a00; background: #fee; display: inline-block; }
.ok { border-color: #070; background: #efe; }
pre { white-space: pre-wrap; word-break: break-all; background: #f7f7f7; padding: 8px; border: 1px solid #ddd; }
form.inline { display: inline; }
";

/// `2026-11-29T12:00:00Z`, seconds precision.
pub(super) fn when(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · crm-sync" }
                style { (STYLE) }
            }
            body { (body) }
        }
    }
}

pub(super) fn login(error: Option<&str>) -> Markup {
    layout(
        "Log in",
        html! {
            h1 { "crm-sync admin" }
            @if let Some(error) = error {
                p.banner id="login-error" { (error) }
            }
            form method="post" action="/admin/login" {
                label for="token" { "Admin token " }
                input type="password" id="token" name="token" autocomplete="current-password" required;
                " "
                button type="submit" id="login" { "Log in" }
            }
        },
    )
}

fn csrf_field(csrf: Option<&str>) -> Markup {
    html! {
        @if let Some(csrf) = csrf {
            input type="hidden" name="csrf" value=(csrf);
        }
    }
}

fn retry_button(id: i64, csrf: Option<&str>) -> Markup {
    html! {
        form.inline method="post" action={ "/admin/deliveries/" (id) "/retry" } {
            (csrf_field(csrf))
            button type="submit" id={ "retry-" (id) } { "Retry" }
        }
    }
}

fn status_cell(status: Status) -> Markup {
    html! { td class=(status.as_str()) data-status=(status.as_str()) { (status.as_str()) } }
}

fn rows_table(id: &str, rows: &[Row], csrf: Option<&str>, with_retry: bool) -> Markup {
    html! {
        table id=(id) {
            tr {
                th { "id" } th { "received" } th { "provider" } th { "event" } th { "contact" }
                th { "status" } th { "attempts" } th { "last error" }
                @if with_retry { th {} }
            }
            @for r in rows {
                tr id={ (id) "-row-" (r.id) } {
                    td.num { a href={ "/admin/deliveries/" (r.id) } { (r.id) } }
                    td { (r.received_at.get(..19).unwrap_or(&r.received_at)) }
                    td { (r.provider) }
                    td { (r.event_type) }
                    td { (r.contact_email.as_deref().unwrap_or("")) }
                    (status_cell(r.status))
                    td.num { (r.attempts) }
                    td.reason { (r.reason.as_deref().unwrap_or("")) }
                    @if with_retry { td { (retry_button(r.id, csrf)) } }
                }
            }
        }
    }
}

pub(super) fn dashboard(s: &Summary, newest: &[Row], failed: &[Row], csrf: Option<&str>) -> Markup {
    layout(
        "Admin",
        html! {
            h1 { "crm-sync admin" }
            @if csrf.is_some() {
                form.inline method="post" action="/admin/logout" {
                    (csrf_field(csrf)) button type="submit" id="logout" { "Log out" }
                }
            }
            p {
                @match &s.crm_paused {
                    Some(reason) => span.banner id="crm-state" { (reason) },
                    None => span.banner.ok id="crm-state" { "CRM: sending" },
                }
                " "
                @match &s.inbox_fault {
                    Some(reason) => span.banner id="inbox-state" { (reason) },
                    None => span.banner.ok id="inbox-state" { "Inbox: writing" },
                }
            }
            h2 { "Rows by status and provider" }
            table id="counts" {
                tr { th { "provider" } @for st in Status::ALL { th { (st.as_str()) } } }
                @for (provider, by) in &s.by_provider {
                    tr {
                        td { (provider) }
                        @for st in Status::ALL { td.num { (by.get(&st).copied().unwrap_or(0)) } }
                    }
                }
                tr {
                    th { "all" }
                    th.num { (s.counts.pending) } th.num { (s.counts.delivered) }
                    th.num { (s.counts.failed) } th.num { (s.counts.skipped) }
                }
            }
            h2 { "Failed (" (s.counts.failed) ")" }
            @if failed.is_empty() {
                p { "No failed deliveries." }
            } @else {
                form method="post" action="/admin/retry-failed" {
                    (csrf_field(csrf)) button type="submit" id="retry-all" { "Retry all failed" }
                }
                (rows_table("failed", failed, csrf, true))
            }
            h2 { "Newest deliveries" }
            (rows_table("newest", newest, csrf, false))
            h2 { "Secret rotation: verified deliveries per secret, last 24 h" }
            p { "Counting since " (s.rotation_since) " (in memory: a restart starts over). \
                 A secret at 0 for a whole day can be removed from its variable." }
            table id="rotation" {
                tr { th { "provider" } th { "secret (index in the list)" } th { "matches" } }
                @for m in &s.rotation {
                    tr { td { (m.provider) } td.num { (m.secret) } td.num { (m.last_24h) } }
                }
            }
        },
    )
}

pub(super) fn delivery(found: &RowWithBody, csrf: Option<&str>) -> Markup {
    let r = &found.row;
    let body = String::from_utf8_lossy(&found.body);
    layout(
        &format!("Delivery {}", r.id),
        html! {
            p { a href="/admin" { "← admin" } }
            h1 { "Delivery " (r.id) }
            table id="delivery" {
                tr { th { "provider" } td { (r.provider) } }
                tr { th { "event" } td { (r.event_type) " (" (r.kind) ")" } }
                tr { th { "status" } (status_cell(r.status)) }
                tr { th { "attempts" } td { (r.attempts) } }
                tr { th { "CRM status" } td { (r.http_status.map(|s| s.to_string()).unwrap_or_default()) } }
                tr { th { "last error" } td.reason { (r.reason.as_deref().unwrap_or("")) } }
                tr { th { "contact" } td { (r.contact_email.as_deref().unwrap_or("")) } }
                tr { th { "received" } td { (r.received_at) } }
                tr { th { "updated" } td { (r.updated_at) } }
            }
            @if r.status == Status::Failed { p { (retry_button(r.id, csrf)) } }
            h2 { "Body as received" }
            pre id="body" { (body) }
        },
    )
}

pub(super) fn not_found(id: i64) -> Markup {
    layout(
        "Not found",
        html! { p { a href="/admin" { "← admin" } } p { "No delivery with id " (id) "." } },
    )
}
