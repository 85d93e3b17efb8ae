//! The CRM misbehaves: outages, rate limits, refusals, hangs.

mod support;

use std::time::{Duration, Instant};

use bookhook_verify::Provider;
use support::*;

fn slatis_service(fake: &FakeHubSpot, db: &std::path::Path) -> Service {
    ServiceBuilder::new(db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .crm(fake)
        .start()
}

async fn send(client: &reqwest::Client, service: &Service, i: usize, email: &str) -> u16 {
    let body = slatis_body(&format!("bkg_{i}"), "Ada Lovelace", email);
    Signed::now(Provider::Slatis, &body)
        .send(client, service)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_503s_then_recovery_loses_nothing() {
    let fake = FakeHubSpot::start().await;
    fake.script([
        Answer::Status(503),
        Answer::Status(502),
        Answer::Status(503),
    ]);
    let (_dir, db) = temp_db();
    let service = slatis_service(&fake, &db);
    let client = client();

    let emails: Vec<String> = (0..5).map(|i| format!("outage-{i}@example.com")).collect();
    for (i, email) in emails.iter().enumerate() {
        assert_eq!(send(&client, &service, i, email).await, 202);
    }
    eventually(
        "every contact after the outage",
        Duration::from_secs(20),
        async || {
            let got = fake.delivered_emails();
            emails.iter().all(|e| got.contains(e)).then_some(())
        },
    )
    .await;
    let requests = fake.requests();
    assert!(requests.len() >= 4, "three failures, then success");
    assert_eq!(
        requests[..3].iter().map(|r| r.answered).collect::<Vec<_>>(),
        [Some(503), Some(502), Some(503)]
    );
    let stats = eventually("rows delivered", Duration::from_secs(10), async || {
        let s = service.stats(&client).await;
        (s["delivered"] == 5).then_some(s)
    })
    .await;
    assert_eq!(stats["failed"], 0, "{stats}");
    assert_eq!(stats["pending"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_retried_no_sooner_than_asked() {
    let fake = FakeHubSpot::start().await;
    fake.script([Answer::TooManyRequests {
        retry_after_secs: 1,
    }]);
    let (_dir, db) = temp_db();
    let service = slatis_service(&fake, &db);
    let client = client();

    assert_eq!(send(&client, &service, 0, "limited@example.com").await, 202);
    eventually("the retried upsert", Duration::from_secs(20), async || {
        fake.delivered_emails()
            .contains(&"limited@example.com".to_owned())
            .then_some(())
    })
    .await;
    let requests = fake.requests();
    assert_eq!(requests[0].answered, Some(429));
    assert_eq!(requests[1].answered, Some(200));
    let gap = requests[1].at - requests[0].at;
    // The backoff alone would retry after 25–50 ms in this configuration.
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same batch is retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_marks_the_row_failed_and_is_not_retried() {
    let fake = FakeHubSpot::start().await;
    fake.script([Answer::Status(400)]);
    let (_dir, db) = temp_db();
    let service = slatis_service(&fake, &db);
    let client = client();

    assert_eq!(send(&client, &service, 0, "refused@example.com").await, 202);
    eventually(
        "the row marked failed",
        Duration::from_secs(20),
        async || (service.stats(&client).await["failed"] == 1).then_some(()),
    )
    .await;
    // Rows go in order: once a later one is delivered, the refused one is never resent.
    assert_eq!(send(&client, &service, 1, "later@example.com").await, 202);
    eventually("the later contact", Duration::from_secs(20), async || {
        fake.delivered_emails()
            .contains(&"later@example.com".to_owned())
            .then_some(())
    })
    .await;
    assert_eq!(fake.inputs_for("refused@example.com").len(), 1);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let (status, http_status, reason): (String, i64, String) = conn
        .query_row(
            "SELECT status, http_status, reason FROM deliveries WHERE contact_email = ?1",
            ["refused@example.com"],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), http_status), ("failed", 400));
    assert_eq!(reason, "HTTP 400: fake 400");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_while_no_token_then_one_merged_batch_with_the_bad_contact_isolated() {
    let fake = FakeHubSpot::start().await;
    fake.reject_emails_containing("bad@");
    let (_dir, db) = temp_db();
    let client = client();

    // No HUBSPOT_TOKEN: everything is stored and waits.
    let builder = ServiceBuilder::new(&db).env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis));
    let service = builder.start();
    let emails = [
        "one@example.com",
        "two@example.com",
        "bad@example.com",
        "ONE@example.com", // the same contact as the first: merged, latest name wins
        "three@example.com",
    ];
    for (i, email) in emails.iter().enumerate() {
        let body = slatis_body(&format!("bkg_{i}"), &format!("Person Number{i}"), email);
        let (status, _) = Signed::now(Provider::Slatis, &body)
            .send(&client, &service)
            .await;
        assert_eq!(status, 202);
    }
    assert_eq!(service.stats(&client).await["pending"], 5);
    assert!(fake.requests().is_empty());
    assert!(service.terminate().success());

    let service = builder.crm(&fake).start();
    let stats = eventually("every row settled", Duration::from_secs(20), async || {
        let s = service.stats(&client).await;
        (s["pending"] == 0).then_some(s)
    })
    .await;
    assert_eq!(stats["delivered"], 4, "{stats}");
    assert_eq!(stats["failed"], 1, "{stats}");

    let requests = fake.requests();
    // The first call holds all four distinct contacts, "one" only once.
    let first: Vec<String> = requests[0].emails();
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(requests[0].answered, Some(400));
    let one: Vec<_> = requests[0]
        .inputs()
        .into_iter()
        .filter(|i| {
            i["id"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("one@example.com")
        })
        .collect();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["properties"]["lastname"], "Number3");
    // Then halves until the bad contact is alone.
    let delivered = fake.delivered_emails();
    for email in ["two@example.com", "three@example.com"] {
        assert!(delivered.contains(&email.to_owned()), "{delivered:?}");
    }
    assert!(
        delivered
            .iter()
            .any(|e| e.eq_ignore_ascii_case("one@example.com"))
    );
    assert!(!delivered.contains(&"bad@example.com".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_crm_never_slows_the_acknowledgements() {
    let fake = FakeHubSpot::start().await;
    fake.set_default(Answer::Hang);
    let (_dir, db) = temp_db();
    // The worker waits up to 30 s for an answer: an ack tied to it would take that long.
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .crm(&fake)
        .env("HUBSPOT_TIMEOUT_MS", "30000")
        .start();
    let client = client();

    assert_eq!(send(&client, &service, 0, "first@example.com").await, 202);
    eventually(
        "the worker stuck in a call",
        Duration::from_secs(20),
        async || (!fake.requests().is_empty()).then_some(()),
    )
    .await;
    let mut slowest = Duration::ZERO;
    for i in 1..=50 {
        let started = Instant::now();
        let status = send(&client, &service, i, &format!("hang-{i}@example.com")).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(status, 202);
    }
    assert!(slowest < Duration::from_secs(1), "slowest ack {slowest:?}");
    assert_eq!(fake.requests().len(), 1, "still waiting on the first call");
    assert_eq!(service.stats(&client).await["pending"], 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_pauses_the_worker_fails_nothing_and_resumes_when_it_is_accepted() {
    const ROWS: usize = 12;
    let fake = FakeHubSpot::start().await;
    fake.set_default(Answer::Status(401));
    let (_dir, db) = temp_db();
    let service = slatis_service(&fake, &db);
    let client = client();
    for i in 0..ROWS {
        assert_eq!(
            send(&client, &service, i, &format!("paused-{i}@example.com")).await,
            202
        );
    }
    // Paused: /healthz 503 with the reason, the gauge at 1, probes repeated with backoff.
    let reason = eventually("healthz 503", Duration::from_secs(20), async || {
        let res = client.get(service.url("/healthz")).send().await.unwrap();
        (res.status() == 503).then_some(())?;
        Some(res.text().await.unwrap())
    })
    .await;
    assert_eq!(
        reason,
        "crm paused: HubSpot refuses the token (HTTP 401); rows stay pending"
    );
    assert!(!reason.contains(TOKEN));
    eventually("several probes", Duration::from_secs(20), async || {
        (fake.requests().len() >= 4).then_some(())
    })
    .await;
    let m = service.metrics(&client).await;
    assert_eq!(m["crm_sync_crm_paused"], 1.0);
    assert!(m[r#"crm_sync_crm_requests_total{status="401"}"#] >= 4.0);
    let stats = service.stats(&client).await;
    assert_eq!(
        (stats["pending"].as_u64(), stats["failed"].as_u64()),
        (Some(ROWS as u64), Some(0)),
        "{stats}"
    );
    // Rows untouched: no attempt counted, no reason written.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (attempts, reasons): (i64, i64) = conn
        .query_row(
            "SELECT SUM(attempts), COUNT(reason) FROM deliveries",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((attempts, reasons), (0, 0));
    // Backoff: the probes spread out (50 ms doubling to 400 ms here), not a hot loop.
    let requests = fake.requests();
    let last = &requests[requests.len() - 2..];
    assert!(
        last[1].at - last[0].at >= Duration::from_millis(100),
        "{:?}",
        last[1].at - last[0].at
    );

    // The token "comes back".
    fake.set_default(Answer::Status(200));
    let stats = eventually("every row delivered", Duration::from_secs(20), async || {
        let s = service.stats(&client).await;
        (s["delivered"] == ROWS as u64).then_some(s)
    })
    .await;
    assert_eq!(stats["failed"], 0, "{stats}");
    let health = client.get(service.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(service.metrics(&client).await["crm_sync_crm_paused"], 0.0);
    let logs = service.logs();
    let paused_logs = logs
        .iter()
        .filter(|l| l.contains("crm refuses the token"))
        .count();
    assert_eq!(
        paused_logs,
        1,
        "logged once a minute, not per probe or row:\n{}",
        logs.join("\n")
    );
    assert!(logs.iter().any(|l| l.contains("worker resumed")));
    assert!(logs.iter().all(|l| !l.contains(TOKEN)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_pauses_too_and_a_restart_with_a_good_token_delivers() {
    let fake = FakeHubSpot::start().await;
    fake.set_default(Answer::Status(403));
    let (_dir, db) = temp_db();
    let service = slatis_service(&fake, &db);
    let client = client();
    assert_eq!(send(&client, &service, 0, "scoped@example.com").await, 202);
    eventually("paused", Duration::from_secs(20), async || {
        let res = client.get(service.url("/healthz")).send().await.unwrap();
        (res.status() == 503).then_some(())
    })
    .await;
    assert!(service.terminate().success());
    fake.set_default(Answer::Status(200));
    let service = slatis_service(&fake, &db);
    eventually(
        "delivered after restart",
        Duration::from_secs(20),
        async || (service.stats(&client).await["delivered"] == 1).then_some(()),
    )
    .await;
    assert_eq!(db_statuses(&db)[0].1, "delivered");
}
