//! The PostgreSQL inbox (`CRM_SYNC_DATABASE_URL`): one database, any number of replicas.
//!
//! # What the replicas share, and how
//!
//! - **Dedupe** is the table's `UNIQUE (provider, dedupe_key)`: a delivery sent to two
//!   replicas at once is inserted by one transaction; the other's `ON CONFLICT DO NOTHING`
//!   waits for it to commit and then finds the row (`200 duplicate`).
//! - **Acknowledgement** follows the commit: each replica's writer inserts a whole group of
//!   deliveries with one `INSERT … SELECT FROM UNNEST(…)` in one transaction, and answers
//!   only after `COMMIT` returned (with `synchronous_commit=on`, after the WAL flush).
//! - **Pending rows** are claimed, not read: `UPDATE … WHERE id IN (SELECT … FOR UPDATE
//!   SKIP LOCKED)` sets `lease_owner` (this process) and `leased_until` (now +
//!   `CRM_SYNC_LEASE_SECS`). Rows another replica holds are skipped. Before each CRM
//!   attempt the worker renews its lease and drops the rows it no longer holds; the final
//!   mark changes only rows still pending *and* still leased to this process. A replica
//!   that dies mid-batch stops renewing; once `leased_until` passes, any replica claims the
//!   rows again.
//! - **Counts** live in `inbox_counts`, 32 rows ("shards") of four counters, changed in the
//!   same transaction as the rows: each batch adds its net change to one shard, so replicas
//!   rarely wait on each other's counter row, and the sum is exact. Each replica re-reads
//!   the sum every [`POLL_EVERY`].
//! - **Migrations** run at start-up inside one transaction that first takes an advisory
//!   lock ([`MIGRATION_LOCK`]): replicas starting together queue on the lock, the first
//!   migrates, the others find the schema current. A schema newer than this build is
//!   refused ([`InboxError::NewerSchema`], exit 2).
//!
//! # When the CRM sees a contact twice
//!
//! Towards the CRM this is at least once, and a repeat needs one of:
//!
//! 1. a replica is killed (or loses the database) after HubSpot answered but before its
//!    mark committed: after the lease another replica sends the rows again;
//! 2. a replica stalls for longer than the lease between renewing and marking (the CRM call
//!    itself is bounded by `HUBSPOT_TIMEOUT_MS`, which start-up requires to be at least 2 s
//!    shorter than the lease): another replica may claim and send the rows meanwhile.
//!
//! Without a kill or such a stall, no row is sent twice: claims are exclusive, and a mark
//! that lost its lease changes nothing. HubSpot's batch upsert by email makes a repeat
//! harmless (the contact ends up the same).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor as _, Postgres, Row as _, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{mpsc, oneshot};

use super::{
    Answer, Command, Deltas, Inbox, InboxError, InboxWriter, NewDelivery, PendingRow, PruneChunk,
    Reply, RetryTarget, Round, Shared, Status, Stored, answer_all,
};
use crate::contact::Contact;
use crate::rows::{Filter, Row, RowWithBody};

/// The most commands one transaction applies.
pub const MAX_BATCH: usize = 256;

/// The most body bytes one transaction inserts (a batch closes early past it).
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// How many commands may wait for the writer before senders wait in turn (backpressure).
const QUEUE_CAPACITY: usize = 8 * MAX_BATCH;

/// How often a replica re-reads the shared counts, and how often an idle worker looks for
/// rows other replicas stored.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// How often an unhealthy inbox tries a small write to find out it works again.
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// How long a request waits for a pooled connection before the inbox gives up (503).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long start-up keeps trying to reach the database before it fails.
pub const CONNECT_PATIENCE: Duration = Duration::from_secs(30);

/// Connections per replica: the writer, the worker's claims, reads for the admin page and
/// `/healthz`, and one spare.
const POOL_SIZE: u32 = 5;

/// Counter shards in `inbox_counts` (see the module docs).
const COUNT_SHARDS: u64 = 32;

/// The advisory lock key migrations run under: the bytes of "crm-sync".
pub const MIGRATION_LOCK: i64 = 7_165_909_999_078_174_307;

