//! Hostile HTTP through both adapters, over real loopback sockets with raw bytes (so that
//! non-UTF-8 header values, duplicate headers and oversized headers reach the server exactly
//! as an attacker would send them, not as a client library would clean them up).
//!
//! Every case states one status and text, and a bound on its cost: the request must be
//! answered within [`COST`] on this 2-core machine (in practice each takes a few
//! milliseconds; the bound only has to catch unbounded work, such as a MAC per entry of a
//! 64 KiB header or a body read that never ends).
//!
//! The same table runs against `bookhook-axum` (served by `axum::serve`, hyper) and
//! `bookhook-actix` (actix-web's `HttpServer`). Where the HTTP server itself refuses a
//! request before any adapter code runs (too many headers), the status is the server's and
//! is stated per server.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use bookhook_integration::cases;
use bookhook_testkit::raw_http::{self, exchange, get, set, signed_now};
use bookhook_testkit::secrets::secret;
use bookhook_verify::{MAX_SIGNATURES, Provider};

/// The body limit of every route (small, so the at-limit cases stay cheap).
const LIMIT: usize = 4096;

/// The axum routes' body timeout (the slowloris case waits this long).
const BODY_TIMEOUT: Duration = Duration::from_secs(1);

/// The most any one hostile request may take to be answered.
const COST: Duration = Duration::from_secs(3);

/// The routes both servers mount, one per scheme family.
const ROUTES: [(Provider, &str); 4] = [
    (Provider::Slatis, "/slatis"),
    (Provider::Bookable, "/bookable"),
    (Provider::StandardWebhooks, "/standard"),
    (Provider::Slotflow, "/slotflow"),
];

// ---------------------------------------------------------------------------------------
// The two servers
// ---------------------------------------------------------------------------------------

mod axum_server {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use bookhook_axum::{VerifiedBody, VerifyLayer};

    async fn hook(VerifiedBody { bytes, .. }: VerifiedBody) -> String {
        format!("ok:{}", bytes.len())
    }

