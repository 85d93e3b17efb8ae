//! The durable inbox: every accepted delivery is a row in a database before it is
//! acknowledged, and the CRM worker sends the pending rows.
//!
//! Two backends sit behind one [`Inbox`] handle:
//!
//! - [`sqlite`] (the default, `CRM_SYNC_DB`): one file, one process. Its writer thread
//!   group-commits in WAL mode and keeps the WAL bounded.
//! - [`postgres`] (`CRM_SYNC_DATABASE_URL`): one database shared by any number of replicas.
//!   Dedupe is global (`UNIQUE (provider, dedupe_key)`); workers share the pending rows by
//!   claiming batches with `FOR UPDATE SKIP LOCKED` under a lease.
//!
//! # One interface
//!
//! What the service does with an inbox is the same on both: **store** a delivery with
//! dedupe, **claim** a batch of pending rows for the worker (and **renew** the claim before
//! each CRM attempt), **mark** rows with the CRM's answer, move failed rows back
//! (**retry**), **prune** old finished rows, and read **counts** and rows for `/stats`,
//! `/metrics` and the admin page.
//!
//! # Group commit
//!
//! Writes go through one writer per process. Request handlers and the worker send it a
//! [`Command`] over a bounded channel, each with a typed [`Reply`]. The writer takes the
//! first waiting command, drains whatever else is already queued, applies them all in
//! **one** transaction, commits, and only then answers every sender: one `fsync` covers
//! many deliveries, and no sender hears "stored" before its row is durable. A failed commit
//! answers every command of the batch with the error (the handler answers 503, the
//! provider retries).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::contact::{Contact, Disposition};
use crate::rows::{Filter, Row, RowWithBody};

pub mod postgres;
pub mod sqlite;

pub use postgres::{DatabaseUrl, PostgresConfig};
pub use sqlite::{Durability, WAL_LIMIT, wal_path_of};

/// Which database holds the inbox.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A SQLite file (`CRM_SYNC_DB`, `CRM_SYNC_SYNCHRONOUS`): one process.
    Sqlite {
        /// The database file.
        path: std::path::PathBuf,
        /// How hard commits are synced.
        durability: Durability,
    },
    /// A PostgreSQL database (`CRM_SYNC_DATABASE_URL`): any number of replicas.
    Postgres(Box<PostgresConfig>),
}

/// Lifecycle of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the CRM.
    Pending,
    /// The CRM accepted the contact.
    Delivered,
    /// The CRM refused the contact for good (a 4xx other than 429); not retried.
    Failed,
    /// Stored only: not a booking event, or no attendee email.
    Skipped,
}

impl Status {
    /// Every status, in lifecycle order: the one list the counters, the schema's `CHECK`
    /// and the parsers follow.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Delivered,
        Status::Failed,
        Status::Skipped,
    ];

    /// The value in the `status` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    /// The position in [`Status::ALL`] (an index into per-status arrays).
    pub const fn index(self) -> usize {
        match self {
            Status::Pending => 0,
            Status::Delivered => 1,
            Status::Failed => 2,
            Status::Skipped => 3,
        }
    }

    /// What the status means, in a few words (`crm-sync inbox list --help`).
    pub const fn meaning(self) -> &'static str {
        match self {
            Status::Pending => "waiting for the CRM",
            Status::Delivered => "accepted by the CRM",
            Status::Failed => "refused by the CRM for good",
            Status::Skipped => "stored without a CRM call",
        }
    }

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

impl NewDelivery {
    /// The row's first status and the reason kept with it (why it was skipped).
    fn initial_status(&self) -> (Status, Option<&'static str>) {
        match &self.disposition {
            Disposition::Sync(_) => (Status::Pending, None),
            Disposition::Skip(why) => (Status::Skipped, Some(why.as_str())),
        }
    }
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

/// A row waiting for the CRM, claimed by this process's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    /// The row id (rows are claimed in id order).
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
    /// An attempt failed in a way worth retrying: the rows stay `pending` (and, on
    /// PostgreSQL, claimed by this worker), their attempt count goes up and the reason is
    /// kept.
    Retrying {
        /// The CRM's status code, if it answered.
        http_status: Option<u16>,
        /// A short reason.
        reason: String,
    },
}

