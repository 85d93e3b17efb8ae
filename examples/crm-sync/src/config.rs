//! Configuration from the environment (see the README's table).
//!
//! Reading the configuration requires nothing: `crm-sync inbox …` needs only `CRM_SYNC_DB`.
//! Serving requires at least one provider's secret (see [`Config::require_provider`]). A
//! variable that is *set* but unusable (an invalid secret, an address that does not parse)
//! stops start-up with a message naming the variable, never its value.
//!
//! [`VARIABLES`] lists every variable with its default; `crm-sync --help` prints it.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bookhook_verify::{ByProvider, Provider, Verifier};

use crate::hubspot::HubSpotToken;
use crate::inbox::{Backend, DatabaseUrl, Durability, PostgresConfig};
use crate::server::{self, Limits};
use crate::worker::RetryPolicy;

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Default SQLite file.
pub const DEFAULT_DB: &str = "crm-sync.db";
/// Default CRM base URL.
pub const DEFAULT_HUBSPOT_BASE_URL: &str = "https://api.hubapi.com";
/// Default largest accepted body (the design's 256 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;
/// Default per-request timeout towards the CRM.
pub const DEFAULT_HUBSPOT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `CRM_SYNC_HEADER_TIMEOUT_SECS`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `CRM_SYNC_IDLE_TIMEOUT_SECS`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `CRM_SYNC_LEASE_SECS`.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// Default `CRM_SYNC_RETENTION_DAYS`.
pub const DEFAULT_RETENTION_DAYS: u64 = 30;

/// The registry line per provider: the environment variable holding its secret(s).
pub const SECRET_VARS: ByProvider<&str> = ByProvider {
    slatis: "SLATIS_WEBHOOK_SECRET",
    slotflow: "SLOTFLOW_WEBHOOK_TOKEN",
    bookable: "BOOKABLE_WEBHOOK_SECRET",
    schedulingkit: "SCHEDULINGKIT_WEBHOOK_SECRET",
    calcom: "CALCOM_WEBHOOK_SECRET",
    calendly: "CALENDLY_WEBHOOK_SIGNING_KEY",
    standard: "STANDARD_WEBHOOK_SECRET",
};

/// The shortest `CRM_SYNC_ADMIN_TOKEN` accepted: it is the only credential of the admin page.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// One environment variable: its name, its default and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The name.
    pub name: &'static str,
    /// The default, as a person reads it.
    pub default: &'static str,
    /// What it does, in a few words.
    pub meaning: &'static str,
}

const fn var(name: &'static str, default: &'static str, meaning: &'static str) -> Variable {
    Variable {
        name,
        default,
        meaning,
    }
}

