//! The durable inbox: every accepted delivery is a row in SQLite before it is acknowledged.
//!
//! # Group commit
//!
//! One writer thread owns the only write connection. Request handlers and the CRM worker
//! send it [`Command`]s over a bounded channel, each with a oneshot for the answer. The
//! writer takes the first waiting command, drains whatever else is already queued (at most
//! [`MAX_BATCH`]), applies them all in **one** transaction, commits, and only then answers
//! every sender. One `fsync` thus covers hundreds of deliveries, and no sender hears
//! "stored" before its row is on disk.
//!
//! # Durability
//!
//! The database runs in WAL mode. With [`Durability::Full`] (`synchronous=FULL`, the
//! default) the WAL is synced at every commit: an acknowledged delivery survives a process
//! crash *and* a power loss. With [`Durability::Normal`] (`synchronous=NORMAL`) the WAL is
//! synced only at checkpoints: an acknowledged delivery survives a process crash
//! (`kill -9`) but the last commits may be lost on power loss or an OS crash.
//!
//! # A bounded WAL
//!
//! A checkpointer thread with its own connection folds the WAL into the database file every
//! [`CHECKPOINT_EVERY`] (`PRAGMA wal_checkpoint(PASSIVE)`), so the database file's `fsync`
//! rarely stalls a commit that acknowledgements wait on. PASSIVE alone does not bound the
//! WAL: SQLite only rewinds the WAL to its start when a write begins while *every* frame
//! has been checkpointed, and under sustained traffic the writer always appends new frames
//! while the checkpoint runs. Measured before this bound: 718 MB of WAL next to a 64 MB
//! database after 90 000 deliveries, shrinking only at shutdown. So:
//!
//! - when the WAL file passes [`WAL_LIMIT`], the writer itself runs a `RESTART`
//!   checkpoint between two batches: it copies the frames the checkpointer has not copied
//!   yet (at most the last half second's) and makes the next commit write from the start of
//!   the WAL, which `journal_size_limit` then cuts back to [`WAL_LIMIT`]. Run by the only
//!   writer, it cannot be starved by the writer; it stalls one batch for a few
//!   milliseconds (measured 6-11 ms every ~30 MB of WAL at ~25 000 acks/s). `RESTART`
//!   rather than `TRUNCATE`: shrinking and regrowing the file doubled that stall;
//! - when the checkpointer finds the WAL fully copied (the writer is idle), it truncates it
//!   to zero bytes without waiting for anyone (it gives up if the writer is busy).
//!
//! # Schema
//!
//! Migrations are plain SQL applied at start-up and tracked with `PRAGMA user_version`.
//! `UNIQUE(provider, dedupe_key)` makes a redelivery a no-op (`INSERT .. ON CONFLICT DO
//! NOTHING`), so it is answered 2xx without a second CRM effect.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::contact::{Contact, Disposition};

/// The most commands the writer applies in one transaction.
pub const MAX_BATCH: usize = 512;

/// How many commands may wait for the writer before senders wait in turn (backpressure).
const QUEUE_CAPACITY: usize = 8 * MAX_BATCH;

/// How often the checkpointer folds the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// The WAL file size past which the writer makes SQLite start the WAL over (a `RESTART`
/// checkpoint) before its next batch. The WAL exceeds it by at most one batch.
pub const WAL_LIMIT: u64 = 32 * 1024 * 1024;

/// `journal_size_limit`: what a restarted WAL is cut back to at its first commit. Not above
/// [`WAL_LIMIT`], or the cut-back file alone would count as over the limit.
const JOURNAL_SIZE_LIMIT: i64 = WAL_LIMIT as i64;

/// The schema, one entry per version; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // v1: the inbox.
    "CREATE TABLE deliveries (
         id            INTEGER PRIMARY KEY,
         provider      TEXT    NOT NULL,
         dedupe_key    TEXT    NOT NULL,
         received_at   TEXT    NOT NULL,
         event_type    TEXT    NOT NULL,
         kind          TEXT    NOT NULL,
         contact_email TEXT,
         contact_name  TEXT,
         body          BLOB    NOT NULL,
         status        TEXT    NOT NULL
                       CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
         attempts      INTEGER NOT NULL DEFAULT 0,
         http_status   INTEGER,
         reason        TEXT,
         updated_at    TEXT    NOT NULL,
         UNIQUE (provider, dedupe_key),
         CHECK (status <> 'pending' OR contact_email IS NOT NULL)
     );
     CREATE INDEX deliveries_by_status ON deliveries (status);",
];

/// How hard SQLite syncs commits to disk (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: every commit is synced; survives power loss. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: synced at checkpoints; survives process crashes only.
    Normal,
}

