//! Hostile HTTP against the real `crm-sync` binary, over loopback sockets with raw bytes:
//! 64 KiB headers, thousands of signature entries, non-UTF-8 header bytes, duplicate
//! headers, overflowing and negative timestamps, bodies at and over the limit, a slowloris
//! body, and replays. Each case states one status and a bound on its cost, and afterwards
//! the service's own log lines (at `debug`) must hold no secret, token, signature or
//! client-supplied header value.

mod support;

use std::time::Duration;

use bookhook_testkit::clock::now;
use bookhook_testkit::raw_http::{self, exchange, get, set};
use bookhook_verify::{MAX_SIGNATURES, Provider, SignParams};
use support::{ServiceBuilder, Signed, secret, secrets, temp_db};

/// `CRM_SYNC_BODY_LIMIT` for these tests: small, so the at-limit cases stay cheap.
const LIMIT: usize = 4096;

/// The most any one hostile request may take to be answered (each takes milliseconds; the
/// bound catches unbounded work).
const COST: Duration = Duration::from_secs(3);

/// The body timeout of `bookhook-axum`'s layer, which crm-sync uses as is.
const BODY_TIMEOUT: Duration = bookhook_axum::DEFAULT_BODY_TIMEOUT;

/// A value a client puts in headers, which no log line may repeat.
const MARKER: &str = "HOSTILEMARKER";

/// What `provider` sends for `body`: path (with query) and headers as raw bytes.
fn signed(
    provider: Provider,
    body: &[u8],
    params: &SignParams,
) -> (String, Vec<(String, Vec<u8>)>) {
    let Signed { path, headers, .. } = Signed::new(provider, body, params);
    let headers = headers
        .into_iter()
        .map(|(n, v)| (n, v.into_bytes()))
        .collect();
    (path, headers)
}

/// A sample booking body of `provider` with a unique booking id (so dedupe keys differ).
fn body(provider: Provider, n: usize) -> Vec<u8> {
    let sample = bookhook_events::samples::booking_created(provider);
    let mut value: serde_json::Value = serde_json::from_str(sample).unwrap();
    value["hostile_case"] = serde_json::json!(n);
    value.to_string().into_bytes()
}

/// `body` padded with spaces before its closing brace to exactly `len` bytes.
fn pad_to(body: &[u8], len: usize) -> Vec<u8> {
    let mut padded = body[..body.len() - 1].to_vec();
    padded.resize(len - 1, b' ');
    padded.push(b'}');
    padded
}

struct Case {
    name: String,
    request: Vec<u8>,
    status: u16,
    text: &'static str,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut case = |name: &str, request: Vec<u8>, status: u16, text: &'static str| {
        out.push(Case {
            name: name.to_owned(),
            request,
            status,
            text,
        });
    };
    let mut fresh = |p: Provider| {
        n += 1;
        let b = body(p, n);
        let params = SignParams::at(now())
            .id(format!("msg_hostile_{n}"))
            .event_type("booking.created");
        let (path, h) = signed(p, &b, &params);
        (path, h, b)
    };

    // 64 KiB headers.
    let (path, mut h, b) = fresh(Provider::Slatis);
    set(
        &mut h,
        "x-slatis-signature",
        format!("sha256={}", "0".repeat(64 * 1024)),
    );
    case(
        "64 KiB signature header",
        raw_http::post(&path, &h, &b),
        400,
        "too long",
    );
    let (path, mut h, b) = fresh(Provider::Slatis);
    h.push((
        "x-padding".into(),
        MARKER.repeat(64 * 1024 / MARKER.len()).into_bytes(),
    ));
    case(
        "64 KiB unrelated header beside a valid signature",
        raw_http::post(&path, &h, &b),
        202,
        "accepted",
    );