/// Every variable the service reads, in the README's order (`crm-sync --help` prints them).
pub const VARIABLES: &[Variable] = &[
    var("CRM_SYNC_ADDR", DEFAULT_ADDR, "listen address"),
    var("CRM_SYNC_DB", DEFAULT_DB, "SQLite file of the inbox"),
    var(
        "CRM_SYNC_DATABASE_URL",
        "unset: SQLite at CRM_SYNC_DB",
        "postgres://user:pass@host:port/db selects the PostgreSQL inbox",
    ),
    var(
        "CRM_SYNC_LEASE_SECS",
        "60",
        "how long a replica's worker owns a claimed batch (PostgreSQL)",
    ),
    var(
        "CRM_SYNC_RETENTION_DAYS",
        "30",
        "delivered/skipped rows older than this are pruned (0: never)",
    ),
    var(
        "SLATIS_WEBHOOK_SECRET",
        "unset: route disabled",
        "Slatis secret(s), comma-separated",
    ),
    var(
        "SLOTFLOW_WEBHOOK_TOKEN",
        "unset: route disabled",
        "Slotflow URL token(s), comma-separated",
    ),
    var(
        "BOOKABLE_WEBHOOK_SECRET",
        "unset: route disabled",
        "Bookable (Samna) secret(s)",
    ),
    var(
        "SCHEDULINGKIT_WEBHOOK_SECRET",
        "unset: route disabled",
        "SchedulingKit secret(s)",
    ),
    var(
        "CALCOM_WEBHOOK_SECRET",
        "unset: route disabled",
        "Cal.com secret(s)",
    ),
    var(
        "CALENDLY_WEBHOOK_SIGNING_KEY",
        "unset: route disabled",
        "Calendly signing key(s)",
    ),
    var(
        "STANDARD_WEBHOOK_SECRET",
        "unset: route disabled",
        "Standard Webhooks whsec_ secret(s)",
    ),
    var(
        "HUBSPOT_TOKEN",
        "unset: rows are stored and wait",
        "HubSpot private-app token (Bearer)",
    ),
    var("HUBSPOT_BASE_URL", DEFAULT_HUBSPOT_BASE_URL, "CRM base URL"),
    var(
        "CRM_SYNC_SYNCHRONOUS",
        "FULL",
        "FULL or NORMAL: how hard commits are synced",
    ),
    var(
        "CRM_SYNC_BODY_LIMIT",
        "262144",
        "largest accepted body, bytes",
    ),
    var(
        "HUBSPOT_TIMEOUT_MS",
        "10000",
        "per-request timeout towards HubSpot",
    ),
    var("CRM_SYNC_RETRY_BASE_MS", "500", "first retry delay"),
    var("CRM_SYNC_RETRY_MAX_MS", "60000", "longest retry delay"),
    var("RUST_LOG", "info", "log filter"),
    var(
        "CRM_SYNC_LOG_FORMAT",
        "plain text",
        "json: one JSON object per line",
    ),
    var(
        "CRM_SYNC_HEADER_TIMEOUT_SECS",
        "10",
        "time allowed to send complete request headers",
    ),
    var(
        "CRM_SYNC_IDLE_TIMEOUT_SECS",
        "60",
        "idle keep-alive connections are closed after",
    ),
    var(
        "CRM_SYNC_MAX_CONNECTIONS",
        "3/4 of (file limit - 64), at most 10000",
        "connections open at once",
    ),
    var(
        "CRM_SYNC_ADMIN_TOKEN",
        "unset: /admin answers 404",
        "enables /admin and /admin/api (at least 16 characters)",
    ),
];

/// The variables that enable a webhook route, in route order.
pub fn provider_vars() -> impl Iterator<Item = &'static str> {
    SECRET_VARS.iter().map(|(_, var)| *var)
}

/// `CRM_SYNC_ADMIN_TOKEN`. `Debug` never shows it.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    /// The token as configured, for the admin module's constant-time comparison only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// An admin token for unit tests.
#[cfg(test)]
pub(crate) fn test_admin_token(token: &str) -> AdminToken {
    AdminToken(token.to_owned())
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(REDACTED)")
    }
}

/// One provider route and whether it is live.
#[derive(Debug, Clone)]
pub struct Route {
    /// The provider (`/webhooks/<provider>`).
    pub provider: Provider,
    /// The variable its secret comes from.
    pub var: &'static str,
    /// The verifier, or `None` when the variable is unset (the route is not mounted).
    pub verifier: Option<Verifier>,
    /// How many secrets the variable lists (0 when unset): the rotation panel and
    /// `crm_sync_secret_matches_total` show each index, used or not.
    pub secrets: usize,
}

impl Route {
    /// The URL path: `/webhooks/<provider name>`.
    pub fn path(&self) -> String {
        format!("/webhooks/{}", self.provider.as_str())
    }
}

/// Where to send contacts.
#[derive(Debug, Clone)]
pub struct CrmConfig {
    /// `HUBSPOT_TOKEN`, or `None`: deliveries are stored and the worker waits.
    pub token: Option<HubSpotToken>,
    /// `HUBSPOT_BASE_URL`.
    pub base_url: String,
    /// `HUBSPOT_TIMEOUT_MS`: per request.
    pub timeout: Duration,
    /// `CRM_SYNC_RETRY_BASE_MS` / `CRM_SYNC_RETRY_MAX_MS`.
    pub retry: RetryPolicy,
}