impl Durability {
    /// The pragma value: `FULL` or `NORMAL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

impl FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "FULL" => Ok(Durability::Full),
            "NORMAL" => Ok(Durability::Normal),
            _ => Err("expected FULL or NORMAL".to_owned()),
        }
    }
}

/// Lifecycle of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the CRM worker.
    Pending,
    /// The CRM accepted the contact.
    Delivered,
    /// The CRM refused the contact for good (a 4xx other than 429); not retried.
    Failed,
    /// Stored only: not a booking event, or no attendee email.
    Skipped,
}

impl Status {
    /// The value in the `status` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    /// Every status, in lifecycle order.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Delivered,
        Status::Failed,
        Status::Skipped,
    ];

    /// The status named `s` (a `status` column value), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A verified, parsed delivery to store.
#[derive(Clone)]
pub struct NewDelivery {
    /// The provider's stable name (`slatis`, `bookable`, ...).
    pub provider: &'static str,
    /// What a redelivery of the same delivery has in common (see the design's table).
    pub dedupe_key: String,
    /// The provider's raw event name.
    pub event_type: String,
    /// The normalized kind (`created`, `unknown`, ...).
    pub kind: &'static str,
    /// Whether to sync a contact or only store.
    pub disposition: Disposition,
    /// The verified raw body, stored as received.
    pub body: Bytes,
    /// When the service received it.
    pub received_at: OffsetDateTime,
}

impl fmt::Debug for NewDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDelivery")
            .field("provider", &self.provider)
            .field("dedupe_key", &self.dedupe_key)
            .field("event_type", &self.event_type)
            .field("kind", &self.kind)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish_non_exhaustive()
    }
}

/// What storing a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new row, with its id and initial status (`Pending` or `Skipped`).
    Accepted {
        /// The row id.
        id: i64,
        /// `Pending` or `Skipped`.
        status: Status,
    },
    /// A row with the same `(provider, dedupe_key)` already exists: nothing changed.
    Duplicate,
}

/// A row waiting for the CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    /// The row id (rows are sent in id order).
    pub id: i64,
    /// The contact to upsert.
    pub contact: Contact,
}

/// What the worker learned about some pending rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The CRM accepted them: `delivered`.
    Delivered {
        /// The CRM's status code.
        http_status: u16,
    },
    /// The CRM refused them for good: `failed`, with the reason kept in the row.
    Failed {
        /// The CRM's status code, if it answered.
        http_status: Option<u16>,
        /// A short reason.
        reason: String,
    },
    /// An attempt failed in a way worth retrying: the rows stay `pending`, their attempt
    /// count goes up and the reason is kept.
    Retrying {
        /// The CRM's status code, if it answered.
        http_status: Option<u16>,
        /// A short reason.
        reason: String,
    },
}

/// Row counts by status, kept exact by the writer (it is the only one changing them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatusCounts {
    /// Rows waiting for the CRM.
    pub pending: u64,
    /// Rows the CRM accepted.
    pub delivered: u64,
    /// Rows the CRM refused for good.
    pub failed: u64,
    /// Rows stored without a CRM call.
    pub skipped: u64,
}

/// Why the inbox could not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxError {
    /// The writer has stopped (shutting down, or it failed): nothing was stored.
    Closed,
    /// SQLite refused; the message is SQLite's and carries no row data.
    Sqlite(String),
    /// The database was written by a newer version of this service.
    NewerSchema {
        /// `user_version` found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// `PRAGMA journal_mode=WAL` did not take (e.g. a read-only or network file system).
    NoWal(String),
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InboxError::Closed => f.write_str("the inbox writer has stopped"),
            InboxError::Sqlite(msg) => write!(f, "sqlite: {msg}"),
            InboxError::NewerSchema { found, supported } => write!(
                f,
                "the database has schema version {found}; this build supports up to {supported}"
            ),
            InboxError::NoWal(mode) => {
                write!(f, "could not enable WAL mode (journal_mode stays {mode})")
            }
        }
    }
}

impl std::error::Error for InboxError {}

impl From<rusqlite::Error> for InboxError {
    fn from(err: rusqlite::Error) -> Self {
        InboxError::Sqlite(err.to_string())
    }
}

/// A command for the writer thread.
enum Command {
    Store(NewDelivery, oneshot::Sender<Result<Stored, InboxError>>),
    Update(Vec<i64>, Change, oneshot::Sender<Result<usize, InboxError>>),
    /// A write that changes nothing visible, to find out whether writing works again.
    Probe(oneshot::Sender<Result<(), InboxError>>),
    /// Failed rows back to pending (the admin page's Retry); answers the ids moved.
    Retry(RetryTarget, oneshot::Sender<Result<Vec<i64>, InboxError>>),
    /// Sent by the checkpointer every round: re-read the counts if another process (the
    /// `crm-sync inbox` commands) committed since the writer last looked.
    Refresh,
    Close,
}

