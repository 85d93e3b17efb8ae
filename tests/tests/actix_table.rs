//! The shared rejection table (`bookhook_integration::cases`) against `bookhook-actix`, in
//! both modes: the extractors alone (config in the resource's `app_data`) and the `Verify`
//! middleware over a scope; plus the limit edges, unknown events, chunked bodies over a real
//! socket, and the handler never running for a refused delivery.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::{Payload, Service, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::{App, HttpResponse, HttpServer, test, web};
use bookhook_actix::{Verified, VerifiedBody, Verify, VerifyConfig};
use bookhook_events::{BookingEvent, BookingKind};
use bookhook_integration::cases::{self, Case};
use bookhook_testkit::raw_http;
use bookhook_verify::{Provider, Verifier};
use bytes::Bytes;
use futures_util::Stream;

/// How often the handler ran, shared with the test.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The handler every case expects: `200 ok:<event type>` for a typed event.
async fn hook(Verified(event, _): Verified<BookingEvent>, calls: web::Data<Calls>) -> HttpResponse {
    calls.0.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().body(format!("ok:{}", event.event_type))
}

/// Extractor mode: the case's verifier in the resource's `app_data`.
fn extractor_app(
    verifier: Verifier,
    calls: Calls,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new().app_data(web::Data::new(calls)).service(
        web::resource("/hook")
            .app_data(VerifyConfig::new(verifier).limit(cases::LIMIT))
            .route(web::post().to(hook)),
    )
}

/// Middleware mode: `Verify` wraps a scope; the resource's own `app_data` holds a verifier
/// without secrets, so if the extractor verified a second time instead of reusing the
/// middleware's result, every accepted delivery would turn into a 500.
fn middleware_app(
    verifier: Verifier,
    calls: Calls,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let provider = verifier.provider();
    App::new().app_data(web::Data::new(calls)).service(
        web::scope("/scoped")
            .wrap(Verify::new(VerifyConfig::new(verifier).limit(cases::LIMIT)))
            .service(
                web::resource("/hook")
                    .app_data(VerifyConfig::new(Verifier::unconfigured(provider)))
                    .route(web::post().to(hook)),
            ),
    )
}

/// A payload that yields `body` in several small chunks, as a chunked upload does.
fn chunked_payload(body: &[u8]) -> Payload {
    let chunks: Vec<Result<Bytes, PayloadError>> = body
        .chunks(body.len().div_ceil(3).max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(futures_util::stream::iter(chunks));
    Payload::from(stream)
}

/// The case as an actix test request to `path`.
fn request(case: &Case, path: &str) -> actix_http::Request {
    let uri = match &case.query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut req = test::TestRequest::post().uri(&uri);
    for (name, value) in &case.headers {
        req = req.append_header((name.as_str(), value.as_str()));
    }
    if case.chunked {
        // No content-length: the body arrives as a stream of chunks.
        let req = req
            .insert_header(("transfer-encoding", "chunked"))
            .to_request();
        req.replace_payload(chunked_payload(&case.body)).0
    } else {
        req.set_payload(case.body.clone()).to_request()
    }
}

/// Serves `case` and checks status, reason, and whether the handler ran.
async fn check<S, B>(case: &Case, app: &S, path: &str, calls: &Calls, mode: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let before = calls.get();
    let res = test::call_service(app, request(case, path)).await;
    let status = res.status().as_u16();
    let body = test::read_body(res).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, case.status, "{mode}: {}: body {body:?}", case.name);
    assert!(
        body.contains(case.reason),
        "{mode}: {}: body {body:?} lacks {:?}",
        case.name,
        case.reason
    );
    let ran = calls.get() - before;
    let expected = usize::from((200..300).contains(&case.status));
    assert_eq!(
        ran, expected,
        "{mode}: {}: handler ran {ran} times for a {status}",
        case.name
    );
}

