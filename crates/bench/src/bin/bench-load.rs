//! `bench-load`: a small, bounded, closed-loop HTTP/1.1 load generator for 127.0.0.1.
//!
//! Sends the same signed Standard Webhooks delivery (`--size` bytes, signed at start-up
//! with `bookhook_bench::STANDARD_SECRET`) `-n` times over `-c` keep-alive connections,
//! after `--warmup` unrecorded requests, and prints one line of `key=value` pairs:
//! requests, errors, elapsed seconds, requests per second, and latency percentiles in
//! microseconds. The run stops after `-n` requests or `--max-secs`, whichever comes first.
//! One thread, so that it can be pinned to one core with `taskset`, away from the server.
//!
//! ```text
//! bench-load --url http://127.0.0.1:18081/verified --size 1024 -n 50000 -c 16
//! ```
//!
//! With `--alternate-with PATH`, every connection alternates between the URL's path (A) and
//! `PATH` on the same server (B), one request each, and the line also gives each path's
//! percentiles and the median of the per-pair differences B − A. Neighbouring requests see
//! the same machine, so drift that moves a lone p50 by ±10 µs between runs cancels out of
//! the difference.
//!
//! With `--unique-ids`, every request is signed afresh (before its clock starts) with its
//! own `webhook-id`, so that a server with a replay guard sees each one as a new delivery
//! (the default, one delivery sent again and again, would measure only its duplicate path).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bookhook_bench::{MESSAGE_ID, STANDARD_SECRET, body, delivery_headers};
use bookhook_verify::{Provider, SignParams};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

struct Args {
    url: String,
    size: usize,
    requests: usize,
    warmup: usize,
    concurrency: usize,
    max_secs: u64,
    alternate: Option<String>,
    unique_ids: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:18081/verified".to_owned(),
        size: 1024,
        requests: 50_000,
        warmup: 2_000,
        concurrency: 16,
        max_secs: 60,
        alternate: None,
        unique_ids: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|_| format!("bad {flag}"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--size" => args.size = number(value()?)?,
            "-n" | "--requests" => args.requests = number(value()?)?,
            "--warmup" => args.warmup = number(value()?)?,
            "-c" | "--concurrency" => args.concurrency = number(value()?)?,
            "--max-secs" => args.max_secs = number(value()?)? as u64,
            "--alternate-with" => args.alternate = Some(value()?),
            "--unique-ids" => args.unique_ids = true,
            _ => {
                return Err(
                    "usage: bench-load [--url URL] [--size BYTES] [-n N] [--warmup N] \
                            [-c CONNECTIONS] [--max-secs S] [--alternate-with PATH] [--unique-ids]"
                        .to_owned(),
                );
            }
        }
    }
    if args.requests == 0 || args.concurrency == 0 {
        return Err("-n and -c must be positive".to_owned());
    }
    Ok(args)
}

/// The request every connection sends: path(s), headers and body, built once.
struct Template {
    addr: SocketAddr,
    /// The URL's path, and the `--alternate-with` path if any, parsed once.
    paths: Vec<http::Uri>,
    headers: http::HeaderMap,
    body: Bytes,
    host: http::HeaderValue,
    unique_ids: bool,
}

impl Template {
    fn new(args: &Args) -> Result<Self, String> {
        let rest = args
            .url
            .strip_prefix("http://")
            .ok_or("only http:// URLs")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let addr: SocketAddr = host.parse().map_err(|_| format!("not ip:port: {host}"))?;
        if !addr.ip().is_loopback() {
            return Err("bench-load only targets loopback addresses".to_owned());
        }
        let body = body(args.size);
        let params = SignParams::now().id(MESSAGE_ID);
        let mut headers =
            delivery_headers(Provider::StandardWebhooks, STANDARD_SECRET, &body, &params);
        let host: http::HeaderValue = host.parse().map_err(|_| "bad host")?;
        headers.insert(http::header::HOST, host.clone());
        let path = if path.is_empty() { "/" } else { path };
        let uri = |path: &str| path.parse().map_err(|_| format!("not a path: {path}"));
        let mut paths = vec![uri(path)?];
        if let Some(other) = &args.alternate {
            if !other.starts_with('/') {
                return Err("--alternate-with takes a path starting with /".to_owned());
            }
            paths.push(uri(other)?);
        }
        Ok(Template {
            addr,
            paths,
            headers,
            body: Bytes::from(body),
            host,
            unique_ids: args.unique_ids,
        })
    }

    /// The request to path `which` (0: the URL's, 1: the alternate), the `n`th sent.
    fn request(&self, which: usize, n: usize) -> http::Request<Full<Bytes>> {
        let mut request = http::Request::new(Full::new(self.body.clone()));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.paths[which].clone();
        *request.headers_mut() = if self.unique_ids {
            let id = format!("msg_bench_{}_{n}", std::process::id());
            let params = SignParams::now().id(id);
            let mut headers = delivery_headers(
                Provider::StandardWebhooks,
                STANDARD_SECRET,
                &self.body,
                &params,
            );
            headers.insert(http::header::HOST, self.host.clone());
            headers
        } else {
            self.headers.clone()
        };
        request
    }
}

