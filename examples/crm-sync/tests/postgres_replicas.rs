//! crm-sync as several replicas on one PostgreSQL (issue 14): the real binary, a real
//! throw-away PostgreSQL (bookhook-testkit's harness, Debian's package, 127.0.0.1), a fake
//! HubSpot. Every wait has a deadline; nothing sleeps to win a race.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookhook_events::{BookingEvent, samples};
use bookhook_testkit::postgres_server::PostgresServer;
use bookhook_verify::Provider;
use support::*;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Delivery `i`: provider `i mod 7`, its booking-created sample made unique (its own
/// attendee email, and for Bookable, which sends no email, its own envelope id).
fn delivery(i: usize) -> (Provider, Vec<u8>, Option<String>) {
    let provider = Provider::ALL[i % Provider::ALL.len()];
    let sample = samples::booking_created(provider);
    let event = BookingEvent::parse(provider, sample.as_bytes()).unwrap();
    match event.attendee.and_then(|a| a.email) {
        Some(email) => {
            let mine = format!("pg{i:05}@example.com");
            (
                provider,
                sample.replace(&email, &mine).into_bytes(),
                Some(mine),
            )
        }
        None => {
            let id = event.delivery_id.expect("a sample without email has an id");
            let body = sample.replace(&id, &format!("{id}-{i}"));
            (provider, body.into_bytes(), None)
        }
    }
}

/// A replica: the service with every secret, the fake CRM and the shared database.
fn replica(url: &str, fake: &FakeHubSpot, extra: &[(&str, &str)]) -> ServiceBuilder {
    // CRM_SYNC_DB points at nothing: with CRM_SYNC_DATABASE_URL set it is never opened.
    let mut builder = ServiceBuilder::new(std::path::Path::new("/nonexistent/crm-sync.db"))
        .all_secrets()
        .crm(fake)
        .env("CRM_SYNC_DATABASE_URL", url);
    for (k, v) in extra {
        builder = builder.env(k, v);
    }
    builder
}

/// Sends one signed delivery to `base`; the status (0 when the request itself failed).
async fn post(client: &reqwest::Client, base: &str, signed: &Signed) -> u16 {
    let mut req = client
        .post(format!("{base}{}", signed.path))
        .header("content-type", "application/json")
        .body(signed.body.clone());
    for (k, v) in &signed.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.send().await {
        Ok(res) => res.status().as_u16(),
        Err(_) => 0,
    }
}

/// Rows by status in the database.
fn db_status_counts(pg: &PostgresServer, db: &str) -> BTreeMap<String, u64> {
    pg.psql(
        db,
        "SELECT status, count(*) FROM deliveries GROUP BY status",
    )
    .lines()
    .map(|l| {
        let (s, n) = l.split_once('|').unwrap();
        (s.to_owned(), n.parse().unwrap())
    })
    .collect()
}

/// How often each email reached the fake CRM.
fn upserts_per_email(fake: &FakeHubSpot) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for email in fake.delivered_emails() {
        *seen.entry(email).or_insert(0) += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_store_each_delivery_once_and_send_every_contact_once() {
    const N: usize = 2_000;
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("replicas");
    let fake = FakeHubSpot::start().await;
    let replicas: Vec<Service> = (0..3).map(|_| replica(&url, &fake, &[]).start()).collect();
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let client = client();

    // Round-robin over the replicas; every fifth delivery is also sent, at the same
    // moment, to the next replica (as a provider retrying on a timeout would).
    let limit = Arc::new(Semaphore::new(32));
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (client, limit) = (client.clone(), Arc::clone(&limit));
        let first = bases[i % 3].clone();
        let second = (i % 5 == 0).then(|| bases[(i + 1) % 3].clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let (provider, body, _) = delivery(i);
            let signed = Signed::now(provider, &body);
            let answers = match second {
                None => vec![post(&client, &first, &signed).await],
                Some(second) => {
                    let (a, b) = tokio::join!(
                        post(&client, &first, &signed),
                        post(&client, &second, &signed)
                    );
                    vec![a, b]
                }
            };
            (i, answers)
        });
    }
    let mut resent = 0;
    while let Some(done) = tasks.join_next().await {
        let (i, mut answers) = done.unwrap();
        answers.sort_unstable();
        match answers.as_slice() {
            [202] => {}
            [200, 202] => resent += 1,
            other => {
                let errors: Vec<String> = replicas
                    .iter()
                    .flat_map(|r| r.logs())
                    .filter(|l| l.contains("ERROR") || l.contains("WARN"))
                    .collect();
                panic!(
                    "delivery {i}: answers {other:?}, want one 202 (and one 200); replicas \
                     logged:\n{}",
                    errors.join("\n")
                )
            }
        }
    }
    assert_eq!(resent, N / 5);

    // Stored once each: 2 000 rows; the Bookable ones (no attendee email) skipped.
    let bookable = (0..N).filter(|i| delivery(*i).2.is_none()).count();
    let expected: BTreeSet<String> = (0..N).filter_map(|i| delivery(i).2).collect();
    assert_eq!(expected.len(), N - bookable);
    let counts = eventually(
        "every contact delivered",
        Duration::from_secs(60),
        async || {
            let counts = db_status_counts(&pg, "replicas");
            (counts.get("delivered") == Some(&(expected.len() as u64))).then_some(counts)
        },
    )
    .await;
    assert_eq!(
        counts.get("skipped"),
        Some(&(bookable as u64)),
        "{counts:?}"
    );
    assert_eq!(counts.values().sum::<u64>(), N as u64, "{counts:?}");

    // Every contact reached the CRM exactly once: claims are exclusive, no lease ran out.
    let sent = upserts_per_email(&fake);
    let sent_emails: BTreeSet<String> = sent.keys().cloned().collect();
    assert_eq!(sent_emails, expected);
    let twice: Vec<_> = sent.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");

    // The workers of all three replicas took part.
    let senders: BTreeSet<usize> = replicas
        .iter()
        .enumerate()
        .filter(|(_, r)| r.logs().iter().any(|l| l.contains("crm upsert delivered")))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(senders.len(), 3, "replicas that sent: {senders:?}");

    // Each replica's /stats agrees with the table (the shared counters, refreshed).
    for r in &replicas {
        let stats = eventually("/stats caught up", Duration::from_secs(10), async || {
            let stats = r.stats(&client).await;
            (stats["delivered"] == expected.len() && stats["skipped"] == bookable).then_some(stats)
        })
        .await;
        assert_eq!(stats["pending"], 0, "{stats}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_batch_loses_nothing_and_its_rows_wait_for_the_lease() {
    const LEASE: Duration = Duration::from_secs(4);
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("takeover");
    let fake = FakeHubSpot::start().await;
    // The CRM holds the first batch it gets open without answering; later ones get 200.
    fake.script([Answer::Hang]);
    let extra = [
        ("CRM_SYNC_LEASE_SECS", "4"),
        ("HUBSPOT_TIMEOUT_MS", "30000"),
    ];
    // The lease must outlive the CRM timeout: start-up says so.
    let refused = replica(&url, &fake, &extra).command().output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("CRM_SYNC_LEASE_SECS is invalid"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let extra = [("CRM_SYNC_LEASE_SECS", "4"), ("HUBSPOT_TIMEOUT_MS", "2000")];
    let a = replica(&url, &fake, &extra).start();
    let client = client();
    for i in 0..300 {
        let (provider, body, _) = delivery(i);
        let (status, text) = Signed::now(provider, &body).send(&client, &a).await;
        assert_eq!(status, 202, "{text}");
    }
    // A's worker has claimed a batch and the CRM holds it: the hung call times out only
    // after 2 s, so A is killed while it holds the lease.
    let held = eventually(
        "A's first batch at the CRM",
        Duration::from_secs(20),
        async || fake.requests().first().cloned(),
    )
    .await;
    let held_emails: BTreeSet<String> = held.emails().into_iter().collect();
    assert!(!held_emails.is_empty());
    a.kill9();
    let killed_at = Instant::now();

    // Two other replicas, while more deliveries arrive.
    let b = replica(&url, &fake, &extra).start();
    let c = replica(&url, &fake, &extra).start();
    for i in 300..600 {
        let (provider, body, _) = delivery(i);
        let target = if i % 2 == 0 { &b } else { &c };
        let (status, text) = Signed::now(provider, &body).send(&client, target).await;
        assert_eq!(status, 202, "{text}");
    }
    let expected: BTreeSet<String> = (0..600).filter_map(|i| delivery(i).2).collect();
    eventually(
        "every contact delivered",
        Duration::from_secs(60),
        async || {
            let counts = db_status_counts(&pg, "takeover");
            (counts.get("delivered") == Some(&(expected.len() as u64))).then_some(())
        },
    )
    .await;
    let answered: BTreeSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.answered.is_some_and(|s| s == 200))
        .flat_map(|r| r.emails())
        .collect();
    assert_eq!(
        answered, expected,
        "every acknowledged contact reached the CRM"
    );

    // The rows A held were taken over only once A's lease had run out: A claimed them
    // just before its request, so not before `held.at + LEASE` (less the claim-to-request
    // time, well under a second).
    let takeover = fake
        .requests()
        .iter()
        .filter(|r| r.answered == Some(200) && r.emails().iter().any(|e| held_emails.contains(e)))
        .map(|r| r.at)
        .min()
        .expect("A's rows were sent by another replica");
    assert!(
        takeover >= held.at + LEASE - Duration::from_millis(900),
        "taken over {:?} after A's request, lease {LEASE:?}",
        takeover - held.at
    );
    assert!(killed_at > held.at);
    // A's batch never got an answer (A died holding it); nothing was answered twice.
    let twice: Vec<_> = upserts_per_email(&fake)
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .collect();
    assert!(twice.is_empty(), "answered more than once: {twice:?}");
}

/// One request of the outage test: (delivery, status, sent at, answered at).
type Attempt = (usize, u16, Instant, Instant);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_load_gets_503s_never_a_false_ack_then_recovers() {
    const N: usize = 400;
    let Some(mut pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("outage");
    let fake = FakeHubSpot::start().await;
    let service = replica(&url, &fake, &[]).start();
    let base = service.base.clone();
    let client = client();

    // (delivery, status, sent at, answered at) for every attempt; a 503 is retried, as a
    // provider would, until acknowledged (at most 40 s per delivery).
    let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let limit = Arc::new(Semaphore::new(8));
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (client, base, limit, attempts) = (
            client.clone(),
            base.clone(),
            Arc::clone(&limit),
            Arc::clone(&attempts),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let (provider, body, _) = delivery(i);
            let deadline = Instant::now() + Duration::from_secs(40);
            loop {
                let signed = Signed::now(provider, &body);
                let sent = Instant::now();
                let status = post(&client, &base, &signed).await;
                attempts
                    .lock()
                    .unwrap()
                    .push((i, status, sent, Instant::now()));
                if status == 202 || status == 200 {
                    return;
                }
                assert!(Instant::now() < deadline, "delivery {i} never acknowledged");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    // Stop the database once a quarter is in, keep it down for 3 s.
    eventually(
        "a quarter acknowledged",
        Duration::from_secs(30),
        async || {
            let n = attempts
                .lock()
                .unwrap()
                .iter()
                .filter(|a| a.1 == 202)
                .count();
            (n >= N / 4).then_some(())
        },
    )
    .await;
    let pg_ref = &mut pg;
    tokio::task::block_in_place(|| pg_ref.stop());
    let down_from = Instant::now();
    let health = eventually(
        "/healthz 503 while the database is down",
        Duration::from_secs(10),
        async || {
            let res = client.get(service.url("/healthz")).send().await.ok()?;
            (res.status() == 503).then_some(())?;
            res.text().await.ok()
        },
    )
    .await;
    assert!(health.contains("inbox"), "{health}");
    eventually("503s while down", Duration::from_secs(10), async || {
        let n = attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.1 == 503 && a.2 >= down_from)
            .count();
        (n > 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(down_from.elapsed())).await;
    let down_until = Instant::now();
    tokio::task::block_in_place(|| pg.start_again());

    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let attempts = attempts.lock().unwrap().clone();
    // No acknowledgement for a request sent and answered while the database was down.
    let false_acks: Vec<_> = attempts
        .iter()
        .filter(|(_, s, sent, answered)| {
            (*s == 202 || *s == 200) && *sent >= down_from && *answered <= down_until
        })
        .collect();
    assert!(
        false_acks.is_empty(),
        "acknowledged while down: {false_acks:?}"
    );
    assert!(
        attempts
            .iter()
            .all(|(_, s, _, _)| [200, 202, 503].contains(s)),
        "only 2xx and 503"
    );
    // Every delivery acknowledged once stored is in the table, once.
    let acked: BTreeSet<usize> = attempts
        .iter()
        .filter(|a| a.1 == 202 || a.1 == 200)
        .map(|a| a.0)
        .collect();
    assert_eq!(acked.len(), N);
    let rows: u64 = pg
        .psql("outage", "SELECT count(*) FROM deliveries")
        .parse()
        .unwrap();
    assert_eq!(rows, N as u64);
    eventually("/healthz 200 again", Duration::from_secs(10), async || {
        let res = client.get(service.url("/healthz")).send().await.ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
    let expected: BTreeSet<String> = (0..N).filter_map(|i| delivery(i).2).collect();
    eventually(
        "every contact delivered",
        Duration::from_secs(60),
        async || {
            let counts = db_status_counts(&pg, "outage");
            (counts.get("delivered") == Some(&(expected.len() as u64))).then_some(())
        },
    )
    .await;
    assert!(
        service
            .logs()
            .iter()
            .any(|l| l.contains("the inbox writes again"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_starting_together_on_an_empty_database_both_come_up() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("together");
    let fake = FakeHubSpot::start().await;
    let builder = replica(&url, &fake, &[]);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| builder.start());
        let b = s.spawn(|| builder.start());
        (a.join().unwrap(), b.join().unwrap())
    });
    let migrated = [&a, &b]
        .iter()
        .filter(|r| {
            r.logs()
                .iter()
                .any(|l| l.contains("postgres schema migrated"))
        })
        .count();
    assert_eq!(migrated, 1, "exactly one replica migrates");
    assert_eq!(
        pg.psql("together", "SELECT version FROM crm_sync_schema"),
        "1"
    );
    let client = client();
    for (i, r) in [&a, &b].into_iter().enumerate() {
        let (provider, body, _) = delivery(i);
        assert_eq!(Signed::now(provider, &body).send(&client, r).await.0, 202);
    }
    // SIGTERM drains: each replica commits what it queued and exits 0.
    for r in [a, b] {
        let status = r.terminate();
        assert!(status.success(), "{status:?}");
    }
    assert_eq!(pg.psql("together", "SELECT count(*) FROM deliveries"), "2");

    // A database written by a newer crm-sync: refused with exit 2, one line.
    pg.psql("together", "UPDATE crm_sync_schema SET version = 99");
    let out = builder.command().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("crm-sync: CRM_SYNC_DATABASE_URL is invalid: cannot open the inbox: the database has schema version 99; this build supports up to 1"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_prunes_only_old_delivered_and_skipped_rows() {
    let Some(pg) = PostgresServer::start() else {
        return;
    };
    let url = pg.create_database("retention");
    let fake = FakeHubSpot::start().await;
    fake.reject_emails_containing("pg0000"); // deliveries 0..=9: failed for good
    let service = replica(&url, &fake, &[]).start();
    let client = client();
    for i in 0..70 {
        let (provider, body, _) = delivery(i);
        assert_eq!(
            Signed::now(provider, &body).send(&client, &service).await.0,
            202
        );
    }
    eventually(
        "the CRM answered for every row",
        Duration::from_secs(60),
        async || {
            let counts = db_status_counts(&pg, "retention");
            (!counts.contains_key("pending")).then_some(())
        },
    )
    .await;
    drop(service);
    // Make the first 40 rows old: delivered, skipped (Bookable) and failed ones. (Old
    // pending rows are covered by tests/postgres_inbox.rs; here the worker would send them.)
    pg.psql(
        "retention",
        "UPDATE deliveries SET received_at = now() - interval '31 days'
         WHERE id IN (SELECT id FROM deliveries ORDER BY id LIMIT 40)",
    );
    let count = |filter: &str| -> u64 {
        pg.psql(
            "retention",
            &format!("SELECT count(*) FROM deliveries WHERE {filter}"),
        )
        .parse()
        .unwrap()
    };
    let old = "received_at < now() - interval '30 days'";
    let doomed = count(&format!("{old} AND status IN ('delivered', 'skipped')"));
    let kept_old = count(&format!("{old} AND status IN ('pending', 'failed')"));
    let total = count("true");
    assert!(doomed > 0 && kept_old > 0, "{doomed} {kept_old}");

    let service = replica(&url, &fake, &[("CRM_SYNC_RETENTION_DAYS", "30")]).start();
    eventually(
        "old finished rows pruned",
        Duration::from_secs(20),
        async || (count("true") == total - doomed).then_some(()),
    )
    .await;
    assert_eq!(
        count(&format!("{old} AND status IN ('delivered', 'skipped')")),
        0
    );
    assert_eq!(
        count(&format!("{old} AND status IN ('pending', 'failed')")),
        kept_old
    );
    assert!(
        service
            .logs()
            .iter()
            .any(|l| l.contains("pruned delivered and skipped rows"))
    );
    // /stats follows the deletion (the counters move in the same transaction).
    let db = db_status_counts(&pg, "retention");
    let stats = eventually(
        "/stats matches the table",
        Duration::from_secs(10),
        async || {
            let stats = service.stats(&client).await;
            (stats["delivered"] == db.get("delivered").copied().unwrap_or(0)
                && stats["skipped"] == db.get("skipped").copied().unwrap_or(0))
            .then_some(stats)
        },
    )
    .await;
    assert_eq!(
        stats["failed"],
        db.get("failed").copied().unwrap_or(0),
        "{stats}"
    );

    // The `inbox` commands work on the PostgreSQL inbox too, beside the running replica.
    let env = [("CRM_SYNC_DATABASE_URL", url.as_str())];
    let nowhere = std::path::Path::new("/nonexistent/crm-sync.db");
    let failed = crm_sync(
        nowhere,
        &env,
        &["inbox", "list", "--status", "failed", "--json"],
    );
    assert_eq!(failed.code, Some(0), "{}", failed.stderr);
    let failed_ids: Vec<i64> = failed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        failed_ids.len() as u64,
        db.get("failed").copied().unwrap_or(0)
    );
    let shown = crm_sync(
        nowhere,
        &env,
        &["inbox", "show", &failed_ids[0].to_string(), "--json"],
    );
    assert_eq!(shown.json()["status"], "failed", "{}", shown.stderr);
    fake.reject_emails_containing("no-such-email");
    let retried = crm_sync(nowhere, &env, &["inbox", "retry", "--failed", "--json"]);
    assert_eq!(retried.code, Some(0), "{}", retried.stderr);
    assert_eq!(
        retried.json()["retried"].as_array().unwrap().len(),
        failed_ids.len()
    );
    // The replica sees the retried rows (its worker polls) and delivers them.
    eventually(
        "retried rows delivered",
        Duration::from_secs(20),
        async || {
            let stats = service.stats(&client).await;
            (stats["failed"] == 0 && stats["pending"] == 0).then_some(())
        },
    )
    .await;
    let everything = count("true");
    let pruned = crm_sync(
        nowhere,
        &env,
        &["inbox", "prune", "--older-than", "0", "--json"],
    );
    assert_eq!(pruned.code, Some(0), "{}", pruned.stderr);
    assert_eq!(pruned.json()["pruned"], everything);
    assert_eq!(count("true"), 0);
    // An empty database is not an inbox: exit 2, nothing created.
    let other = pg.create_database("empty");
    let refused = crm_sync(
        nowhere,
        &[("CRM_SYNC_DATABASE_URL", other.as_str())],
        &["inbox", "list"],
    );
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("CRM_SYNC_DATABASE_URL is invalid: cannot open the inbox: postgres: not a crm-sync inbox"), "{}", refused.stderr);
}
