//! `crm-sync`: receive verified booking webhooks, store them durably, upsert the attendees
//! as HubSpot contacts. Configuration is by environment variables (see the README).

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::process::ExitCode;

use crm_sync::config::Config;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    init_tracing();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            // Names the variable, never its value.
            tracing::error!(variable = err.var, "invalid configuration: {err}");
            eprintln!("crm-sync: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("crm-sync: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(config.addr).await {
            Ok(l) => l,
            Err(err) => {
                tracing::error!(addr = %config.addr, "cannot listen: {err}");
                eprintln!("crm-sync: cannot listen on {}: {err}", config.addr);
                return ExitCode::FAILURE;
            }
        };
        match crm_sync::serve(config, listener, crm_sync::shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(crm_sync::RunError::Config(err)) => {
                tracing::error!(variable = err.var, "invalid configuration: {err}");
                eprintln!("crm-sync: {err}");
                ExitCode::from(2)
            }
            Err(err) => {
                tracing::error!("{err}");
                eprintln!("crm-sync: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `RUST_LOG` filters (default `info`); `CRM_SYNC_LOG_FORMAT=json` switches to one JSON
/// object per line.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("CRM_SYNC_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
