//! `bookhook send` against a local axum receiver on an ephemeral port, started inside each
//! test, that records what it received. The recorded request is then checked with
//! bookhook-verify, as a real receiver would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use bookhook_events::samples;
use bookhook_testkit::cli::{Bookhook, assert_exit};
use bookhook_testkit::secrets::secret;
use bookhook_verify::{Provider, Verifier};
use tokio::runtime::Runtime;

/// The binary under test.
const BOOKHOOK: Bookhook = Bookhook::new(env!("CARGO_BIN_EXE_bookhook"));

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A receiver running on its own runtime; dropping it stops the server.
struct Receiver {
    runtime: Option<Runtime>,
    addr: SocketAddr,
    log: Log,
}

impl Receiver {
    /// `POST /webhooks/{provider}` answers 200 `accepted`; `POST /reject` answers 401
    /// `signature mismatch`. Both record the request.
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let log = Log::default();
        let app = Router::new()
            .route("/webhooks/{provider}", post(accept))
            .route("/reject", post(reject))
            .with_state(log.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
        Receiver {
            runtime: Some(runtime),
            addr,
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Nothing blocks on the runtime's threads; make sure a stuck one cannot hang a test.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

fn record(log: &Log, uri: &Uri, headers: HeaderMap, body: Bytes) {
    log.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    });
}

async fn accept(State(log): State<Log>, uri: Uri, headers: HeaderMap, body: Bytes) -> &'static str {
    record(&log, &uri, headers, body);
    "accepted"
}

async fn reject(
    State(log): State<Log>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    record(&log, &uri, headers, body);
    (StatusCode::UNAUTHORIZED, "signature mismatch")
}

/// The event name of the provider's booking-created sample (e.g. `invitee.created`).
fn booking_created_name(provider: Provider) -> &'static str {
    let p = provider;
    let body = samples::booking_created(p);
    samples::event_names(p)
        .find(|name| samples::for_event(p, name) == Some(body))
        .unwrap()
}

/// Checks a received request as the receiver would, with the same secret.
fn assert_verifies(provider: Provider, secret: &str, received: &Received) {
    let verifier = Verifier::builder(provider).secret(secret).build().unwrap();
    let verified = verifier
        .verify_with_query(received.query.as_deref(), &received.headers, &received.body)
        .unwrap_or_else(|e| panic!("{provider}: {e}"));
    assert_eq!(verified.secret_index(), 0);
}

#[test]
fn send_event_posts_the_signed_sample_for_every_provider() {
    let receiver = Receiver::start();
    for provider in Provider::ALL {
        let secret = secret(provider);
        let event = booking_created_name(provider);
        let url = receiver.url(&format!("/webhooks/{provider}"));
        let output = BOOKHOOK.run(&[
            "send",
            "--provider",
            provider.as_str(),
            "--secret",
            secret,
            "--url",
            &url,
            "--event",
            event,
        ]);
        assert_exit(&output, 0);
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            "HTTP/1.1 200 OK\naccepted\n"
        );
        assert!(output.stderr.is_empty());

        let received = receiver
            .received()
            .pop()
            .expect("the receiver got the request");
        assert_eq!(received.path, format!("/webhooks/{provider}"));
        let sample = samples::for_event(provider, event).unwrap();
        assert_eq!(
            received.body,
            sample.as_bytes(),
            "{provider}: body is the sample"
        );
        assert_eq!(received.headers["content-type"], "application/json");
        assert_verifies(provider, secret, &received);
        if provider == Provider::SchedulingKit {
            // The event name goes in the (unsigned) event header by default.
            assert_eq!(received.headers["x-webhook-event"], event);
        }
    }
    assert_eq!(receiver.received().len(), Provider::ALL.len());
}

#[test]
fn send_body_file_posts_its_bytes_exactly() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let body_file = dir.path().join("body.json");
    // Trailing newline and all: the bytes sent are the bytes signed.
    let body = "{\"event\":\"BOOKING_CREATED\",\"data\":{\"id\":\"bkg_file\"}}\n";
    std::fs::write(&body_file, body).unwrap();
    let output = BOOKHOOK.run(&[
        "send",
        "--provider",
        "slatis",
        "--secret",
        "whsec_file",
        "--url",
        &receiver.url("/webhooks/slatis"),
        "--body-file",
        body_file.to_str().unwrap(),
    ]);
    assert_exit(&output, 0);
    let received = receiver.received().pop().unwrap();
    assert_eq!(received.body, body.as_bytes());
    assert_verifies(Provider::Slatis, "whsec_file", &received);
}