/// The schema, one entry per version; `crm_sync_schema.version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // v1: the inbox, its indexes and the sharded counters.
    "CREATE TABLE deliveries (
         id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         provider      text        NOT NULL,
         dedupe_key    text        NOT NULL,
         received_at   timestamptz NOT NULL,
         event_type    text        NOT NULL,
         kind          text        NOT NULL,
         contact_email text,
         contact_name  text,
         body          bytea       NOT NULL,
         status        text        NOT NULL
                       CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
         attempts      integer     NOT NULL DEFAULT 0,
         http_status   integer,
         reason        text,
         updated_at    timestamptz NOT NULL,
         lease_owner   text,
         leased_until  timestamptz,
         UNIQUE (provider, dedupe_key),
         CHECK (status <> 'pending' OR contact_email IS NOT NULL)
     ) WITH (fillfactor = 80);
     -- fillfactor: room on each page for the claim's new row version, so that update
     -- (lease columns only, none indexed) can stay on the page (HOT) without index writes.
     -- Claims walk the pending rows in id order: a small partial index.
     CREATE INDEX deliveries_pending ON deliveries (id) WHERE status = 'pending';
     -- Retention deletes finished rows by age.
     CREATE INDEX deliveries_finished ON deliveries (received_at)
         WHERE status IN ('delivered', 'skipped');
     CREATE INDEX deliveries_failed ON deliveries (id) WHERE status = 'failed';
     CREATE TABLE inbox_counts (
         shard     smallint PRIMARY KEY,
         pending   bigint NOT NULL DEFAULT 0,
         delivered bigint NOT NULL DEFAULT 0,
         failed    bigint NOT NULL DEFAULT 0,
         skipped   bigint NOT NULL DEFAULT 0
     );
     INSERT INTO inbox_counts (shard) SELECT generate_series(0, 31);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `CRM_SYNC_DATABASE_URL`: parsed when the configuration is read; `Debug` and `Display`
/// hide the password.
#[derive(Clone)]
pub struct DatabaseUrl {
    options: PgConnectOptions,
    shown: String,
}

impl DatabaseUrl {
    /// The URL with its password replaced by `***`, for logs.
    pub fn redacted(&self) -> &str {
        &self.shown
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let url = url.trim();
        let expected = "expected postgres://user:password@host:port/database";
        let parsed = reqwest::Url::parse(url).map_err(|_| expected.to_owned())?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(expected.to_owned());
        }
        // sqlx's own message could quote the URL: ours never does.
        let options = PgConnectOptions::from_str(url).map_err(|_| expected.to_owned())?;
        let mut shown = parsed.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        Ok(DatabaseUrl {
            options,
            shown: shown.to_string(),
        })
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.shown).finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Everything the PostgreSQL inbox needs.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// `CRM_SYNC_DATABASE_URL`.
    pub url: DatabaseUrl,
    /// `CRM_SYNC_LEASE_SECS`: how long a claim holds rows before another replica may take
    /// them.
    pub lease: Duration,
}

fn pg(err: sqlx::Error) -> InboxError {
    // sqlx's messages name the server's error or the I/O failure, never the URL.
    InboxError::Postgres(err.to_string())
}

/// Who holds a claim: this process, for this long.
#[derive(Debug, Clone)]
struct Lease {
    owner: Arc<str>,
    secs: f64,
}

impl Lease {
    fn new(lease: Duration) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        let nonce = RandomState::new().hash_one(std::process::id());
        Lease {
            owner: format!("{host}:{}:{nonce:016x}", std::process::id()).into(),
            secs: lease.as_secs_f64(),
        }
    }
}

/// Connects (retrying for up to [`CONNECT_PATIENCE`] while the database is unreachable),
/// migrates, reads the counts and starts the writer and its housekeeping.
pub(crate) async fn open(config: &PostgresConfig) -> Result<(Inbox, InboxWriter), InboxError> {
    let pool = connect(config, CONNECT_PATIENCE).await?;
    migrate(&pool).await?;
    start(config, pool).await
}