    // Thousands of entries.
    let (path, h0, b) = fresh(Provider::Bookable);
    let good = get(&h0, "x-samna-signature");
    let (t, v1) = good.split_once(',').unwrap();
    let mut h = h0.clone();
    set(
        &mut h,
        "x-samna-signature",
        format!("{t},{}", vec![v1; 3000].join(",")),
    );
    case(
        "3000 v1= entries (200 KiB)",
        raw_http::post(&path, &h, &b),
        400,
        "too long",
    );
    let mut h = h0.clone();
    set(
        &mut h,
        "x-samna-signature",
        format!("{t},{}", vec![v1; MAX_SIGNATURES + 1].join(",")),
    );
    case(
        "17 v1= entries (right one included)",
        raw_http::post(&path, &h, &b),
        400,
        "more than 16 signatures",
    );
    let (path, h0, b) = fresh(Provider::StandardWebhooks);
    let good = get(&h0, "webhook-signature");
    let mut h = h0.clone();
    set(&mut h, "webhook-signature", vec!["v1,"; 1000].join(" "));
    case(
        "1000 empty v1, entries",
        raw_http::post(&path, &h, &b),
        400,
        "empty signature",
    );
    let mut h = h0.clone();
    set(
        &mut h,
        "webhook-signature",
        vec![good.as_str(); MAX_SIGNATURES + 1].join(" "),
    );
    case(
        "17 v1, entries",
        raw_http::post(&path, &h, &b),
        400,
        "more than 16 signatures",
    );

    // Duplicate headers.
    let (path, h0, b) = fresh(Provider::CalCom);
    let wrong = "0".repeat(64);
    let mut h = h0.clone();
    h.insert(
        0,
        ("x-cal-signature-256".into(), wrong.clone().into_bytes()),
    );
    case(
        "duplicate signature header, the second right",
        raw_http::post(&path, &h, &b),
        202,
        "accepted",
    );
    let h: Vec<_> = (0..2000)
        .map(|_| ("x-cal-signature-256".to_owned(), wrong.clone().into_bytes()))
        .collect();
    case(
        "2000 duplicate signature headers",
        raw_http::post(&path, &h, &b),
        431,
        "",
    );
    let (path, mut h, b) = fresh(Provider::StandardWebhooks);
    h.push(("webhook-id".into(), MARKER.as_bytes().to_vec()));
    case(
        "two different webhook-id headers",
        raw_http::post(&path, &h, &b),
        400,
        "conflicting values",
    );

    // Non-UTF-8 header bytes.
    let (path, mut h, b) = fresh(Provider::Slatis);
    let mut value = get(&h, "x-slatis-signature").into_bytes();
    value.extend_from_slice(&[0xff, 0xfe, 0x80]);
    set(&mut h, "x-slatis-signature", value);
    case(
        "non-UTF-8 bytes in the signature header",
        raw_http::post(&path, &h, &b),
        400,
        "not visible ASCII",
    );
    let (path, mut h, b) = fresh(Provider::SchedulingKit);
    set(
        &mut h,
        "x-webhook-delivery-id",
        [MARKER.as_bytes(), b"\xc3\x28"].concat(),
    );
    case(
        "non-UTF-8 delivery id",
        raw_http::post(&path, &h, &b),
        400,
        "not visible ASCII",
    );

    // Timestamps.
    for (name, t, status, text) in [
        (
            "t=99999999999999999999",
            "99999999999999999999",
            400,
            "timestamp is not a Unix time",
        ),
        ("t=-1", "-1", 400, "timestamp is not a Unix time"),
        (
            "t=-9223372036854775808",
            "-9223372036854775808",
            400,
            "timestamp is not a Unix time",
        ),
        ("t=0", "0", 401, "timestamp too old"),
        (
            "t=9223372036854775807",
            "9223372036854775807",
            401,
            "timestamp in the future",
        ),
    ] {
        let (path, mut h, b) = fresh(Provider::Calendly);
        let v1 = get(&h, "calendly-webhook-signature")
            .split_once(',')
            .unwrap()
            .1
            .to_owned();
        set(&mut h, "calendly-webhook-signature", format!("t={t},{v1}"));
        case(name, raw_http::post(&path, &h, &b), status, text);
    }
    let (path, mut h, b) = fresh(Provider::StandardWebhooks);
    set(&mut h, "webhook-timestamp", "99999999999999999999");
    case(
        "webhook-timestamp overflow",
        raw_http::post(&path, &h, &b),
        400,
        "timestamp is not a Unix time",
    );

