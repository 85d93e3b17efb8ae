//! Reading and changing inbox rows by hand: what the `crm-sync inbox` subcommands and the
//! admin page share.
//!
//! The row types are the same on both backends. The functions here are the SQLite side:
//! each takes a plain SQLite connection, so the same SQL serves the command line (its own
//! connection, working beside a running service) and the service (its reader connection,
//! or the writer's transaction for a retry or a prune, so its counts stay exact). The
//! PostgreSQL side is [`crate::inbox::postgres`].

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::inbox::{PRUNE_CHUNK, RetryTarget, Status};

/// One inbox row without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The row id (`inbox show ID`).
    pub id: i64,
    /// The provider's name.
    pub provider: String,
    /// The provider's raw event name.
    pub event_type: String,
    /// The normalized kind (`created`, `unknown`, ...).
    pub kind: String,
    /// Where the row is in its life.
    pub status: Status,
    /// CRM attempts so far.
    pub attempts: i64,
    /// The CRM's last status code, if it answered.
    pub http_status: Option<i64>,
    /// The last CRM error (or why the row was skipped), if any.
    pub reason: Option<String>,
    /// The attendee's email, if the event had one.
    pub contact_email: Option<String>,
    /// When the service received it (RFC 3339, UTC).
    pub received_at: String,
    /// When the row last changed (RFC 3339, UTC).
    pub updated_at: String,
}

/// One row with the body exactly as the provider signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWithBody {
    /// The row.
    pub row: Row,
    /// The verified raw body.
    pub body: Vec<u8>,
}

/// Which rows `list` returns, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Only rows in this status.
    pub status: Option<Status>,
    /// Only rows of this provider.
    pub provider: Option<String>,
    /// At most this many.
    pub limit: usize,
}

const COLUMNS: &str = "id, provider, event_type, kind, status, attempts, http_status, reason,
                       contact_email, received_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> Result<Row, rusqlite::Error> {
    let status: String = r.get(4)?;
    Ok(Row {
        id: r.get(0)?,
        provider: r.get(1)?,
        event_type: r.get(2)?,
        kind: r.get(3)?,
        // The CHECK constraint allows only the four names.
        status: Status::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("unknown status {status:?}").into(),
            )
        })?,
        attempts: r.get(5)?,
        http_status: r.get(6)?,
        reason: r.get(7)?,
        contact_email: r.get(8)?,
        received_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

/// Rows matching `filter`, newest first.
///
/// # Errors
///
/// SQLite's error.
pub fn list(conn: &Connection, filter: &Filter) -> Result<Vec<Row>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM deliveries
         WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR provider = ?2)
         ORDER BY id DESC LIMIT ?3"
    ))?;
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    stmt.query_map(
        params![filter.status.map(Status::as_str), filter.provider, limit],
        row,
    )?
    .collect()
}

/// The row `id` with its body, if it exists.
///
/// # Errors
///
/// SQLite's error.
pub fn get(conn: &Connection, id: i64) -> Result<Option<RowWithBody>, rusqlite::Error> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, body FROM deliveries WHERE id = ?1"
    ))?
    .query_row([id], |r| {
        Ok(RowWithBody {
            row: row(r)?,
            body: r.get(11)?,
        })
    })
    .optional()
}

/// Moves the failed rows of `target` back to pending inside `tx`; returns the ids moved,
/// ascending. Rows in any other status are left alone. The attempt count and the last
/// error stay (history); the next CRM answer overwrites the error.
///
/// # Errors
///
/// SQLite's error.
pub fn retry(
    tx: &Transaction<'_>,
    target: &RetryTarget,
    now: &str,
) -> Result<Vec<i64>, rusqlite::Error> {
    let mut moved = Vec::new();
    match target {
        RetryTarget::Ids(ids) => {
            let mut stmt = tx.prepare_cached(
                "UPDATE deliveries SET status = 'pending', updated_at = ?2
                 WHERE id = ?1 AND status = 'failed' RETURNING id",
            )?;
            for id in ids {
                if let Some(id) = stmt.query_row(params![id, now], |r| r.get(0)).optional()? {
                    moved.push(id);
                }
            }
        }
        RetryTarget::AllFailed => {
            let mut stmt = tx.prepare_cached(
                "UPDATE deliveries SET status = 'pending', updated_at = ?1
                 WHERE status = 'failed' RETURNING id",
            )?;
            moved = stmt
                .query_map([now], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
        }
    }
    moved.sort_unstable();
    moved.dedup();
    Ok(moved)
}

/// Deletes up to `limit` delivered and skipped rows received before `before`; pending
/// and failed rows are never touched. Returns how many of each status went, in
/// [`Status::ALL`] order (the service's writer keeps its counts exact with them).
///
/// # Errors
///
/// SQLite's error.
pub fn prune_chunk(
    conn: &Connection,
    before: OffsetDateTime,
    limit: usize,
) -> Result<[u64; 4], rusqlite::Error> {
    let cutoff = before
        .format(&Rfc3339)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    // `julianday` compares instants, whatever the number of fractional digits.
    let mut stmt = conn.prepare_cached(
        "DELETE FROM deliveries WHERE id IN (
             SELECT id FROM deliveries
             WHERE status IN ('delivered', 'skipped')
               AND julianday(received_at) < julianday(?1)
             LIMIT ?2)
         RETURNING status",
    )?;
    let mut gone = [0u64; 4];
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![cutoff, limit])?;
    while let Some(row) = rows.next()? {
        if let Some(status) = Status::parse(&row.get::<_, String>(0)?) {
            gone[status.index()] += 1;
        }
    }
    Ok(gone)
}

