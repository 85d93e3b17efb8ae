//! `crm-sync-load`: a small, bounded load generator for a local `crm-sync`.
//!
//! Sends `-n` distinct, correctly signed Slatis `BOOKING_CREATED` deliveries over `-c`
//! keep-alive connections and reports acknowledged deliveries per second and the ack
//! latency percentiles. Everything is signed before the clock starts. The run stops after
//! `-n` requests or `--max-secs`, whichever comes first.
//!
//! ```text
//! SLATIS_WEBHOOK_SECRET=whsec_load CRM_SYNC_DB=/tmp/load.db cargo run --release -p crm-sync &
//! cargo run --release -p crm-sync --bin crm-sync-load -- \
//!     --url http://127.0.0.1:8080 --secret whsec_load -n 20000 -c 64
//! ```
//!
//! `--url` takes a comma-separated list (replicas behind no load balancer): connection `k`
//! talks to URL `k mod len`, so 64 connections to three replicas are 22, 21 and 21.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bookhook_verify::{Provider, SignParams, Signer};
use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue};

struct Args {
    url: String,
    secret: String,
    requests: usize,
    concurrency: usize,
    max_secs: u64,
    run_id: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:8080".to_owned(),
        secret: std::env::var("SLATIS_WEBHOOK_SECRET").unwrap_or_default(),
        requests: 20_000,
        concurrency: 64,
        max_secs: 120,
        run_id: format!(
            "{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--secret" => args.secret = value()?,
            "-n" | "--requests" => args.requests = value()?.parse().map_err(|_| "bad -n")?,
            "-c" | "--concurrency" => {
                args.concurrency = value()?.parse().map_err(|_| "bad -c")?;
            }
            "--max-secs" => args.max_secs = value()?.parse().map_err(|_| "bad --max-secs")?,
            "--run-id" => args.run_id = value()?,
            "-h" | "--help" => {
                return Err(
                    "usage: crm-sync-load [--url URL[,URL...]] [--secret S] [-n N] [-c C] \
                            [--max-secs S] [--run-id ID]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.secret.is_empty() {
        return Err("--secret (or SLATIS_WEBHOOK_SECRET) is required".to_owned());
    }
    if args.requests == 0 || args.concurrency == 0 {
        return Err("-n and -c must be positive".to_owned());
    }
    Ok(args)
}

/// One pre-signed delivery, ready to send: nothing is signed, formatted or validated while
/// the clock runs (on a 2-core machine the generator's CPU is taken from the service).
struct Prepared {
    body: Bytes,
    signature: HeaderValue,
}

fn prepare(args: &Args) -> Result<Vec<Prepared>, String> {
    let signer = Signer::new(Provider::Slatis, &args.secret).map_err(|e| e.to_string())?;
    let params = SignParams::now();
    (0..args.requests)
        .map(|i| {
            let body = format!(
                r#"{{"event":"BOOKING_CREATED","timestamp":"2026-05-01T14:05:00.000Z","webhook_id":"wh_load","data":{{"id":"bkg_{run}_{i}","status":"SCHEDULED","start_time":"2026-05-01T14:00:00.000Z","attendee":{{"name":"Load Tester{i}","email":"load-{run}-{i}@example.com"}}}}}}"#,
                run = args.run_id
            );
            let signed = signer.sign(body.as_bytes(), &params);
            let signature = signed.header("x-slatis-signature").unwrap_or_default();
            Ok(Prepared {
                signature: HeaderValue::from_str(signature).map_err(|e| e.to_string())?,
                body: Bytes::from(body),
            })
        })
        .collect()
}

// One thread: on a 2-core machine the generator shares the cores with the service, and a
// multi-threaded runtime's worker wake-ups and migrations cost the service more than one
// thread driving 64 connections does (runs of 5 rounds: 4 055–5 508 acks/s with the default
// two workers, 5 865–7 888 with one; BENCHMARKS.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let prepared = match prepare(&args) {
        Ok(p) => Arc::new(p),
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let client = match reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Parsed once: `Client::post(&str)` would parse it again for every request.
    let mut urls = Vec::new();
    for base in args.url.split(',') {
        match Url::parse(&format!(
            "{}/webhooks/slatis",
            base.trim().trim_end_matches('/')
        )) {
            Ok(url) => urls.push(url),
            Err(e) => {
                eprintln!("--url {base}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_secs);
    let started = Instant::now();

    let mut tasks = Vec::with_capacity(args.concurrency);
    for k in 0..args.concurrency {
        let (client, url, next, prepared) = (
            client.clone(),
            urls[k % urls.len()].clone(),
            Arc::clone(&next),
            Arc::clone(&prepared),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= prepared.len() || Instant::now() > deadline {
                    break;
                }
                let p = &prepared[i];
                let t = Instant::now();
                let res = client
                    .post(url.clone())
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .header("x-slatis-signature", p.signature.clone())
                    .body(p.body.clone())
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        // Read the (tiny) body so the connection is reused.
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(args.requests);
    let mut errors = 0;
    for task in tasks {
        if let Ok((l, e)) = task.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pct = |p: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let idx = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[idx]
    };
    let ok = latencies.len();
    println!(
        "requests={} ok={ok} errors={errors} concurrency={} elapsed={:.2}s",
        args.requests,
        args.concurrency,
        elapsed.as_secs_f64()
    );
    println!(
        "throughput={:.0} acks/s p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        ok as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