/// Connection-level limits. The connection cap's default depends on the file limit, which
/// is only known (and raised) at start-up: see [`Connections::limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// `CRM_SYNC_HEADER_TIMEOUT_SECS`.
    pub header_timeout: Duration,
    /// `CRM_SYNC_IDLE_TIMEOUT_SECS`.
    pub idle_timeout: Duration,
    /// `CRM_SYNC_MAX_CONNECTIONS`, or `None` for a share of the file limit.
    pub max_connections: Option<usize>,
}

impl Connections {
    /// The limits to serve with, given the soft file limit in force (`None`: unknown).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `CRM_SYNC_MAX_CONNECTIONS` if it asks for more connections
    /// than the file limit can hold.
    pub fn limits(&self, nofile: Option<u64>) -> Result<Limits, ConfigError> {
        let max_connections = match (self.max_connections, nofile) {
            (Some(n), Some(nofile)) if n > server::max_connections_allowed(nofile) => {
                return Err(ConfigError {
                    var: "CRM_SYNC_MAX_CONNECTIONS",
                    reason: format!(
                        "the file limit ({nofile}) holds at most {} connections; lower it or \
                         raise the hard limit (ulimit -Hn)",
                        server::max_connections_allowed(nofile)
                    ),
                });
            }
            (Some(n), _) => n,
            (None, Some(nofile)) => server::default_max_connections(nofile),
            (None, None) => server::DEFAULT_MAX_CONNECTIONS_CEILING,
        };
        Ok(Limits {
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            max_connections,
        })
    }
}

/// Everything the service needs to start. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct Config {
    /// `CRM_SYNC_ADDR`.
    pub addr: SocketAddr,
    /// `CRM_SYNC_DB`.
    pub db_path: PathBuf,
    /// `CRM_SYNC_SYNCHRONOUS`.
    pub durability: Durability,
    /// `CRM_SYNC_DATABASE_URL` and `CRM_SYNC_LEASE_SECS`: `Some` selects the PostgreSQL
    /// inbox instead of the SQLite file.
    pub postgres: Option<PostgresConfig>,
    /// `CRM_SYNC_RETENTION_DAYS`: delivered and skipped rows older than this are pruned in
    /// the background; `None` (`0`) keeps them.
    pub retention: Option<Duration>,
    /// `CRM_SYNC_BODY_LIMIT`: the largest body accepted, in bytes.
    pub body_limit: usize,
    /// Every provider route, live or disabled.
    pub routes: Vec<Route>,
    /// The CRM side.
    pub crm: CrmConfig,
    /// Connection-level limits.
    pub connections: Connections,
    /// `CRM_SYNC_ADMIN_TOKEN`: `None` keeps `/admin` off (404).
    pub admin_token: Option<AdminToken>,
}