/// Deletes delivered and skipped rows received more than `days` days before `now`, in
/// short transactions of [`PRUNE_CHUNK`] rows (so a running service's writer waits
/// milliseconds, not the length of the whole prune); pending and failed rows are never
/// touched. Returns the number deleted.
///
/// # Errors
///
/// SQLite's error (rows deleted by earlier chunks stay deleted).
pub fn prune(conn: &Connection, days: u32, now: OffsetDateTime) -> Result<u64, rusqlite::Error> {
    let before = now - time::Duration::days(i64::from(days));
    let mut total = 0u64;
    loop {
        let deleted: u64 = prune_chunk(conn, before, PRUNE_CHUNK)?.iter().sum();
        total += deleted;
        if deleted < PRUNE_CHUNK as u64 {
            return Ok(total);
        }
    }
}

/// Row counts by provider and status.
///
/// # Errors
///
/// SQLite's error.
pub fn counts_by_provider(
    conn: &Connection,
) -> Result<Vec<(String, Status, u64)>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider, status, COUNT(*) FROM deliveries
         GROUP BY provider, status ORDER BY provider",
    )?;
    let rows = stmt.query_map([], |r| {
        let status: String = r.get(1)?;
        let n: i64 = r.get(2)?;
        Ok((r.get(0)?, status, n))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (provider, status, n) = r?;
        if let Some(status) = Status::parse(&status) {
            out.push((provider, status, u64::try_from(n).unwrap_or(0)));
        }
    }
    Ok(out)
}

/// When the oldest pending row was received, if there is one. The oldest is the lowest
/// id (ids grow with arrival), found through the status index without a scan.
///
/// # Errors
///
/// SQLite's error.
pub fn oldest_pending(conn: &Connection) -> Result<Option<OffsetDateTime>, rusqlite::Error> {
    let at: Option<String> = conn
        .prepare_cached(
            "SELECT received_at FROM deliveries WHERE status = 'pending' ORDER BY id LIMIT 1",
        )?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(at.and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::{Backend, Durability, Inbox};

    fn insert(conn: &Connection, key: &str, status: &str, received_at: &str) -> i64 {
        conn.execute(
            "INSERT INTO deliveries (provider, dedupe_key, received_at, event_type, kind,
                 contact_email, body, status, updated_at)
             VALUES ('slatis', ?1, ?2, 'BOOKING_CREATED', 'created', 'a@x.io', X'7B7D', ?3, ?2)",
            params![key, received_at, status],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[tokio::test]
    async fn retry_moves_only_failed_rows_and_prune_only_old_finished_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        let backend = Backend::Sqlite {
            path: path.clone(),
            durability: Durability::Normal,
        };
        let (_inbox, writer) = Inbox::open(&backend).await.unwrap();
        writer.close().await;
        let mut conn = Connection::open(&path).unwrap();
        let old = "2020-01-01T00:00:00.123456789Z";
        let new = "2099-01-01T00:00:00Z";
        let failed = insert(&conn, "a", "failed", old);
        let pending = insert(&conn, "b", "pending", old);
        let delivered_old = insert(&conn, "c", "delivered", old);
        let delivered_new = insert(&conn, "d", "delivered", new);
        let skipped_old = insert(&conn, "e", "skipped", old);

        let tx = conn.transaction().unwrap();
        let moved = retry(&tx, &RetryTarget::Ids(vec![failed, pending, 999]), "now").unwrap();
        tx.commit().unwrap();
        assert_eq!(moved, [failed]);
        let tx = conn.transaction().unwrap();
        assert!(
            retry(&tx, &RetryTarget::AllFailed, "now")
                .unwrap()
                .is_empty()
        );
        drop(tx);

        assert_eq!(prune(&conn, 30, OffsetDateTime::now_utc()).unwrap(), 2);
        let left: Vec<i64> = list(
            &conn,
            &Filter {
                status: None,
                provider: None,
                limit: 10,
            },
        )
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
        assert_eq!(left, [delivered_new, pending, failed]);
        assert!(get(&conn, delivered_old).unwrap().is_none());
        assert!(get(&conn, skipped_old).unwrap().is_none());
        assert_eq!(get(&conn, failed).unwrap().unwrap().body, b"{}");
        assert_eq!(
            oldest_pending(&conn).unwrap().unwrap().year(),
            2020,
            "the oldest pending row is the lowest id"
        );
    }
}