#[test]
fn send_body_from_stdin_with_fixed_timestamp_and_id() {
    let receiver = Receiver::start();
    let secret = secret(Provider::StandardWebhooks);
    let output = BOOKHOOK
        .command(&[
            "send",
            "--provider",
            "standard",
            "--secret",
            secret,
            "--url",
            &receiver.url("/webhooks/standard"),
            "--body-file",
            "-",
            "--id",
            "msg_cli_1",
            "--timestamp",
            "1700000000",
        ])
        .write_stdin(r#"{"type":"booking.created","timestamp":"2023-11-14T22:13:20Z","data":{}}"#)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let received = receiver.received().pop().unwrap();
    assert_eq!(received.headers["webhook-id"], "msg_cli_1");
    assert_eq!(received.headers["webhook-timestamp"], "1700000000");
    // Stale now, by design of the timestamp given: a receiver would refuse it as too old.
    let verifier = Verifier::builder(Provider::StandardWebhooks)
        .secret(secret)
        .build()
        .unwrap();
    let err = verifier
        .verify(&received.headers, &received.body)
        .unwrap_err();
    assert_eq!(err.cause(), "timestamp_too_old");
}

#[test]
fn send_slotflow_appends_the_token_to_the_query() {
    let receiver = Receiver::start();
    let token = secret(Provider::Slotflow);
    let output = BOOKHOOK.run(&[
        "send",
        "--provider",
        "slotflow",
        "--secret",
        token,
        "--url",
        &receiver.url("/webhooks/slotflow?tenant=7"),
        "--event",
        "booking.cancelled",
    ]);
    assert_exit(&output, 0);
    let received = receiver.received().pop().unwrap();
    assert_eq!(
        received.query.as_deref(),
        Some(&*format!("tenant=7&token={token}"))
    );
    assert_verifies(Provider::Slotflow, token, &received);
}

#[test]
fn send_non_2xx_exits_1_and_prints_status_and_body() {
    let receiver = Receiver::start();
    let output = BOOKHOOK.run(&[
        "send",
        "--provider",
        "calcom",
        "--secret",
        "calcom-cli-send",
        "--url",
        &receiver.url("/reject"),
        "--event",
        "BOOKING_CREATED",
    ]);
    assert_exit(&output, 1);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "HTTP/1.1 401 Unauthorized\nsignature mismatch\n"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("the receiver answered 401 Unauthorized"),
        "{stderr}"
    );
    assert_eq!(receiver.received().len(), 1);

    // An unknown route: 404, also exit 1.
    let output = BOOKHOOK.run(&[
        "send",
        "--provider",
        "calcom",
        "--secret",
        "calcom-cli-send",
        "--url",
        &receiver.url("/nowhere"),
        "--event",
        "PING",
    ]);
    assert_exit(&output, 1);
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .starts_with("HTTP/1.1 404 Not Found\n")
    );
}

#[test]
fn send_unknown_event_exits_2_listing_the_known_ones() {
    let receiver = Receiver::start();
    let output = BOOKHOOK.run(&[
        "send",
        "--provider",
        "calendly",
        "--secret",
        "calendly-cli-send",
        "--url",
        &receiver.url("/webhooks/calendly"),
        "--event",
        "invitee.exploded",
    ]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("`invitee.exploded`"), "{stderr}");
    for known in samples::event_names(bookhook_events::Provider::Calendly) {
        assert!(stderr.contains(known), "{known} missing from: {stderr}");
    }
    assert!(receiver.received().is_empty(), "nothing is sent");
}

#[test]
fn send_connection_failure_exits_2_without_leaking_the_token() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = "sf_token_DoNotLeakMe_0123";
    let output = BOOKHOOK.run(&[
        "send",
        "--provider",
        "slotflow",
        "--secret",
        token,
        "--url",
        &format!("http://127.0.0.1:{port}/webhooks/slotflow"),
        "--event",
        "booking.confirmed",
    ]);
    assert_exit(&output, 2);
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("request failed: cannot connect"),
        "{stderr}"
    );
    assert!(!stderr.contains("DoNotLeakMe"), "{stderr}");
}
