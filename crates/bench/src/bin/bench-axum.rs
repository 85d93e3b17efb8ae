//! `bench-axum`: the axum hello-world behind the adapter-overhead numbers in BENCHMARKS.md.
//!
//! `POST /plain` answers `hello` after buffering the body (as any webhook handler must);
//! `POST /verified` is the same handler behind `bookhook_axum::VerifyLayer` for Standard
//! Webhooks (secret `bookhook_bench::STANDARD_SECRET`, real clock). One thread, so that it
//! can be pinned to one core with `taskset`, away from the load generator.
//!
//! `bench-axum [ADDR]` (default `127.0.0.1:18081`); stops on Ctrl-C or SIGTERM.

use axum::Router;
use axum::routing::post;
use bookhook_axum::VerifyLayer;
use bookhook_bench::STANDARD_SECRET;
use bookhook_verify::{Provider, Verifier};
use bytes::Bytes;

async fn hello(body: Bytes) -> &'static str {
    std::hint::black_box(body);
    "hello"
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned());
    let verifier = Verifier::builder(Provider::StandardWebhooks)
        .secret(STANDARD_SECRET)
        .build()?;
    let app = Router::new()
        .route("/plain", post(hello))
        .route("/verified", post(hello).layer(VerifyLayer::new(verifier)));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bench-axum listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