/// Which failed rows a retry moves back to pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryTarget {
    /// These rows, those of them that are failed.
    Ids(Vec<i64>),
    /// Every failed row.
    AllFailed,
}

/// What the writer thread shares with the handles.
#[derive(Default)]
struct Shared {
    pending: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    /// Signalled after a commit that added pending rows.
    new_pending: Notify,
    /// Why the inbox cannot write, as of the last write tried (`None`: it succeeded).
    fault: Mutex<Option<String>>,
}

impl Shared {
    fn set_fault(&self, fault: Option<String>) {
        let mut current = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        match (&*current, &fault) {
            (Some(_), None) => tracing::info!("the inbox writes again"),
            (None, Some(why)) => tracing::error!("{why}; answering 503 until a write succeeds"),
            _ => {}
        }
        *current = fault;
    }

    fn fault(&self) -> Option<String> {
        self.fault.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn counter(&self, status: Status) -> &AtomicU64 {
        match status {
            Status::Pending => &self.pending,
            Status::Delivered => &self.delivered,
            Status::Failed => &self.failed,
            Status::Skipped => &self.skipped,
        }
    }
}

/// A cheap, cloneable handle to the inbox: store deliveries, read and update pending rows.
#[derive(Clone)]
pub struct Inbox {
    commands: mpsc::Sender<Command>,
    reader: Arc<Mutex<Connection>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

/// Owns the writer and checkpointer threads; [`close`](Self::close) it at shutdown so the
/// last batch commits.
#[derive(Debug)]
pub struct InboxWriter {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
    checkpointer: Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Inbox {
    /// Opens (creating if needed) the SQLite file at `path`, enables WAL, applies the
    /// migrations, and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the file cannot be opened or migrated, or WAL cannot be enabled.
    pub fn open(path: &Path, durability: Durability) -> Result<(Inbox, InboxWriter), InboxError> {
        let mut writer = Connection::open(path)?;
        configure(&writer, durability)?;
        migrate(&mut writer)?;
        let shared = Arc::new(Shared::default());
        load_counts(&writer, &shared)?;

        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(Duration::from_secs(5))?;
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let probe = Probe {
            commands: tx.clone(),
            shared: Arc::clone(&shared),
        };
        let checkpoint_conn = Connection::open(path)?;
        // PASSIVE never waits, and the idle-time TRUNCATE must not either: it is skipped
        // when the writer holds the lock, and tried again on the next round.
        checkpoint_conn.busy_timeout(Duration::ZERO)?;
        let (stop_checkpoints, stop_rx) = std::sync::mpsc::channel();
        let checkpointer = std::thread::Builder::new()
            .name("inbox-checkpointer".to_owned())
            .spawn(move || checkpoint_loop(&checkpoint_conn, &stop_rx, &probe))
            .map_err(|e| InboxError::Sqlite(format!("cannot start the checkpointer: {e}")))?;

        let wal_path = wal_path_of(path);
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("inbox-writer".to_owned())
            .spawn(move || write_loop(writer, rx, &thread_shared, &wal_path))
            .map_err(|e| InboxError::Sqlite(format!("cannot start the writer thread: {e}")))?;
        Ok((
            Inbox {
                commands: tx.clone(),
                reader: Arc::new(Mutex::new(reader)),
                shared,
            },
            InboxWriter {
                commands: tx,
                thread: Some(thread),
                checkpointer: Some((stop_checkpoints, checkpointer)),
            },
        ))
    }

    /// Stores a delivery; resolves once the transaction holding it has committed.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the row could not be committed: the caller must not acknowledge.
    pub async fn store(&self, delivery: NewDelivery) -> Result<Stored, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Store(delivery, reply))
            .await
            .map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Applies `change` to the rows `ids` that are still pending; resolves after commit
    /// with the number of rows changed.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the change could not be committed.
    pub async fn update(&self, ids: Vec<i64>, change: Change) -> Result<usize, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Update(ids, change, reply))
            .await
            .map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Up to `limit` pending rows, oldest first.
    ///
    /// # Errors
    ///
    /// [`InboxError::Sqlite`] if the read fails.
    pub async fn pending(&self, limit: usize) -> Result<Vec<PendingRow>, InboxError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            let mut stmt = conn.prepare_cached(
                "SELECT id, contact_email, contact_name FROM deliveries
                 WHERE status = 'pending' ORDER BY id LIMIT ?1",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map([limit], |row| {
                Ok(PendingRow {
                    id: row.get(0)?,
                    contact: Contact::new(
                        row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                        row.get(2)?,
                    ),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .map_err(|e| InboxError::Sqlite(format!("reader task failed: {e}")))?
    }

    /// The status of the row stored for `(provider, dedupe_key)`, if any.
    ///
    /// # Errors
    ///
    /// [`InboxError::Sqlite`] if the read fails.
    pub async fn status_of(
        &self,
        provider: &'static str,
        dedupe_key: String,
    ) -> Result<Option<Status>, InboxError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            let status: Option<String> = conn
                .prepare_cached(
                    "SELECT status FROM deliveries WHERE provider = ?1 AND dedupe_key = ?2",
                )?
                .query_row(params![provider, dedupe_key], |r| r.get(0))
                .optional()?;
            Ok(status.as_deref().and_then(Status::parse))
        })
        .await
        .map_err(|e| InboxError::Sqlite(format!("reader task failed: {e}")))?
    }

