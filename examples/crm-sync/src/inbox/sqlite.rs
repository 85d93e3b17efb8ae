//! The SQLite inbox (the default): one file, one process.
//!
//! # Group commit
//!
//! One writer thread owns the only write connection and applies the queued commands (at
//! most [`MAX_BATCH`]) in one transaction (see the [parent module](super)). One `fsync`
//! thus covers hundreds of deliveries.
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

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{mpsc, oneshot};

use super::{
    Answer, Command, Deltas, Inbox, InboxError, InboxWriter, NewDelivery, PendingRow, Reply, Round,
    Shared, Status, Stored, answer_all,
};
use crate::contact::Contact;

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

/// The read-only connection the handles share, used off the async threads.
#[derive(Clone)]
pub(crate) struct Reader(Arc<Mutex<Connection>>);

impl Reader {
    /// Runs `read` on the read-only connection in a blocking task.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, InboxError> {
        let conn = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            read(&conn).map_err(InboxError::from)
        })
        .await
        .map_err(|e| InboxError::Sqlite(format!("reader task failed: {e}")))?
    }

    /// Up to `limit` pending rows, oldest first (the only worker needs no lease).
    pub(crate) async fn pending(&self, limit: usize) -> Result<Vec<PendingRow>, InboxError> {
        self.read(move |conn| {
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
            rows.collect()
        })
        .await
    }
}