/// For the `crm-sync inbox` commands: connects once and requires this build's schema
/// (a command never creates or migrates an inbox: a typo in the URL must not yield an
/// empty inbox that lists nothing).
///
/// # Errors
///
/// [`InboxError::Postgres`] if the database is unreachable or holds no inbox of this
/// version; [`InboxError::NewerSchema`] for a newer one.
pub async fn open_existing(config: &PostgresConfig) -> Result<(Inbox, InboxWriter), InboxError> {
    let pool = connect(config, Duration::ZERO).await?;
    let found: Option<i32> = match sqlx::query_scalar("SELECT max(version) FROM crm_sync_schema")
        .fetch_one(&pool)
        .await
    {
        Ok(found) => found,
        // 42P01: undefined table.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => None,
        Err(err) => return Err(pg(err)),
    };
    match i64::from(found.unwrap_or(0)) {
        SCHEMA_VERSION => start(config, pool).await,
        0 => Err(InboxError::Postgres(
            "not a crm-sync inbox (no schema)".to_owned(),
        )),
        v if v > SCHEMA_VERSION => Err(InboxError::NewerSchema {
            found: v,
            supported: SCHEMA_VERSION,
        }),
        v => Err(InboxError::Postgres(format!(
            "schema version {v} is older than this build's {SCHEMA_VERSION}; start the \
             service once to migrate it"
        ))),
    }
}

async fn start(config: &PostgresConfig, pool: PgPool) -> Result<(Inbox, InboxWriter), InboxError> {
    let shared = Arc::new(Shared::default());
    shared.set_counts(read_counts(&pool).await?);
    let lease = Lease::new(config.lease);
    tracing::info!(
        database = %config.url,
        lease_owner = %lease.owner,
        lease_secs = config.lease.as_secs(),
        "postgres inbox ready"
    );

    let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
    let writer = tokio::spawn(write_loop(
        pool.clone(),
        rx,
        Arc::clone(&shared),
        lease.clone(),
    ));
    let housekeeping = tokio::spawn(housekeeping(tx.clone(), Arc::clone(&shared)));
    Ok((
        Inbox {
            commands: tx.clone(),
            reader: super::Reader::Postgres(Reader {
                pool: pool.clone(),
                lease,
            }),
            shared,
        },
        InboxWriter {
            close: Box::new(move || {
                tokio::spawn(async move {
                    housekeeping.abort();
                    // Queued in order: every command sent before `Close` is committed first.
                    let _ = tx.send(Command::Close).await;
                    let _ = writer.await;
                    pool.close().await;
                })
            }),
        },
    ))
}

async fn connect(config: &PostgresConfig, patience: Duration) -> Result<PgPool, InboxError> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let attempt = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(config.url.options.clone().application_name("crm-sync"))
            .await;
        match attempt {
            Ok(pool) => return Ok(pool),
            Err(err) if started.elapsed() + delay < patience && retryable(&err) => {
                tracing::warn!(error = %err, "postgres unreachable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(err) => return Err(pg(err)),
        }
    }
}

/// Worth retrying at start-up: the server is not there (yet). A refused login or a
/// missing database is not.
fn retryable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
    ) || matches!(err, sqlx::Error::Database(db)
        // 57P03: the database system is starting up.
        if db.code().as_deref() == Some("57P03"))
}