impl Change {
    /// The status the rows move to, the status code and the reason to keep.
    fn columns(&self) -> (Status, Option<u16>, Option<&str>) {
        match self {
            Change::Delivered { http_status } => (Status::Delivered, Some(*http_status), None),
            Change::Failed {
                http_status,
                reason,
            } => (Status::Failed, *http_status, Some(reason.as_str())),
            Change::Retrying {
                http_status,
                reason,
            } => (Status::Pending, *http_status, Some(reason.as_str())),
        }
    }
}

/// Row counts by status.
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

impl StatusCounts {
    /// The counts in [`Status::ALL`] order.
    fn from_array(n: [u64; 4]) -> Self {
        StatusCounts {
            pending: n[Status::Pending.index()],
            delivered: n[Status::Delivered.index()],
            failed: n[Status::Failed.index()],
            skipped: n[Status::Skipped.index()],
        }
    }
}

/// Which failed rows a retry moves back to pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryTarget {
    /// These rows, those of them that are failed.
    Ids(Vec<i64>),
    /// Every failed row.
    AllFailed,
}

/// Why the inbox could not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InboxError {
    /// The writer has stopped (shutting down, or it failed): nothing was stored.
    Closed,
    /// SQLite refused; the message is SQLite's and carries no row data.
    Sqlite(String),
    /// PostgreSQL refused or could not be reached; the message is the driver's, without
    /// the connection URL's password and without row data.
    Postgres(String),
    /// The database was written by a newer version of this service.
    NewerSchema {
        /// The schema version found in the database.
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
            InboxError::Postgres(msg) => write!(f, "postgres: {msg}"),
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

/// Where a row received before `before` counts as old enough to prune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneChunk {
    /// Delivered and skipped rows received before this instant go.
    pub before: OffsetDateTime,
    /// At most this many rows per command (a short write, so acknowledgements queued
    /// behind it wait milliseconds).
    pub limit: usize,
}

/// The answer channel of one command, typed by what the command returns.
pub(crate) struct Reply<T>(oneshot::Sender<Result<T, InboxError>>);

/// What a writer calls once the fate of the transaction holding a command is known.
pub(crate) type Answer = Box<dyn FnOnce(Result<(), &InboxError>) + Send>;

impl<T: Send + 'static> Reply<T> {
    /// The answer to send after the commit: `result` if the transaction committed, the
    /// commit's error otherwise (the row is not stored, whatever `result` said).
    pub(crate) fn after_commit(self, result: Result<T, InboxError>) -> Answer {
        Box::new(move |commit| {
            // A sender that gave up (client hung up) no longer listens: nothing to do.
            let _ = self.0.send(match commit {
                Ok(()) => result,
                Err(err) => Err(err.clone()),
            });
        })
    }

    /// Answers now, without a transaction (the batch could not begin).
    pub(crate) fn fail(self, err: InboxError) {
        let _ = self.0.send(Err(err));
    }
}

/// A command for a writer.
pub(crate) enum Command {
    /// Insert unless `(provider, dedupe_key)` exists.
    Store(NewDelivery, Reply<Stored>),
    /// The worker's outcome for pending rows it holds; answers the number changed.
    Mark(Vec<i64>, Change, Reply<usize>),
    /// Failed rows back to pending (the admin page's Retry); answers the ids moved.
    Retry(RetryTarget, Reply<Vec<i64>>),
    /// Deletes one chunk of old delivered/skipped rows; answers the number deleted.
    Prune(PruneChunk, Reply<u64>),
    /// A write that changes nothing visible, to find out whether writing works again.
    Probe(Reply<()>),
    /// Sent every round by the backend's housekeeping: re-read the counts if other
    /// writers (another process, another replica) changed rows.
    Refresh,
    /// Commit what is queued, then stop.
    Close,
}

impl Command {
    /// Answers a command that never reached a transaction.
    pub(crate) fn fail(self, err: &InboxError) {
        match self {
            Command::Store(_, reply) => reply.fail(err.clone()),
            Command::Mark(_, _, reply) => reply.fail(err.clone()),
            Command::Retry(_, reply) => reply.fail(err.clone()),
            Command::Prune(_, reply) => reply.fail(err.clone()),
            Command::Probe(reply) => reply.fail(err.clone()),
            Command::Refresh | Command::Close => {}
        }
    }
}

