//! `GET /metrics` after a known mix of deliveries: every counter has its exact value, the
//! route label is the template (never the raw path or query), the histogram has the
//! explicit buckets.

mod support;

use std::time::Duration;

use bookhook_events::samples;
use bookhook_verify::{Provider, SignParams, Signer};
use support::*;

/// Slatis' first secret, listed before the one `support` signs with (index 1).
const OLD_SLATIS: &str = "whsec_old_slatis_secret_rotating_out";

fn signed_with(secret: &str, body: &[u8]) -> Signed {
    let signed = Signer::new(Provider::Slatis, secret)
        .unwrap()
        .sign(body, &SignParams::now());
    Signed {
        path: "/webhooks/slatis".to_owned(),
        headers: signed
            .headers()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        body: body.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_counter_has_its_exact_value_after_a_known_mix() {
    let fake = FakeHubSpot::start().await;
    fake.script([Answer::Status(400)]);
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env(
            "SLATIS_WEBHOOK_SECRET",
            &format!("{OLD_SLATIS},{}", secret(Provider::Slatis)),
        )
        .env("CALCOM_WEBHOOK_SECRET", secret(Provider::CalCom))
        .crm(&fake)
        .start();
    let client = client();

    // Before any traffic every registered series reads 0.
    let m = service.metrics(&client).await;
    for key in [
        r#"crm_sync_deliveries_total{outcome="accepted",provider="slatis"}"#,
        r#"crm_sync_secret_matches_total{provider="slatis",secret="0"}"#,
        r#"crm_sync_secret_matches_total{provider="slatis",secret="1"}"#,
        r#"crm_sync_secret_matches_total{provider="calcom",secret="0"}"#,
        r#"crm_sync_inbox_rows{status="pending"}"#,
        "crm_sync_crm_paused",
    ] {
        assert_eq!(m.get(key), Some(&0.0), "{key}");
    }

    // One new row at a time, each settled before the next: one CRM call per row.
    let settle = async |n: u64| {
        eventually("the row settled", Duration::from_secs(20), async || {
            let s = service.stats(&client).await;
            (s["pending"] == 0
                && s["delivered"].as_u64().unwrap() + s["failed"].as_u64().unwrap() == n)
                .then_some(())
        })
        .await;
    };
    let mut settled = 0;
    // Slatis: 3 with the current secret (index 1), 2 with the old one (index 0).
    let mut first = None;
    for i in 0..3 {
        let s = Signed::now(
            Provider::Slatis,
            &slatis_body(
                &format!("bkg_new_{i}"),
                "Ann Ew",
                &format!("new{i}@example.com"),
            ),
        );
        assert_eq!(s.send(&client, &service).await.0, 202);
        first.get_or_insert(s);
        settled += 1;
        settle(settled).await;
    }
    for i in 0..2 {
        let s = signed_with(
            OLD_SLATIS,
            &slatis_body(
                &format!("bkg_old_{i}"),
                "Ol Der",
                &format!("old{i}@example.com"),
            ),
        );
        assert_eq!(s.send(&client, &service).await.0, 202);
        settled += 1;
        settle(settled).await;
    }
    // A redelivery (current secret), two tampered bodies, one verified non-envelope.
    assert_eq!(first.unwrap().send(&client, &service).await.0, 200);
    for i in 0..2 {
        let mut s = Signed::now(
            Provider::Slatis,
            &slatis_body(&format!("bkg_t{i}"), "T", "t@example.com"),
        );
        s.body[10] ^= 1;
        assert_eq!(s.send(&client, &service).await.0, 401);
    }
    assert_eq!(
        Signed::now(Provider::Slatis, b"[1,2]")
            .send(&client, &service)
            .await
            .0,
        400
    );
    // Cal.com: one accepted, one without its signature header.
    let body = samples::booking_created(bookhook_events::Provider::CalCom);
    let calcom = Signed::now(Provider::CalCom, body.as_bytes());
    assert_eq!(calcom.send(&client, &service).await.0, 202);
    settled += 1;
    settle(settled).await;
    let mut unsigned = calcom.clone();
    unsigned.headers.clear();
    assert_eq!(unsigned.send(&client, &service).await.0, 401);
    // Unmatched paths: their raw path and query must not become a label.
    for path in ["/nope-secret-path?token=leaky", "/webhooks/bookable"] {
        let res = client
            .post(service.url(path))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }

    let res = client.get(service.url("/metrics")).send().await.unwrap();
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("leaky") && !text.contains("nope-secret-path"),
        "{text}"
    );
    assert!(!text.contains(secret(Provider::Slatis)) && !text.contains(OLD_SLATIS));
    assert!(!text.contains(TOKEN));
    let m = parse_prometheus(&text);
    let expected: &[(&str, f64)] = &[
        (
            r#"crm_sync_deliveries_total{outcome="accepted",provider="slatis"}"#,
            5.0,
        ),
        (
            r#"crm_sync_deliveries_total{outcome="duplicate",provider="slatis"}"#,
            1.0,
        ),
        (
            r#"crm_sync_deliveries_total{outcome="rejected",provider="slatis"}"#,
            3.0,
        ),
        (
            r#"crm_sync_deliveries_total{outcome="accepted",provider="calcom"}"#,
            1.0,
        ),
        (
            r#"crm_sync_deliveries_total{outcome="duplicate",provider="calcom"}"#,
            0.0,
        ),
        (
            r#"crm_sync_deliveries_total{outcome="rejected",provider="calcom"}"#,
            1.0,
        ),
        (
            r#"crm_sync_rejections_total{cause="signature_mismatch",provider="slatis"}"#,
            2.0,
        ),
        (
            r#"crm_sync_rejections_total{cause="invalid_json",provider="slatis"}"#,
            1.0,
        ),
        (
            r#"crm_sync_rejections_total{cause="missing_header",provider="calcom"}"#,
            1.0,
        ),
        (
            r#"crm_sync_secret_matches_total{provider="slatis",secret="0"}"#,
            2.0,
        ),
        (
            r#"crm_sync_secret_matches_total{provider="slatis",secret="1"}"#,
            4.0,
        ),
        (
            r#"crm_sync_secret_matches_total{provider="calcom",secret="0"}"#,
            1.0,
        ),
        (r#"crm_sync_inbox_rows{status="pending"}"#, 0.0),
        (r#"crm_sync_inbox_rows{status="delivered"}"#, 5.0),
        (r#"crm_sync_inbox_rows{status="failed"}"#, 1.0),
        (r#"crm_sync_inbox_rows{status="skipped"}"#, 0.0),
        ("crm_sync_oldest_pending_age_seconds", 0.0),
        (r#"crm_sync_crm_requests_total{status="400"}"#, 1.0),
        (r#"crm_sync_crm_requests_total{status="200"}"#, 5.0),
        ("crm_sync_crm_paused", 0.0),
        (
            r#"http_server_request_duration_seconds_count{route="/webhooks/slatis"}"#,
            9.0,
        ),
        (
            r#"http_server_request_duration_seconds_count{route="/webhooks/calcom"}"#,
            2.0,
        ),
        (
            r#"http_server_request_duration_seconds_count{route="unmatched"}"#,
            2.0,
        ),
    ];
    for (key, value) in expected {
        assert_eq!(m.get(*key), Some(value), "{key}\n{text}");
    }
    let rejection_series = m
        .keys()
        .filter(|k| k.starts_with("crm_sync_rejections_total"))
        .count();
    assert_eq!(rejection_series, 3, "{text}");
    // The explicit buckets, cumulative, ending in +Inf = count.
    let bucket = |le: &str| {
        m[&format!(
            r#"http_server_request_duration_seconds_bucket{{le="{le}",route="/webhooks/slatis"}}"#
        )]
    };
    let les = [
        "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
        "2.5", "5", "10", "+Inf",
    ];
    for pair in les.windows(2) {
        assert!(bucket(pair[0]) <= bucket(pair[1]), "{text}");
    }
    assert_eq!(bucket("+Inf"), 9.0);
    // Every route label is a template or `unmatched`.
    for key in m.keys().filter(|k| k.contains("route=")) {
        let route = key
            .split("route=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            [
                "/webhooks/slatis",
                "/webhooks/calcom",
                "/healthz",
                "/stats",
                "/metrics",
                "unmatched"
            ]
            .contains(&route),
            "{route}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_pending_age_grows_while_rows_wait() {
    let (_dir, db) = temp_db();
    // No CRM: rows wait.
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .start();
    let client = client();
    let s = Signed::now(
        Provider::Slatis,
        &slatis_body("bkg_wait", "W", "w@example.com"),
    );
    assert_eq!(s.send(&client, &service).await.0, 202);
    let age = eventually("an age of a second", Duration::from_secs(10), async || {
        let m = service.metrics(&client).await;
        let age = m["crm_sync_oldest_pending_age_seconds"];
        (age >= 1.0).then_some(age)
    })
    .await;
    assert!(age < 10.0, "{age}");
    assert_eq!(
        service.metrics(&client).await[r#"crm_sync_inbox_rows{status="pending"}"#],
        1.0
    );
}
