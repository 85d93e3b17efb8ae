#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod contact;
pub mod dedupe;
pub mod hubspot;
pub mod inbox;
pub mod metrics;
pub mod rotation;
pub mod routes;
pub mod rows;
pub mod server;
pub mod stats;
pub mod timing;
pub mod worker;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, ConfigError, NoProvider};
use crate::hubspot::HubSpot;
use crate::inbox::{Inbox, InboxError};
use crate::routes::AppState;
use crate::stats::Stats;
use crate::worker::Worker;

/// Why the service could not start or stopped with an error.
#[derive(Debug)]
pub enum RunError {
    /// The inbox could not be opened or migrated.
    Inbox(InboxError),
    /// The CRM client could not be built (the message never holds the token).
    Crm(String),
    /// The listener failed.
    Io(std::io::Error),
    /// The configuration cannot work on this machine (the message names the variable).
    Config(ConfigError),
    /// No provider's secret is set: no webhook route would be live.
    NoProvider(NoProvider),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Inbox(err) => write!(f, "inbox: {err}"),
            RunError::Crm(msg) => write!(f, "crm client: {msg}"),
            RunError::Io(err) => write!(f, "server: {err}"),
            RunError::Config(err) => write!(f, "{err}"),
            RunError::NoProvider(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs the service on `listener` until `shutdown` resolves, then stops in order: stop
/// accepting and drain in-flight requests, stop the CRM worker, let the inbox writer
/// commit what is queued.
///
/// Logs which routes are live and which are disabled, and `listening on <addr>`.
///
/// # Errors
///
/// [`RunError`] if no provider is configured, the connection cap does not fit the file
/// limit, the inbox cannot be opened (a [`RunError::Config`] naming `CRM_SYNC_DB` or
/// `CRM_SYNC_DATABASE_URL`), the CRM client cannot be built, or the server fails.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    config.require_provider().map_err(RunError::NoProvider)?;
    // Before anything opens a file: every connection is a descriptor.
    let nofile = server::raise_file_limit();
    let limits = config
        .connections
        .limits(nofile)
        .map_err(RunError::Config)?;
    tracing::info!(
        file_limit = nofile,
        max_connections = limits.max_connections,
        header_timeout_secs = limits.header_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        "connection limits"
    );

    let crm = match &config.crm.token {
        Some(token) => Some(
            HubSpot::new(&config.crm.base_url, token, config.crm.timeout).map_err(RunError::Crm)?,
        ),
        None => None,
    };

    let backend = config.backend();
    let (inbox, writer) = Inbox::open(&backend).await.map_err(|err| match &backend {
        // Unreadable, not a database, a newer schema, no WAL: the variable is what to
        // change. rusqlite appends the path to "unable to open": the message names the
        // variable, not its value.
        inbox::Backend::Sqlite { path, .. } => RunError::Config(ConfigError {
            var: "CRM_SYNC_DB",
            reason: format!("cannot open the inbox: {err}")
                .replace(&format!(": {}", path.display()), ""),
        }),
        // Unreachable for CONNECT_PATIENCE, a refused login, a newer schema.
        inbox::Backend::Postgres(_) => RunError::Config(ConfigError {
            var: "CRM_SYNC_DATABASE_URL",
            reason: format!("cannot open the inbox: {err}"),
        }),
    })?;
    match &backend {
        inbox::Backend::Sqlite { path, durability } => tracing::info!(
            db = %path.display(),
            synchronous = durability.as_str(),
            pending = inbox.counts().pending,
            "inbox open"
        ),
        inbox::Backend::Postgres(pg) => tracing::info!(
            database = %pg.url,
            pending = inbox.counts().pending,
            "inbox open"
        ),
    }

    for route in &config.routes {
        if route.verifier.is_some() {
            tracing::info!(route = %route.path(), provider = route.provider.as_str(), "route live");
        } else {
            tracing::info!(
                route = %route.path(),
                provider = route.provider.as_str(),
                "route disabled: {} is not set",
                route.var
            );
        }
    }

    let live: Vec<(bookhook_verify::Provider, usize)> = config
        .live_routes()
        .map(|r| (r.provider, r.secrets))
        .collect();
    let metrics = Arc::new(metrics::Metrics::new(
        live.iter().copied(),
        routes::route_templates(&config).iter().map(String::as_str),
    ));
    metrics.spawn_upkeep();
    let crm_health = Arc::new(worker::CrmHealth::default());
    let state = AppState {
        inbox: inbox.clone(),
        stats: Arc::new(Stats::default()),
        metrics,
        crm: Arc::clone(&crm_health),
        rotation: Arc::new(rotation::Rotation::new(
            live.iter().map(|(p, n)| (p.as_str(), *n)),
        )),
        admin: config
            .admin_token
            .as_ref()
            .map(|t| Arc::new(admin::Admin::new(t))),
    };
    if state.admin.is_some() {
        tracing::info!("admin page enabled at /admin");
    }
    let app = routes::router(&config, state);

    let (stop_worker, stop_rx) = watch::channel(false);
    let pruner = config.retention.map(|retention| {
        tokio::spawn(inbox::prune_loop(inbox.clone(), retention, stop_rx.clone()))
    });
    let worker = tokio::spawn(
        Worker::new(inbox, crm, config.crm.retry)
            .with_health(crm_health)
            .run(stop_rx),
    );

    let addr = listener.local_addr().map_err(RunError::Io)?;
    tracing::info!("listening on {addr}");
    let served = server::serve(listener, app, limits, shutdown)
        .await
        .map_err(RunError::Io);
    tracing::info!("no longer accepting; in-flight requests drained");

    let _ = stop_worker.send(true);
    let _ = worker.await;
    if let Some(pruner) = pruner {
        let _ = pruner.await;
    }
    writer.close().await;
    tracing::info!("inbox closed; bye");
    served
}

/// Resolves on ctrl-c (SIGINT) or, on Unix, SIGTERM.
///
/// The SIGTERM handler is installed when this is called, not when the future is first
/// polled: the service logs `listening on` before the server polls it, and a SIGTERM sent
/// in between (a supervisor stopping a just-started service) must still shut down cleanly
/// rather than kill the process. Call it inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        let (ctrl_c, terminate) = (received(interrupt), received(terminate));
        #[cfg(not(unix))]
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => tracing::info!("ctrl-c received; shutting down"),
            () = terminate => tracing::info!("SIGTERM received; shutting down"),
        }
    }
}

/// Resolves when `signal` is received; never when it could not be installed.
#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