    /// Serves the routes on an ephemeral port from a thread of its own, for the rest of
    /// the test process.
    pub(super) fn start() -> SocketAddr {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = ROUTES.iter().fold(Router::new(), |app, (p, path)| {
                    let layer = VerifyLayer::new(cases::verifier(*p))
                        .limit(LIMIT)
                        .body_timeout(BODY_TIMEOUT);
                    app.route(path, post(hook).layer(layer))
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        rx.recv().unwrap()
    }
}

mod actix_server {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use bookhook_actix::{VerifiedBody, VerifyConfig};

    async fn hook(VerifiedBody { bytes, .. }: VerifiedBody) -> HttpResponse {
        HttpResponse::Ok().body(format!("ok:{}", bytes.len()))
    }

    /// Serves the routes on an ephemeral port from a thread of its own, for the rest of
    /// the test process.
    pub(super) fn start() -> SocketAddr {
        let server = HttpServer::new(|| {
            ROUTES.iter().fold(App::new(), |app, (p, path)| {
                app.service(
                    web::resource(*path)
                        .app_data(
                            VerifyConfig::new(cases::verifier(*p))
                                .limit(LIMIT)
                                .body_timeout(BODY_TIMEOUT),
                        )
                        .route(web::post().to(hook)),
                )
            })
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
        addr
    }
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// Which server answers a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Axum,
    Actix,
}

/// One hostile request and the one answer that is right.
struct Hostile {
    name: &'static str,
    request: Vec<u8>,
    /// The status and a text the body must contain, per server (the same for both unless
    /// the HTTP server itself refuses first).
    expect: fn(Server) -> (u16, &'static str),
}

const BODY: &[u8] = br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_hostile"}}"#;

macro_rules! expect {
    ($status:expr, $text:expr) => {
        |_| ($status, $text)
    };
    (axum: $a:expr, actix: $b:expr) => {
        |server| match server {
            Server::Axum => $a,
            Server::Actix => $b,
        }
    };
}

fn table() -> Vec<Hostile> {
    let mut out = Vec::new();
    let mut case = |name, request, expect| {
        out.push(Hostile {
            name,
            request,
            expect,
        })
    };

    // --- 64 KiB headers -------------------------------------------------------------
    let (mut h, _) = signed_now(Provider::Slatis, BODY);
    set(
        &mut h,
        "x-slatis-signature",
        format!("sha256={}", "0".repeat(64 * 1024)),
    );
    case(
        "64 KiB signature header",
        raw_http::post("/slatis", &h, BODY),
        expect!(400, "malformed x-slatis-signature header: too long"),
    );

    let (mut h, _) = signed_now(Provider::Slatis, BODY);
    h.push(("x-padding".into(), vec![b'a'; 64 * 1024]));
    case(
        "64 KiB unrelated header beside a valid signature",
        raw_http::post("/slatis", &h, BODY),
        expect!(200, "ok:"),
    );

    let (mut h, _) = signed_now(Provider::StandardWebhooks, BODY);
    set(&mut h, "webhook-id", "m".repeat(64 * 1024));
    case(
        "64 KiB webhook-id",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "malformed webhook-id header: too long"),
    );

    // --- thousands of entries ---------------------------------------------------------
    let (h0, _) = signed_now(Provider::Bookable, BODY);
    let good = get(&h0, "x-samna-signature");
    let (t, v1) = good.split_once(',').unwrap();
    let mut h = h0.clone();
    set(
        &mut h,
        "x-samna-signature",
        format!("{t},{}", vec![v1; 3000].join(",")),
    );
    case(
        "3000 v1= entries (200 KiB, right one included)",
        raw_http::post("/bookable", &h, BODY),
        // actix-http refuses a request head over its buffer (128 KiB) itself; hyper's is
        // larger (~400 KiB), so the verifier sees the value and refuses it at 8 KiB.
        expect!(axum: (400, "too long"), actix: (431, "")),
    );

    let mut h = h0.clone();
    set(
        &mut h,
        "x-samna-signature",
        format!("{t},{}", vec![v1; MAX_SIGNATURES + 1].join(",")),
    );
    case(
        "17 v1= entries under 8 KiB (right one included)",
        raw_http::post("/bookable", &h, BODY),
        expect!(400, "more than 16 signatures"),
    );

    let mut h = h0.clone();
    set(
        &mut h,
        "x-samna-signature",
        format!("{t},{},{v1}", vec!["v0=00"; 1300].join(",")),
    );
    case(
        "1300 ignored v0= entries then the right v1",
        raw_http::post("/bookable", &h, BODY),
        expect!(200, "ok:"),
    );

    let mut h = h0.clone();
    set(
        &mut h,
        "x-samna-signature",
        format!("{t},{}", vec!["v1="; 2000].join(",")),
    );
    case(
        "2000 empty v1= entries",
        raw_http::post("/bookable", &h, BODY),
        expect!(400, "empty signature"),
    );

    let (h0, _) = signed_now(Provider::StandardWebhooks, BODY);
    let good = get(&h0, "webhook-signature");
    let mut h = h0.clone();
    set(
        &mut h,
        "webhook-signature",
        vec![good.as_str(); 2000].join(" "),
    );
    case(
        "2000 v1, entries (90 KiB)",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "too long"),
    );
    let mut h = h0.clone();
    set(
        &mut h,
        "webhook-signature",
        vec![good.as_str(); MAX_SIGNATURES + 1].join(" "),
    );
    case(
        "17 v1, entries",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "more than 16 signatures"),
    );
    let mut h = h0.clone();
    set(&mut h, "webhook-signature", vec!["v1,"; 1000].join(" "));
    case(
        "1000 empty v1, entries (the standardwebhooks bypass)",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "empty signature"),
    );

    // --- duplicate headers ------------------------------------------------------------
    let (h0, _) = signed_now(Provider::Slatis, BODY);
    let good = get(&h0, "x-slatis-signature");
    let wrong = format!("sha256={}", "0".repeat(64));
    let mut h = h0.clone();
    h.insert(0, ("X-Slatis-Signature".into(), wrong.clone().into_bytes()));
    case(
        "duplicate signature header, the second right",
        raw_http::post("/slatis", &h, BODY),
        expect!(200, "ok:"),
    );
    let mut h: Vec<_> = (0..MAX_SIGNATURES)
        .map(|_| ("x-slatis-signature".to_owned(), wrong.clone().into_bytes()))
        .collect();
    h.push(("x-slatis-signature".into(), good.clone().into_bytes()));
    case(
        "17 duplicate signature headers",
        raw_http::post("/slatis", &h, BODY),
        expect!(400, "more than 16 signatures"),
    );
    let h: Vec<_> = (0..90)
        .map(|_| ("x-slatis-signature".to_owned(), wrong.clone().into_bytes()))
        .collect();
    case(
        "90 duplicate signature headers",
        raw_http::post("/slatis", &h, BODY),
        expect!(400, "more than 16 signatures"),
    );
    let h: Vec<_> = (0..2000)
        .map(|_| ("x-slatis-signature".to_owned(), wrong.clone().into_bytes()))
        .collect();
    case(
        "2000 duplicate signature headers",
        raw_http::post("/slatis", &h, BODY),
        // Both servers cap the header count (hyper 100, actix 96) and answer 431 themselves.
        expect!(431, ""),
    );
    let (mut h, _) = signed_now(Provider::StandardWebhooks, BODY);
    h.push(("webhook-id".into(), b"msg_other".to_vec()));
    case(
        "two different webhook-id headers",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "malformed webhook-id header: conflicting values"),
    );
    let (mut h, _) = signed_now(Provider::StandardWebhooks, BODY);
    let ts = get(&h, "webhook-timestamp");
    h.push(("webhook-timestamp".into(), ts.into_bytes()));
    case(
        "the same webhook-timestamp twice",
        raw_http::post("/standard", &h, BODY),
        expect!(200, "ok:"),
    );

