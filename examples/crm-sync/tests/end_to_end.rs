//! The real binary, every provider, a fake HubSpot.

mod support;

use std::time::Duration;

use bookhook_events::samples;
use bookhook_verify::{Provider, SignParams};
use support::*;

/// Sends a last Slatis delivery and waits until the fake CRM has it. Rows are sent in
/// order, so every row stored before it has been dealt with by then.
async fn flush(client: &reqwest::Client, service: &Service, fake: &FakeHubSpot, tag: &str) {
    let email = format!("marker-{tag}@example.com");
    let body = slatis_body(&format!("bkg_marker_{tag}"), "Mark Er", &email);
    let (status, _) = Signed::now(Provider::Slatis, &body)
        .send(client, service)
        .await;
    assert_eq!(status, 202);
    eventually("the marker contact", Duration::from_secs(20), async || {
        fake.delivered_emails().contains(&email).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_reaches_the_crm_as_its_attendee_with_the_bearer_token() {
    let fake = FakeHubSpot::start().await;
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db).all_secrets().crm(&fake).start();
    let client = client();

    let mut expected = Vec::new();
    for provider in Provider::ALL {
        let body = samples::booking_created(provider);
        let (status, text) = Signed::now(provider, body.as_bytes())
            .send(&client, &service)
            .await;
        assert_eq!(status, 202, "{provider}: {text}");
        assert_eq!(text, r#"{"status":"accepted"}"#, "{provider}");
        if provider != Provider::Bookable {
            expected.push((provider, attendee_of(provider, body)));
        }
    }
    flush(&client, &service, &fake, "all").await;

    for (provider, (email, name)) in &expected {
        // Two samples (Slatis, SchedulingKit) share the seed docs' jane@example.com.
        let providers_with_email = expected.iter().filter(|(_, (e, _))| e == email).count();
        let inputs = fake.inputs_for(email);
        assert_eq!(inputs.len(), providers_with_email, "{provider}: {email}");
        let input = &inputs[0];
        assert_eq!(input["idProperty"], "email");
        assert_eq!(input["properties"]["email"], email.as_str());
        let name = name.clone().unwrap_or_default();
        let mut words = name.split_whitespace();
        let first = words.next();
        let rest: Vec<&str> = words.collect();
        assert_eq!(
            input["properties"]["firstname"].as_str(),
            first,
            "{provider}"
        );
        let last = (!rest.is_empty()).then(|| rest.join(" "));
        assert_eq!(
            input["properties"]["lastname"].as_str(),
            last.as_deref(),
            "{provider}"
        );
    }
    for request in fake.requests() {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }

    // Bookable carries no attendee: stored, skipped, and never sent.
    let rows = db_statuses(&db);
    let bookable: Vec<_> = rows.iter().filter(|(p, ..)| p == "bookable").collect();
    assert_eq!(bookable.len(), 1);
    assert_eq!(bookable[0].1, "skipped");
    // The fake records a call before the worker hears the answer: wait for the marks.
    let stats = eventually("every row marked", Duration::from_secs(10), async || {
        let stats = service.stats(&client).await;
        (stats["pending"] == 0).then_some(stats)
    })
    .await;
    assert_eq!(stats["skipped"], 1, "{stats}");
    assert_eq!(stats["delivered"], 7, "{stats}"); // six providers + the marker

    // No secret, no token in the logs.
    let logs = service.logs().join("\n");
    for (_, _, secret) in secrets() {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
    assert!(logs.contains("delivery stored"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliveries_with_new_timestamps_and_signatures_cause_one_upsert() {
    let fake = FakeHubSpot::start().await;
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db).all_secrets().crm(&fake).start();
    let client = client();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    // Timestamped schemes: the retry is re-signed 30 s later; the others resend as is.
    for provider in [
        Provider::Slatis,
        Provider::Slotflow,
        Provider::SchedulingKit,
        Provider::CalCom,
        Provider::Calendly,
        Provider::StandardWebhooks,
    ] {
        let body = samples::booking_created(provider).as_bytes();
        let params = |t: i64| with_metadata(provider, SignParams::at(t), "redelivered_1");
        let first = Signed::new(provider, body, &params(now - 30));
        let retry = Signed::new(provider, body, &params(now));
        let (s1, t1) = first.send(&client, &service).await;
        let (s2, t2) = retry.send(&client, &service).await;
        assert_eq!(
            (s1, t1.as_str()),
            (202, r#"{"status":"accepted"}"#),
            "{provider}"
        );
        assert_eq!(
            (s2, t2.as_str()),
            (200, r#"{"status":"duplicate"}"#),
            "{provider}"
        );
        // And once more after the first one reached the CRM.
        let (email, _) = attendee_of(provider, std::str::from_utf8(body).unwrap());
        eventually("the first upsert", Duration::from_secs(20), async || {
            fake.delivered_emails().contains(&email).then_some(())
        })
        .await;
        let (s3, _) = retry.send(&client, &service).await;
        assert_eq!(s3, 200, "{provider}");
    }
    flush(&client, &service, &fake, "redelivery").await;

    // One upsert per provider's delivery, however often it was redelivered (Slatis and
    // SchedulingKit samples share an email: two deliveries, two upserts).
    let mut per_email = std::collections::BTreeMap::<String, usize>::new();
    for email in fake.delivered_emails() {
        *per_email.entry(email).or_default() += 1;
    }
    assert_eq!(
        per_email.remove("jane@example.com"),
        Some(2),
        "{per_email:?}"
    );
    assert!(per_email.values().all(|n| *n == 1), "{per_email:?}");
    assert_eq!(per_email.len(), 5, "{per_email:?}");
    let stats = service.stats(&client).await;
    assert_eq!(stats["duplicates"], 12, "{stats}");
    assert_eq!(db_statuses(&db).len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_event_is_acknowledged_and_stored_without_a_crm_call() {
    let fake = FakeHubSpot::start().await;
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db).all_secrets().crm(&fake).start();
    let client = client();

    let body = serde_json::json!({
        "event": "BOOKING_TELEPORTED",
        "timestamp": "2026-05-01T14:05:00.000Z",
        "webhook_id": "wh_01abc",
        "data": {"id": "bkg_x", "attendee": {"name": "Una Known", "email": "unknown@example.com"}}
    })
    .to_string();
    let (status, text) = Signed::now(Provider::Slatis, body.as_bytes())
        .send(&client, &service)
        .await;
    assert_eq!((status, text.as_str()), (202, r#"{"status":"accepted"}"#));
    flush(&client, &service, &fake, "unknown").await;

    assert!(fake.inputs_for("unknown@example.com").is_empty());
    let rows = db_statuses(&db);
    assert_eq!(rows[0], ("slatis".into(), "skipped".into(), String::new()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_without_its_secret_answers_404_and_start_up_says_so() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .start();
    let client = client();

    let body = samples::booking_created(bookhook_events::Provider::CalCom);
    let (status, _) = Signed::now(Provider::CalCom, body.as_bytes())
        .send(&client, &service)
        .await;
    assert_eq!(status, 404);
    let health = client.get(service.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // Without HUBSPOT_TOKEN a live route still stores; the row waits.
    let body = slatis_body("bkg_1", "Jane Smith", "jane@example.com");
    let (status, _) = Signed::now(Provider::Slatis, &body)
        .send(&client, &service)
        .await;
    assert_eq!(status, 202);
    assert_eq!(service.stats(&client).await["pending"], 1);

    let logs = service.logs().join("\n");
    assert!(logs.contains("route live"), "{logs}");
    assert!(
        logs.contains("route disabled: CALCOM_WEBHOOK_SECRET is not set"),
        "{logs}"
    );
    assert!(logs.contains("HUBSPOT_TOKEN is not set"), "{logs}");
}

#[test]
fn an_invalid_secret_refuses_to_start_with_exit_code_2_naming_the_variable_only() {
    let (_dir, db) = temp_db();
    let value = "whsec_!!definitely-not-base64!!";
    let mut child = ServiceBuilder::new(&db)
        .env("STANDARD_WEBHOOK_SECRET", value)
        .command()
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(status.code(), Some(2), "{all}");
    assert!(all.contains("STANDARD_WEBHOOK_SECRET"), "{all}");
    assert!(!all.contains("definitely-not-base64"), "{all}");
    assert!(
        !db.exists(),
        "no database is created for a refused configuration"
    );
}
