//! `bench-fake-crm`: a HubSpot stand-in on 127.0.0.1 for the CRM-sync throughput runs.
//!
//! Answers every `POST /crm/v3/objects/contacts/batch/upsert` with `200` and a small
//! `COMPLETE` body after reading the request, as fast as it can or after `--delay-ms`
//! (the worker drain measurement uses 20 ms, a realistic HubSpot answer time). It counts
//! the contacts (by email) it was sent: `GET /stats` answers
//! `{"calls":…,"contacts":…,"distinct":…,"repeated":…}`, where `repeated` is the number of
//! contacts sent more than once.
//!
//! `bench-fake-crm [ADDR] [--delay-ms N]` (default `127.0.0.1:18090`, no delay); stops on
//! Ctrl-C or SIGTERM.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use bytes::Bytes;

#[derive(Default)]
struct Seen {
    calls: u64,
    per_email: HashMap<String, u32>,
}

struct Fake {
    delay: Duration,
    seen: Mutex<Seen>,
}

async fn upsert(State(fake): State<Arc<Fake>>, body: Bytes) -> &'static str {
    let emails: Vec<String> = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v["inputs"].as_array().map(|inputs| {
                inputs
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default();
    if !fake.delay.is_zero() {
        tokio::time::sleep(fake.delay).await;
    }
    let mut seen = fake.seen.lock().unwrap_or_else(|p| p.into_inner());
    seen.calls += 1;
    for email in emails {
        *seen.per_email.entry(email).or_insert(0) += 1;
    }
    r#"{"status":"COMPLETE","results":[]}"#
}

async fn stats(State(fake): State<Arc<Fake>>) -> String {
    let seen = fake.seen.lock().unwrap_or_else(|p| p.into_inner());
    let contacts: u64 = seen.per_email.values().map(|n| u64::from(*n)).sum();
    let repeated = seen.per_email.values().filter(|n| **n > 1).count();
    format!(
        r#"{{"calls":{},"contacts":{contacts},"distinct":{},"repeated":{repeated}}}"#,
        seen.calls,
        seen.per_email.len()
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut addr = "127.0.0.1:18090".to_owned();
    let mut delay = Duration::ZERO;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--delay-ms" => {
                let ms: u64 = args.next().ok_or("--delay-ms needs a value")?.parse()?;
                delay = Duration::from_millis(ms);
            }
            other => addr = other.to_owned(),
        }
    }
    let fake = Arc::new(Fake {
        delay,
        seen: Mutex::default(),
    });
    let app = Router::new()
        .route("/crm/v3/objects/contacts/batch/upsert", post(upsert))
        .route("/stats", get(stats))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bench-fake-crm listening on {addr} (delay {delay:?})");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    eprintln!("bench-fake-crm: {}", stats(State(fake)).await);
    Ok(())
}