    /// Row counts by status (exact as of the last commit).
    pub fn counts(&self) -> StatusCounts {
        let s = &self.shared;
        StatusCounts {
            pending: s.pending.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            skipped: s.skipped.load(Ordering::Relaxed),
        }
    }

    /// `Ok` while the inbox can write; otherwise why not, in one line (the disk is full,
    /// the writer has stopped...). Turns `Ok` again after the next successful commit; while
    /// it is not `Ok` the checkpointer tries a small write every half second.
    ///
    /// # Errors
    ///
    /// The reason, as a short message without row data.
    pub fn health(&self) -> Result<(), String> {
        self.shared.fault().map_or(Ok(()), Err)
    }

    /// Moves failed rows back to pending, through the writer (so the counts stay exact and
    /// the worker wakes up); resolves after commit with the ids that moved.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the change could not be committed.
    pub async fn retry(&self, target: RetryTarget) -> Result<Vec<i64>, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Retry(target, reply))
            .await
            .map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Runs `read` on the read-only connection, off the async threads.
    ///
    /// # Errors
    ///
    /// [`InboxError::Sqlite`] if the read fails.
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, InboxError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            read(&conn).map_err(InboxError::from)
        })
        .await
        .map_err(|e| InboxError::Sqlite(format!("reader task failed: {e}")))?
    }

    /// Resolves once new pending rows have been committed since the last call (a wake-up
    /// that happened while nobody waited is kept, so none is lost).
    pub async fn new_pending(&self) {
        self.shared.new_pending.notified().await;
    }
}

impl InboxWriter {
    /// Lets the writer commit everything queued before this call, then stops it and waits
    /// for its thread. Later [`Inbox::store`] calls fail with [`InboxError::Closed`].
    pub async fn close(mut self) {
        if let Some((stop, thread)) = self.checkpointer.take() {
            let _ = stop.send(());
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        // Queued in order: every command sent before `Close` is committed first.
        let _ = self.commands.send(Command::Close).await;
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// WAL, the chosen `synchronous`, and a busy timeout for the (rare) checkpoint contention.
///
/// SQLite's automatic checkpoints are off (`wal_autocheckpoint=0`): one would copy the
/// whole WAL into the database file and sync it inside a commit, stalling every
/// acknowledgement waiting on it. The checkpointer thread copies frames on its own
/// connection while the writer keeps appending; the writer only truncates a WAL that the
/// checkpointer could not keep small (see the module docs).
fn configure(conn: &Connection, durability: Durability) -> Result<(), InboxError> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(InboxError::NoWal(mode));
    }
    conn.pragma_update(None, "synchronous", durability.as_str())?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // A WAL that SQLite rewinds (rather than we truncate) is cut back to this size.
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(())
}

/// What `PRAGMA wal_checkpoint(..)` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Checkpoint {
    /// It could not take the locks it needed (another connection held them).
    busy: bool,
    /// Frames in the WAL.
    frames: i64,
    /// Of those, frames now in the database file.
    copied: i64,
}

impl Checkpoint {
    fn run(conn: &Connection, mode: &str) -> Result<Self, rusqlite::Error> {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok(Checkpoint {
                busy: r.get::<_, i64>(0)? != 0,
                frames: r.get(1)?,
                copied: r.get(2)?,
            })
        })
    }
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] until told to stop. `PASSIVE` never
/// blocks the writer; frames still being appended are taken by the next round. A round
/// that finds every frame copied means the writer is idle: the WAL is then truncated to
/// zero bytes, unless the writer has just started again (the lock is not waited for).
fn checkpoint_loop(conn: &Connection, stop: &std::sync::mpsc::Receiver<()>, probe: &Probe) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY)
    {
        probe.if_faulty();
        // A full queue means the writer is busy and will look after its next batches.
        let _ = probe.commands.try_send(Command::Refresh);
        match Checkpoint::run(conn, "PASSIVE") {
            Ok(done) if !done.busy && done.frames > 0 && done.copied == done.frames => {
                if let Err(err) = Checkpoint::run(conn, "TRUNCATE") {
                    tracing::debug!(error = %err, "idle WAL truncation skipped");
                }
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed; retrying later"),
        }
    }
}

