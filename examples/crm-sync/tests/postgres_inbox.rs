//! The PostgreSQL inbox through its API, against a real throw-away PostgreSQL (Debian's
//! package, started by bookhook-testkit's harness on 127.0.0.1): dedupe within and across
//! handles, claims and leases between two "replicas", a lost lease, counts, retry, prune,
//! a newer schema, text PostgreSQL cannot hold.

use std::time::Duration;

use bookhook_testkit::postgres_server::PostgresServer;
use bytes::Bytes;
use crm_sync::contact::{Contact, Disposition, SkipReason};
use crm_sync::inbox::{
    Backend, Change, Inbox, InboxError, InboxWriter, NewDelivery, PostgresConfig, PruneChunk,
    RetryTarget, Status, StatusCounts, Stored,
};
use crm_sync::rows::Filter;
use time::OffsetDateTime;

fn delivery(key: &str, email: Option<&str>) -> NewDelivery {
    NewDelivery {
        provider: "slatis",
        dedupe_key: key.to_owned(),
        event_type: "BOOKING_CREATED".to_owned(),
        kind: "created",
        disposition: match email {
            Some(e) => Disposition::Sync(Contact::new(e, Some("Jane Smith".into()))),
            None => Disposition::Skip(SkipReason::NoAttendeeEmail),
        },
        body: Bytes::from(format!("{{\"key\":\"{key}\"}}")),
        received_at: OffsetDateTime::now_utc(),
    }
}

fn backend(url: &str, lease: Duration) -> Backend {
    Backend::Postgres(Box::new(PostgresConfig {
        url: url.parse().unwrap(),
        lease,
    }))
}

async fn open(url: &str, lease: Duration) -> (Inbox, InboxWriter) {
    Inbox::open(&backend(url, lease)).await.unwrap()
}