#[actix_web::test]
async fn every_case_of_the_table_through_the_extractor() {
    let all = cases::all();
    assert!(all.len() >= 40, "the table shrank to {} cases", all.len());
    for case in &all {
        let calls = Calls::default();
        let app = test::init_service(extractor_app(case.verifier.clone(), calls.clone())).await;
        check(case, &app, "/hook", &calls, "extractor").await;
    }
}

#[actix_web::test]
async fn every_case_of_the_table_through_the_middleware_over_a_scope() {
    for case in &cases::all() {
        let calls = Calls::default();
        let app = test::init_service(middleware_app(case.verifier.clone(), calls.clone())).await;
        check(case, &app, "/scoped/hook", &calls, "middleware").await;
    }
}

#[actix_web::test]
async fn handler_is_never_called_for_any_rejected_case() {
    // One app per provider serving the whole table; the count only moves for 2xx cases.
    let all = cases::all();
    for provider in cases::PROVIDERS {
        let calls = Calls::default();
        let app = test::init_service(extractor_app(cases::verifier(provider), calls.clone())).await;
        let mut accepted = 0;
        for case in all.iter().filter(|c| c.provider == provider) {
            // The misconfigured-route case needs its own verifier.
            if case.status == 500 {
                continue;
            }
            let res = test::call_service(&app, request(case, "/hook")).await;
            assert_eq!(res.status().as_u16(), case.status, "{}", case.name);
            accepted += usize::from(res.status().is_success());
        }
        assert!(accepted > 0, "{provider}: nothing accepted");
        assert_eq!(calls.get(), accepted, "{provider}");
    }
}

#[actix_web::test]
async fn unknown_event_type_reaches_the_handler_as_unknown() {
    let kinds = Arc::new(std::sync::Mutex::new(Vec::new()));
    for provider in cases::PROVIDERS {
        let seen = Arc::clone(&kinds);
        let app = test::init_service(
            App::new().service(
                web::resource("/hook")
                    .app_data(VerifyConfig::new(cases::verifier(provider)))
                    .route(
                        web::post().to(move |Verified(event, _): Verified<BookingEvent>| {
                            let seen = Arc::clone(&seen);
                            async move {
                                seen.lock().unwrap().push(event.kind);
                                HttpResponse::Accepted().finish()
                            }
                        }),
                    ),
            ),
        )
        .await;
        let case = cases::for_provider(provider)
            .into_iter()
            .find(|c| c.name.ends_with("unknown event reaches the handler"))
            .expect("the table has an unknown-event case");
        let res = test::call_service(&app, request(&case, "/hook")).await;
        assert_eq!(res.status(), 202, "{}", case.name);
    }
    let kinds = kinds.lock().unwrap();
    assert_eq!(kinds.len(), cases::PROVIDERS.len());
    assert!(
        kinds.iter().all(|k| *k == BookingKind::Unknown),
        "{kinds:?}"
    );
}

/// Serves `case` on a fresh app of `mode` and returns the status and body.
async fn send(mode: &str, case: &Case, path: &str, calls: &Calls) -> (u16, Bytes) {
    let req = request(case, path);
    let res = if mode == "extractor" {
        let app = test::init_service(extractor_app(case.verifier.clone(), calls.clone())).await;
        test::call_service(&app, req).await.map_into_boxed_body()
    } else {
        let app = test::init_service(middleware_app(case.verifier.clone(), calls.clone())).await;
        test::call_service(&app, req).await.map_into_boxed_body()
    };
    let status = res.status().as_u16();
    (status, test::read_body(res).await)
}