/// Lets the checkpointer find out whether a faulty inbox can write again: a load balancer
/// that saw `/healthz` answer 503 sends no more deliveries, so without a probe nothing
/// would ever write, and the health would never recover.
struct Probe {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

impl Probe {
    fn if_faulty(&self) {
        if self.shared.fault().is_none() {
            return;
        }
        let (reply, answer) = oneshot::channel();
        // The writer records the outcome itself; a full queue means writes are being tried.
        if self.commands.try_send(Command::Probe(reply)).is_ok() {
            let _ = answer.blocking_recv();
        }
    }
}

/// `<db>-wal`, where SQLite keeps the WAL of the database at `db`.
pub fn wal_path_of(db: &Path) -> PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Run by the writer between batches: starts over a WAL that has grown past [`WAL_LIMIT`]
/// (see the module docs). A failure is logged and retried after the next batch; it never
/// fails a delivery (the batch before it has committed already).
fn bound_wal(conn: &Connection, wal: &Path) {
    let size = std::fs::metadata(wal).map_or(0, |m| m.len());
    if size <= WAL_LIMIT {
        return;
    }
    let started = std::time::Instant::now();
    match Checkpoint::run(conn, "RESTART") {
        Ok(done) if !done.busy => tracing::debug!(
            wal_bytes = size,
            frames = done.frames,
            stalled_ms = started.elapsed().as_millis() as u64,
            "WAL restarted"
        ),
        Ok(_) => tracing::debug!(wal_bytes = size, "WAL restart busy; retrying later"),
        Err(err) => tracing::warn!(error = %err, wal_bytes = size, "WAL restart failed"),
    }
}

/// Applies the migrations newer than `user_version`, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), InboxError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > supported {
        return Err(InboxError::NewerSchema { found, supported });
    }
    for (version, sql) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

fn load_counts(conn: &Connection, shared: &Shared) -> Result<(), InboxError> {
    let mut counts = [0u64; 4];
    let mut stmt =
        conn.prepare_cached("SELECT status, COUNT(*) FROM deliveries GROUP BY status")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let status: String = row.get(0)?;
        let n: i64 = row.get(1)?;
        if let Some(status) = Status::parse(&status) {
            counts[Deltas::index(status)] = u64::try_from(n).unwrap_or(0);
        }
    }
    // All four are stored only once all were read: a status whose last row went away
    // (pruned, retried) drops to zero instead of keeping its old count.
    for status in Status::ALL {
        shared
            .counter(status)
            .store(counts[Deltas::index(status)], Ordering::Relaxed);
    }
    Ok(())
}

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How to answer one command of a batch, once the batch's fate is known.
enum Reply {
    Store(oneshot::Sender<Result<Stored, InboxError>>),
    Update(oneshot::Sender<Result<usize, InboxError>>),
    Probe(oneshot::Sender<Result<(), InboxError>>),
    Retry(oneshot::Sender<Result<Vec<i64>, InboxError>>),
}

/// What one command did inside the (not yet committed) transaction.
enum Done {
    Stored(Stored),
    Updated(usize),
    Probed,
    Retried(Vec<i64>),
}

/// Counter changes of a batch, applied only if it commits.
#[derive(Default)]
struct Deltas {
    added: [u64; 4],
    removed: [u64; 4],
}

impl Deltas {
    fn index(status: Status) -> usize {
        match status {
            Status::Pending => 0,
            Status::Delivered => 1,
            Status::Failed => 2,
            Status::Skipped => 3,
        }
    }

    fn moved(&mut self, from: Option<Status>, to: Status, n: u64) {
        if let Some(from) = from {
            self.removed[Self::index(from)] += n;
        }
        self.added[Self::index(to)] += n;
    }

    fn apply(&self, shared: &Shared) {
        for status in [
            Status::Pending,
            Status::Delivered,
            Status::Failed,
            Status::Skipped,
        ] {
            let i = Self::index(status);
            let counter = shared.counter(status);
            counter.fetch_add(self.added[i], Ordering::Relaxed);
            counter.fetch_sub(self.removed[i], Ordering::Relaxed);
        }
    }
}