    // Body size.
    n += 1;
    let at = pad_to(&body(Provider::Slatis, n), LIMIT);
    let (path, h) = signed(Provider::Slatis, &at, &SignParams::now());
    case(
        "body exactly at the limit",
        raw_http::post(&path, &h, &at),
        202,
        "accepted",
    );
    let over = pad_to(&body(Provider::Slatis, n), LIMIT + 1);
    let (path, h) = signed(Provider::Slatis, &over, &SignParams::now());
    case(
        "body one byte over the limit",
        raw_http::post(&path, &h, &over),
        413,
        "payload too large",
    );
    let (path, h) = signed(Provider::Slatis, b"", &SignParams::now());
    let mut huge = raw_http::post(&path, &h, b"");
    let cl = b"content-length: 0\r\n";
    let pos = huge.windows(cl.len()).position(|w| w == cl).unwrap();
    huge.splice(
        pos..pos + cl.len(),
        b"content-length: 1000000000000\r\n".iter().copied(),
    );
    case(
        "content-length of 1 TB, no body sent",
        huge,
        413,
        "payload too large",
    );

    // Slotflow's URL token.
    let token = secret(Provider::Slotflow);
    let b = body(Provider::Slotflow, 10_000);
    let near = format!("/webhooks/slotflow?token={}X", &token[..token.len() - 1]);
    case(
        "near-miss token",
        raw_http::post(&near, &[], &b),
        401,
        "token mismatch",
    );
    let many = vec![format!("token={MARKER}0123456789"); MAX_SIGNATURES + 1].join("&");
    case(
        "17 token parameters",
        raw_http::post(&format!("/webhooks/slotflow?{many}"), &[], &b),
        400,
        "more than 16 signatures",
    );
    case(
        "right token",
        raw_http::post(&format!("/webhooks/slotflow?token={token}"), &[], &b),
        202,
        "accepted",
    );
    out
}

#[test]
fn hostile_requests_get_the_documented_status_at_a_bounded_cost_and_leave_no_secret_in_the_logs() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .all_secrets()
        .env("CRM_SYNC_BODY_LIMIT", &LIMIT.to_string())
        .env("RUST_LOG", "debug")
        .start();
    let mut failures = Vec::new();
    let mut sent_signatures = Vec::new();
    for case in cases() {
        let (status, body, took) = exchange(service.addr, &case.request, Duration::from_secs(20));
        println!(
            "crm-sync {:<52} {status} {:>7.1} ms  {}",
            case.name,
            took.as_secs_f64() * 1e3,
            body.trim()
        );
        if status != case.status || !body.contains(case.text) {
            failures.push(format!(
                "{}: got {status} {body:?}, want {} containing {:?}",
                case.name, case.status, case.text
            ));
        }
        if took > COST {
            failures.push(format!("{}: took {took:?}, more than {COST:?}", case.name));
        }
        // Every 64-hex run the client sent (signatures) must stay out of the logs too.
        let text = String::from_utf8_lossy(&case.request);
        sent_signatures.extend(
            text.split(|c: char| !c.is_ascii_hexdigit())
                .filter(|s| s.len() == 64 && s.chars().any(|c| c != '0'))
                .map(str::to_owned),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The service is still healthy after all that.
    let (status, _, _) = exchange(
        service.addr,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(20),
    );
    assert_eq!(status, 200);

    let logs = service.logs().join("\n");
    assert!(
        logs.contains("webhook refused"),
        "refusals are logged:\n{logs}"
    );
    for (_, var, value) in secrets() {
        assert!(!logs.contains(value), "the logs contain {var}'s value");
        if let Some(b64) = value.strip_prefix("whsec_") {
            assert!(!logs.contains(b64), "the logs contain {var}'s key");
        }
    }
    let token = secret(Provider::Slotflow);
    assert!(
        !logs.contains(&token[..token.len() - 1]),
        "the logs contain (most of) the Slotflow token"
    );
    assert!(!logs.contains("token="), "the logs contain a URL query");
    assert!(
        !logs.contains(MARKER),
        "the logs echo a client's header value"
    );
    for sig in &sent_signatures {
        assert!(
            !logs.contains(sig.as_str()),
            "the logs contain a signature a client sent"
        );
    }
}

#[test]
fn slowloris_body_gets_408_at_the_body_timeout() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db).all_secrets().start();
    let b = pad_to(&body(Provider::Slatis, 1), 2000);
    let (path, h) = signed(Provider::Slatis, &b, &SignParams::now());
    let request = raw_http::post(&path, &h, &b);
    // One byte every 100 ms: 2000 bytes would take 200 s.
    let (status, text, took) = raw_http::slow_post(
        service.addr,
        &request,
        b.len(),
        Duration::from_millis(100),
        BODY_TIMEOUT + Duration::from_secs(5),
    )
    .expect("an answer to a slow body");
    println!("crm-sync slowloris: {status} {text:?} after {took:?}");
    assert_eq!(status, 408, "{text}");
    assert!(
        took >= BODY_TIMEOUT && took < BODY_TIMEOUT + Duration::from_secs(3),
        "{took:?}"
    );
}