impl Command {
    /// The body bytes a store carries (what a batch's size cap counts).
    fn body_len(&self) -> usize {
        match self {
            Command::Store(d, _) => d.body.len(),
            _ => 0,
        }
    }
}

/// What a writer takes from its queue for one round of group commit.
pub(crate) struct Round {
    /// The commands to apply, in order, in transactions of at most the writer's batch size.
    pub(crate) commands: Vec<Command>,
    /// A `Refresh` was among them: re-read the counts this round.
    pub(crate) refresh: bool,
    /// `Close` was among them (or every sender is gone): this is the last round.
    pub(crate) closing: bool,
}

impl Round {
    /// Starts a round with `first`, what the writer's blocking or async receive returned
    /// (`None`: every sender is gone), then takes whatever else is already queued, up to
    /// `max` commands or `max_bytes` of bodies. On `Close` it closes the queue and takes
    /// everything left in it, so nothing sent before or with `Close` is dropped.
    pub(crate) fn collect(
        first: Option<Command>,
        queue: &mut mpsc::Receiver<Command>,
        max: usize,
        max_bytes: usize,
    ) -> Round {
        let mut round = Round {
            commands: Vec::new(),
            refresh: false,
            closing: false,
        };
        let mut bytes = 0;
        let mut next = first;
        loop {
            match next {
                Some(Command::Close) | None => round.closing = true,
                Some(Command::Refresh) => round.refresh = true,
                Some(cmd) => {
                    bytes += cmd.body_len();
                    round.commands.push(cmd);
                }
            }
            if round.closing || round.commands.len() >= max || bytes >= max_bytes {
                break;
            }
            match queue.try_recv() {
                Ok(cmd) => next = Some(cmd),
                Err(_) => break,
            }
        }
        if round.closing {
            queue.close();
            while let Ok(cmd) = queue.try_recv() {
                if !matches!(cmd, Command::Close | Command::Refresh) {
                    round.commands.push(cmd);
                }
            }
        }
        round
    }

    /// The commands in transactions of at most `max` (only a closing round has more).
    pub(crate) fn batches(self, max: usize) -> impl Iterator<Item = Vec<Command>> {
        let mut commands = self.commands.into_iter().peekable();
        std::iter::from_fn(move || {
            commands.peek()?;
            Some(commands.by_ref().take(max).collect())
        })
    }
}

/// Sends every answer of a batch once its transaction committed (or failed).
pub(crate) fn answer_all(answers: Vec<Answer>, commit: Result<(), &InboxError>) {
    for answer in answers {
        answer(commit);
    }
}

/// What a writer shares with the handles.
#[derive(Default)]
pub(crate) struct Shared {
    /// Row counts by status, in [`Status::ALL`] order.
    counts: [AtomicU64; 4],
    /// Signalled after a commit that added pending rows.
    pub(crate) new_pending: Notify,
    /// Why the inbox cannot write, as of the last write tried (`None`: it succeeded).
    fault: Mutex<Option<String>>,
}

impl Shared {
    /// Records whether the last write worked, logging the transitions only.
    pub(crate) fn set_fault(&self, fault: Option<String>) {
        let mut current = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        match (&*current, &fault) {
            (Some(_), None) => tracing::info!("the inbox writes again"),
            (None, Some(why)) => tracing::error!("{why}; answering 503 until a write succeeds"),
            _ => {}
        }
        *current = fault;
    }

    /// Marks the inbox stopped at shutdown (expected, so without the error log).
    pub(crate) fn set_stopped(&self) {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) =
            Some("the inbox writer has stopped".to_owned());
    }

    pub(crate) fn fault(&self) -> Option<String> {
        self.fault.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn counts(&self) -> StatusCounts {
        StatusCounts::from_array(self.counts.each_ref().map(|c| c.load(Ordering::Relaxed)))
    }

    /// Replaces the counts with ones read from the database.
    pub(crate) fn set_counts(&self, counts: [u64; 4]) {
        for (counter, n) in self.counts.iter().zip(counts) {
            counter.store(n, Ordering::Relaxed);
        }
    }
}

/// Counter changes of a batch, applied only if it commits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deltas {
    /// Rows that arrived in each status.
    pub(crate) added: [u64; 4],
    /// Rows that left each status.
    pub(crate) removed: [u64; 4],
}