/// The writer thread: group commit until `Close` (or until every sender is gone).
fn write_loop(
    mut conn: Connection,
    mut commands: mpsc::Receiver<Command>,
    shared: &Shared,
    wal: &Path,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closing = false;
    let mut seen_version = data_version(&conn).ok();
    while !closing {
        let mut refresh = false;
        match commands.blocking_recv() {
            Some(Command::Close) | None => closing = true,
            Some(Command::Refresh) => refresh = true,
            Some(cmd) => batch.push(cmd),
        }
        while !closing && batch.len() < MAX_BATCH {
            match commands.try_recv() {
                Ok(Command::Close) => closing = true,
                Ok(Command::Refresh) => refresh = true,
                Ok(cmd) => batch.push(cmd),
                Err(_) => break,
            }
        }
        if refresh {
            refresh_if_changed(&conn, shared, &mut seen_version);
        }
        if closing {
            // Anything sent concurrently with `Close` is still committed, not dropped.
            commands.close();
            while let Ok(cmd) = commands.try_recv() {
                if !matches!(cmd, Command::Close) {
                    batch.push(cmd);
                }
            }
        }
        while !batch.is_empty() {
            let take = batch.len().min(MAX_BATCH);
            let chunk: Vec<Command> = batch.drain(..take).collect();
            commit_batch(&mut conn, chunk, shared);
            bound_wal(&conn, wal);
        }
    }
    // Expected at shutdown, so set without the error log of `set_fault`.
    *shared.fault.lock().unwrap_or_else(|p| p.into_inner()) =
        Some("the inbox writer has stopped".to_owned());
    // Fold the WAL back into the database file so a clean stop leaves one file.
    if let Err(err) = Checkpoint::run(&conn, "TRUNCATE") {
        tracing::warn!(error = %err, "final WAL checkpoint failed");
    }
}

/// `PRAGMA data_version`: changes when *another* connection commits to the database (never
/// for this connection's own commits), so the writer learns that `crm-sync inbox retry` or
/// `prune` changed rows behind its back.
fn data_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.pragma_query_value(None, "data_version", |r| r.get(0))
}

/// Re-reads the counts if another process committed since the last look. Run by the writer,
/// the only in-process writer, between batches: no delta of its own can be lost or counted
/// twice. The recount scans the status index (~1 ms per 100 000 rows) and only happens
/// after an outside write. Wakes the worker, since a retry adds pending rows.
fn refresh_if_changed(conn: &Connection, shared: &Shared, seen: &mut Option<i64>) {
    let Ok(version) = data_version(conn) else {
        return;
    };
    if *seen == Some(version) {
        return;
    }
    *seen = Some(version);
    let before = shared.pending.load(Ordering::Relaxed);
    match load_counts(conn, shared) {
        Ok(()) => {
            tracing::info!("the inbox was changed by another process; counts re-read");
            if shared.pending.load(Ordering::Relaxed) > 0 || before > 0 {
                shared.new_pending.notify_one();
            }
        }
        Err(err) => tracing::warn!(error = %err, "re-reading the counts failed"),
    }
}

/// Applies `batch` in one transaction, commits, then answers every sender.
fn commit_batch(conn: &mut Connection, batch: Vec<Command>, shared: &Shared) {
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let mut replies = Vec::with_capacity(batch.len());
    let mut results: Vec<Result<Done, InboxError>> = Vec::with_capacity(batch.len());
    let mut deltas = Deltas::default();

    let committed = (|| -> Result<(), InboxError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for cmd in batch {
            match cmd {
                Command::Store(delivery, reply) => {
                    replies.push(Reply::Store(reply));
                    results.push(insert(&tx, &delivery, &now, &mut deltas).map(Done::Stored));
                }
                Command::Update(ids, change, reply) => {
                    replies.push(Reply::Update(reply));
                    results.push(update(&tx, &ids, &change, &now, &mut deltas).map(Done::Updated));
                }
                Command::Probe(reply) => {
                    replies.push(Reply::Probe(reply));
                    // Rewriting the schema version writes a page: a real write, no change.
                    results.push(
                        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
                            .map(|()| Done::Probed)
                            .map_err(InboxError::from),
                    );
                }
                Command::Retry(target, reply) => {
                    replies.push(Reply::Retry(reply));
                    results.push(
                        crate::rows::retry(&tx, &target, &now)
                            .map(|ids| {
                                deltas.moved(
                                    Some(Status::Failed),
                                    Status::Pending,
                                    ids.len() as u64,
                                );
                                Done::Retried(ids)
                            })
                            .map_err(InboxError::from),
                    );
                }
                Command::Refresh | Command::Close => {}
            }
        }
        tx.commit()?;
        Ok(())
    })();

    if let Err(err) = &committed {
        tracing::error!(error = %err, commands = replies.len(), "inbox commit failed");
        shared.set_fault(Some(format!("inbox cannot write: {err}")));
    } else {
        shared.set_fault(None);
        deltas.apply(shared);
        if deltas.added[Deltas::index(Status::Pending)] > 0 {
            shared.new_pending.notify_one();
        }
    }
    // Commands whose results were not computed (the transaction never began) get the error.
    results.resize_with(replies.len(), || Err(InboxError::Closed));
    for (reply, result) in replies.into_iter().zip(results) {
        let result = match &committed {
            Ok(()) => result,
            Err(err) => Err(err.clone()),
        };
        // A sender that gave up (client hung up) no longer listens: nothing to do.
        match (reply, result) {
            (Reply::Store(tx), Ok(Done::Stored(s))) => drop(tx.send(Ok(s))),
            (Reply::Update(tx), Ok(Done::Updated(n))) => drop(tx.send(Ok(n))),
            (Reply::Probe(tx), Ok(Done::Probed)) => drop(tx.send(Ok(()))),
            (Reply::Retry(tx), Ok(Done::Retried(ids))) => drop(tx.send(Ok(ids))),
            (Reply::Retry(tx), Err(e)) => drop(tx.send(Err(e))),
            (Reply::Retry(tx), Ok(_)) => drop(tx.send(Err(InboxError::Closed))),
            (Reply::Store(tx), Err(e)) => drop(tx.send(Err(e))),
            (Reply::Update(tx), Err(e)) => drop(tx.send(Err(e))),
            (Reply::Probe(tx), Err(e)) => drop(tx.send(Err(e))),
            (Reply::Store(tx), Ok(_)) => drop(tx.send(Err(InboxError::Closed))),
            (Reply::Update(tx), Ok(_)) => drop(tx.send(Err(InboxError::Closed))),
            (Reply::Probe(tx), Ok(_)) => drop(tx.send(Err(InboxError::Closed))),
        }
    }
}