/// SchedulingKit signs only the body; its `X-Webhook-Delivery-Id` is unsigned. crm-sync
/// deduplicates SchedulingKit deliveries by that header (the design's dedupe table), so a
/// captured delivery replayed with a fresh id is stored, and synced, again. A body-hash key
/// (or the header *and* the body hash) would stop it; the provider's own retries carry the
/// same body, so they would still be caught.
#[test]
fn replayed_schedulingkit_body_with_a_new_unsigned_delivery_id_is_a_duplicate() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db).all_secrets().start();
    let b = body(Provider::SchedulingKit, 1);
    let params = SignParams::now()
        .id("dlv_original")
        .event_type("booking.created");
    let (path, h) = signed(Provider::SchedulingKit, &b, &params);
    let (status, text, _) = exchange(
        service.addr,
        &raw_http::post(&path, &h, &b),
        Duration::from_secs(20),
    );
    assert_eq!(status, 202, "{text}");
    let mut replay = h.clone();
    set(&mut replay, "x-webhook-delivery-id", "dlv_attacker_chosen");
    let (status, text, _) = exchange(
        service.addr,
        &raw_http::post(&path, &replay, &b),
        Duration::from_secs(20),
    );
    assert_eq!(
        (status, text.contains("duplicate")),
        (200, true),
        "{status} {text}"
    );
}

#[test]
fn replays_of_signed_ids_and_bodies_are_duplicates() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db).all_secrets().start();
    for p in [
        Provider::Slatis,
        Provider::Bookable,
        Provider::CalCom,
        Provider::Calendly,
        Provider::StandardWebhooks,
        Provider::Slotflow,
    ] {
        let b = body(p, 1);
        let (path, h) = signed(p, &b, &SignParams::now().id("msg_replay"));
        let (status, text, _) = exchange(
            service.addr,
            &raw_http::post(&path, &h, &b),
            Duration::from_secs(20),
        );
        assert_eq!(status, 202, "{p}: {text}");
        // The same delivery again, and (for timestamped schemes) re-signed a second later,
        // as a provider's retry or an attacker's replay inside the window would be.
        let (path, h) = signed(p, &b, &SignParams::at(now() + 1).id("msg_replay"));
        let (status, text, _) = exchange(
            service.addr,
            &raw_http::post(&path, &h, &b),
            Duration::from_secs(20),
        );
        assert_eq!(
            (status, text.contains("duplicate")),
            (200, true),
            "{p}: {status} {text}"
        );
    }
}