impl Deltas {
    /// `n` rows moved from `from` (`None`: new rows) to `to` (`None`: deleted).
    pub(crate) fn moved(&mut self, from: Option<Status>, to: Option<Status>, n: u64) {
        if let Some(from) = from {
            self.removed[from.index()] += n;
        }
        if let Some(to) = to {
            self.added[to.index()] += n;
        }
    }

    /// The net change per status, in [`Status::ALL`] order.
    pub(crate) fn net(&self) -> [i64; 4] {
        std::array::from_fn(|i| {
            i64::try_from(self.added[i]).unwrap_or(i64::MAX)
                - i64::try_from(self.removed[i]).unwrap_or(i64::MAX)
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.net() == [0; 4]
    }

    /// Applies a committed batch's changes to the in-process counts; wakes the worker if
    /// pending rows were added.
    pub(crate) fn apply(&self, shared: &Shared) {
        for (i, counter) in shared.counts.iter().enumerate() {
            counter.fetch_add(self.added[i], Ordering::Relaxed);
            // Saturating: on PostgreSQL the counts are refreshed from the database, and
            // a refresh may already include another replica's removal of the same rows.
            let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(self.removed[i]))
            });
        }
        if self.added[Status::Pending.index()] > 0 {
            shared.new_pending.notify_one();
        }
    }
}

/// How the handle reads, per backend.
#[derive(Clone)]
enum Reader {
    Sqlite(sqlite::Reader),
    Postgres(postgres::Reader),
}

/// A cheap, cloneable handle to the inbox: store deliveries, claim and mark pending rows,
/// read rows and counts.
#[derive(Clone)]
pub struct Inbox {
    commands: mpsc::Sender<Command>,
    reader: Reader,
    shared: Arc<Shared>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field(
                "backend",
                &match self.reader {
                    Reader::Sqlite(_) => "sqlite",
                    Reader::Postgres(_) => "postgres",
                },
            )
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

/// Owns the writer and the backend's housekeeping (checkpoints, count refreshes, probes);
/// [`close`](Self::close) it at shutdown so the last batch commits.
pub struct InboxWriter {
    /// The backend's shutdown sequence: it sends [`Command::Close`] when its housekeeping
    /// can no longer get in the way of the writer's last commit.
    close: Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>,
}

impl fmt::Debug for InboxWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxWriter").finish_non_exhaustive()
    }
}

impl Inbox {
    /// Opens the inbox: creates or migrates the schema, then starts the writer.
    ///
    /// SQLite opens (creating if needed) the file; PostgreSQL connects, retrying for up to
    /// [`postgres::CONNECT_PATIENCE`] while the database is unreachable, and migrates under
    /// an advisory lock, so replicas may start together.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the database cannot be opened or reached, has a newer schema, or
    /// (SQLite) WAL cannot be enabled.
    pub async fn open(backend: &Backend) -> Result<(Inbox, InboxWriter), InboxError> {
        match backend {
            Backend::Sqlite { path, durability } => {
                let (path, durability) = (path.clone(), *durability);
                tokio::task::spawn_blocking(move || sqlite::open(&path, durability))
                    .await
                    .map_err(|e| InboxError::Sqlite(format!("cannot open: {e}")))?
            }
            Backend::Postgres(config) => postgres::open(config).await,
        }
    }

    /// Stores a delivery; resolves once the transaction holding it has committed.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the row could not be committed: the caller must not acknowledge.
    pub async fn store(&self, delivery: NewDelivery) -> Result<Stored, InboxError> {
        self.send(|reply| Command::Store(delivery, reply)).await
    }

    /// Applies `change` to those of the rows `ids` that are still pending (and, on
    /// PostgreSQL, still claimed by this process); resolves after commit with the number
    /// of rows changed.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the change could not be committed.
    pub async fn mark(&self, ids: Vec<i64>, change: Change) -> Result<usize, InboxError> {
        self.send(|reply| Command::Mark(ids, change, reply)).await
    }

    /// Moves failed rows back to pending, through the writer (so the counts stay exact and
    /// the worker wakes up); resolves after commit with the ids that moved.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the change could not be committed.
    pub async fn retry(&self, target: RetryTarget) -> Result<Vec<i64>, InboxError> {
        self.send(|reply| Command::Retry(target, reply)).await
    }

