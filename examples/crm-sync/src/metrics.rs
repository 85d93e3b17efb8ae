//! `GET /metrics`: Prometheus text through the `metrics` facade and
//! `metrics-exporter-prometheus` (its recorder and `PrometheusHandle::render`; not its HTTP
//! listener: the route is one of ours, behind the same connection limits).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `crm_sync_deliveries_total` | counter | `provider`, `outcome` = `accepted` \| `duplicate` \| `rejected` |
//! | `crm_sync_rejections_total` | counter | `provider`, `cause` (the `/stats` causes) |
//! | `crm_sync_secret_matches_total` | counter | `provider`, `secret` (index in the variable's list, from 0) |
//! | `crm_sync_inbox_rows` | gauge | `status` |
//! | `crm_sync_oldest_pending_age_seconds` | gauge | — (0 when nothing is pending) |
//! | `crm_sync_crm_requests_total` | counter | `status` (HTTP status, or `error` when HubSpot did not answer) |
//! | `crm_sync_crm_paused` | gauge | — (1 while HubSpot refuses the token) |
//! | `http_server_request_duration_seconds` | histogram | `route` (the route template; `unmatched` for anything else) |
//!
//! Every label is a bounded set: providers, outcomes, causes, secret indexes, status codes
//! and route templates, never a raw path, id or email. Counters of the ack path are
//! registered once at start-up and kept as handles, so a delivery costs a few atomic
//! increments and no registry lookup; they also read 0 from the first scrape on.
//!
//! The gauges are set from the inbox and the worker when scraped. Histogram samples are
//! folded into their buckets when rendered and by an upkeep task every 5 s, so memory stays
//! bounded when nobody scrapes.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use bookhook_verify::Provider;
use metrics::{Counter, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::inbox::{Status, StatusCounts};

/// The request duration histogram's name.
pub const REQUEST_DURATION: &str = "http_server_request_duration_seconds";

/// Its buckets, in seconds: an acknowledgement waits for one `fsync` (a few ms), so the
/// resolution is in the milliseconds, with room up to the body timeout.
pub const REQUEST_DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// How often histogram samples are folded into buckets when nobody scrapes.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder (once; later calls
/// return the same handle). `None` if another recorder was installed first (an embedding
/// program's): then `/metrics` renders nothing and says so in the log.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(REQUEST_DURATION.to_owned()),
                    &REQUEST_DURATION_BUCKETS,
                )
                .map(PrometheusBuilder::build_recorder);
            let recorder = match builder {
                Ok(recorder) => recorder,
                Err(err) => {
                    tracing::error!(error = %err, "metrics recorder not built; /metrics is empty");
                    return None;
                }
            };
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    describe();
                    Some(handle)
                }
                Err(_) => {
                    tracing::warn!("another metrics recorder is installed; /metrics is empty");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "crm_sync_deliveries_total",
        Unit::Count,
        "Requests to the webhook routes, by provider and outcome"
    );
    metrics::describe_counter!(
        "crm_sync_rejections_total",
        Unit::Count,
        "Refused webhook requests, by provider and cause"
    );
    metrics::describe_counter!(
        "crm_sync_secret_matches_total",
        Unit::Count,
        "Verified deliveries by the index of the secret that matched"
    );
    metrics::describe_gauge!("crm_sync_inbox_rows", Unit::Count, "Inbox rows by status");
    metrics::describe_gauge!(
        "crm_sync_oldest_pending_age_seconds",
        Unit::Seconds,
        "Age of the oldest pending row (0 when none)"
    );
    metrics::describe_counter!(
        "crm_sync_crm_requests_total",
        Unit::Count,
        "Calls to the CRM by answer status (error: no answer)"
    );
    metrics::describe_gauge!(
        "crm_sync_crm_paused",
        "1 while the CRM refuses the token and the worker is paused"
    );
    metrics::describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route template"
    );
}

/// Counter handles of one provider route.
#[derive(Debug)]
struct ProviderCounters {
    provider: &'static str,
    accepted: Counter,
    duplicate: Counter,
    rejected: Counter,
    secrets: Vec<Counter>,
}