/// A variable is set to something unusable. The message names the variable and says
/// what is expected; it never repeats the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is invalid: {}", self.var, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The inbox backend: PostgreSQL when `CRM_SYNC_DATABASE_URL` is set, else SQLite.
    pub fn backend(&self) -> Backend {
        match &self.postgres {
            Some(pg) => Backend::Postgres(Box::new(pg.clone())),
            None => Backend::Sqlite {
                path: self.db_path.clone(),
                durability: self.durability,
            },
        }
    }

    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for the first variable that is set but unusable (including one that
    /// is not valid UTF-8).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_var)
    }

    /// Reads the configuration through `lookup` (a variable's value, `None` if unset).
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`].
    pub fn from_lookup(
        lookup: impl Fn(&'static str) -> Result<Option<String>, ConfigError>,
    ) -> Result<Self, ConfigError> {
        let invalid = |var: &'static str, reason: &str| ConfigError {
            var,
            reason: reason.to_owned(),
        };

        let addr = lookup("CRM_SYNC_ADDR")?
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned())
            .trim()
            .parse()
            .map_err(|_| invalid("CRM_SYNC_ADDR", "expected IP:PORT, e.g. 127.0.0.1:8080"))?;
        let db_path = db_path(&lookup)?;
        let durability = match lookup("CRM_SYNC_SYNCHRONOUS")? {
            Some(v) => v
                .parse()
                .map_err(|reason: String| invalid("CRM_SYNC_SYNCHRONOUS", &reason))?,
            None => Durability::default(),
        };
        let body_limit = number(&lookup, "CRM_SYNC_BODY_LIMIT", DEFAULT_BODY_LIMIT as u64)?;
        let body_limit = usize::try_from(body_limit)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid("CRM_SYNC_BODY_LIMIT", "expected a positive number of bytes"))?;

        let mut routes = Vec::with_capacity(Provider::ALL.len());
        for (provider, &var) in SECRET_VARS.iter() {
            let list = lookup(var)?;
            let secrets = list.as_deref().map_or(0, |l| l.split(',').count());
            let verifier = match list {
                None => None,
                Some(list) => Some(
                    Verifier::builder(provider)
                        .secrets(&list)
                        .build()
                        // bookhook-verify's messages name the provider and the entry's
                        // index, never the secret.
                        .map_err(|err| ConfigError {
                            var,
                            reason: err.to_string(),
                        })?,
                ),
            };
            routes.push(Route {
                provider,
                var,
                verifier,
                secrets,
            });
        }

        let token = match lookup("HUBSPOT_TOKEN")? {
            None => None,
            Some(t) if t.trim().is_empty() => {
                return Err(invalid(
                    "HUBSPOT_TOKEN",
                    "empty; unset it to run without a CRM",
                ));
            }
            Some(t) => Some(HubSpotToken::new(t.trim())),
        };
        let base_url = lookup("HUBSPOT_BASE_URL")?
            .map(|u| u.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_HUBSPOT_BASE_URL.to_owned());
        match reqwest::Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(invalid(
                    "HUBSPOT_BASE_URL",
                    "expected an http:// or https:// URL",
                ));
            }
        }
        let timeout_ms = number(
            &lookup,
            "HUBSPOT_TIMEOUT_MS",
            DEFAULT_HUBSPOT_TIMEOUT.as_millis() as u64,
        )?;
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            base: Duration::from_millis(number(
                &lookup,
                "CRM_SYNC_RETRY_BASE_MS",
                defaults.base.as_millis() as u64,
            )?),
            max: Duration::from_millis(number(
                &lookup,
                "CRM_SYNC_RETRY_MAX_MS",
                defaults.max.as_millis() as u64,
            )?),
        };
        if timeout_ms == 0 {
            return Err(invalid("HUBSPOT_TIMEOUT_MS", "expected a positive number"));
        }
        if retry.base.is_zero() || retry.max < retry.base {
            return Err(invalid(
                "CRM_SYNC_RETRY_MAX_MS",
                "expected 0 < CRM_SYNC_RETRY_BASE_MS <= CRM_SYNC_RETRY_MAX_MS",
            ));
        }
        let secs = |var: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            match number(&lookup, var, default.as_secs())? {
                0 => Err(invalid(var, "expected a positive number of seconds")),
                n => Ok(Duration::from_secs(n)),
            }
        };
        let lease = secs("CRM_SYNC_LEASE_SECS", DEFAULT_LEASE)?;
        // A CRM call that outlives the lease lets another replica claim and send the
        // same rows while the first is still waiting for HubSpot. A claim is sent without
        // renewal while younger than RENEW_AFTER, so that much must be left over too.
        if lease < Duration::from_millis(timeout_ms) + 2 * crate::worker::RENEW_AFTER {
            return Err(invalid(
                "CRM_SYNC_LEASE_SECS",
                "must exceed HUBSPOT_TIMEOUT_MS by at least 2 s, or another replica may send \
                 a batch while its first sender still waits for HubSpot",
            ));
        }
        let postgres = database_url(&lookup)?.map(|url| PostgresConfig { url, lease });
        let retention = match number(&lookup, "CRM_SYNC_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)? {
            0 => None,
            // Beyond ~27 000 years the instant arithmetic would overflow: that is "never".
            days if days > 10_000_000 => None,
            days => Some(Duration::from_secs(days * 86_400)),
        };
        let connections = Connections {
            header_timeout: secs("CRM_SYNC_HEADER_TIMEOUT_SECS", DEFAULT_HEADER_TIMEOUT)?,
            idle_timeout: secs("CRM_SYNC_IDLE_TIMEOUT_SECS", DEFAULT_IDLE_TIMEOUT)?,
            max_connections: match lookup("CRM_SYNC_MAX_CONNECTIONS")? {
                None => None,
                Some(v) => Some(
                    v.trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            invalid("CRM_SYNC_MAX_CONNECTIONS", "expected a positive number")
                        })?,
                ),
            },
        };
        let admin_token = match lookup("CRM_SYNC_ADMIN_TOKEN")? {
            None => None,
            Some(t) if t.trim().chars().count() < MIN_ADMIN_TOKEN_LEN => {
                return Err(invalid(
                    "CRM_SYNC_ADMIN_TOKEN",
                    "expected at least 16 characters; unset it to keep /admin off",
                ));
            }
            Some(t) => Some(AdminToken(t.trim().to_owned())),
        };
        let crm = CrmConfig {
            token,
            base_url,
            timeout: Duration::from_millis(timeout_ms),
            retry,
        };
        Ok(Config {
            addr,
            db_path,
            durability,
            postgres,
            retention,
            body_limit,
            routes,
            crm,
            connections,
            admin_token,
        })
    }

    /// `CRM_SYNC_DB` alone: what the `inbox` subcommands need, so that they work even while
    /// another variable is set to something the service would refuse.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming `CRM_SYNC_DB` if it is set but empty or not UTF-8.
    pub fn db_path_from_env() -> Result<PathBuf, ConfigError> {
        db_path(&env_var)
    }

    /// `CRM_SYNC_DATABASE_URL` alone, for the `crm-sync inbox` commands: `None` when unset
    /// (the SQLite inbox).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if it is set but unusable.
    pub fn postgres_from_env() -> Result<Option<PostgresConfig>, ConfigError> {
        let Some(url) = database_url(&env_var)? else {
            return Ok(None);
        };
        // The commands hold no lease: the default only fills the field.
        Ok(Some(PostgresConfig {
            url,
            lease: DEFAULT_LEASE,
        }))
    }

    /// Serving needs at least one live provider route: without one the service could only
    /// answer 404, which is a configuration mistake, not a way to run.
    ///
    /// # Errors
    ///
    /// [`NoProvider`] naming every variable that would enable a route.
    pub fn require_provider(&self) -> Result<(), NoProvider> {
        match self.live_routes().next() {
            Some(_) => Ok(()),
            None => Err(NoProvider),
        }
    }

    /// The routes whose secret is set.
    pub fn live_routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().filter(|r| r.verifier.is_some())
    }
}

/// No provider's secret is set, so no webhook route would be live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoProvider;

impl fmt::Display for NoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no provider is configured: set at least one of ")?;
        for (i, var) in provider_vars().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(var)?;
        }
        f.write_str(" (see crm-sync --help)")
    }
}

impl std::error::Error for NoProvider {}

/// A variable of the process environment (`None` if unset).
fn env_var(var: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(var) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError {
            var,
            reason: "not valid UTF-8".to_owned(),
        }),
    }
}

/// `CRM_SYNC_DB`, or the default when unset.
fn db_path(
    lookup: &impl Fn(&'static str) -> Result<Option<String>, ConfigError>,
) -> Result<PathBuf, ConfigError> {
    match lookup("CRM_SYNC_DB")? {
        Some(p) if p.trim().is_empty() => Err(ConfigError {
            var: "CRM_SYNC_DB",
            reason: "empty; unset it for the default".to_owned(),
        }),
        Some(p) => Ok(PathBuf::from(p)),
        None => Ok(PathBuf::from(DEFAULT_DB)),
    }
}

/// `CRM_SYNC_DATABASE_URL`, parsed (`None` if unset: the SQLite inbox).
fn database_url(
    lookup: &impl Fn(&'static str) -> Result<Option<String>, ConfigError>,
) -> Result<Option<DatabaseUrl>, ConfigError> {
    let var = "CRM_SYNC_DATABASE_URL";
    match lookup(var)? {
        None => Ok(None),
        Some(url) if url.trim().is_empty() => Err(ConfigError {
            var,
            reason: "empty; unset it for the SQLite inbox".to_owned(),
        }),
        Some(url) => url
            .parse()
            .map(Some)
            .map_err(|reason: String| ConfigError { var, reason }),
    }
}

fn number(
    lookup: &impl Fn(&'static str) -> Result<Option<String>, ConfigError>,
    var: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match lookup(var)? {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError {
            var,
            reason: "expected a whole number".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Config::from_lookup(|var| Ok(map.get(var).cloned()))
    }

    #[test]
    fn empty_environment_gives_the_documented_defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.db_path, PathBuf::from("crm-sync.db"));
        assert_eq!(c.durability, Durability::Full);
        assert_eq!(c.body_limit, 256 * 1024);
        assert_eq!(c.routes.len(), 7);
        assert_eq!(c.live_routes().count(), 0);
        assert!(c.crm.token.is_none());
        assert_eq!(c.crm.base_url, "https://api.hubapi.com");
        assert_eq!(c.crm.retry, RetryPolicy::default());
        assert_eq!(c.connections.header_timeout, Duration::from_secs(10));
        assert_eq!(c.connections.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.connections.max_connections, None);
    }

    #[test]
    fn the_connection_cap_must_fit_the_file_limit() {
        let c = config(&[("CRM_SYNC_MAX_CONNECTIONS", "960")]).unwrap();
        assert_eq!(
            c.connections.limits(Some(1024)).unwrap().max_connections,
            960
        );
        let err = config(&[("CRM_SYNC_MAX_CONNECTIONS", "961")])
            .unwrap()
            .connections
            .limits(Some(1024))
            .unwrap_err();
        assert_eq!(err.var, "CRM_SYNC_MAX_CONNECTIONS");
        assert!(err.to_string().contains("at most 960"), "{err}");
        // Unset: a share of the limit.
        let c = config(&[]).unwrap();
        assert_eq!(
            c.connections.limits(Some(1024)).unwrap().max_connections,
            720
        );
    }

    #[test]
    fn a_set_secret_enables_its_route_only() {
        let c = config(&[("SLATIS_WEBHOOK_SECRET", "whsec_a,whsec_b")]).unwrap();
        let live: Vec<_> = c.live_routes().map(Route::path).collect();
        assert_eq!(live, ["/webhooks/slatis"]);
    }

    #[test]
    fn invalid_secret_names_the_variable_and_not_the_value() {
        let err = config(&[("STANDARD_WEBHOOK_SECRET", "whsec_!!not-base64!!")]).unwrap_err();
        assert_eq!(err.var, "STANDARD_WEBHOOK_SECRET");
        let msg = err.to_string();
        assert!(
            msg.starts_with("STANDARD_WEBHOOK_SECRET is invalid"),
            "{msg}"
        );
        assert!(!msg.contains("not-base64"), "{msg}");

        let err = config(&[("SLOTFLOW_WEBHOOK_TOKEN", "short")]).unwrap_err();
        assert_eq!(err.var, "SLOTFLOW_WEBHOOK_TOKEN");
        assert!(!err.to_string().contains("short"));

        let err = config(&[("CALCOM_WEBHOOK_SECRET", "a,,b")]).unwrap_err();
        assert_eq!(err.var, "CALCOM_WEBHOOK_SECRET");
        let err = config(&[("BOOKABLE_WEBHOOK_SECRET", "")]).unwrap_err();
        assert_eq!(err.var, "BOOKABLE_WEBHOOK_SECRET");
    }

    #[test]
    fn other_invalid_values_name_their_variable() {
        for (var, value) in [
            ("CRM_SYNC_ADDR", "localhost"),
            ("CRM_SYNC_SYNCHRONOUS", "OFF"),
            ("CRM_SYNC_BODY_LIMIT", "0"),
            ("HUBSPOT_TOKEN", " "),
            ("HUBSPOT_TIMEOUT_MS", "soon"),
            ("HUBSPOT_BASE_URL", "api.hubapi.com"),
            ("CRM_SYNC_HEADER_TIMEOUT_SECS", "0"),
            ("CRM_SYNC_IDLE_TIMEOUT_SECS", "1.5"),
            ("CRM_SYNC_MAX_CONNECTIONS", "0"),
            ("CRM_SYNC_MAX_CONNECTIONS", "many"),
        ] {
            assert_eq!(config(&[(var, value)]).unwrap_err().var, var, "{var}");
        }
    }

    #[test]
    fn every_variable_read_is_listed_with_its_default() {
        let read = std::sync::Mutex::new(Vec::new());
        Config::from_lookup(|var| {
            read.lock().unwrap().push(var);
            Ok(None)
        })
        .unwrap();
        let listed: Vec<_> = VARIABLES.iter().map(|v| v.name).collect();
        for var in read.into_inner().unwrap() {
            assert!(listed.contains(&var), "{var} is read but not in VARIABLES");
        }
        let readme = include_str!("../README.md");
        for v in VARIABLES {
            assert!(
                readme.contains(&format!("`{}`", v.name)),
                "{} not in README",
                v.name
            );
        }
    }

    #[test]
    fn the_lease_must_outlast_a_crm_call_and_the_database_url_is_checked_and_hidden() {
        let lease = |secs: &str, timeout_ms: &str| {
            config(&[
                ("CRM_SYNC_LEASE_SECS", secs),
                ("HUBSPOT_TIMEOUT_MS", timeout_ms),
            ])
        };
        let err = lease("11", "10000").unwrap_err();
        assert_eq!(err.var, "CRM_SYNC_LEASE_SECS");
        assert!(err.reason.contains("HUBSPOT_TIMEOUT_MS"), "{err}");
        assert!(lease("12", "10000").unwrap().postgres.is_none());
        assert_eq!(
            config(&[]).unwrap().retention,
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(
            config(&[("CRM_SYNC_RETENTION_DAYS", "0")])
                .unwrap()
                .retention,
            None
        );

        let c = config(&[(
            "CRM_SYNC_DATABASE_URL",
            "postgres://u:hunter22@db:5432/inbox",
        )])
        .unwrap();
        let pg = c.postgres.as_ref().unwrap();
        assert_eq!(pg.lease, DEFAULT_LEASE);
        assert!(!format!("{c:?}").contains("hunter22"));
        assert!(matches!(c.backend(), Backend::Postgres(_)));
        for bad in ["", "sqlite:///tmp/x.db", "postgres//db"] {
            let err = config(&[("CRM_SYNC_DATABASE_URL", bad)]).unwrap_err();
            assert_eq!(err.var, "CRM_SYNC_DATABASE_URL", "{bad:?}");
        }
    }

    #[test]
    fn no_provider_names_every_provider_variable() {
        let c = config(&[]).unwrap();
        let msg = c.require_provider().unwrap_err().to_string();
        for (_, var) in SECRET_VARS.iter() {
            assert!(msg.contains(var), "{msg}");
        }
        assert!(!msg.contains('\n'));
        let c = config(&[("CALCOM_WEBHOOK_SECRET", "calcom_secret")]).unwrap();
        assert!(c.require_provider().is_ok());
    }

    #[test]
    fn a_short_admin_token_is_refused_and_never_shown() {
        let err = config(&[("CRM_SYNC_ADMIN_TOKEN", "short-token")]).unwrap_err();
        assert_eq!(err.var, "CRM_SYNC_ADMIN_TOKEN");
        assert!(!err.to_string().contains("short-token"));
        let c = config(&[("CRM_SYNC_ADMIN_TOKEN", "a-long-enough-admin-token")]).unwrap();
        assert_eq!(
            c.admin_token.as_ref().unwrap().expose(),
            "a-long-enough-admin-token"
        );
        assert!(!format!("{c:?}").contains("a-long-enough"));
    }

    #[test]
    fn debug_redacts_secrets_and_token() {
        let c = config(&[
            ("SLATIS_WEBHOOK_SECRET", "whsec_topsecretvalue"),
            ("HUBSPOT_TOKEN", "pat-na1-topsecrettoken"),
        ])
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("topsecret"), "{dbg}");
    }
}