    /// Deletes up to `chunk.limit` delivered or skipped rows received before
    /// `chunk.before`; pending and failed rows are never touched. Returns the number
    /// deleted (fewer than the limit: nothing older is left).
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the deletion could not be committed.
    pub async fn prune(&self, chunk: PruneChunk) -> Result<u64, InboxError> {
        self.send(|reply| Command::Prune(chunk, reply)).await
    }

    async fn send<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(Reply(reply)))
            .await
            .map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Claims up to `limit` pending rows for this process's worker, oldest first.
    ///
    /// On SQLite the worker is the only one: this reads the oldest pending rows. On
    /// PostgreSQL it leases them to this process for `CRM_SYNC_LEASE_SECS`
    /// (`FOR UPDATE SKIP LOCKED`): rows another replica holds are skipped, and rows whose
    /// lease ran out (their replica died) are taken over.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the database refuses.
    pub async fn claim(&self, limit: usize) -> Result<Vec<PendingRow>, InboxError> {
        match &self.reader {
            Reader::Sqlite(r) => r.pending(limit).await,
            Reader::Postgres(r) => r.claim(limit).await,
        }
    }

    /// Before a CRM attempt: extends this process's claim on `ids` and returns those still
    /// held (all of them on SQLite). A row missing from the answer was taken over by
    /// another replica after the lease ran out, or changed by hand: it must not be sent.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the database refuses.
    pub async fn renew(&self, ids: Vec<i64>) -> Result<Vec<i64>, InboxError> {
        match &self.reader {
            Reader::Sqlite(_) => Ok(ids),
            Reader::Postgres(r) => r.renew(ids).await,
        }
    }

    /// Row counts by status. SQLite's are exact as of the last commit; PostgreSQL's
    /// include this process's commits at once and other replicas' within a second.
    pub fn counts(&self) -> StatusCounts {
        self.shared.counts()
    }

    /// `Ok` while the inbox can write; otherwise why not, in one line (the disk is full,
    /// the database is unreachable, the writer has stopped...). Turns `Ok` again after the
    /// next successful commit; while it is not `Ok`, a small write is tried every half
    /// second, so it recovers without traffic.
    ///
    /// # Errors
    ///
    /// The reason, as a short message without row data.
    pub fn health(&self) -> Result<(), String> {
        self.shared.fault().map_or(Ok(()), Err)
    }

    /// Rows matching `filter`, newest first.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the read fails.
    pub async fn list(&self, filter: Filter) -> Result<Vec<Row>, InboxError> {
        match &self.reader {
            Reader::Sqlite(r) => r.read(move |c| crate::rows::list(c, &filter)).await,
            Reader::Postgres(r) => r.list(&filter).await,
        }
    }

    /// The row `id` with its body, if it exists.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the read fails.
    pub async fn get(&self, id: i64) -> Result<Option<RowWithBody>, InboxError> {
        match &self.reader {
            Reader::Sqlite(r) => r.read(move |c| crate::rows::get(c, id)).await,
            Reader::Postgres(r) => r.get(id).await,
        }
    }

    /// Row counts by provider and status.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the read fails.
    pub async fn counts_by_provider(&self) -> Result<Vec<(String, Status, u64)>, InboxError> {
        match &self.reader {
            Reader::Sqlite(r) => r.read(crate::rows::counts_by_provider).await,
            Reader::Postgres(r) => r.counts_by_provider().await,
        }
    }

    /// When the oldest pending row was received, if there is one.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the read fails.
    pub async fn oldest_pending(&self) -> Result<Option<OffsetDateTime>, InboxError> {
        match &self.reader {
            Reader::Sqlite(r) => r.read(crate::rows::oldest_pending).await,
            Reader::Postgres(r) => r.oldest_pending().await,
        }
    }

    /// Resolves once new pending rows may be there: committed by this process since the
    /// last call (a wake-up that happened while nobody waited is kept, so none is lost),
    /// or, on PostgreSQL, after [`postgres::POLL_EVERY`], since other replicas store rows
    /// too.
    pub async fn new_pending(&self) {
        match &self.reader {
            Reader::Sqlite(_) => self.shared.new_pending.notified().await,
            Reader::Postgres(_) => {
                let _ =
                    tokio::time::timeout(postgres::POLL_EVERY, self.shared.new_pending.notified())
                        .await;
            }
        }
    }
}