/// The handles the request path uses, and the exporter's handle for `/metrics`.
pub struct Metrics {
    handle: Option<PrometheusHandle>,
    providers: Vec<ProviderCounters>,
    routes: HashMap<String, Histogram>,
    unmatched: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("installed", &self.handle.is_some())
            .field("routes", &self.routes.keys())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Installs the recorder (if not yet) and registers the handles for `providers` (each
    /// with its number of secrets) and the route templates `routes`.
    pub fn new<'a>(
        providers: impl IntoIterator<Item = (Provider, usize)>,
        routes: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let handle = install();
        let providers = providers
            .into_iter()
            .map(|(provider, secrets)| {
                let p = provider.as_str();
                let outcome = |o: &'static str| {
                    metrics::counter!("crm_sync_deliveries_total", "provider" => p, "outcome" => o)
                };
                ProviderCounters {
                    provider: p,
                    accepted: outcome("accepted"),
                    duplicate: outcome("duplicate"),
                    rejected: outcome("rejected"),
                    secrets: (0..secrets)
                        .map(|i| {
                            metrics::counter!("crm_sync_secret_matches_total",
                                "provider" => p, "secret" => i.to_string())
                        })
                        .collect(),
                }
            })
            .collect();
        let routes = routes
            .into_iter()
            .map(|r| {
                let h = metrics::histogram!(REQUEST_DURATION, "route" => r.to_owned());
                (r.to_owned(), h)
            })
            .collect();
        // Registered now so that they read 0 before the first event.
        for status in Status::ALL {
            metrics::gauge!("crm_sync_inbox_rows", "status" => status.as_str()).set(0.0);
        }
        metrics::gauge!("crm_sync_crm_paused").set(0.0);
        metrics::gauge!("crm_sync_oldest_pending_age_seconds").set(0.0);
        Metrics {
            handle,
            providers,
            routes,
            unmatched: metrics::histogram!(REQUEST_DURATION, "route" => UNMATCHED_ROUTE),
        }
    }

    fn provider(&self, provider: &str) -> Option<&ProviderCounters> {
        self.providers.iter().find(|p| p.provider == provider)
    }

    /// A delivery stored (`duplicate == false`) or recognised as a redelivery, verified
    /// with the secret at `secret_index`.
    pub fn received(&self, provider: &str, secret_index: usize, duplicate: bool) {
        if let Some(p) = self.provider(provider) {
            if duplicate {
                p.duplicate.increment(1);
            } else {
                p.accepted.increment(1);
            }
            if let Some(c) = p.secrets.get(secret_index) {
                c.increment(1);
            }
        }
    }

    /// A refused request on `provider`'s route, for `cause`.
    pub fn rejected(&self, provider: &'static str, cause: &'static str) {
        if let Some(p) = self.provider(provider) {
            p.rejected.increment(1);
        }
        metrics::counter!("crm_sync_rejections_total", "provider" => provider, "cause" => cause)
            .increment(1);
    }

    /// The duration histogram of the route template `route` (`None`: no route matched).
    pub fn route(&self, route: Option<&str>) -> &Histogram {
        route
            .and_then(|r| self.routes.get(r))
            .unwrap_or(&self.unmatched)
    }

    /// The exposition text, after setting the gauges from the values given.
    pub fn render(&self, rows: StatusCounts, oldest_pending_age: Duration, paused: bool) -> String {
        for (status, n) in [
            (Status::Pending, rows.pending),
            (Status::Delivered, rows.delivered),
            (Status::Failed, rows.failed),
            (Status::Skipped, rows.skipped),
        ] {
            metrics::gauge!("crm_sync_inbox_rows", "status" => status.as_str()).set(n as f64);
        }
        metrics::gauge!("crm_sync_oldest_pending_age_seconds")
            .set(oldest_pending_age.as_secs_f64());
        metrics::gauge!("crm_sync_crm_paused").set(if paused { 1.0 } else { 0.0 });
        self.handle
            .as_ref()
            .map(PrometheusHandle::render)
            .unwrap_or_default()
    }

    /// Folds histogram samples into buckets every [`UPKEEP_EVERY`] until the runtime stops.
    pub fn spawn_upkeep(&self) {
        if let Some(handle) = self.handle.clone() {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(UPKEEP_EVERY);
                loop {
                    tick.tick().await;
                    handle.run_upkeep();
                }
            });
        }
    }
}

/// Counts one call to the CRM by its answer (`None`: no answer).
pub fn crm_request(status: Option<u16>) {
    let label = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
    metrics::counter!("crm_sync_crm_requests_total", "status" => label).increment(1);
}
