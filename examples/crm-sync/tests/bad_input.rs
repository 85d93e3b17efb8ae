//! Bad input through the service, in-process (the library's `serve`), with `/stats`
//! counting each refusal by cause.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use bookhook_verify::{Provider, SignParams};
use crm_sync::config::Config;
use support::*;
use tokio::sync::oneshot;

/// The service in this process, on an ephemeral port, stopped on drop of `stop`.
struct InProcess {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), crm_sync::RunError>>,
    _dir: tempfile::TempDir,
}

impl InProcess {
    async fn start(fake: &FakeHubSpot) -> Self {
        let (dir, db) = temp_db();
        let mut vars: HashMap<&'static str, String> = secrets()
            .map(|(_, var, value)| (var, value.to_owned()))
            .collect();
        vars.insert("CRM_SYNC_DB", db.display().to_string());
        vars.insert("HUBSPOT_TOKEN", TOKEN.to_owned());
        vars.insert("HUBSPOT_BASE_URL", fake.url.clone());
        vars.insert("CRM_SYNC_BODY_LIMIT", (64 * 1024).to_string());
        let config = Config::from_lookup(|var| Ok(vars.get(var).cloned())).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crm_sync::serve(config, listener, async move {
            let _ = stopped.await;
        }));
        InProcess {
            base,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut req = client.post(format!("{}{path}", self.base)).body(body);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn send(&self, client: &reqwest::Client, signed: &Signed) -> (u16, String) {
        self.post(client, &signed.path, &signed.headers, signed.body.clone())
            .await
    }

    async fn stats(&self, client: &reqwest::Client) -> serde_json::Value {
        client
            .get(format!("{}/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let result = tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("serve returns after shutdown");
        result.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_designed_status_and_counted_by_cause() {
    let fake = FakeHubSpot::start().await;
    let service = InProcess::start(&fake).await;
    let client = client();
    let good = slatis_body("bkg_1", "Jane Smith", "jane@example.com");

    // Tampered: signed, then one byte changed.
    let mut tampered = Signed::now(Provider::Slatis, &good);
    tampered.body = slatis_body("bkg_1", "Jane Smith", "mallory@example.com");
    assert_eq!(
        service.send(&client, &tampered).await,
        (401, "signature mismatch".to_owned())
    );

    // Stale Bookable: signed ten minutes ago.
    let bookable = bookhook_events::samples::booking_created(bookhook_events::Provider::Bookable);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let stale = Signed::new(
        Provider::Bookable,
        bookable.as_bytes(),
        &SignParams::at(now - 600),
    );
    assert_eq!(
        service.send(&client, &stale).await,
        (401, "timestamp too old".to_owned())
    );

    // Oversized (limit set to 64 KiB for this service), correctly signed.
    let huge = format!(
        r#"{{"event":"BOOKING_CREATED","pad":"{}","data":{{}}}}"#,
        "x".repeat(70 * 1024)
    );
    let (status, _) = service
        .send(&client, &Signed::now(Provider::Slatis, huge.as_bytes()))
        .await;
    assert_eq!(status, 413);

    // Verified, but not JSON: 400 and not stored.
    let (status, text) = service
        .send(&client, &Signed::now(Provider::CalCom, b"this is not json"))
        .await;
    assert_eq!(status, 400);
    assert!(text.starts_with("invalid JSON"), "{text}");

    // Slotflow without its token, and with a wrong one.
    let slotflow = bookhook_events::samples::booking_created(bookhook_events::Provider::Slotflow);
    let (status, _) = service
        .post(
            &client,
            "/webhooks/slotflow",
            &[],
            slotflow.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = service
        .post(
            &client,
            "/webhooks/slotflow?token=wrong-token-0123456789",
            &[],
            slotflow.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 401);

    // Unsigned Cal.com, and a malformed signature header.
    let (status, _) = service
        .post(&client, "/webhooks/calcom", &[], good.clone())
        .await;
    assert_eq!(status, 401);
    let (status, _) = service
        .post(
            &client,
            "/webhooks/calcom",
            &[("x-cal-signature-256".to_owned(), "zz".to_owned())],
            good.clone(),
        )
        .await;
    assert_eq!(status, 400);

    let stats = service.stats(&client).await;
    assert_eq!(
        stats["rejected"],
        serde_json::json!({
            "signature_mismatch": 1,
            "timestamp_too_old": 1,
            "payload_too_large": 1,
            "invalid_json": 1,
            "missing_token": 1,
            "token_mismatch": 1,
            "missing_header": 1,
            "malformed": 1
        }),
        "{stats}"
    );
    assert_eq!(stats["received"], 0, "{stats}");
    assert!(fake.requests().is_empty());

    // The same good delivery is still accepted afterwards.
    let (status, _) = service
        .send(&client, &Signed::now(Provider::Slatis, &good))
        .await;
    assert_eq!(status, 202);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_non_booking_events_are_acknowledged_stored_and_skipped() {
    let fake = FakeHubSpot::start().await;
    let service = InProcess::start(&fake).await;
    let client = client();

    let unknown = br#"{"triggerEvent":"SOMETHING_NEW","createdAt":"2026-04-01T12:00:00Z","payload":{"attendees":[{"name":"A B","email":"x@example.com"}]}}"#;
    let (status, text) = service
        .send(&client, &Signed::now(Provider::CalCom, unknown))
        .await;
    assert_eq!((status, text.as_str()), (202, r#"{"status":"accepted"}"#));
    let ping =
        bookhook_events::samples::for_event(bookhook_events::Provider::CalCom, "PING").unwrap();
    let (status, _) = service
        .send(&client, &Signed::now(Provider::CalCom, ping.as_bytes()))
        .await;
    assert_eq!(status, 202);

    // A booking afterwards reaches the CRM; the two before it never do.
    let body = slatis_body("bkg_1", "Jane Smith", "jane@example.com");
    service
        .send(&client, &Signed::now(Provider::Slatis, &body))
        .await;
    eventually("the booking upsert", Duration::from_secs(20), async || {
        (!fake.delivered_emails().is_empty()).then_some(())
    })
    .await;
    assert_eq!(fake.delivered_emails(), ["jane@example.com"]);
    let stats = service.stats(&client).await;
    assert_eq!(stats["skipped"], 2, "{stats}");
    assert_eq!(stats["received"], 3, "{stats}");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_stats_answer_and_get_on_a_webhook_route_is_not_a_rejection() {
    let fake = FakeHubSpot::start().await;
    let service = InProcess::start(&fake).await;
    let client = client();
    let health = client
        .get(format!("{}/healthz", service.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let get = client
        .get(format!("{}/webhooks/slatis", service.base))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let stats = service.stats(&client).await;
    assert_eq!(stats["rejected"], serde_json::json!({}));
    for key in [
        "received",
        "duplicates",
        "pending",
        "delivered",
        "failed",
        "skipped",
    ] {
        assert_eq!(stats[key], 0, "{key}");
    }
    service.stop().await;
}
