//! `bench-axum`: the axum hello-world behind the adapter-overhead numbers in BENCHMARKS.md.
//!
//! `POST /plain` answers `hello` after buffering the body (as any webhook handler must);
//! `POST /verified` is the same handler behind `bookhook_axum::VerifyLayer` for Standard
//! Webhooks (secret `bookhook_bench::STANDARD_SECRET`, real clock). One thread, so that it
//! can be pinned to one core with `taskset`, away from the load generator.
//!
//! `/extractor` is the same handler taking bookhook's standalone `VerifiedBody` extractor
//! (the verifier in the router state, no layer), the other way to verify in axum.
//!
//! More routes split the layer's cost into its parts (each paired against `/plain`):
//!
//! - `/noop`: the handler behind a layer that does nothing, what layering a route costs;
//! - `/inhandler`: no layer, the handler calls `Verifier::verify` on the buffered body,
//!   what verification costs without any adapter (`/inhandler-none`, the same handler
//!   verifying zero times, is its control: it should cost what `/plain` costs);
//! - `/inhandler-twice`: the same, verifying twice; the second call runs with the code and
//!   data the first one brought into the caches, so the difference to `/inhandler` is a
//!   verification on warm caches.
//!
//! The replay guard (issue 17), measured with `bench-load --unique-ids` so that every
//! delivery is new (reserve, handler, commit), paired against `/verified`:
//!
//! - `/guarded`: `/verified` with an in-memory `ReplayGuard` (`MemoryStore`, 1 Mi entries);
//! - `/guarded-redis`: the same with a `RedisStore`, when `BENCH_REDIS_URL` is set
//!   (`scripts/bench.sh` starts a throw-away `redis-server` on loopback).
//!
//! `bench-axum [ADDR]` (default `127.0.0.1:18081`); stops on Ctrl-C or SIGTERM.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::post;
use bookhook_axum::bookhook_replay::{MemoryStore, RedisStore, ReplayGuard};
use bookhook_axum::{VerifiedBody, VerifyLayer};
use bookhook_bench::STANDARD_SECRET;
use bookhook_verify::{Provider, Verifier};
use bytes::Bytes;
use tower::util::MapRequestLayer;

async fn hello(body: Bytes) -> &'static str {
    std::hint::black_box(body);
    "hello"
}

/// `hello` taking the body from bookhook's standalone extractor, which buffers and verifies
/// it with the verifier in the router state (no layer).
async fn verified_hello(body: VerifiedBody<Verifier>) -> &'static str {
    std::hint::black_box(body.bytes);
    "hello"
}

/// `hello`, verifying the delivery `times` times in the handler: 401 unless every check
/// passes, so a wrong setup cannot pass for a fast one. It takes the whole request rather
/// than a `HeaderMap` extractor, which would copy the headers.
async fn verify_in_handler(
    verifier: Verifier,
    times: usize,
    request: Request,
) -> Result<&'static str, StatusCode> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let verified = (0..times).all(|_| verifier.verify(&parts.headers, &body).is_ok());
    std::hint::black_box(body);
    if verified {
        Ok("hello")
    } else {
        Err(StatusCode::UNAUTHORIZED)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    let verifier = Verifier::builder(Provider::StandardWebhooks)
        .secret(STANDARD_SECRET)
        .build()?;
    let memory = ReplayGuard::new(MemoryStore::new(1 << 20));
    let mut app = Router::new()
        .route("/plain", post(hello))
        .route(
            "/guarded",
            post(hello).layer(VerifyLayer::new(verifier.clone()).replay_guard(memory)),
        )
        .route(
            "/verified",
            post(hello).layer(VerifyLayer::new(verifier.clone())),
        )
        .route(
            "/noop",
            post(hello).layer(MapRequestLayer::new(|request: Request| request)),
        )
        .route(
            "/extractor",
            post(verified_hello).with_state(verifier.clone()),
        )
        .route("/inhandler-none", {
            let verifier = verifier.clone();
            post(move |request| verify_in_handler(verifier, 0, request))
        })
        .route("/inhandler", {
            let verifier = verifier.clone();
            post(move |request| verify_in_handler(verifier, 1, request))
        })
        .route(
            "/inhandler-twice",
            post({
                let verifier = verifier.clone();
                move |request| verify_in_handler(verifier, 2, request)
            }),
        );
    if let Ok(url) = std::env::var("BENCH_REDIS_URL") {
        let redis = ReplayGuard::new(RedisStore::connect(&url).await?);
        app = app.route(
            "/guarded-redis",
            post(hello).layer(VerifyLayer::new(verifier).replay_guard(redis)),
        );
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bench-axum listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
