//! `crm-sync`: receive verified booking webhooks, store them durably, upsert the attendees
//! as HubSpot contacts; `crm-sync inbox …` looks into the inbox. Configuration is by
//! environment variables (`crm-sync --help`, the README).

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use crm_sync::cli::{Cli, Command};
use crm_sync::config::Config;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // clap exits with 2 on a usage error and 0 for --help / --version.
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(),
        Some(Command::Inbox(command)) => {
            let mut out = std::io::stdout().lock();
            match crm_sync::cli::run_inbox(&command, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("crm-sync: {err}");
                    err.exit_code()
                }
            }
        }
    }
}

/// One line on stderr (and in the log), exit code 2: the message names the variable,
/// never its value.
fn config_error(err: &dyn std::fmt::Display, variable: &str) -> ExitCode {
    tracing::error!(variable, "invalid configuration: {err}");
    eprintln!("crm-sync: {err}");
    ExitCode::from(2)
}

fn serve() -> ExitCode {
    init_tracing();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => return config_error(&err, err.var),
    };
    if let Err(err) = config.require_provider() {
        return config_error(&err, "*_WEBHOOK_SECRET");
    }
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
                // A port in use, or an address this host does not have: the variable is
                // what to change.
                let err = crm_sync::config::ConfigError {
                    var: "CRM_SYNC_ADDR",
                    reason: format!("cannot listen: {err}"),
                };
                return config_error(&err, err.var);
            }
        };
        match crm_sync::serve(config, listener, crm_sync::shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(crm_sync::RunError::Config(err)) => config_error(&err, err.var),
            Err(err @ crm_sync::RunError::NoProvider(_)) => config_error(&err, "*_WEBHOOK_SECRET"),
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