    // --- non-UTF-8 header bytes -------------------------------------------------------
    let (mut h, _) = signed_now(Provider::Slatis, BODY);
    let mut value = get(&h, "x-slatis-signature").into_bytes();
    value.extend_from_slice(&[0xff, 0xfe, 0x80]);
    set(&mut h, "x-slatis-signature", value);
    case(
        "non-UTF-8 bytes after a valid signature",
        raw_http::post("/slatis", &h, BODY),
        expect!(400, "not visible ASCII"),
    );
    let (mut h, _) = signed_now(Provider::StandardWebhooks, BODY);
    set(&mut h, "webhook-id", b"msg_\xc3\x28\xa0\xa1".to_vec());
    case(
        "non-UTF-8 webhook-id",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "malformed webhook-id header: not visible ASCII"),
    );

    // --- timestamps -------------------------------------------------------------------
    let (h0, _) = signed_now(Provider::Bookable, BODY);
    let v1 = get(&h0, "x-samna-signature")
        .split_once(',')
        .unwrap()
        .1
        .to_owned();
    for (name, t, status, text) in [
        (
            "t=99999999999999999999 (overflows i64)",
            "99999999999999999999",
            400,
            "timestamp is not a Unix time",
        ),
        (
            "t=9223372036854775808 (i64::MAX + 1)",
            "9223372036854775808",
            400,
            "timestamp is not a Unix time",
        ),
        ("t=-1", "-1", 400, "timestamp is not a Unix time"),
        (
            "t=-9223372036854775808 (i64::MIN)",
            "-9223372036854775808",
            400,
            "timestamp is not a Unix time",
        ),
        (
            "t=0 (in range, 56 years old)",
            "0",
            401,
            "timestamp too old",
        ),
        (
            "t=9223372036854775807 (i64::MAX)",
            "9223372036854775807",
            401,
            "timestamp in the future",
        ),
    ] {
        let mut h = h0.clone();
        set(&mut h, "x-samna-signature", format!("t={t},{v1}"));
        let expect: fn(Server) -> (u16, &'static str) = match (status, text) {
            (400, _) => expect!(400, "timestamp is not a Unix time"),
            (_, "timestamp too old") => expect!(401, "timestamp too old"),
            _ => expect!(401, "timestamp in the future"),
        };
        case(name, raw_http::post("/bookable", &h, BODY), expect);
    }
    let (mut h, _) = signed_now(Provider::StandardWebhooks, BODY);
    set(&mut h, "webhook-timestamp", "99999999999999999999");
    case(
        "webhook-timestamp overflow",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "timestamp is not a Unix time"),
    );
    let (mut h, _) = signed_now(Provider::StandardWebhooks, BODY);
    set(&mut h, "webhook-timestamp", "-60");
    case(
        "negative webhook-timestamp",
        raw_http::post("/standard", &h, BODY),
        expect!(400, "timestamp is not a Unix time"),
    );

    // --- body size --------------------------------------------------------------------
    let at_limit = cases::pad_to(std::str::from_utf8(BODY).unwrap(), LIMIT).into_bytes();
    let (h, _) = signed_now(Provider::Slatis, &at_limit);
    case(
        "body exactly at the limit",
        raw_http::post("/slatis", &h, &at_limit),
        expect!(200, "ok:4096"),
    );
    let over = cases::pad_to(std::str::from_utf8(BODY).unwrap(), LIMIT + 1).into_bytes();
    let (h, _) = signed_now(Provider::Slatis, &over);
    case(
        "body one byte over the limit",
        raw_http::post("/slatis", &h, &over),
        expect!(413, "payload too large"),
    );
    let (h, _) = signed_now(Provider::Slatis, BODY);
    let mut huge = raw_http::post("/slatis", &h, b"");
    let cl = b"content-length: 0\r\n";
    let pos = huge.windows(cl.len()).position(|w| w == cl).unwrap();
    huge.splice(
        pos..pos + cl.len(),
        b"content-length: 1000000000000\r\n".iter().copied(),
    );
    case(
        "content-length of 1 TB, no body sent",
        huge,
        expect!(413, "payload too large"),
    );

    // --- Slotflow's token -------------------------------------------------------------
    let token = secret(Provider::Slotflow);
    let many = vec![format!("token={token}"); MAX_SIGNATURES + 1].join("&");
    case(
        "17 token parameters",
        raw_http::post(&format!("/slotflow?{many}"), &[], BODY),
        expect!(400, "more than 16 signatures"),
    );
    let long = format!("/slotflow?token={}", "t".repeat(16 * 1024));
    case(
        "16 KiB token",
        raw_http::post(&long, &[], BODY),
        expect!(401, "token mismatch"),
    );
    case(
        "empty token",
        raw_http::post("/slotflow?token=", &[], BODY),
        expect!(400, "empty signature"),
    );
    case(
        "token in a header, not the URL",
        raw_http::post(
            "/slotflow",
            &[("token".into(), token.as_bytes().to_vec())],
            BODY,
        ),
        expect!(401, "missing token"),
    );
    case(
        "right token",
        raw_http::post(&format!("/slotflow?token={token}"), &[], BODY),
        expect!(200, "ok:"),
    );

    out
}