/// What one connection measured: latencies by path (0: the URL's, 1: the alternate), and
/// for each A-B pair both latencies.
#[derive(Default)]
struct Measured {
    latencies: [Vec<Duration>; 2],
    pairs: Vec<(Duration, Duration)>,
    errors: usize,
}

/// One connection's closed loop: send, wait for the whole response, repeat (alternating
/// paths when there are two).
async fn connection(
    template: Arc<Template>,
    next: Arc<AtomicUsize>,
    total: usize,
    warmup: usize,
    deadline: Instant,
) -> Result<Measured, String> {
    let stream = tokio::net::TcpStream::connect(template.addr)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut measured = Measured::default();
    let mut last_a = None;
    for k in 0.. {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total || Instant::now() > deadline {
            break;
        }
        let which = k % template.paths.len();
        sender.ready().await.map_err(|e| e.to_string())?;
        // Built (and, with --unique-ids, signed) before the clock starts.
        let request = template.request(which, i);
        let started = Instant::now();
        let ok = match sender.send_request(request).await {
            Ok(response) => {
                let ok = response.status().is_success();
                ok & response.into_body().collect().await.is_ok()
            }
            Err(_) => false,
        };
        let latency = started.elapsed();
        if i < warmup {
            continue;
        }
        if !ok {
            measured.errors += 1;
            last_a = None;
            continue;
        }
        measured.latencies[which].push(latency);
        match which {
            0 => last_a = Some(latency),
            _ => {
                if let Some(a) = last_a.take() {
                    measured.pairs.push((a, latency));
                }
            }
        }
    }
    Ok(measured)
}

/// The `p` quantile of sorted latencies, in microseconds (0 when empty).
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, last + 1) - 1;
    sorted[index].as_secs_f64() * 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let template = match Template::new(&args) {
        Ok(t) => Arc::new(t),
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let total = args.warmup + args.requests;
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_secs);
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (template, next) = (Arc::clone(&template), Arc::clone(&next));
            tokio::spawn(connection(template, next, total, args.warmup, deadline))
        })
        .collect();
    // The clock for throughput starts when the warm-up is over.
    while next.load(Ordering::Relaxed) < args.warmup && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let started = Instant::now();
    let mut by_path: [Vec<Duration>; 2] = Default::default();
    let mut pairs = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(measured)) => {
                let [a, b] = measured.latencies;
                by_path[0].extend(a);
                by_path[1].extend(b);
                pairs.extend(measured.pairs);
                errors += measured.errors;
            }
            Ok(Err(msg)) => {
                eprintln!("connection failed: {msg}");
                errors += 1;
            }
            Err(e) => {
                eprintln!("task failed: {e}");
                errors += 1;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(other) = &args.alternate {
        for path in &mut by_path {
            path.sort_unstable();
        }
        // B − A per pair, in µs; the median is robust to the outliers either side has.
        let mut diffs: Vec<f64> = pairs
            .iter()
            .map(|(a, b)| (b.as_secs_f64() - a.as_secs_f64()) * 1e6)
            .collect();
        diffs.sort_by(f64::total_cmp);
        let median_diff = diffs.get(diffs.len() / 2).copied().unwrap_or(0.0);
        let p50_a = percentile(&by_path[0], 0.5);
        println!(
            "url={} alternate={other} size={} connections={} pairs={} errors={errors} \
             p50_a_us={p50_a:.1} p50_b_us={:.1} p99_a_us={:.0} p99_b_us={:.0} \
             median_pair_diff_us={median_diff:.2} overhead_pct={:.1}",
            args.url,
            args.size,
            args.concurrency,
            pairs.len(),
            percentile(&by_path[1], 0.5),
            percentile(&by_path[0], 0.99),
            percentile(&by_path[1], 0.99),
            if p50_a > 0.0 {
                100.0 * median_diff / p50_a
            } else {
                0.0
            },
        );
        return if errors > 0 || pairs.is_empty() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    // Without an alternate path, every request went to the URL's path.
    let [mut latencies, _] = by_path;
    latencies.sort_unstable();
    let overall = |p: f64| percentile(&latencies, p);
    println!(
        "url={} size={} connections={} requests={} errors={errors} elapsed_s={elapsed:.2} \
         rps={:.0} p50_us={:.0} p90_us={:.0} p99_us={:.0} max_us={:.0}",
        args.url,
        args.size,
        args.concurrency,
        latencies.len(),
        latencies.len() as f64 / elapsed,
        overall(0.50),
        overall(0.90),
        overall(0.99),
        overall(1.0),
    );
    if errors > 0 || latencies.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
