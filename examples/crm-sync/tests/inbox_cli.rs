//! `crm-sync inbox list|show|retry|prune` against the real binary: on a fresh inbox, on one
//! with rows in every status, and on a busy one (the service running and taking deliveries),
//! where a retry done by the command line must show in the service's counts.

mod support;

use std::time::Duration;

use bookhook_verify::Provider;
use support::*;

async fn send_slatis(client: &reqwest::Client, service: &Service, booking: &str, email: &str) {
    let body = slatis_body(booking, "Ada Lovelace", email);
    let (status, text) = Signed::now(Provider::Slatis, &body)
        .send(client, service)
        .await;
    assert_eq!(status, 202, "{text}");
}

/// A skipped row: an event type no booking mapping knows.
async fn send_unknown(client: &reqwest::Client, service: &Service, booking: &str) {
    let body = serde_json::json!({
        "event": "BOOKING_TELEPORTED", "timestamp": "2026-05-01T14:05:00.000Z",
        "webhook_id": "wh_01abc", "data": {"id": booking}
    })
    .to_string();
    let (status, _) = Signed::now(Provider::Slatis, body.as_bytes())
        .send(client, service)
        .await;
    assert_eq!(status, 202);
}

fn ids(list: &serde_json::Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_on_a_fresh_inbox_then_on_one_with_every_status() {
    let (_dir, db) = temp_db();
    // No inbox yet: a configuration error, and no file is created.
    let missing = crm_sync(&db, &[], &["inbox", "list"]);
    assert_eq!(missing.code, Some(2), "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .starts_with("crm-sync: CRM_SYNC_DB is invalid: no inbox there")
    );
    assert!(!db.exists());

    let fake = FakeHubSpot::start().await;
    fake.reject_emails_containing("refused@");
    let builder = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .crm(&fake);
    let service = builder.start();
    assert!(service.terminate().success());

    // Fresh and empty.
    let list = crm_sync(&db, &[], &["inbox", "list", "--json"]);
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    assert_eq!(list.json(), serde_json::json!([]));
    let table = crm_sync(&db, &[], &["inbox", "list"]);
    assert_eq!(table.code, Some(0));
    assert_eq!(
        table.stdout.lines().count(),
        1,
        "header only: {}",
        table.stdout
    );
    let show = crm_sync(&db, &[], &["inbox", "show", "1"]);
    assert_eq!(
        (show.code, show.stderr.trim()),
        (Some(1), "crm-sync: no row with id 1")
    );
    let retry = crm_sync(&db, &[], &["inbox", "retry", "--failed"]);
    assert_eq!(
        (retry.code, retry.stderr.trim()),
        (Some(1), "crm-sync: no failed rows")
    );
    let retry = crm_sync(&db, &[], &["inbox", "retry", "7", "--json"]);
    assert_eq!(retry.code, Some(1));
    assert_eq!(
        retry.json(),
        serde_json::json!({"retried": [], "not_matched": [7]})
    );
    let prune = crm_sync(&db, &[], &["inbox", "prune", "--older-than", "0", "--json"]);
    assert_eq!(prune.code, Some(0), "{}", prune.stderr);
    assert_eq!(prune.json(), serde_json::json!({"pruned": 0}));

    // One row in each status: delivered, failed (the CRM refuses it), skipped; then
    // pending (no CRM configured on the second run).
    let service = builder.start();
    let client = client();
    send_slatis(&client, &service, "bkg_ok", "ok@example.com").await;
    send_slatis(&client, &service, "bkg_bad", "refused@example.com").await;
    send_unknown(&client, &service, "bkg_unknown").await;
    eventually(
        "delivered and failed",
        Duration::from_secs(20),
        async || {
            let s = service.stats(&client).await;
            (s["delivered"] == 1 && s["failed"] == 1).then_some(())
        },
    )
    .await;
    assert!(service.terminate().success());
    let no_crm = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .start();
    send_slatis(&client, &no_crm, "bkg_wait", "wait@example.com").await;
    assert!(no_crm.terminate().success());

    let all = crm_sync(&db, &[], &["inbox", "list", "--json"]).json();
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["pending", "skipped", "failed", "delivered"],
        "newest first"
    );
    let failed = crm_sync(&db, &[], &["inbox", "list", "--status", "failed", "--json"]).json();
    assert_eq!(failed.as_array().unwrap().len(), 1);
    let failed_id = failed[0]["id"].as_i64().unwrap();
    assert_eq!(failed[0]["reason"], "HTTP 400: fake 400");
    assert_eq!(failed[0]["http_status"], 400);
    assert_eq!(failed[0]["attempts"], 1);
    assert_eq!(failed[0]["contact_email"], "refused@example.com");
    let limited = crm_sync(&db, &[], &["inbox", "list", "--limit", "2", "--json"]).json();
    assert_eq!(ids(&limited), ids(&all)[..2]);
    let other = crm_sync(
        &db,
        &[],
        &["inbox", "list", "--provider", "calcom", "--json"],
    );
    assert_eq!(other.json(), serde_json::json!([]));

    let shown = crm_sync(
        &db,
        &[],
        &["inbox", "show", &failed_id.to_string(), "--json"],
    )
    .json();
    assert_eq!(shown["status"], "failed");
    assert_eq!(shown["reason"], "HTTP 400: fake 400");
    let body: serde_json::Value = serde_json::from_str(shown["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"]["attendee"]["email"], "refused@example.com");
    let text = crm_sync(&db, &[], &["inbox", "show", &failed_id.to_string()]);
    assert_eq!(text.code, Some(0));
    assert!(
        text.stdout.contains("last error:  HTTP 400: fake 400"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("\"refused@example.com\""),
        "{}",
        text.stdout
    );

    // Retry: the failed id moves, an unknown one and a delivered one do not (exit 1).
    let delivered_id = ids(&crm_sync(
        &db,
        &[],
        &["inbox", "list", "--status", "delivered", "--json"],
    )
    .json())[0];
    let retry = crm_sync(
        &db,
        &[],
        &[
            "inbox",
            "retry",
            &failed_id.to_string(),
            &delivered_id.to_string(),
            "999",
            "--json",
        ],
    );
    assert_eq!(retry.code, Some(1), "{}", retry.stderr);
    assert_eq!(
        retry.json(),
        serde_json::json!({"retried": [failed_id], "not_matched": [delivered_id, 999]})
    );
    assert_eq!(db_counts(&db)["pending"], 2);
    assert!(!db_counts(&db).contains_key("failed"));

    // Prune: only delivered/skipped rows older than the cut.
    let prune = crm_sync(&db, &[], &["inbox", "prune", "--older-than", "1", "--json"]);
    assert_eq!(
        prune.json(),
        serde_json::json!({"pruned": 0}),
        "all rows are new"
    );
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE deliveries SET received_at = '2020-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    let prune = crm_sync(&db, &[], &["inbox", "prune", "--older-than", "30"]);
    assert_eq!(prune.code, Some(0), "{}", prune.stderr);
    assert_eq!(
        prune.stdout.trim(),
        "pruned 2 delivered/skipped row(s) received more than 30 day(s) ago"
    );
    let left: Vec<String> = db_statuses(&db).into_iter().map(|(_, s, _)| s).collect();
    assert_eq!(left, ["pending", "pending"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_on_a_busy_inbox_and_the_service_counts_follow() {
    const LOAD: usize = 300;
    let fake = FakeHubSpot::start().await;
    // The first batch is refused: its row fails. Everything after is accepted.
    fake.script([Answer::Status(400)]);
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .crm(&fake)
        .start();
    let client = client();
    send_slatis(&client, &service, "bkg_first", "first@example.com").await;
    eventually(
        "the first row failed",
        Duration::from_secs(20),
        async || (service.stats(&client).await["failed"] == 1).then_some(()),
    )
    .await;

    // Deliveries keep arriving while the commands run.
    let load = {
        let client = client.clone();
        let url = service.base.clone();
        tokio::spawn(async move {
            for i in 0..LOAD {
                let body = slatis_body(
                    &format!("bkg_busy_{i}"),
                    "Busy Bee",
                    &format!("busy-{i}@example.com"),
                );
                let signed = Signed::now(Provider::Slatis, &body);
                let mut req = client
                    .post(format!("{url}{}", signed.path))
                    .body(signed.body.clone());
                for (k, v) in &signed.headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                assert_eq!(req.send().await.unwrap().status(), 202);
            }
        })
    };
    let db2 = db.clone();
    let commands = tokio::task::spawn_blocking(move || {
        let db = db2;
        let list = crm_sync(&db, &[], &["inbox", "list", "--limit", "1000", "--json"]);
        assert_eq!(list.code, Some(0), "{}", list.stderr);
        assert!(!list.json().as_array().unwrap().is_empty());
        let failed = crm_sync(&db, &[], &["inbox", "list", "--status", "failed", "--json"]).json();
        assert_eq!(failed.as_array().unwrap().len(), 1);
        let id = failed[0]["id"].as_i64().unwrap().to_string();
        let shown = crm_sync(&db, &[], &["inbox", "show", &id, "--json"]);
        assert_eq!(shown.code, Some(0), "{}", shown.stderr);
        assert_eq!(shown.json()["reason"], "HTTP 400: fake 400");
        let retry = crm_sync(&db, &[], &["inbox", "retry", &id, "--json"]);
        assert_eq!(retry.code, Some(0), "{}", retry.stderr);
        assert_eq!(
            retry.json()["retried"],
            serde_json::json!([id.parse::<i64>().unwrap()])
        );
        let again = crm_sync(&db, &[], &["inbox", "retry", "--failed"]);
        assert_eq!(
            again.code,
            Some(1),
            "nothing failed any more: {}",
            again.stderr
        );
        let prune = crm_sync(&db, &[], &["inbox", "prune", "--older-than", "1", "--json"]);
        assert_eq!(prune.code, Some(0), "{}", prune.stderr);
        assert_eq!(prune.json(), serde_json::json!({"pruned": 0}));
    });
    commands.await.unwrap();
    load.await.unwrap();

    // The retried row reaches the CRM, and the service's counts (kept in memory) agree
    // with the file after the outside change.
    eventually("the retried contact", Duration::from_secs(20), async || {
        fake.delivered_emails()
            .contains(&"first@example.com".to_owned())
            .then_some(())
    })
    .await;
    eventually("every row delivered", Duration::from_secs(30), async || {
        let s = service.stats(&client).await;
        (s["delivered"] == LOAD as u64 + 1).then_some(())
    })
    .await;
    // The worker may send the retried row before the writer's next look at
    // `data_version` (every 500 ms) re-reads the counts: they agree with the file
    // within that look, as the README says, not necessarily at the moment of delivery.
    let stats = eventually("the counts re-read", Duration::from_secs(2), async || {
        let s = service.stats(&client).await;
        (s["pending"] == 0 && s["failed"] == 0).then_some(s)
    })
    .await;
    assert_eq!(stats["delivered"], LOAD as u64 + 1, "{stats}");
    assert_eq!(db_counts(&db)["delivered"], LOAD as u64 + 1);

    // A prune while the service runs: the delivered count drops in /stats too.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE deliveries SET received_at = '2020-01-01T00:00:00Z' WHERE id <= 100",
            [],
        )
        .unwrap();
    let prune = crm_sync(&db, &[], &["inbox", "prune", "--older-than", "7", "--json"]);
    assert_eq!(prune.json(), serde_json::json!({"pruned": 100}));
    eventually(
        "/stats after the prune",
        Duration::from_secs(10),
        async || {
            let s = service.stats(&client).await;
            (s["delivered"] == LOAD as u64 + 1 - 100).then_some(())
        },
    )
    .await;
}