/// Opens (creating if needed) the SQLite file at `path`, enables WAL, applies the
/// migrations, and starts the writer and checkpointer threads.
pub(crate) fn open(
    path: &Path,
    durability: Durability,
) -> Result<(Inbox, InboxWriter), InboxError> {
    let mut writer = Connection::open(path)?;
    configure(&writer, durability)?;
    migrate(&mut writer)?;
    let shared = Arc::new(Shared::default());
    shared.set_counts(load_counts(&writer)?);

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
            reader: super::Reader::Sqlite(Reader(Arc::new(Mutex::new(reader)))),
            shared,
        },
        InboxWriter {
            close: Box::new(move || {
                tokio::task::spawn_blocking(move || {
                    // The checkpointer first: its checkpoints would make the writer's final
                    // TRUNCATE find the WAL busy and leave it behind.
                    let _ = stop_checkpoints.send(());
                    let _ = checkpointer.join();
                    // Queued in order: every command sent before `Close` is committed first.
                    let _ = tx.blocking_send(Command::Close);
                    let _ = thread.join();
                })
            }),
        },
    ))
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
        if self.commands.try_send(Command::Probe(Reply(reply))).is_ok() {
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

/// Row counts by status, in [`Status::ALL`] order. A status without rows is zero.
fn load_counts(conn: &Connection) -> Result<[u64; 4], InboxError> {
    let mut counts = [0u64; 4];
    let mut stmt =
        conn.prepare_cached("SELECT status, COUNT(*) FROM deliveries GROUP BY status")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let status: String = row.get(0)?;
        let n: i64 = row.get(1)?;
        if let Some(status) = Status::parse(&status) {
            counts[status.index()] = u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(counts)
}

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The writer thread: group commit until `Close` (or until every sender is gone).
fn write_loop(
    mut conn: Connection,
    mut commands: mpsc::Receiver<Command>,
    shared: &Shared,
    wal: &Path,
) {
    let mut seen_version = data_version(&conn).ok();
    let mut closing = false;
    while !closing {
        let round = Round::collect(
            commands.blocking_recv(),
            &mut commands,
            MAX_BATCH,
            usize::MAX,
        );
        closing = round.closing;
        if round.refresh {
            refresh_if_changed(&conn, shared, &mut seen_version);
        }
        for batch in round.batches(MAX_BATCH) {
            commit_batch(&mut conn, batch, shared);
            bound_wal(&conn, wal);
        }
    }
    shared.set_stopped();
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
    let before = shared.counts().pending;
    match load_counts(conn) {
        Ok(counts) => {
            shared.set_counts(counts);
            tracing::info!("the inbox was changed by another process; counts re-read");
            if counts[Status::Pending.index()] > 0 || before > 0 {
                shared.new_pending.notify_one();
            }
        }
        Err(err) => tracing::warn!(error = %err, "re-reading the counts failed"),
    }
}

/// Applies `batch` in one transaction, commits, then answers every sender.
fn commit_batch(conn: &mut Connection, mut batch: Vec<Command>, shared: &Shared) {
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut deltas = Deltas::default();

    let committed = (|| -> Result<(), InboxError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for cmd in batch.drain(..) {
            answers.push(apply(&tx, cmd, &now, &mut deltas));
        }
        tx.commit()?;
        Ok(())
    })();

    match &committed {
        Err(err) => {
            tracing::error!(error = %err, commands = answers.len() + batch.len(), "inbox commit failed");
            shared.set_fault(Some(format!("inbox cannot write: {err}")));
        }
        Ok(()) => {
            shared.set_fault(None);
            deltas.apply(shared);
        }
    }
    // Commands the transaction never reached (it could not begin) get the error too.
    if let Err(err) = &committed {
        for cmd in batch {
            cmd.fail(err);
        }
    }
    answer_all(answers, committed.as_ref().map(|_| ()));
}

/// Applies one command inside the batch's transaction; its answer waits for the commit.
fn apply(tx: &rusqlite::Transaction<'_>, cmd: Command, now: &str, deltas: &mut Deltas) -> Answer {
    match cmd {
        Command::Store(delivery, reply) => reply.after_commit(insert(tx, &delivery, now, deltas)),
        Command::Mark(ids, change, reply) => {
            reply.after_commit(mark(tx, &ids, &change, now, deltas))
        }
        Command::Retry(target, reply) => reply.after_commit(
            crate::rows::retry(tx, &target, now)
                .inspect(|ids| {
                    deltas.moved(
                        Some(Status::Failed),
                        Some(Status::Pending),
                        ids.len() as u64,
                    );
                })
                .map_err(InboxError::from),
        ),
        Command::Prune(chunk, reply) => reply.after_commit(
            crate::rows::prune_chunk(tx, chunk.before, chunk.limit)
                .map(|gone| {
                    for (status, n) in Status::ALL.into_iter().zip(gone) {
                        deltas.moved(Some(status), None, n);
                    }
                    gone.iter().sum()
                })
                .map_err(InboxError::from),
        ),
        // Rewriting the schema version writes a page: a real write, no change.
        Command::Probe(reply) => reply.after_commit(
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(InboxError::from),
        ),
        Command::Refresh | Command::Close => Box::new(|_| {}),
    }
}

fn insert(
    tx: &rusqlite::Transaction<'_>,
    d: &NewDelivery,
    now: &str,
    deltas: &mut Deltas,
) -> Result<Stored, InboxError> {
    let (status, reason) = d.initial_status();
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
    deltas.moved(None, Some(status), 1);
    Ok(Stored::Accepted {
        id: tx.last_insert_rowid(),
        status,
    })
}

fn mark(
    tx: &rusqlite::Transaction<'_>,
    ids: &[i64],
    change: &super::Change,
    now: &str,
    deltas: &mut Deltas,
) -> Result<usize, InboxError> {
    let (to, http_status, reason) = change.columns();
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
        deltas.moved(Some(Status::Pending), Some(to), changed as u64);
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Disposition;
    use crate::contact::SkipReason;
    use crate::inbox::{Change, StatusCounts};
    use bytes::Bytes;

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
        super::open(&dir.path().join("inbox.db"), Durability::Full).unwrap()
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
        let pending = inbox.claim(10).await.unwrap();
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
        assert!(inbox.claim(10).await.unwrap().is_empty());
        assert_eq!(inbox.counts().skipped, 1);
        let rows = inbox
            .list(crate::rows::Filter {
                status: None,
                provider: None,
                limit: 10,
            })
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, Status::Skipped);
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
        assert_eq!(inbox.mark(ids.clone(), retry).await.unwrap(), 3);
        assert_eq!(inbox.counts().pending, 3);
        let done = Change::Delivered { http_status: 200 };
        assert_eq!(
            inbox
                .mark(vec![ids[0], ids[1]], done.clone())
                .await
                .unwrap(),
            2
        );
        let failed = Change::Failed {
            http_status: Some(400),
            reason: "bad email".into(),
        };
        assert_eq!(inbox.mark(vec![ids[2]], failed).await.unwrap(), 1);
        // Already delivered: not pending any more, so unchanged.
        assert_eq!(inbox.mark(vec![ids[0]], done).await.unwrap(), 0);
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
        assert_eq!(v, SCHEMA_VERSION);
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
        let err = super::open(&path, Durability::Normal).unwrap_err();
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