impl InboxWriter {
    /// Lets the writer commit everything queued before this call, then stops it and its
    /// housekeeping and waits for them. Later [`Inbox::store`] calls fail with
    /// [`InboxError::Closed`].
    pub async fn close(self) {
        let _ = (self.close)().await;
    }
}

/// How long the pruner waits between two rounds.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Rows deleted per prune command.
pub const PRUNE_CHUNK: usize = 1_000;

/// Deletes delivered and skipped rows received more than `retention` ago, chunk by chunk,
/// every [`PRUNE_EVERY`] until `shutdown` turns `true` (the first round runs at once).
/// Each chunk is one short write through the writer, so acknowledgements queued behind it
/// wait milliseconds; replicas pruning at the same time delete disjoint rows.
pub async fn prune_loop(
    inbox: Inbox,
    retention: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let before = OffsetDateTime::now_utc() - retention;
        let mut total = 0u64;
        loop {
            let chunk = PruneChunk {
                before,
                limit: PRUNE_CHUNK,
            };
            match inbox.prune(chunk).await {
                Ok(n) => {
                    total += n;
                    if n < PRUNE_CHUNK as u64 {
                        break;
                    }
                }
                Err(InboxError::Closed) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "pruning old rows failed; retrying next round");
                    break;
                }
            }
            if *shutdown.borrow() {
                return;
            }
        }
        if total > 0 {
            tracing::info!(
                rows = total,
                retention_days = retention.as_secs() / 86_400,
                "pruned delivered and skipped rows past the retention"
            );
        }
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> Command {
        Command::Probe(Reply(oneshot::channel().0))
    }

    fn store(body: &'static [u8]) -> Command {
        Command::Store(
            NewDelivery {
                provider: "slatis",
                dedupe_key: "k".to_owned(),
                event_type: "BOOKING_CREATED".to_owned(),
                kind: "created",
                disposition: Disposition::Skip(crate::contact::SkipReason::NoAttendeeEmail),
                body: Bytes::from_static(body),
                received_at: OffsetDateTime::now_utc(),
            },
            Reply(oneshot::channel().0),
        )
    }

    #[test]
    fn a_round_takes_what_is_queued_up_to_its_caps() {
        let (tx, mut rx) = mpsc::channel(16);
        for _ in 0..4 {
            tx.try_send(probe()).unwrap();
        }
        tx.try_send(Command::Refresh).unwrap();
        let round = Round::collect(Some(probe()), &mut rx, 3, usize::MAX);
        assert_eq!(
            (round.commands.len(), round.refresh, round.closing),
            (3, false, false)
        );
        let round = Round::collect(rx.try_recv().ok(), &mut rx, 3, usize::MAX);
        assert_eq!(
            (round.commands.len(), round.refresh, round.closing),
            (2, true, false)
        );

        tx.try_send(store(b"1234")).unwrap();
        tx.try_send(probe()).unwrap();
        let round = Round::collect(Some(store(b"123456")), &mut rx, 100, 10);
        assert_eq!(round.commands.len(), 2, "the byte cap closes the round");
    }

    #[test]
    fn a_closing_round_takes_everything_left_and_the_queue_refuses_more() {
        let (tx, mut rx) = mpsc::channel(16);
        tx.try_send(Command::Close).unwrap();
        for _ in 0..5 {
            tx.try_send(probe()).unwrap();
        }
        tx.try_send(Command::Refresh).unwrap();
        let round = Round::collect(Some(probe()), &mut rx, 2, usize::MAX);
        assert!(round.closing);
        assert!(tx.try_send(probe()).is_err(), "closed");
        let sizes: Vec<usize> = round.batches(2).map(|b| b.len()).collect();
        assert_eq!(
            sizes,
            [2, 2, 2],
            "the first, the five behind Close, in batches of 2"
        );

        let round = Round::collect(None, &mut mpsc::channel(1).1, 2, usize::MAX);
        assert!(round.closing && round.commands.is_empty());
        assert_eq!(round.batches(2).count(), 0);
    }
}
