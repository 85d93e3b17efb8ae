//! The admin routes over plain HTTP: off without the token, the JSON twin behind the
//! bearer, the cookie's flags, and POSTs refused without the CSRF token or from another
//! origin.

mod support;

use std::time::Duration;

use bookhook_verify::Provider;
use support::*;

const ADMIN_TOKEN: &str = "admin-token-for-the-http-test";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_token_every_admin_path_is_404() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .start();
    let client = no_redirects();
    for path in ["/admin", "/admin/api/summary", "/admin/api/deliveries"] {
        let res = client
            .get(service.url(path))
            .bearer_auth("anything-at-all-here")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = client
        .post(service.url("/admin/login"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_takes_the_bearer_and_html_posts_need_the_csrf_token() {
    let fake = FakeHubSpot::start().await;
    fake.reject_emails_containing("bounce@");
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_ADMIN_TOKEN", ADMIN_TOKEN)
        .crm(&fake)
        .start();
    let client = no_redirects();
    let body = slatis_body("bkg_1", "Bo Unce", "bounce@example.com");
    assert_eq!(
        Signed::now(Provider::Slatis, &body)
            .send(&client, &service)
            .await
            .0,
        202
    );
    eventually("failed", Duration::from_secs(20), async || {
        (service.stats(&client).await["failed"] == 1).then_some(())
    })
    .await;

    // The JSON twin: bearer only.
    let api = |path: &str| client.get(service.url(path));
    assert_eq!(
        api("/admin/api/summary").send().await.unwrap().status(),
        401
    );
    assert_eq!(
        api("/admin/api/summary")
            .bearer_auth("wrong-token-wrong-token")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let summary: serde_json::Value = api("/admin/api/summary")
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["counts"]["failed"], 1, "{summary}");
    assert_eq!(summary["by_provider"]["slatis"]["failed"], 1, "{summary}");
    assert_eq!(
        summary["rotation"][0],
        serde_json::json!({"provider": "slatis", "secret": 0, "last_24h": 1})
    );
    assert_eq!(summary["crm_paused"], serde_json::Value::Null);
    let failed: serde_json::Value = api("/admin/api/deliveries?status=failed")
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = failed[0]["id"].as_i64().unwrap();
    assert_eq!(failed[0]["reason"], "HTTP 400: fake 400");
    let one: serde_json::Value = api(&format!("/admin/api/deliveries/{id}"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(one["body"].as_str().unwrap().contains("bounce@example.com"));
    assert_eq!(
        api("/admin/api/deliveries/999")
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        api("/admin/api/deliveries?status=lost")
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    // Log in: the cookie's flags; the cookie does not open the API.
    let res = client
        .post(service.url("/admin/login"))
        .form(&[("token", "wrong-token-wrong-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    let res = client
        .post(service.url("/admin/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Secure"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(!set_cookie.contains(ADMIN_TOKEN));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        api("/admin/api/summary")
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let page = api("/admin")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(csrf.len(), 64);
    for secret in [secret(Provider::Slatis), TOKEN, ADMIN_TOKEN] {
        assert!(!html.contains(secret));
    }

    // POSTs: no CSRF token, a wrong one, another origin: 403, nothing retried.
    let retry = format!("/admin/deliveries/{id}/retry");
    let post = |form: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut req = client
            .post(service.url(&retry))
            .header("cookie", &cookie)
            .form(&form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(post(vec![], None).await.unwrap().status(), 403);
    assert_eq!(
        post(vec![("csrf", "0".repeat(64))], None)
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        post(vec![("csrf", csrf.clone())], Some("http://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        post(vec![("csrf", csrf.clone())], Some("null"))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(db_counts(&db)["failed"], 1);
    // With it: retried (and refused again by the CRM, so failed once more).
    let res = post(vec![("csrf", csrf.clone())], None).await.unwrap();
    assert_eq!(res.status(), 303);
    eventually("a second attempt", Duration::from_secs(20), async || {
        (fake.inputs_for("bounce@example.com").len() == 2
            && service.stats(&client).await["failed"] == 1)
            .then_some(())
    })
    .await;
    // The API's retry, by bearer.
    let res = client
        .post(service.url(&format!("/admin/api/deliveries/{id}/retry")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let moved: serde_json::Value = res.json().await.unwrap();
    assert_eq!(moved, serde_json::json!({"retried": [id]}));
    // Logged out: the cookie opens nothing any more.
    let res = client
        .post(service.url("/admin/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        api("/admin")
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
