//! The command line: `crm-sync [serve]` runs the service, `crm-sync inbox …` looks into and
//! repairs the inbox named by `CRM_SYNC_DB` (or `CRM_SYNC_DATABASE_URL`), also while the
//! service runs.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done (an empty `list` and a `prune` that found nothing are done too) |
//! | 1 | nothing matched: `show` or `retry` of an id that is not there (or not failed), `retry --failed` with no failed row; for `serve`, the service failed after starting |
//! | 2 | usage or configuration error: a bad argument, a variable set to something unusable, no provider configured, the address in use, a database that cannot be opened |
//!
//! # Beside a running service
//!
//! On PostgreSQL a command opens the inbox as a replica does (without migrating it) and
//! changes rows through the same writer code, so the shared counters stay exact.
//!
//! The SQLite inbox is in WAL mode: readers never wait for the service's writer. A change
//! (`retry`, `prune`) is one short write transaction per 1 000 rows that waits up to 5 s
//! for the service's writer (`busy_timeout`), which holds the lock for milliseconds per
//! batch. The service notices the change within half a second (`PRAGMA data_version`,
//! checked by its writer), re-reads its row counts (`/stats`, `/metrics`, `/admin`) and wakes
//! the CRM worker for retried rows.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{self, Config, ConfigError};
use crate::inbox::sqlite::SCHEMA_VERSION;
use crate::inbox::{RetryTarget, Status};
use crate::rows::{self, Filter};

/// How long a command waits for the service's writer before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `crm-sync`: verified booking webhooks into a durable inbox, synced to HubSpot.
#[derive(Debug, Parser)]
#[command(name = "crm-sync", version, about, after_help = environment_help())]
pub struct Cli {
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Look into and repair the inbox (CRM_SYNC_DB or CRM_SYNC_DATABASE_URL); works while
    /// the service runs.
    #[command(subcommand)]
    Inbox(InboxCommand),
}