fn insert(
    tx: &rusqlite::Transaction<'_>,
    d: &NewDelivery,
    now: &str,
    deltas: &mut Deltas,
) -> Result<Stored, InboxError> {
    let (status, reason) = match &d.disposition {
        Disposition::Sync(_) => (Status::Pending, None),
        Disposition::Skip(why) => (Status::Skipped, Some(why.as_str())),
    };
    let contact = d.disposition.contact();
    let received_at = d.received_at.format(&Rfc3339).unwrap_or_default();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO deliveries (provider, dedupe_key, received_at, event_type, kind,
             contact_email, contact_name, body, status, reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (provider, dedupe_key) DO NOTHING",
    )?;
    let changed = stmt.execute(params![
        d.provider,
        d.dedupe_key,
        received_at,
        d.event_type,
        d.kind,
        contact.map(|c| c.email.as_str()),
        contact.and_then(|c| c.name.as_deref()),
        &d.body[..],
        status.as_str(),
        reason,
        now,
    ])?;
    if changed == 0 {
        return Ok(Stored::Duplicate);
    }
    deltas.moved(None, status, 1);
    Ok(Stored::Accepted {
        id: tx.last_insert_rowid(),
        status,
    })
}

fn update(
    tx: &rusqlite::Transaction<'_>,
    ids: &[i64],
    change: &Change,
    now: &str,
    deltas: &mut Deltas,
) -> Result<usize, InboxError> {
    let (to, http_status, reason) = match change {
        Change::Delivered { http_status } => (Status::Delivered, Some(*http_status), None),
        Change::Failed {
            http_status,
            reason,
        } => (Status::Failed, *http_status, Some(reason.as_str())),
        Change::Retrying {
            http_status,
            reason,
        } => (Status::Pending, *http_status, Some(reason.as_str())),
    };
    let mut stmt = tx.prepare_cached(
        "UPDATE deliveries
         SET status = ?2, attempts = attempts + 1, http_status = ?3, reason = ?4, updated_at = ?5
         WHERE id = ?1 AND status = 'pending'",
    )?;
    let mut changed = 0;
    for id in ids {
        changed += stmt.execute(params![id, to.as_str(), http_status, reason, now])?;
    }
    if to != Status::Pending {
        deltas.moved(Some(Status::Pending), to, changed as u64);
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::SkipReason;

    fn delivery(key: &str, disposition: Disposition) -> NewDelivery {
        NewDelivery {
            provider: "slatis",
            dedupe_key: key.to_owned(),
            event_type: "BOOKING_CREATED".to_owned(),
            kind: "created",
            disposition,
            body: Bytes::from_static(b"{}"),
            received_at: OffsetDateTime::now_utc(),
        }
    }

    fn sync(email: &str) -> Disposition {
        Disposition::Sync(Contact::new(email, Some("Jane Smith".into())))
    }

    async fn open(dir: &tempfile::TempDir) -> (Inbox, InboxWriter) {
        Inbox::open(&dir.path().join("inbox.db"), Durability::Full).unwrap()
    }

    #[tokio::test]
    async fn store_then_duplicate_then_pending_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, writer) = open(&dir).await;
        let a = inbox.store(delivery("k1", sync("a@x.io"))).await.unwrap();
        let b = inbox.store(delivery("k2", sync("b@x.io"))).await.unwrap();
        assert!(matches!(
            a,
            Stored::Accepted {
                status: Status::Pending,
                ..
            }
        ));
        assert!(matches!(
            b,
            Stored::Accepted {
                status: Status::Pending,
                ..
            }
        ));
        assert_eq!(
            inbox
                .store(delivery("k1", sync("other@x.io")))
                .await
                .unwrap(),
            Stored::Duplicate
        );
        let pending = inbox.pending(10).await.unwrap();
        let emails: Vec<_> = pending.iter().map(|r| r.contact.email.as_str()).collect();
        assert_eq!(emails, ["a@x.io", "b@x.io"]);
        assert_eq!(inbox.counts().pending, 2);
        writer.close().await;
    }

    #[tokio::test]
    async fn skipped_rows_are_not_pending() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, writer) = open(&dir).await;
        let s = inbox
            .store(delivery(
                "k",
                Disposition::Skip(SkipReason::NoAttendeeEmail),
            ))
            .await
            .unwrap();
        assert!(matches!(
            s,
            Stored::Accepted {
                status: Status::Skipped,
                ..
            }
        ));
        assert!(inbox.pending(10).await.unwrap().is_empty());
        assert_eq!(inbox.counts().skipped, 1);
        assert_eq!(
            inbox.status_of("slatis", "k".into()).await.unwrap(),
            Some(Status::Skipped)
        );
        writer.close().await;
    }

    #[tokio::test]
    async fn concurrent_stores_are_all_committed_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, writer) = open(&dir).await;
        let tasks: Vec<_> = (0..600)
            .map(|i| {
                let inbox = inbox.clone();
                tokio::spawn(async move {
                    inbox
                        .store(delivery(&format!("k{}", i % 500), sync("a@x.io")))
                        .await
                })
            })
            .collect();
        let mut accepted = 0;
        let mut duplicates = 0;
        for t in tasks {
            match t.await.unwrap().unwrap() {
                Stored::Accepted { .. } => accepted += 1,
                Stored::Duplicate => duplicates += 1,
            }
        }
        assert_eq!((accepted, duplicates), (500, 100));
        assert_eq!(inbox.counts().pending, 500);
        writer.close().await;
    }

    #[tokio::test]
    async fn updates_move_rows_and_counts_and_ignore_non_pending_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, writer) = open(&dir).await;
        let mut ids = Vec::new();
        for i in 0..3 {
            if let Stored::Accepted { id, .. } = inbox
                .store(delivery(&format!("k{i}"), sync("a@x.io")))
                .await
                .unwrap()
            {
                ids.push(id);
            }
        }
        let retry = Change::Retrying {
            http_status: Some(503),
            reason: "unavailable".into(),
        };
        assert_eq!(inbox.update(ids.clone(), retry).await.unwrap(), 3);
        assert_eq!(inbox.counts().pending, 3);
        let done = Change::Delivered { http_status: 200 };
        assert_eq!(
            inbox
                .update(vec![ids[0], ids[1]], done.clone())
                .await
                .unwrap(),
            2
        );
        let failed = Change::Failed {
            http_status: Some(400),
            reason: "bad email".into(),
        };
        assert_eq!(inbox.update(vec![ids[2]], failed).await.unwrap(), 1);
        // Already delivered: not pending any more, so unchanged.
        assert_eq!(inbox.update(vec![ids[0]], done).await.unwrap(), 0);
        assert_eq!(
            inbox.counts(),
            StatusCounts {
                pending: 0,
                delivered: 2,
                failed: 1,
                skipped: 0
            }
        );
        writer.close().await;
    }

    #[tokio::test]
    async fn reopening_keeps_rows_counts_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (inbox, writer) = open(&dir).await;
            inbox.store(delivery("k", sync("a@x.io"))).await.unwrap();
            writer.close().await;
        }
        let (inbox, writer) = open(&dir).await;
        assert_eq!(inbox.counts().pending, 1);
        assert_eq!(
            inbox.store(delivery("k", sync("a@x.io"))).await.unwrap(),
            Stored::Duplicate
        );
        writer.close().await;
        let conn = Connection::open(dir.path().join("inbox.db")).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Inbox::open(&path, Durability::Normal).unwrap_err();
        assert_eq!(
            err,
            InboxError::NewerSchema {
                found: 99,
                supported: 1
            }
        );
    }

    #[tokio::test]
    async fn store_after_close_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (inbox, writer) = open(&dir).await;
        writer.close().await;
        assert_eq!(
            inbox.store(delivery("k", sync("a@x.io"))).await,
            Err(InboxError::Closed)
        );
    }

    #[test]
    fn durability_parses_case_insensitively() {
        assert_eq!("full".parse::<Durability>(), Ok(Durability::Full));
        assert_eq!(" NORMAL ".parse::<Durability>(), Ok(Durability::Normal));
        assert!("OFF".parse::<Durability>().is_err());
    }
}