#[actix_web::test]
async fn body_exactly_at_the_limit_passes_and_one_over_is_413_with_or_without_length() {
    for provider in cases::PROVIDERS {
        for chunked in [false, true] {
            for (mode, path) in [("extractor", "/hook"), ("middleware", "/scoped/hook")] {
                let calls = Calls::default();
                let at = cases::padded(provider, cases::LIMIT, chunked);
                let over = cases::padded(provider, cases::LIMIT + 1, chunked);
                assert_eq!(at.body.len(), cases::LIMIT);
                assert_eq!(over.body.len(), cases::LIMIT + 1);
                let (at_status, _) = send(mode, &at, path, &calls).await;
                let (over_status, text) = send(mode, &over, path, &calls).await;
                assert_eq!(at_status, 200, "{mode}: {}", at.name);
                assert_eq!(over_status, 413, "{mode}: {}", over.name);
                assert!(
                    text.starts_with(b"payload too large"),
                    "{mode}: {}: {text:?}",
                    over.name
                );
                assert_eq!(calls.get(), 1, "{mode}: {}", over.name);
            }
        }
    }
}

#[actix_web::test]
async fn oversized_content_length_is_refused_before_the_body_is_read() {
    let calls = Calls::default();
    let app = test::init_service(extractor_app(
        cases::verifier(Provider::Slatis),
        calls.clone(),
    ))
    .await;
    let case = cases::padded(Provider::Slatis, 100, false);
    // Announce a huge body but deliver a stream that fails if anyone reads it.
    let failing: Vec<Result<Bytes, PayloadError>> = vec![Err(PayloadError::Incomplete(None))];
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(futures_util::stream::iter(failing));
    let mut req = test::TestRequest::post()
        .uri("/hook")
        .insert_header(("content-length", "10000000"));
    for (name, value) in &case.headers {
        req = req.append_header((name.as_str(), value.as_str()));
    }
    let req = req.to_request().replace_payload(Payload::from(stream)).0;
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        test::read_body(res).await,
        format!(
            "payload too large: 10000000 bytes, the limit is {}",
            cases::LIMIT
        )
    );
    assert_eq!(calls.get(), 0);
}

#[actix_web::test]
async fn route_without_config_answers_500_no_verifier_configured() {
    let case = cases::padded(Provider::Slatis, 300, false);
    let app = test::init_service(App::new().route(
        "/hook",
        web::post().to(|_: VerifiedBody| async { "unreachable" }),
    ))
    .await;
    let res = test::call_service(&app, request(&case, "/hook")).await;
    assert_eq!(res.status(), 500);
    assert_eq!(test::read_body(res).await, "no verifier configured");
}