fn all() -> Filter {
    Filter {
        status: None,
        provider: None,
        limit: 1_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_share_dedupe_claims_leases_and_counts() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("inbox_api");
    let lease = Duration::from_secs(2);
    let (a, a_writer) = open(&url, lease).await;
    let (b, b_writer) = open(&url, lease).await;

    // The same key stored through both at once: stored once, the other is a duplicate.
    let (x, y) = tokio::join!(
        a.store(delivery("same", Some("same@x.io"))),
        b.store(delivery("same", Some("same@x.io")))
    );
    let mut answers = [x.unwrap(), y.unwrap()];
    answers.sort_by_key(|s| matches!(s, Stored::Duplicate));
    assert!(matches!(
        answers[0],
        Stored::Accepted {
            status: Status::Pending,
            ..
        }
    ));
    assert_eq!(answers[1], Stored::Duplicate);

    // A burst through one handle lands in few transactions; a key repeated within the
    // burst is a duplicate of its first occurrence.
    let burst: Vec<_> = (0..50)
        .map(|i| {
            let a = a.clone();
            tokio::spawn(async move {
                a.store(delivery(
                    &format!("k{}", i % 40),
                    Some(&format!("u{}@x.io", i % 40)),
                ))
                .await
            })
        })
        .collect();
    let mut accepted = 0;
    for t in burst {
        if let Stored::Accepted { .. } = t.await.unwrap().unwrap() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 40);
    assert!(matches!(
        a.store(delivery("skip", None)).await.unwrap(),
        Stored::Accepted {
            status: Status::Skipped,
            ..
        }
    ));
    // A's counts have its own rows at once, and B's (the shared key may be B's) after
    // the next refresh.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while a.counts().pending != 41 {
        assert!(std::time::Instant::now() < deadline, "{:?}", a.counts());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Claims are exclusive: what A holds, B does not get.
    let a_rows = a.claim(30).await.unwrap();
    let b_rows = b.claim(100).await.unwrap();
    assert_eq!(a_rows.len(), 30);
    assert_eq!(b_rows.len(), 11);
    let a_ids: Vec<i64> = a_rows.iter().map(|r| r.id).collect();
    assert!(b_rows.iter().all(|r| !a_ids.contains(&r.id)));
    assert!(a_ids.windows(2).all(|w| w[0] < w[1]), "oldest first");

    // A renews what it holds; B holds none of A's rows and its mark changes nothing.
    assert_eq!(a.renew(a_ids.clone()).await.unwrap(), a_ids);
    assert!(b.renew(a_ids.clone()).await.unwrap().is_empty());
    let delivered = Change::Delivered { http_status: 200 };
    assert_eq!(b.mark(a_ids.clone(), delivered.clone()).await.unwrap(), 0);

    // A stops renewing: after the lease, B takes the rows over (with its own, which it
    // may always claim again) and A's renewal and mark find nothing to change.
    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    let taken = b.claim(100).await.unwrap();
    let taken_ids: Vec<i64> = taken.iter().map(|r| r.id).collect();
    let b_ids: Vec<i64> = b_rows.iter().map(|r| r.id).collect();
    let mut everything: Vec<i64> = a_ids.iter().chain(&b_ids).copied().collect();
    everything.sort_unstable();
    assert_eq!(taken_ids, everything, "B takes over A's expired claim");
    assert!(a.renew(a_ids.clone()).await.unwrap().is_empty());
    assert_eq!(a.mark(a_ids.clone(), delivered.clone()).await.unwrap(), 0);
    assert_eq!(b.mark(a_ids.clone(), delivered.clone()).await.unwrap(), 30);

    // A retryable failure keeps the rows pending and claimed by their holder.
    let retrying = Change::Retrying {
        http_status: Some(503),
        reason: "unavailable".into(),
    };
    assert_eq!(b.mark(b_ids.clone(), retrying).await.unwrap(), 11);
    assert!(a.claim(100).await.unwrap().is_empty(), "still B's");
    let failed = Change::Failed {
        http_status: Some(400),
        reason: "bad email".into(),
    };
    assert_eq!(b.mark(b_ids[..4].to_vec(), failed).await.unwrap(), 4);
    assert_eq!(b.mark(b_ids[4..].to_vec(), delivered).await.unwrap(), 7);

    // Counts: each handle's own commits at once, the other's after a refresh.
    let want = StatusCounts {
        pending: 0,
        delivered: 37,
        failed: 4,
        skipped: 1,
    };
    assert_eq!(db_counts(&pg, "inbox_api"), want);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while a.counts() != want || b.counts() != want {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?} {:?}",
            a.counts(),
            b.counts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Retry moves failed rows (and only those) back to pending, claimable by anyone.
    let moved = a.retry(RetryTarget::AllFailed).await.unwrap();
    assert_eq!(moved, b_ids[..4].to_vec());
    assert!(
        a.retry(RetryTarget::Ids(vec![b_ids[5]]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(a.claim(100).await.unwrap().len(), 4);
    assert_eq!(a.counts().pending, 4);
    assert!(a.oldest_pending().await.unwrap().is_some());
    let by_provider = a.counts_by_provider().await.unwrap();
    assert!(by_provider.contains(&("slatis".to_owned(), Status::Delivered, 37)));

    // Prune: only delivered/skipped rows received before the cutoff go.
    pg.psql(
        "inbox_api",
        "UPDATE deliveries SET received_at = now() - interval '40 days'
         WHERE id IN (SELECT id FROM deliveries ORDER BY id LIMIT 25)
            OR status <> 'delivered'",
    );
    let before = OffsetDateTime::now_utc() - time::Duration::days(30);
    let old_in = |statuses: &str| -> u64 {
        pg.psql(
            "inbox_api",
            &format!(
                "SELECT count(*) FROM deliveries WHERE received_at < now() - interval '30 days'
                 AND status IN ({statuses})"
            ),
        )
        .parse()
        .unwrap()
    };
    let old_finished = old_in("'delivered', 'skipped'");
    let old_other = old_in("'pending', 'failed'");
    assert!(
        old_finished > 0 && old_other > 0,
        "{old_finished} {old_other}"
    );
    let first = a.prune(PruneChunk { before, limit: 5 }).await.unwrap();
    let rest = a
        .prune(PruneChunk {
            before,
            limit: 1_000,
        })
        .await
        .unwrap();
    assert_eq!((first, first + rest), (5, old_finished));
    assert_eq!(
        a.prune(PruneChunk {
            before,
            limit: 1_000
        })
        .await
        .unwrap(),
        0
    );
    let left = a.list(all()).await.unwrap();
    assert_eq!(left.len() as u64, 42 - old_finished);
    assert_eq!(a.counts(), db_counts(&pg, "inbox_api"));
    a_writer.close().await;
    b_writer.close().await;
    assert_eq!(
        a.store(delivery("late", Some("l@x.io"))).await,
        Err(InboxError::Closed)
    );
}

/// Counts by status straight from the table.
fn db_counts(pg: &PostgresServer, db: &str) -> StatusCounts {
    let out = pg.psql(
        db,
        "SELECT status, count(*) FROM deliveries GROUP BY status",
    );
    let mut counts = StatusCounts::default();
    for line in out.lines() {
        let (status, n) = line.split_once('|').unwrap();
        let n: u64 = n.parse().unwrap();
        match Status::parse(status).unwrap() {
            Status::Pending => counts.pending = n,
            Status::Delivered => counts.delivered = n,
            Status::Failed => counts.failed = n,
            Status::Skipped => counts.skipped = n,
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_postgres_cannot_hold_does_not_fail_the_batch() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("nul");
    let (inbox, writer) = open(&url, Duration::from_secs(60)).await;
    let mut poisoned = delivery("k\0nul", Some("nul\0@x.io"));
    poisoned.event_type = "BOOKING\0CREATED".into();
    poisoned.body = Bytes::from_static(b"{\"a\":\"\\u0000\"}\0raw");
    let (p, q) = tokio::join!(
        inbox.store(poisoned.clone()),
        inbox.store(delivery("fine", Some("fine@x.io")))
    );
    assert!(matches!(p.unwrap(), Stored::Accepted { .. }));
    assert!(matches!(q.unwrap(), Stored::Accepted { .. }));
    // The same delivery again is a duplicate (the replacement is deterministic).
    assert_eq!(inbox.store(poisoned).await.unwrap(), Stored::Duplicate);
    let rows = inbox.list(all()).await.unwrap();
    let stored = rows
        .iter()
        .find(|r| r.event_type != "BOOKING_CREATED")
        .unwrap();
    assert_eq!(stored.event_type, "BOOKING\u{fffd}CREATED");
    let with_body = inbox.get(stored.id).await.unwrap().unwrap();
    assert_eq!(
        with_body.body, b"{\"a\":\"\\u0000\"}\0raw",
        "the body stays byte-exact"
    );
    writer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused_and_a_current_one_is_left_alone() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("schema");
    let (_inbox, writer) = open(&url, Duration::from_secs(60)).await;
    writer.close().await;
    assert_eq!(
        pg.psql("schema", "SELECT version FROM crm_sync_schema"),
        "1"
    );
    // Opening again migrates nothing and keeps one version row.
    let (_inbox, writer) = open(&url, Duration::from_secs(60)).await;
    writer.close().await;
    assert_eq!(
        pg.psql("schema", "SELECT count(*) FROM crm_sync_schema"),
        "1"
    );

    pg.psql("schema", "UPDATE crm_sync_schema SET version = 99");
    let err = Inbox::open(&backend(&url, Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        InboxError::NewerSchema {
            found: 99,
            supported: 1
        }
    );
}
