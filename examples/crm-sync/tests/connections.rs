//! Hostile connections against the real binary, on loopback, every wait bounded: slow
//! headers, idle keep-alive connections, a body in flight, the connection cap, and a
//! connection cap the file limit cannot hold.

mod support;

use std::time::{Duration, Instant};

use bookhook_verify::Provider;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Reads until the peer closes the connection; `Ok(bytes)` at EOF (or a reset, which is a
/// close too), `Err(())` if still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Result<Vec<u8>, ()> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(()),
            Ok(Ok(0) | Err(_)) => return Ok(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole response to a `GET /healthz` (its body is `ok`), or `None` if none
/// came within `within`.
async fn read_healthz_response(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    while !String::from_utf8_lossy(&got).ends_with("\r\n\r\nok") {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: crm-sync\r\n\r\n";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn assert_no_accept_spin(logs: &[String]) {
    let emfile = logs
        .iter()
        .filter(|l| l.contains("Too many open files"))
        .count();
    assert_eq!(emfile, 0, "accept errors logged:\n{}", logs.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_flood_neither_starves_deliveries_nor_outlives_the_header_timeout() {
    const SLOW: usize = 2_000;
    const VALID: usize = 200;
    const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
    // This process holds the 2 000 slow connections itself.
    let own_limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        own_limit > SLOW as u64 + 256,
        "the test needs a file limit above {} (hard limit {own_limit})",
        SLOW + 256
    );

    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_HEADER_TIMEOUT_SECS", "3")
        .soft_file_limit(1024)
        .start();

    // 2 000 connections that send a request line and one header, then nothing.
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut stream = TcpStream::connect(service.addr).await.unwrap();
        stream
            .write_all(b"POST /webhooks/slatis HTTP/1.1\r\nhost: crm-sync\r\n")
            .await
            .unwrap();
        slow.push((Instant::now(), stream));
    }

    // Meanwhile, valid deliveries from another client, 8 at a time.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let mut sends = JoinSet::new();
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    for i in 0..VALID {
        let (client, base, limit) = (client.clone(), service.base.clone(), limit.clone());
        sends.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let body = slatis_body(&format!("bkg_{i}"), "Flood Test", &format!("f{i}@x.io"));
            let signed = Signed::now(Provider::Slatis, &body);
            let mut req = client.post(format!("{base}{}", signed.path)).body(body);
            for (k, v) in &signed.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let started = Instant::now();
            let status = req.send().await.map(|r| r.status().as_u16());
            (status, started.elapsed())
        });
    }
    let mut latencies = Vec::with_capacity(VALID);
    while let Some(result) = sends.join_next().await {
        let (status, took) = result.unwrap();
        assert_eq!(
            status.ok(),
            Some(202),
            "a valid delivery was not acknowledged"
        );
        latencies.push(took);
    }
    latencies.sort_unstable();
    eprintln!(
        "{VALID} deliveries during a flood of {SLOW} slow-header connections: p50 {:?}, p99 {:?}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99)
    );

    // Every slow connection is closed within the header timeout plus a margin, counted
    // from when it was opened; none got a response.
    let margin = Duration::from_secs(3);
    let mut closes = JoinSet::new();
    for (opened, mut stream) in slow {
        closes.spawn(async move {
            let left = (opened + HEADER_TIMEOUT + margin).saturating_duration_since(Instant::now());
            read_until_closed(&mut stream, left).await
        });
    }
    let mut still_open = 0;
    while let Some(result) = closes.join_next().await {
        match result.unwrap() {
            Ok(bytes) => assert!(
                bytes.is_empty() || bytes.starts_with(b"HTTP/1.1 408"),
                "a slow connection was answered: {}",
                String::from_utf8_lossy(&bytes)
            ),
            Err(()) => still_open += 1,
        }
    }
    assert_eq!(
        still_open, 0,
        "slow connections outlived the header timeout"
    );
    assert_eq!(
        db_statuses(&db).len(),
        VALID,
        "every acknowledged delivery is stored"
    );
    let logs = service.logs();
    assert_no_accept_spin(&logs);
    // The service raised its soft limit of 1 024 to the hard limit.
    let hard = rlimit::Resource::NOFILE.get_hard().unwrap();
    assert!(
        logs.iter()
            .any(|l| l.contains("connection limits") && l.contains(&format!("file_limit={hard}"))),
        "the raised file limit is logged:\n{}",
        logs.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_close_after_the_idle_timeout_not_the_header_timeout() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_HEADER_TIMEOUT_SECS", "1")
        .env("CRM_SYNC_IDLE_TIMEOUT_SECS", "3")
        .start();
    let mut stream = TcpStream::connect(service.addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    let response = read_healthz_response(&mut stream, Duration::from_secs(5))
        .await
        .expect("a response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let idle_from = Instant::now();

    // Idle for twice the header timeout: still open, and serves a second request.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    let second = read_healthz_response(&mut stream, Duration::from_secs(5)).await;
    assert!(
        second.is_some_and(|r| r.starts_with("HTTP/1.1 200")),
        "the keep-alive connection was closed after {:?}, before the idle timeout",
        idle_from.elapsed()
    );
    let idle_from = Instant::now();
    let closed = read_until_closed(&mut stream, Duration::from_secs(8)).await;
    let idle_for = idle_from.elapsed();
    assert_eq!(closed, Ok(Vec::new()), "closed without a response");
    assert!(
        idle_for >= Duration::from_millis(2_900) && idle_for < Duration::from_secs(6),
        "closed after {idle_for:?} idle; the idle timeout is 3 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_in_flight_is_governed_by_the_body_timeout_not_the_idle_timeout() {
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_HEADER_TIMEOUT_SECS", "1")
        .env("CRM_SYNC_IDLE_TIMEOUT_SECS", "1")
        .start();
    let mut stream = TcpStream::connect(service.addr).await.unwrap();
    stream
        .write_all(
            b"POST /webhooks/slatis HTTP/1.1\r\nhost: crm-sync\r\n\
              x-slatis-signature: sha256=0000000000000000000000000000000000000000000000000000000000000000\r\ncontent-length: 100\r\n\r\n{\"event\":",
        )
        .await
        .unwrap();
    let started = Instant::now();
    // The verify layer's body timeout is 10 s: the answer is 408, long after the 1 s
    // header and idle timeouts would have closed an idle connection.
    let answer = read_until_closed(&mut stream, Duration::from_secs(20))
        .await
        .expect("closed within 20 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_the_next_connection_waits_until_one_closes() {
    const CAP: usize = 3;
    let (_dir, db) = temp_db();
    let service = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_MAX_CONNECTIONS", &CAP.to_string())
        .start();
    let mut open = Vec::new();
    for _ in 0..CAP {
        let mut stream = TcpStream::connect(service.addr).await.unwrap();
        stream.write_all(HEALTHZ).await.unwrap();
        assert!(
            read_healthz_response(&mut stream, Duration::from_secs(5))
                .await
                .is_some()
        );
        open.push(stream);
    }
    // Connection cap + 1: the kernel completes the handshake (backlog), the service does
    // not accept it, so its request is not answered.
    let mut extra = TcpStream::connect(service.addr).await.unwrap();
    extra.write_all(HEALTHZ).await.unwrap();
    assert_eq!(
        read_healthz_response(&mut extra, Duration::from_secs(1)).await,
        None,
        "connection {} was served at a cap of {CAP}",
        CAP + 1
    );
    // The open ones keep being served.
    open[0].write_all(HEALTHZ).await.unwrap();
    assert!(
        read_healthz_response(&mut open[0], Duration::from_secs(5))
            .await
            .is_some()
    );
    // One closes: the waiting connection is accepted and answered.
    drop(open.pop());
    let answer = read_healthz_response(&mut extra, Duration::from_secs(5)).await;
    assert!(
        answer.is_some_and(|r| r.starts_with("HTTP/1.1 200")),
        "the waiting connection was not served after one closed"
    );
    assert_no_accept_spin(&service.logs());
}

#[test]
fn a_connection_cap_the_file_limit_cannot_hold_is_refused_at_start() {
    let (_dir, db) = temp_db();
    let output = ServiceBuilder::new(&db)
        .env("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis))
        .env("CRM_SYNC_MAX_CONNECTIONS", "5000")
        .hard_file_limit(1024)
        .command()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "crm-sync: CRM_SYNC_MAX_CONNECTIONS is invalid: the file limit (1024) holds at most \
          960 connections; lower it or raise the hard limit (ulimit -Hn)"
        ]
    );
    // Refused before the inbox was created.
    assert!(!db.exists());
}
