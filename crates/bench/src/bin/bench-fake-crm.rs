//! `bench-fake-crm`: a HubSpot stand-in on 127.0.0.1 for the CRM-sync throughput run.
//!
//! Answers every `POST /crm/v3/objects/contacts/batch/upsert` with `200` and a small
//! `COMPLETE` body after reading the request, as fast as it can: the run measures
//! crm-sync's acknowledgements, with its worker draining the inbox at the same time.
//!
//! `bench-fake-crm [ADDR]` (default `127.0.0.1:18090`); stops on Ctrl-C or SIGTERM.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;

async fn upsert(State(calls): State<Arc<AtomicU64>>, body: Bytes) -> &'static str {
    calls.fetch_add(1, Ordering::Relaxed);
    std::hint::black_box(body);
    r#"{"status":"COMPLETE","results":[]}"#
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".to_owned());
    let calls = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .route("/crm/v3/objects/contacts/batch/upsert", post(upsert))
        .with_state(Arc::clone(&calls));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bench-fake-crm listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    eprintln!(
        "bench-fake-crm: {} batch calls",
        calls.load(Ordering::Relaxed)
    );
    Ok(())
}