/// Applies the migrations newer than the recorded version, all in one transaction under
/// [`MIGRATION_LOCK`].
async fn migrate(pool: &PgPool) -> Result<(), InboxError> {
    let mut tx = pool.begin().await.map_err(pg)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(pg)?;
    // A plain `&str` runs as a simple query, so one migration may hold several statements.
    // (Not `sqlx::raw_sql`: its future is not provably `Send` inside the service's.)
    (&mut *tx)
        .execute("CREATE TABLE IF NOT EXISTS crm_sync_schema (version integer NOT NULL)")
        .await
        .map_err(pg)?;
    let found: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM crm_sync_schema")
        .fetch_one(&mut *tx)
        .await
        .map_err(pg)?;
    let found = i64::from(found.unwrap_or(0));
    if found > SCHEMA_VERSION {
        return Err(InboxError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        (&mut *tx).execute(*sql).await.map_err(pg)?;
        sqlx::query("DELETE FROM crm_sync_schema")
            .execute(&mut *tx)
            .await
            .map_err(pg)?;
        sqlx::query("INSERT INTO crm_sync_schema (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(pg)?;
        tracing::info!(version, "postgres schema migrated");
    }
    tx.commit().await.map_err(pg)
}

/// The sum of the counter shards, in [`Status::ALL`] order.
async fn read_counts(pool: &PgPool) -> Result<[u64; 4], InboxError> {
    let row = sqlx::query(
        "SELECT COALESCE(sum(pending), 0)::bigint, COALESCE(sum(delivered), 0)::bigint,
                COALESCE(sum(failed), 0)::bigint, COALESCE(sum(skipped), 0)::bigint
         FROM inbox_counts",
    )
    .fetch_one(pool)
    .await
    .map_err(pg)?;
    let mut counts = [0u64; 4];
    for (i, n) in counts.iter_mut().enumerate() {
        *n = u64::try_from(row.try_get::<i64, _>(i).map_err(pg)?).unwrap_or(0);
    }
    Ok(counts)
}

/// Every [`POLL_EVERY`], re-read the counts (through the writer, so they line up with its
/// own deltas); while the inbox is unhealthy, probe every [`PROBE_EVERY`].
async fn housekeeping(commands: mpsc::Sender<Command>, shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(PROBE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut round = 0u64;
    loop {
        ticks.tick().await;
        round += 1;
        if shared.fault().is_some() {
            let (reply, answer) = oneshot::channel();
            if commands.try_send(Command::Probe(Reply(reply))).is_ok() {
                let _ = answer.await;
            }
        }
        if round % (POLL_EVERY.as_millis() / PROBE_EVERY.as_millis()).max(1) as u64 == 0 {
            // A full queue means the writer is busy; the next round asks again.
            let _ = commands.try_send(Command::Refresh);
        }
        if commands.is_closed() {
            return;
        }
    }
}

/// The writer task: group commit until `Close` (or until every sender is gone).
async fn write_loop(
    pool: PgPool,
    mut commands: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    lease: Lease,
) {
    let mut shards = Shards::new();
    let mut closing = false;
    while !closing {
        let round = Round::collect(
            commands.recv().await,
            &mut commands,
            MAX_BATCH,
            MAX_BATCH_BYTES,
        );
        closing = round.closing;
        let refresh = round.refresh;
        for batch in round.batches(MAX_BATCH) {
            commit_batch(&pool, batch, &shared, &lease, shards.next()).await;
        }
        if refresh {
            match read_counts(&pool).await {
                Ok(counts) => {
                    shared.set_counts(counts);
                    if counts[Status::Pending.index()] > 0 {
                        shared.new_pending.notify_one();
                    }
                }
                Err(err) => {
                    shared.set_fault(Some(format!("inbox cannot reach the database: {err}")));
                }
            }
        }
    }
    shared.set_stopped();
}

/// Which counter shard the next batch adds to: a random start per process, then round
/// robin, so two replicas rarely pick the same row at the same moment.
struct Shards(u64);

impl Shards {
    fn new() -> Self {
        Shards(RandomState::new().hash_one(std::process::id()) % COUNT_SHARDS)
    }

    fn next(&mut self) -> i16 {
        self.0 = (self.0 + 1) % COUNT_SHARDS;
        self.0 as i16
    }
}

/// Applies `batch` in one transaction, commits, then answers every sender. A statement
/// that fails aborts a PostgreSQL transaction, so any failure rolls the whole batch back
/// and every command gets the error.
async fn commit_batch(
    pool: &PgPool,
    batch: Vec<Command>,
    shared: &Shared,
    lease: &Lease,
    shard: i16,
) {
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(err) => {
            let err = pg(err);
            tracing::error!(error = %err, commands = batch.len(), "inbox transaction could not begin");
            shared.set_fault(Some(format!("inbox cannot write: {err}")));
            for cmd in batch {
                cmd.fail(&err);
            }
            return;
        }
    };
    let mut deltas = Deltas::default();
    let mut answers: Vec<Answer> = Vec::with_capacity(batch.len());
    let mut failed: Option<InboxError> = None;

    let (stores, rest): (Vec<Command>, Vec<Command>) = batch
        .into_iter()
        .partition(|c| matches!(c, Command::Store(..)));
    let (deliveries, replies): (Vec<NewDelivery>, Vec<Reply<Stored>>) = stores
        .into_iter()
        .filter_map(|c| match c {
            Command::Store(d, reply) => Some((d, reply)),
            _ => None,
        })
        .unzip();
    if !deliveries.is_empty() {
        match insert_all(&mut tx, &deliveries, &mut deltas).await {
            Ok(stored) => {
                for (reply, s) in replies.into_iter().zip(stored) {
                    answers.push(reply.after_commit(Ok(s)));
                }
            }
            Err(err) => {
                for reply in replies {
                    answers.push(reply.after_commit(Err(err.clone())));
                }
                failed = Some(err);
            }
        }
    }
    for cmd in rest {
        if let Some(err) = &failed {
            cmd.fail(err);
            continue;
        }
        let (answer, outcome) = apply(&mut tx, cmd, lease, &mut deltas).await;
        answers.push(answer);
        failed = outcome.err();
    }
    if failed.is_none() && !deltas.is_empty() {
        let net = deltas.net();
        let counted = sqlx::query(
            "UPDATE inbox_counts SET pending = pending + $2, delivered = delivered + $3,
                 failed = failed + $4, skipped = skipped + $5
             WHERE shard = $1",
        )
        .bind(shard)
        .bind(net[0])
        .bind(net[1])
        .bind(net[2])
        .bind(net[3])
        .execute(&mut *tx)
        .await;
        failed = counted.err().map(pg);
    }
    let committed = match failed {
        // Never COMMIT after a failed statement: PostgreSQL would roll back and report
        // success, and the deliveries would be acknowledged without being stored.
        Some(err) => {
            let _ = tx.rollback().await;
            Err(err)
        }
        None => tx.commit().await.map_err(pg),
    };
    match &committed {
        Err(err) => {
            tracing::error!(error = %err, commands = answers.len(), "inbox commit failed");
            shared.set_fault(Some(format!("inbox cannot write: {err}")));
        }
        Ok(()) => {
            shared.set_fault(None);
            deltas.apply(shared);
        }
    }
    answer_all(answers, committed.as_ref().map(|_| ()));
}

/// PostgreSQL's `text` cannot hold NUL; a signed delivery may carry one (`"\u0000"` in its
/// JSON). Replacing it keeps the row storable (the body, `bytea`, stays byte-exact), where
/// refusing would fail every batch the delivery joined.
fn text(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// Inserts the deliveries of a batch with one statement; answers in order. A delivery
/// repeated within the batch is a duplicate of its first occurrence.
///
/// Rows go in in key order: two replicas inserting the same keys at once (a delivery sent
/// to both) then wait for each other's unique-index entries in the same order, never in a
/// cycle. In arrival order they deadlocked, and PostgreSQL aborted one whole batch (503s;
/// `tests/postgres_replicas.rs` caught it).
async fn insert_all(
    tx: &mut Transaction<'static, Postgres>,
    deliveries: &[NewDelivery],
    deltas: &mut Deltas,
) -> Result<Vec<Stored>, InboxError> {
    let keys: Vec<(&'static str, String)> = deliveries
        .iter()
        .map(|d| (d.provider, text(&d.dedupe_key)))
        .collect();
    let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(keys.len());
    let mut columns = Columns::default();
    for (i, (d, (provider, key))) in deliveries.iter().zip(&keys).enumerate() {
        // A later occurrence is not inserted: it stays answered `Duplicate`.
        if let Entry::Vacant(slot) = first.entry((provider, key.as_str())) {
            slot.insert(i);
            columns.push(d, key);
        }
    }
    let rows = sqlx::query(
        "INSERT INTO deliveries (provider, dedupe_key, received_at, event_type, kind,
             contact_email, contact_name, body, status, reason, updated_at)
         SELECT p, k, r::timestamptz, e, kd, ce, cn, b, s, rs, now()
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::bytea[], $9::text[], $10::text[])
              AS t(p, k, r, e, kd, ce, cn, b, s, rs)
         ORDER BY p, k
         ON CONFLICT (provider, dedupe_key) DO NOTHING
         RETURNING id, provider, dedupe_key, status",
    )
    .bind(&columns.provider)
    .bind(&columns.key)
    .bind(&columns.received_at)
    .bind(&columns.event_type)
    .bind(&columns.kind)
    .bind(&columns.email)
    .bind(&columns.name)
    .bind(&columns.body)
    .bind(&columns.status)
    .bind(&columns.reason)
    .fetch_all(&mut **tx)
    .await
    .map_err(pg)?;

    let mut answers = vec![Stored::Duplicate; deliveries.len()];
    for row in rows {
        let id: i64 = row.try_get(0).map_err(pg)?;
        let provider: String = row.try_get(1).map_err(pg)?;
        let key: String = row.try_get(2).map_err(pg)?;
        let status: String = row.try_get(3).map_err(pg)?;
        let status = Status::parse(&status)
            .ok_or_else(|| InboxError::Postgres(format!("unknown status {status:?}")))?;
        if let Some(&i) = first.get(&(provider.as_str(), key.as_str())) {
            answers[i] = Stored::Accepted { id, status };
            deltas.moved(None, Some(status), 1);
        }
    }
    Ok(answers)
}

/// The batch's deliveries as one array per column, for `UNNEST`.
#[derive(Default)]
struct Columns {
    provider: Vec<&'static str>,
    key: Vec<String>,
    received_at: Vec<String>,
    event_type: Vec<String>,
    kind: Vec<&'static str>,
    email: Vec<Option<String>>,
    name: Vec<Option<String>>,
    body: Vec<Vec<u8>>,
    status: Vec<&'static str>,
    reason: Vec<Option<&'static str>>,
}

impl Columns {
    fn push(&mut self, d: &NewDelivery, key: &str) {
        let (status, reason) = d.initial_status();
        let contact = d.disposition.contact();
        self.provider.push(d.provider);
        self.key.push(key.to_owned());
        self.received_at.push(rfc3339(d.received_at));
        self.event_type.push(text(&d.event_type));
        self.kind.push(d.kind);
        self.email.push(contact.map(|c| text(&c.email)));
        self.name
            .push(contact.and_then(|c| c.name.as_deref()).map(text));
        self.body.push(d.body.to_vec());
        self.status.push(status.as_str());
        self.reason.push(reason);
    }
}

/// Applies one command other than a store; returns its answer (sent after the commit) and
/// whether its statement worked.
async fn apply(
    tx: &mut Transaction<'static, Postgres>,
    cmd: Command,
    lease: &Lease,
    deltas: &mut Deltas,
) -> (Answer, Result<(), InboxError>) {
    fn done<T: Send + 'static>(
        reply: Reply<T>,
        r: Result<T, InboxError>,
    ) -> (Answer, Result<(), InboxError>) {
        let outcome = r.as_ref().map(|_| ()).map_err(Clone::clone);
        (reply.after_commit(r), outcome)
    }
    match cmd {
        Command::Mark(ids, change, reply) => {
            let (to, http_status, reason) = change.columns();
            let r = sqlx::query(
                "UPDATE deliveries
                 SET status = $3, attempts = attempts + 1, http_status = $4, reason = $5,
                     updated_at = now(),
                     lease_owner = CASE WHEN $3 = 'pending' THEN lease_owner END,
                     leased_until = CASE WHEN $3 = 'pending'
                                         THEN now() + make_interval(secs => $6) END
                 WHERE id = ANY($1) AND status = 'pending' AND lease_owner = $2",
            )
            .bind(&ids)
            .bind(&*lease.owner)
            .bind(to.as_str())
            .bind(http_status.map(i32::from))
            .bind(reason.map(text))
            .bind(lease.secs)
            .execute(&mut **tx)
            .await
            .map_err(pg)
            .map(|done| {
                let n = done.rows_affected();
                if to != Status::Pending {
                    deltas.moved(Some(Status::Pending), Some(to), n);
                }
                usize::try_from(n).unwrap_or(usize::MAX)
            });
            done(reply, r)
        }
        Command::Retry(target, reply) => {
            let query = match &target {
                RetryTarget::Ids(ids) => sqlx::query_scalar(
                    "UPDATE deliveries SET status = 'pending', updated_at = now(),
                         lease_owner = NULL, leased_until = NULL
                     WHERE id = ANY($1) AND status = 'failed' RETURNING id",
                )
                .bind(ids.clone()),
                RetryTarget::AllFailed => sqlx::query_scalar(
                    "UPDATE deliveries SET status = 'pending', updated_at = now(),
                         lease_owner = NULL, leased_until = NULL
                     WHERE status = 'failed' RETURNING id",
                ),
            };
            let r = query
                .fetch_all(&mut **tx)
                .await
                .map_err(pg)
                .map(|mut ids: Vec<i64>| {
                    ids.sort_unstable();
                    deltas.moved(
                        Some(Status::Failed),
                        Some(Status::Pending),
                        ids.len() as u64,
                    );
                    ids
                });
            done(reply, r)
        }
        Command::Prune(chunk, reply) => {
            let r = prune_chunk(tx, chunk).await.map(|gone| {
                for (status, n) in Status::ALL.into_iter().zip(gone) {
                    deltas.moved(Some(status), None, n);
                }
                gone.iter().sum()
            });
            done(reply, r)
        }
        // Rewriting a counter with its own value is a real write that changes nothing.
        Command::Probe(reply) => {
            let r = sqlx::query("UPDATE inbox_counts SET pending = pending WHERE shard = 0")
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(pg);
            done(reply, r)
        }
        Command::Store(_, reply) => done(reply, Err(InboxError::Closed)),
        Command::Refresh | Command::Close => (Box::new(|_| {}), Ok(())),
    }
}

/// Deletes up to `chunk.limit` delivered/skipped rows received before `chunk.before`
/// (rows another replica's prune is deleting are skipped); how many of each status went.
async fn prune_chunk(
    tx: &mut Transaction<'static, Postgres>,
    chunk: PruneChunk,
) -> Result<[u64; 4], InboxError> {
    let statuses: Vec<String> = sqlx::query_scalar(
        "DELETE FROM deliveries WHERE id IN (
             SELECT id FROM deliveries
             WHERE status IN ('delivered', 'skipped') AND received_at < $1::timestamptz
             LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING status",
    )
    .bind(rfc3339(chunk.before))
    .bind(i64::try_from(chunk.limit).unwrap_or(i64::MAX))
    .fetch_all(&mut **tx)
    .await
    .map_err(pg)?;
    let mut gone = [0u64; 4];
    for status in statuses.iter().filter_map(|s| Status::parse(s)) {
        gone[status.index()] += 1;
    }
    Ok(gone)
}

/// Reads and claims through the pool (not the writer: they are one statement each).
#[derive(Clone)]
pub(crate) struct Reader {
    pool: PgPool,
    lease: Lease,
}

/// Timestamps are read as RFC 3339 text in UTC, as the SQLite inbox stores them (the
/// driver's `time` support would pull in sqlx's SQLite driver, whose `sqlite3` link
/// clashes with rusqlite's).
const COLUMNS: &str = "id, provider, event_type, kind, status, attempts, http_status, reason,
                       contact_email, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn row(r: &sqlx::postgres::PgRow) -> Result<Row, sqlx::Error> {
    let status: String = r.try_get(4)?;
    Ok(Row {
        id: r.try_get(0)?,
        provider: r.try_get(1)?,
        event_type: r.try_get(2)?,
        kind: r.try_get(3)?,
        status: Status::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status:?}").into()))?,
        attempts: i64::from(r.try_get::<i32, _>(5)?),
        http_status: r.try_get::<Option<i32>, _>(6)?.map(i64::from),
        reason: r.try_get(7)?,
        contact_email: r.try_get(8)?,
        received_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
    })
}