/// `crm-sync inbox …`.
#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Rows, newest first.
    List(ListArgs),
    /// One row: status, attempts, last CRM error and the stored body.
    Show {
        /// The row id (from `list`).
        id: i64,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Failed rows back to pending, so the worker sends them again.
    Retry {
        /// The ids of failed rows.
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        ids: Vec<i64>,
        /// Every failed row.
        #[arg(long)]
        failed: bool,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete delivered and skipped rows older than DAYS (pending and failed rows stay).
    Prune {
        /// Age in days, by when the row was received.
        #[arg(long, value_name = "DAYS")]
        older_than: u32,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `crm-sync inbox list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only rows in this status.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// Only rows of this provider (slatis, slotflow, bookable, schedulingkit, calcom,
    /// calendly, standard).
    #[arg(long, value_name = "P", value_parser = provider_name)]
    pub provider: Option<String>,
    /// At most N rows.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// A JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `--status`: the values are [`Status::ALL`]'s column names, so the command line cannot
/// drift from the schema.
impl ValueEnum for Status {
    fn value_variants<'a>() -> &'a [Self] {
        &Status::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()).help(self.meaning()))
    }
}

fn provider_name(s: &str) -> Result<String, String> {
    bookhook_verify::Provider::ALL
        .iter()
        .find(|p| p.as_str() == s)
        .map(|p| p.as_str().to_owned())
        .ok_or_else(|| {
            let names: Vec<_> = bookhook_verify::Provider::ALL
                .iter()
                .map(|p| p.as_str())
                .collect();
            format!("expected one of {}", names.join(", "))
        })
}

/// The `--help` epilogue: every environment variable with its default.
pub fn environment_help() -> String {
    let width = config::VARIABLES
        .iter()
        .map(|v| v.name.len())
        .max()
        .unwrap_or(0);
    let mut help = String::from("Environment variables (default in brackets):\n");
    for v in config::VARIABLES {
        let _ = writeln!(help, "  {:width$}  {} [{}]", v.name, v.meaning, v.default);
    }
    help.push_str(
        "\nExit codes: 0 ok, 1 nothing matched (unknown id), 2 usage or configuration error.",
    );
    help
}

/// Why an `inbox` command could not do its work; each maps to an exit code.
#[derive(Debug)]
pub enum CliError {
    /// Configuration or database problem: exit 2. The message names the variable.
    Config(ConfigError),
    /// Nothing matched: exit 1, with what did not match.
    NothingMatched(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Config(_) => ExitCode::from(2),
            CliError::NothingMatched(_) => ExitCode::from(1),
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Config(err) => write!(f, "{err}"),
            CliError::NothingMatched(what) => f.write_str(what),
        }
    }
}

fn db_error(reason: impl std::fmt::Display) -> CliError {
    CliError::Config(ConfigError {
        var: "CRM_SYNC_DB",
        reason: reason.to_string(),
    })
}

/// Opens the inbox for a command: it must exist and have this build's schema (a command
/// never creates or migrates a database: a typo in `CRM_SYNC_DB` must not yield an empty
/// inbox that lists nothing).
///
/// # Errors
///
/// [`CliError::Config`] naming `CRM_SYNC_DB`.
pub fn open(path: &Path) -> Result<Connection, CliError> {
    if !path.is_file() {
        return Err(db_error(
            "no inbox there (not a file); start the service once to create it",
        ));
    }
    // rusqlite appends the path to "unable to open": name the variable, not its value.
    let shown_path = format!(": {}", path.display());
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| db_error(format!("cannot open the inbox: {e}").replace(&shown_path, "")))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(format!("cannot open the inbox: {e}")))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| db_error(format!("cannot read the inbox: {e}")))?;
    match version {
        v if v == SCHEMA_VERSION => Ok(conn),
        0 => Err(db_error("not a crm-sync inbox (no schema)")),
        v if v > SCHEMA_VERSION => Err(db_error(format!(
            "schema version {v} is newer than this build's {SCHEMA_VERSION}"
        ))),
        v => Err(db_error(format!(
            "schema version {v} is older than this build's {SCHEMA_VERSION}; start the \
             service once to migrate it"
        ))),
    }
}

/// Runs an `inbox` command against `CRM_SYNC_DB`, printing to `out`.
///
/// # Errors
///
/// [`CliError`]: exit 1 when nothing matched, 2 for configuration and database problems.
pub fn run_inbox(command: &InboxCommand, out: &mut impl std::io::Write) -> Result<(), CliError> {
    let mut inbox = Target::from_env()?;
    let io = |e: std::io::Error| db_error(format!("cannot write the output: {e}"));
    match command {
        InboxCommand::List(args) => {
            let filter = Filter {
                status: args.status,
                provider: args.provider.clone(),
                limit: args.limit,
            };
            let found = inbox.list(&filter)?;
            if args.json {
                let json = serde_json::to_string_pretty(&found).unwrap_or_default();
                writeln!(out, "{json}").map_err(io)?;
            } else {
                writeln!(
                    out,
                    "{:>8}  {:9}  {:13}  {:>8}  {:30}  LAST ERROR",
                    "ID", "STATUS", "PROVIDER", "ATTEMPTS", "RECEIVED"
                )
                .map_err(io)?;
                for r in &found {
                    writeln!(
                        out,
                        "{:>8}  {:9}  {:13}  {:>8}  {:30}  {}",
                        r.id,
                        r.status.as_str(),
                        r.provider,
                        r.attempts,
                        r.received_at,
                        one_line(r.reason.as_deref().unwrap_or("-"))
                    )
                    .map_err(io)?;
                }
            }
            Ok(())
        }
        InboxCommand::Show { id, json } => {
            let Some(found) = inbox.get(*id)? else {
                return Err(CliError::NothingMatched(format!("no row with id {id}")));
            };
            let body = String::from_utf8_lossy(&found.body);
            if *json {
                let mut value = serde_json::to_value(&found.row).unwrap_or_default();
                value["body"] = serde_json::Value::String(body.into_owned());
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                )
                .map_err(io)?;
            } else {
                let r = &found.row;
                let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
                writeln!(
                    out,
                    "id:          {}\nprovider:    {}\nevent:       {} ({})\nstatus:      {}\n\
                     attempts:    {}\nhttp status: {}\nlast error:  {}\ncontact:     {}\n\
                     received:    {}\nupdated:     {}\nbody:\n{}",
                    r.id,
                    r.provider,
                    r.event_type,
                    r.kind,
                    r.status,
                    r.attempts,
                    opt(r.http_status.map(|s| s.to_string())),
                    opt(r.reason.clone()),
                    opt(r.contact_email.clone()),
                    r.received_at,
                    r.updated_at,
                    body
                )
                .map_err(io)?;
            }
            Ok(())
        }
        InboxCommand::Retry { ids, failed, json } => {
            let target = if *failed {
                RetryTarget::AllFailed
            } else {
                RetryTarget::Ids(ids.clone())
            };
            let moved = inbox.retry(&target)?;
            let not_matched: Vec<i64> = match &target {
                RetryTarget::Ids(ids) => {
                    let mut left: Vec<i64> =
                        ids.iter().copied().filter(|i| !moved.contains(i)).collect();
                    left.sort_unstable();
                    left.dedup();
                    left
                }
                RetryTarget::AllFailed => Vec::new(),
            };
            if *json {
                let value = serde_json::json!({"retried": moved, "not_matched": not_matched});
                writeln!(out, "{value}").map_err(io)?;
            } else {
                writeln!(out, "{} row(s) back to pending: {moved:?}", moved.len()).map_err(io)?;
            }
            if !not_matched.is_empty() {
                return Err(CliError::NothingMatched(format!(
                    "no failed row with id {not_matched:?}"
                )));
            }
            if moved.is_empty() {
                return Err(CliError::NothingMatched("no failed rows".to_owned()));
            }
            Ok(())
        }
        InboxCommand::Prune { older_than, json } => {
            let pruned = inbox.prune(*older_than)?;
            if *json {
                writeln!(out, "{}", serde_json::json!({ "pruned": pruned })).map_err(io)?;
            } else {
                writeln!(
                    out,
                    "pruned {pruned} delivered/skipped row(s) received more than {older_than} \
                     day(s) ago"
                )
                .map_err(io)?;
            }
            Ok(())
        }
    }
}

/// The inbox a command works on: the SQLite file (its own connection, beside a running
/// service) or, with `CRM_SYNC_DATABASE_URL` set, the PostgreSQL inbox (a small runtime and
/// the service's own code path: changes go through a writer, so the shared counters stay
/// exact, and every replica sees them within a second).
enum Target {
    Sqlite(Connection),
    Postgres {
        runtime: tokio::runtime::Runtime,
        inbox: crate::inbox::Inbox,
        writer: Option<crate::inbox::InboxWriter>,
    },
}

/// Errors of the PostgreSQL inbox name its variable.
fn url_error(reason: impl std::fmt::Display) -> CliError {
    CliError::Config(ConfigError {
        var: "CRM_SYNC_DATABASE_URL",
        reason: reason.to_string(),
    })
}

impl Target {
    fn from_env() -> Result<Self, CliError> {
        let Some(config) = Config::postgres_from_env().map_err(CliError::Config)? else {
            let path = Config::db_path_from_env().map_err(CliError::Config)?;
            return open(&path).map(Target::Sqlite);
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| url_error(format!("cannot start the async runtime: {e}")))?;
        let (inbox, writer) = runtime
            .block_on(crate::inbox::postgres::open_existing(&config))
            .map_err(|e| url_error(format!("cannot open the inbox: {e}")))?;
        Ok(Target::Postgres {
            runtime,
            inbox,
            writer: Some(writer),
        })
    }

    fn list(&mut self, filter: &Filter) -> Result<Vec<rows::Row>, CliError> {
        match self {
            Target::Sqlite(conn) => {
                rows::list(conn, filter).map_err(|e| db_error(format!("inbox: {e}")))
            }
            Target::Postgres { runtime, inbox, .. } => runtime
                .block_on(inbox.list(filter.clone()))
                .map_err(|e| url_error(format!("inbox: {e}"))),
        }
    }

    fn get(&mut self, id: i64) -> Result<Option<rows::RowWithBody>, CliError> {
        match self {
            Target::Sqlite(conn) => {
                rows::get(conn, id).map_err(|e| db_error(format!("inbox: {e}")))
            }
            Target::Postgres { runtime, inbox, .. } => runtime
                .block_on(inbox.get(id))
                .map_err(|e| url_error(format!("inbox: {e}"))),
        }
    }

    fn retry(&mut self, target: &RetryTarget) -> Result<Vec<i64>, CliError> {
        match self {
            Target::Sqlite(conn) => {
                let sql = |e: rusqlite::Error| db_error(format!("inbox: {e}"));
                let now = OffsetDateTime::now_utc()
                    .format(&Rfc3339)
                    .unwrap_or_default();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql)?;
                let moved = rows::retry(&tx, target, &now).map_err(sql)?;
                tx.commit().map_err(sql)?;
                Ok(moved)
            }
            Target::Postgres { runtime, inbox, .. } => runtime
                .block_on(inbox.retry(target.clone()))
                .map_err(|e| url_error(format!("inbox: {e}"))),
        }
    }

    fn prune(&mut self, days: u32) -> Result<u64, CliError> {
        let now = OffsetDateTime::now_utc();
        match self {
            Target::Sqlite(conn) => {
                rows::prune(conn, days, now).map_err(|e| db_error(format!("inbox: {e}")))
            }
            Target::Postgres { runtime, inbox, .. } => runtime.block_on(async {
                let before = now - time::Duration::days(i64::from(days));
                let mut total = 0;
                loop {
                    let chunk = crate::inbox::PruneChunk {
                        before,
                        limit: crate::inbox::PRUNE_CHUNK,
                    };
                    let n = inbox
                        .prune(chunk)
                        .await
                        .map_err(|e| url_error(format!("inbox: {e}")))?;
                    total += n;
                    if n < crate::inbox::PRUNE_CHUNK as u64 {
                        return Ok(total);
                    }
                }
            }),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Target::Postgres {
            runtime, writer, ..
        } = self
        {
            if let Some(writer) = writer.take() {
                runtime.block_on(writer.close());
            }
        }
    }
}

/// A reason on one line of the table.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent_and_help_lists_every_variable() {
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for v in config::VARIABLES {
            assert!(help.contains(v.name), "{} missing from --help", v.name);
        }
    }

    #[test]
    fn retry_needs_ids_or_failed_but_not_both() {
        assert!(Cli::try_parse_from(["crm-sync", "inbox", "retry"]).is_err());
        assert!(Cli::try_parse_from(["crm-sync", "inbox", "retry", "1", "--failed"]).is_err());
        assert!(Cli::try_parse_from(["crm-sync", "inbox", "retry", "1", "2"]).is_ok());
        assert!(Cli::try_parse_from(["crm-sync", "inbox", "list", "--provider", "nope"]).is_err());
    }
}
