//! The admin page in a real headless Chromium (Debian's package, through chromedriver):
//! log in, see a failed delivery with its error, click Retry, see it pending then
//! delivered; a wrong token is refused; a stored body holding `<script>` renders as text.
//! Saves a screenshot of the page under the target directory.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bookhook_verify::Provider;
use fantoccini::Locator;
use support::*;

const ADMIN_TOKEN: &str = "admin-token-for-the-browser-test";
const SCRIPT: &str = "<script>document.title='pwned'</script>";

async fn send(client: &reqwest::Client, service: &Service, booking: &str, name: &str, email: &str) {
    let body = slatis_body(booking, name, email);
    let (status, text) = Signed::now(Provider::Slatis, &body)
        .send(client, service)
        .await;
    assert_eq!(status, 202, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_see_the_failure_retry_it_and_watch_it_deliver() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let b = &browser.client;
    let fake = FakeHubSpot::start().await;
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_ADMIN_TOKEN", ADMIN_TOKEN)
        .crm(&fake)
        .start();
    let client = client();

    // A: refused once (then retried from the page); C: refused for good; B: delivered,
    // with a <script> in the stored body.
    fake.script([Answer::Status(400)]);
    send(&client, &service, "bkg_a", "Ret Ry", "retry-me@example.com").await;
    eventually("A failed", Duration::from_secs(20), async || {
        (service.stats(&client).await["failed"] == 1).then_some(())
    })
    .await;
    fake.reject_emails_containing("bounce@");
    send(&client, &service, "bkg_c", "Bo Unce", "bounce@example.com").await;
    send(
        &client,
        &service,
        "bkg_b",
        &format!("Mallory {SCRIPT}"),
        "mallory@example.com",
    )
    .await;
    eventually(
        "C failed, B delivered",
        Duration::from_secs(20),
        async || {
            let s = service.stats(&client).await;
            (s["failed"] == 2 && s["delivered"] == 1).then_some(())
        },
    )
    .await;
    // The ids, through the JSON twin.
    let rows: serde_json::Value = client
        .get(service.url("/admin/api/deliveries"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_of = |email: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["contact_email"] == email)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (a, b_id) = (id_of("retry-me@example.com"), id_of("mallory@example.com"));

    // A wrong token is refused: the form again with a message, no session.
    b.goto(&service.url("/admin")).await.unwrap();
    b.find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys("not-the-admin-token-at-all")
        .await
        .unwrap();
    b.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = b
        .find(Locator::Id("login-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(error, "That token is not right.");
    assert!(b.find(Locator::Id("counts")).await.is_err(), "no dashboard");
    b.goto(&service.url("/admin")).await.unwrap();
    assert!(
        b.find(Locator::Id("counts")).await.is_err(),
        "still logged out"
    );

    // The right token: the dashboard, with the failure and its error.
    b.find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(ADMIN_TOKEN)
        .await
        .unwrap();
    b.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let failed_row = b
        .find(Locator::Id(&format!("failed-row-{a}")))
        .await
        .expect("the failed delivery is listed");
    let text = failed_row.text().await.unwrap();
    assert!(
        text.contains("retry-me@example.com") && text.contains("HTTP 400: fake 400"),
        "{text}"
    );
    let source = b.source().await.unwrap();
    for secret in [secret(Provider::Slatis), TOKEN, ADMIN_TOKEN] {
        assert!(!source.contains(secret), "a secret in the page");
    }

    // Retry, with the CRM holding its answer: the row is pending until released.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    fake.script([Answer::Held(Arc::clone(&gate))]);
    b.find(Locator::Id(&format!("retry-{a}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click posts a form and the browser follows the redirect: until the new page is
    // in, a lookup may land on the old one (or on an element it is replacing, "stale"), so
    // read the status from whatever page is current, retrying for a bounded time.
    let status = |id: i64| async move {
        eventually("the row's status", Duration::from_secs(10), async || {
            let cell = b
                .find(Locator::Css(&format!("#newest-row-{id} td[data-status]")))
                .await
                .ok()?;
            cell.text().await.ok()
        })
        .await
    };
    eventually(
        "the retried row shown pending",
        Duration::from_secs(10),
        async || (status(a).await == "pending").then_some(()),
    )
    .await;
    assert!(
        b.find(Locator::Id(&format!("failed-row-{a}")))
            .await
            .is_err()
    );
    eventually(
        "the retried row in the CRM's hands",
        Duration::from_secs(20),
        async || {
            fake.requests()
                .iter()
                .any(|r| {
                    r.answered == Some(200)
                        && r.emails().contains(&"retry-me@example.com".to_owned())
                        && r.at.elapsed() < Duration::from_secs(20)
                })
                .then_some(())
        },
    )
    .await;
    b.refresh().await.unwrap();
    assert_eq!(status(a).await, "pending", "the CRM has not answered yet");
    gate.add_permits(1);
    eventually(
        "delivered on the page",
        Duration::from_secs(20),
        async || {
            b.refresh().await.unwrap();
            (status(a).await == "delivered").then_some(())
        },
    )
    .await;
    let png = b.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-page.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {}", path.display());
    assert!(png.starts_with(b"\x89PNG"));

    // The stored <script> renders as text on the delivery's page, and never runs.
    b.goto(&service.url(&format!("/admin/deliveries/{b_id}")))
        .await
        .unwrap();
    let body = b
        .find(Locator::Id("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(SCRIPT), "{body}");
    assert!(b.find_all(Locator::Css("script")).await.unwrap().is_empty());
    assert_eq!(
        b.title().await.unwrap(),
        format!("Delivery {b_id} · crm-sync")
    );
    let png = b.screenshot().await.unwrap();
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-delivery.png"),
        &png,
    )
    .unwrap();

    // Log out: the cookie no longer opens the page.
    b.goto(&service.url("/admin")).await.unwrap();
    b.find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(b.find(Locator::Id("token")).await.is_ok());
    browser.client.clone().close().await.unwrap();
}