fn run_table(server: Server, addr: SocketAddr) {
    let mut failures = Vec::new();
    for case in table() {
        let (status, body, took) = exchange(addr, &case.request, Duration::from_secs(15));
        let (want, text) = (case.expect)(server);
        println!(
            "{server:?} {:<55} {status} {:>7.1} ms  {}",
            case.name,
            took.as_secs_f64() * 1e3,
            body.trim()
        );
        if status != want || !body.contains(text) {
            failures.push(format!(
                "{}: got {status} {body:?}, want {want} containing {text:?}",
                case.name
            ));
        }
        if took > COST {
            failures.push(format!("{}: took {took:?}, more than {COST:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{server:?}:\n{}", failures.join("\n"));
}

#[test]
fn hostile_requests_through_bookhook_axum() {
    run_table(Server::Axum, axum_server::start());
}

#[test]
fn hostile_requests_through_bookhook_actix() {
    run_table(Server::Actix, actix_server::start());
}

// ---------------------------------------------------------------------------------------
// Slowloris
// ---------------------------------------------------------------------------------------

/// Sends a signed request's head, then its body one byte every `every`; returns the
/// status and when the answer came, or `None` if no answer came within `give_up`.
fn slowloris(
    addr: SocketAddr,
    every: Duration,
    give_up: Duration,
) -> Option<(u16, String, Duration)> {
    let body = cases::pad_to(std::str::from_utf8(BODY).unwrap(), 1000).into_bytes();
    let (h, _) = signed_now(Provider::Slatis, &body);
    let request = raw_http::post("/slatis", &h, &body);
    raw_http::slow_post(addr, &request, body.len(), every, give_up)
}

#[test]
fn slowloris_body_through_bookhook_axum_gets_408_at_the_body_timeout() {
    let addr = axum_server::start();
    let (status, body, took) =
        slowloris(addr, Duration::from_millis(100), Duration::from_secs(10)).expect("an answer");
    println!("Axum slowloris: {status} {body:?} after {took:?}");
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("request body timeout"), "{body}");
    assert!(
        took >= BODY_TIMEOUT && took < BODY_TIMEOUT + Duration::from_secs(2),
        "{took:?}"
    );
}

/// actix-web's own `client_request_timeout` covers only the request head: the adapter's
/// body timeout is what stops a client that sends a byte every 100 ms.
#[test]
fn slowloris_body_through_bookhook_actix_gets_408() {
    let addr = actix_server::start();
    let answer = slowloris(addr, Duration::from_millis(100), Duration::from_secs(12));
    println!("Actix slowloris: {answer:?}");
    let (status, body, took) = answer.expect("an answer before the client gives up");
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("request body timeout"), "{body}");
    assert!(
        took >= BODY_TIMEOUT && took < BODY_TIMEOUT + Duration::from_secs(2),
        "{took:?}"
    );
}