impl Reader {
    /// Claims up to `limit` pending rows for this process (see the module docs).
    pub(crate) async fn claim(&self, limit: usize) -> Result<Vec<PendingRow>, InboxError> {
        let rows = sqlx::query(
            "UPDATE deliveries d
             SET lease_owner = $1, leased_until = now() + make_interval(secs => $2)
             FROM (SELECT id FROM deliveries
                   WHERE status = 'pending'
                     AND (leased_until IS NULL OR leased_until < now() OR lease_owner = $1)
                   ORDER BY id LIMIT $3
                   FOR UPDATE SKIP LOCKED) c
             WHERE d.id = c.id
             RETURNING d.id, d.contact_email, d.contact_name",
        )
        .bind(&*self.lease.owner)
        .bind(self.lease.secs)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(pg)?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                Ok(PendingRow {
                    id: r.try_get(0)?,
                    contact: Contact::new(
                        r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                        r.try_get(2)?,
                    ),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(pg)?;
        claimed.sort_by_key(|r| r.id);
        Ok(claimed)
    }

    /// Extends this process's lease on `ids`; the ids still held. A row another transaction
    /// has locked is not waited for: only another replica's claim or mark locks a pending
    /// row this worker leased (this worker marks its rows only after renewing them), so it
    /// is being taken over and counts as lost. Never waiting keeps renewals out of lock
    /// cycles with the writers' transactions.
    pub(crate) async fn renew(&self, ids: Vec<i64>) -> Result<Vec<i64>, InboxError> {
        let mut held: Vec<i64> = sqlx::query_scalar(
            "UPDATE deliveries SET leased_until = now() + make_interval(secs => $3)
             WHERE id IN (SELECT id FROM deliveries
                          WHERE id = ANY($1) AND status = 'pending' AND lease_owner = $2
                          FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind(&ids)
        .bind(&*self.lease.owner)
        .bind(self.lease.secs)
        .fetch_all(&self.pool)
        .await
        .map_err(pg)?;
        held.sort_unstable();
        Ok(held)
    }

    pub(crate) async fn list(&self, filter: &Filter) -> Result<Vec<Row>, InboxError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM deliveries
             WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR provider = $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(filter.status.map(Status::as_str))
        .bind(filter.provider.as_deref())
        .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(pg)?;
        rows.iter().map(row).collect::<Result<_, _>>().map_err(pg)
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Option<RowWithBody>, InboxError> {
        let found = sqlx::query(&format!(
            "SELECT {COLUMNS}, body FROM deliveries WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(pg)?;
        found
            .map(|r| {
                Ok(RowWithBody {
                    row: row(&r)?,
                    body: r.try_get(11)?,
                })
            })
            .transpose()
            .map_err(pg)
    }

    pub(crate) async fn counts_by_provider(
        &self,
    ) -> Result<Vec<(String, Status, u64)>, InboxError> {
        let rows = sqlx::query(
            "SELECT provider, status, COUNT(*) FROM deliveries
             GROUP BY provider, status ORDER BY provider",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(pg)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let status: String = r.try_get(1).map_err(pg)?;
            let n: i64 = r.try_get(2).map_err(pg)?;
            if let Some(status) = Status::parse(&status) {
                out.push((
                    r.try_get(0).map_err(pg)?,
                    status,
                    u64::try_from(n).unwrap_or(0),
                ));
            }
        }
        Ok(out)
    }

    pub(crate) async fn oldest_pending(&self) -> Result<Option<OffsetDateTime>, InboxError> {
        let at: Option<String> = sqlx::query_scalar(
            "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
             FROM deliveries WHERE status = 'pending' ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(pg)?;
        Ok(at.and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_hides_the_password_and_refuses_other_schemes() {
        let url: DatabaseUrl = "postgres://crm:s3cret-pw@127.0.0.1:5432/inbox"
            .parse()
            .unwrap();
        assert_eq!(url.redacted(), "postgres://crm:***@127.0.0.1:5432/inbox");
        assert!(!format!("{url:?}{url}").contains("s3cret-pw"));
        for bad in ["mysql://a:b@h/d", "not a url", "", "postgres//x"] {
            let err = bad.parse::<DatabaseUrl>().unwrap_err();
            assert!(err.contains("postgres://"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn nul_is_replaced_in_text_columns_only() {
        assert_eq!(text("a\0b"), "a\u{fffd}b");
        assert_eq!(text("plain"), "plain");
    }

    #[test]
    fn shards_cycle_through_every_counter_row() {
        let mut shards = Shards::new();
        let seen: std::collections::BTreeSet<i16> =
            (0..COUNT_SHARDS).map(|_| shards.next()).collect();
        assert_eq!(seen.len() as u64, COUNT_SHARDS);
        assert!(seen.iter().all(|s| (0..COUNT_SHARDS as i16).contains(s)));
    }
}
