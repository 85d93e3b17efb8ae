//! What the adapter logs about a refused delivery: provider, cause and status, at `warn`
//! (or `error` for a server-side fault), and never the secret, a signature or the body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use bookhook_axum::{Verified, VerifiedBody, VerifyLayer};
use bookhook_events::BookingEvent;
use bookhook_verify::{Provider, SignParams, Signer, Verifier};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "whsec_do_not_log_me";
const BODY: &str =
    r#"{"event":"BOOKING_CREATED","data":{"attendee":{"email":"jane.private@example.com"}}}"#;

/// Collects formatted log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

async fn typed(Verified(event, ..): Verified<BookingEvent>) -> String {
    event.event_type
}

#[tokio::test]
async fn forged_delivery_is_logged_without_secret_signature_or_body() {
    let (logs, _guard) = capture();
    let verifier = Verifier::builder(Provider::Slatis)
        .secret(SECRET)
        .build()
        .unwrap();
    let app: Router = Router::new().route("/hook", post(typed).layer(VerifyLayer::new(verifier)));

    // Signed with the right secret, then one byte of the body changed.
    let signed = Signer::new(Provider::Slatis, SECRET)
        .unwrap()
        .sign(BODY.as_bytes(), &SignParams::now());
    let signature = signed.header("x-slatis-signature").unwrap().to_owned();
    let mut request = Request::post("/hook")
        .body(Body::from(BODY.replace("jane", "june")))
        .unwrap();
    *request.headers_mut() = signed.header_map();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("provider=\"slatis\""), "{text}");
    assert!(text.contains("cause=\"signature_mismatch\""), "{text}");
    assert!(text.contains("status=401"), "{text}");
    for leak in [SECRET, &signature["sha256=".len()..], "june", "private"] {
        assert!(!text.contains(leak), "log leaks {leak:?}: {text}");
    }
}

#[tokio::test]
async fn invalid_json_is_logged_without_the_body() {
    let (logs, _guard) = capture();
    let verifier = Verifier::builder(Provider::Slatis)
        .secret(SECRET)
        .build()
        .unwrap();
    let app: Router = Router::new().route("/hook", post(typed).layer(VerifyLayer::new(verifier)));
    let body = r#"{"event": 42, "secret_note": "jane.private@example.com"}"#;
    let signed = Signer::new(Provider::Slatis, SECRET)
        .unwrap()
        .sign(body.as_bytes(), &SignParams::now());
    let mut request = Request::post("/hook").body(Body::from(body)).unwrap();
    *request.headers_mut() = signed.header_map();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let text = logs.text();
    assert!(text.contains("cause=\"invalid_json\""), "{text}");
    assert!(!text.contains("private"), "{text}");
}

#[tokio::test]
async fn missing_verifier_is_logged_at_error() {
    let (logs, _guard) = capture();
    async fn raw(VerifiedBody { bytes, .. }: VerifiedBody) -> String {
        bytes.len().to_string()
    }
    let app: Router = Router::new().route("/hook", post(raw));
    let response = app
        .oneshot(Request::post("/hook").body(Body::from(BODY)).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = logs.text();
    assert!(text.contains("ERROR"), "{text}");
    assert!(text.contains("cause=\"not_configured\""), "{text}");
}