#[actix_web::test]
async fn config_in_web_data_is_found_too() {
    let case = cases::padded(Provider::Bookable, 300, false);
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(VerifyConfig::new(cases::verifier(
                Provider::Bookable,
            ))))
            .route(
                "/hook",
                web::post().to(|body: VerifiedBody| async move {
                    format!("{}", body.verified.provider())
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, request(&case, "/hook")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "bookable");
}

#[actix_web::test]
async fn scopes_with_different_providers_coexist() {
    let calls = Calls::default();
    let mut app = App::new().app_data(web::Data::new(calls.clone()));
    for provider in cases::PROVIDERS {
        app = app.service(
            web::scope(&format!("/{provider}"))
                .app_data(VerifyConfig::new(cases::verifier(provider)).limit(cases::LIMIT))
                .route("/hook", web::post().to(hook)),
        );
    }
    let app = test::init_service(app).await;
    for provider in cases::PROVIDERS {
        let valid = cases::padded(provider, 600, false);
        let res = test::call_service(&app, request(&valid, &format!("/{provider}/hook"))).await;
        assert_eq!(res.status(), 200, "{provider} on its own route");
        // The same delivery on another provider's route is refused.
        let other = cases::PROVIDERS
            .into_iter()
            .find(|p| *p != provider)
            .unwrap();
        let res = test::call_service(&app, request(&valid, &format!("/{other}/hook"))).await;
        assert!(
            res.status().is_client_error(),
            "{provider} delivery on the {other} route: {}",
            res.status()
        );
    }
    assert_eq!(calls.get(), cases::PROVIDERS.len());
}

#[actix_web::test]
async fn middleware_puts_the_body_back_and_the_result_in_the_extensions() {
    let case = cases::padded(Provider::StandardWebhooks, 500, true);
    let app = test::init_service(
        App::new().service(
            web::scope("/scoped")
                .wrap(Verify::new(VerifyConfig::new(cases::verifier(
                    Provider::StandardWebhooks,
                ))))
                .route(
                    "/hook",
                    web::post().to(
                        |body: web::Bytes, verified: web::ReqData<bookhook_verify::Verified>| async move {
                            format!("{} {:?}", body.len(), verified.delivery_id())
                        },
                    ),
                ),
        ),
    )
    .await;
    let res = test::call_service(&app, request(&case, "/scoped/hook")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "500 Some(\"msg_case_1\")");
}

#[actix_web::test]
async fn verified_parts_carry_the_raw_body_and_the_verification() {
    let case = cases::padded(Provider::Slatis, 700, false);
    let app = test::init_service(
        App::new().service(
            web::resource("/hook")
                .app_data(VerifyConfig::new(cases::verifier(Provider::Slatis)))
                .route(
                    web::post().to(|verified: Verified<BookingEvent>| async move {
                        let (event, body) = verified.into_parts();
                        format!(
                            "{:?} {} {} {}",
                            event.kind,
                            body.bytes.len(),
                            body.verified.provider(),
                            body.verified.secret_index()
                        )
                    }),
                ),
        ),
    )
    .await;
    let res = test::call_service(&app, request(&case, "/hook")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "Created 700 slatis 0");
}

/// Sends raw HTTP/1.1 to `addr` and returns the whole response, bounded in time; the
/// request must be written in full.
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    // `connection: close` makes the server end the response with EOF.
    let (written, response) = raw_http::send(addr, request, Duration::from_secs(10));
    written.expect("the whole request is written");
    String::from_utf8_lossy(&response).into_owned()
}

/// A real chunked upload (`transfer-encoding: chunked`, no content-length) over a socket.
fn chunked_http(case: &Case, path: &str) -> Vec<u8> {
    let uri = match &case.query {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut req = format!(
        "POST {uri} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ntransfer-encoding: chunked\r\n"
    )
    .into_bytes();
    for (name, value) in &case.headers {
        req.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    for chunk in case.body.chunks(1000) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

// `test` is actix-web's module here; this one is the plain libtest attribute: the server
// runs on its own thread and system, the client blocks with timeouts.
#[std::prelude::v1::test]
fn chunked_uploads_over_a_real_socket() {
    let calls = Calls::default();
    let server_calls = calls.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(server_calls.clone()))
            .service(
                web::resource("/hook")
                    .app_data(
                        VerifyConfig::new(cases::verifier(Provider::Slatis)).limit(cases::LIMIT),
                    )
                    .route(web::post().to(hook)),
            )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .bind(("127.0.0.1", 0))
    .expect("bind an ephemeral port");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    let thread = std::thread::spawn(move || actix_web::rt::System::new().block_on(server));

    let at = cases::padded(Provider::Slatis, cases::LIMIT, true);
    let response = exchange(addr, &chunked_http(&at, "/hook"));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok:BOOKING_CREATED"), "{response}");

    let over = cases::padded(Provider::Slatis, cases::LIMIT + 1, true);
    let response = exchange(addr, &chunked_http(&over, "/hook"));
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("payload too large"), "{response}");

    let mut tampered = cases::padded(Provider::Slatis, 900, true);
    tampered.body[20] ^= 1;
    let response = exchange(addr, &chunked_http(&tampered, "/hook"));
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.ends_with("signature mismatch"), "{response}");

    assert_eq!(calls.get(), 1);
    actix_web::rt::System::new().block_on(handle.stop(true));
    thread.join().unwrap().unwrap();
}
