//! `bookhook send` -> `bookhook listen --forward` -> a local axum server, for every
//! provider: a valid delivery is verified, printed and forwarded byte for byte (checked by
//! verifying the forwarded request again at the far end), and answered with the forward's
//! status; a tampered one (signed with another secret) is refused with the rejection table,
//! printed with its cause, and never forwarded. SIGTERM stops the listener cleanly.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::any;
use bookhook_events::samples;
use bookhook_verify::{Provider, Verifier};

const WAIT: Duration = Duration::from_secs(30);
/// The binary under test.
const BOOKHOOK: &str = env!("CARGO_BIN_EXE_bookhook");

/// What the forward target received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// The service under development: records each request and answers `202 stored`.
fn start_sink() -> (tokio::runtime::Runtime, SocketAddr, Log) {
    async fn sink(
        State(log): State<Log>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, &'static str) {
        log.lock().unwrap().push(Received {
            method,
            query: uri.query().map(str::to_owned),
            headers,
            body,
        });
        (StatusCode::ACCEPTED, "stored")
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let log = Log::default();
    let app = Router::new()
        .route("/sink", any(sink))
        .with_state(log.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, addr, log)
}

fn secret(provider: Provider) -> &'static str {
    match provider {
        Provider::Slatis => "whsec_cli_listen_slatis",
        Provider::Slotflow => "sf_token_cli_listen_0123456789",
        Provider::Bookable => "wh_sec_cli_listen_bookable",
        Provider::SchedulingKit => "sk_cli_listen",
        Provider::CalCom => "calcom-cli-listen",
        Provider::Calendly => "calendly-cli-listen",
        Provider::StandardWebhooks => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        other => panic!("no test secret for {other}"),
    }
}

/// Another valid secret of the provider's form: what a forger without the secret has.
fn wrong_secret(provider: Provider) -> &'static str {
    match provider {
        Provider::Slotflow => "sf_token_cli_listen_forged_000",
        Provider::StandardWebhooks => "whsec_c2VjcmV0LWtleS1mb3ItcmVwbGF5LXRlc3Rz",
        _ => "forged-secret",
    }
}

/// The event name of the provider's booking-created sample.
fn booking_created_name(provider: Provider) -> &'static str {
    let body = samples::booking_created(provider);
    samples::event_names(provider)
        .find(|name| samples::for_event(provider, name) == Some(body))
        .unwrap()
}

/// A running `bookhook listen`, its stdout lines on a channel; killed if still running
/// when dropped.
struct Listener {
    child: Child,
    addr: SocketAddr,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl Listener {
    fn start(provider: Provider, forward: &str) -> Listener {
        let mut child = Command::new(BOOKHOOK)
            .args([
                "listen",
                "--provider",
                provider.as_str(),
                "--secret",
                secret(provider),
            ])
            .args(["--addr", "127.0.0.1:0", "--forward", forward])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bookhook listen starts");
        let lines = pipe_lines(child.stdout.take().unwrap());
        let stderr = pipe_lines(child.stderr.take().unwrap());
        let banner = stderr
            .recv_timeout(WAIT)
            .expect("the listener announces itself");
        let url = banner
            .split_whitespace()
            .find_map(|word| word.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no address in {banner:?}"));
        let expected_path = format!("/webhooks/{provider}");
        let addr = url
            .strip_suffix(expected_path.as_str())
            .unwrap_or_else(|| panic!("default path not {expected_path}: {banner:?}"))
            .parse()
            .unwrap();
        Listener {
            child,
            addr,
            lines,
            stderr,
        }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(WAIT)
            .expect("one line per delivery")
    }

    /// SIGTERM, then the exit status within `WAIT` (bounded polling).
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "bookhook listen ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pipe_lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// `bookhook send`, bounded in time by the test kit's runner.
fn send(provider: Provider, secret: &str, url: &str) -> std::process::Output {
    let event = booking_created_name(provider);
    bookhook_testkit::cli::Bookhook::new(BOOKHOOK).run(&[
        "send",
        "--provider",
        provider.as_str(),
        "--secret",
        secret,
        "--event",
        event,
        "--url",
        url,
    ])
}

/// `<time> <rest>` with an RFC 3339 UTC time: the rest.
fn after_time(line: &str) -> &str {
    let (time, rest) = line.split_once(' ').unwrap_or_else(|| panic!("{line:?}"));
    assert!(
        time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "not an RFC 3339 UTC time: {line:?}"
    );
    rest
}

#[test]
fn send_through_listen_to_a_local_server_for_every_provider() {
    let (_runtime, sink, log) = start_sink();
    let forward = format!("http://{sink}/sink");
    for provider in Provider::ALL {
        let mut listener = Listener::start(provider, &forward);
        let url = format!("http://{}/webhooks/{provider}", listener.addr);
        let before = log.lock().unwrap().len();

        // Valid: verified, printed, forwarded unchanged, answered with the forward's status.
        let sent = send(provider, secret(provider), &url);
        let stdout = String::from_utf8_lossy(&sent.stdout);
        assert_eq!(sent.status.code(), Some(0), "{provider}: {stdout}");
        assert!(
            stdout.contains("202") && stdout.contains("stored"),
            "{provider}: {stdout}"
        );
        let line = listener.line();
        assert_eq!(
            after_time(&line),
            format!(
                "{provider} {} verified secret=#1 -> forwarded 202",
                booking_created_name(provider)
            ),
            "{line}"
        );
        let received = log.lock().unwrap()[before..].to_vec();
        assert_eq!(received.len(), 1, "{provider}: forwarded once");
        let got = &received[0];
        assert_eq!(got.method, Method::POST);
        assert_eq!(
            got.body.as_ref(),
            samples::booking_created(provider).as_bytes()
        );
        // Headers, query and body unchanged: the forwarded request verifies again.
        let verifier = Verifier::builder(provider)
            .secret(secret(provider))
            .build()
            .unwrap();
        let verified = verifier
            .verify_with_query(got.query.as_deref(), &got.headers, &got.body)
            .unwrap_or_else(|err| panic!("{provider}: forwarded request altered: {err}"));
        assert_eq!(verified.secret_index(), 0);

        // Tampered (signed with a secret the listener does not hold): refused, not forwarded.
        let sent = send(provider, wrong_secret(provider), &url);
        assert_eq!(sent.status.code(), Some(1), "{provider}");
        let (status_cause, reason) = match provider {
            Provider::Slotflow => ("401 token_mismatch", "token mismatch"),
            _ => ("401 signature_mismatch", "signature mismatch"),
        };
        let line = listener.line();
        assert_eq!(
            after_time(&line),
            format!("{provider} - refused {status_cause} ({reason})"),
            "{line}"
        );
        assert_eq!(
            log.lock().unwrap().len(),
            before + 1,
            "{provider}: a refusal was forwarded"
        );

        let status = listener.terminate();
        assert!(status.success(), "{provider}: {status}");
        let stopped = listener.stderr.recv_timeout(WAIT).unwrap_or_default();
        assert_eq!(stopped, "bookhook listen: stopped", "{provider}");
    }
}
