//! Test support: a fake HubSpot, the real `crm-sync` binary as a child process, signing,
//! and bounded polling. Every wait has a deadline; nothing sleeps to win a race.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bookhook_events::BookingEvent;
pub use bookhook_testkit::secrets::secret;
use bookhook_testkit::signing::sign_with;
use bookhook_verify::{ByProvider, Provider, SignParams, Signer};
use crm_sync::config::SECRET_VARS;
use serde_json::Value;

/// Every provider's secret variable (crm-sync's own `SECRET_VARS`) and its current test
/// secret, as the service's environment gets them.
pub fn secrets() -> impl Iterator<Item = (Provider, &'static str, &'static str)> {
    SECRET_VARS.iter().map(|(p, var)| (p, *var, secret(p)))
}

pub const TOKEN: &str = "pat-test-token-123";

/// Waits until `check` returns `Some`, polling every 20 ms, for at most `within`.
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Fake HubSpot
// ---------------------------------------------------------------------------------------

/// What the fake answers to one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status with an empty JSON body (200 answers like HubSpot: `status: COMPLETE`).
    Status(u16),
    /// 429 with `Retry-After: <secs>`.
    TooManyRequests { retry_after_secs: u64 },
    /// Never answers.
    Hang,
    /// Waits for one permit of the semaphore, then answers 200.
    Held(Arc<tokio::sync::Semaphore>),
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
    /// What the fake answered (`None` while hanging).
    pub answered: Option<u16>,
}

impl Recorded {
    pub fn emails(&self) -> Vec<String> {
        self.inputs()
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub fn inputs(&self) -> Vec<Value> {
        self.body["inputs"].as_array().cloned().unwrap_or_default()
    }
}

#[derive(Default)]
struct FakeState {
    script: VecDeque<Answer>,
    default: Option<Answer>,
    /// 400 for any batch holding an email containing this.
    reject_email: Option<String>,
    requests: Vec<Recorded>,
}

/// A fake HubSpot on 127.0.0.1 that records every request and answers as scripted
/// (then with the default answer, 200 unless changed).
#[derive(Clone)]
pub struct FakeHubSpot {
    pub url: String,
    state: Arc<Mutex<FakeState>>,
}

impl FakeHubSpot {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = Router::new()
            .route("/crm/v3/objects/contacts/batch/upsert", post(fake_upsert))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeHubSpot {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// The next answers, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// The answer once the script is used up.
    pub fn set_default(&self, answer: Answer) {
        self.state.lock().unwrap().default = Some(answer);
    }

    pub fn reject_emails_containing(&self, needle: &str) {
        self.state.lock().unwrap().reject_email = Some(needle.to_owned());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Emails of every input in requests the fake answered 2xx.
    pub fn delivered_emails(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r.answered.is_some_and(|s| (200..300).contains(&s)))
            .flat_map(Recorded::emails)
            .collect()
    }

    /// Every input ever received for `email`.
    pub fn inputs_for(&self, email: &str) -> Vec<Value> {
        self.requests()
            .iter()
            .flat_map(Recorded::inputs)
            .filter(|i| i["id"] == email)
            .collect()
    }
}

async fn fake_upsert(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let at = Instant::now();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let answer = {
        let mut s = state.lock().unwrap();
        let scripted = s.script.pop_front();
        let rejected = s.reject_email.as_ref().is_some_and(|needle| {
            body["inputs"].as_array().into_iter().flatten().any(|i| {
                i["id"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(needle.as_str())
            })
        });
        let answer = match (scripted, rejected) {
            (Some(a), _) => a,
            (None, true) => Answer::Status(400),
            (None, false) => s.default.clone().unwrap_or(Answer::Status(200)),
        };
        let answered = match &answer {
            Answer::Status(code) => Some(*code),
            Answer::TooManyRequests { .. } => Some(429),
            Answer::Hang => None,
            Answer::Held(_) => Some(200),
        };
        s.requests.push(Recorded {
            at,
            path: "/crm/v3/objects/contacts/batch/upsert".to_owned(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: body.clone(),
            answered,
        });
        answer
    };
    match answer {
        Answer::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap();
            let json = if status.is_success() {
                serde_json::json!({"status": "COMPLETE", "results": []})
            } else {
                serde_json::json!({"status": "error", "message": format!("fake {code}"),
                                   "category": "VALIDATION_ERROR"})
            };
            (status, axum::Json(json)).into_response()
        }
        Answer::TooManyRequests { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after_secs.to_string())],
            axum::Json(serde_json::json!({"status": "error", "message": "rate limited"})),
        )
            .into_response(),
        Answer::Hang => std::future::pending().await,
        Answer::Held(gate) => {
            if let Ok(permit) = gate.acquire().await {
                permit.forget();
            }
            (
                StatusCode::OK,
                axum::Json(serde_json::json!({"status": "COMPLETE", "results": []})),
            )
                .into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------------------

/// A running `crm-sync` process. Killed on drop.
pub struct Service {
    child: Child,
    pub addr: SocketAddr,
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
pub struct ServiceBuilder {
    db: PathBuf,
    env: Vec<(String, String)>,
    /// `ulimit` arguments applied to the child alone (e.g. `-Sn 1024`).
    ulimits: Vec<String>,
}

impl ServiceBuilder {
    pub fn new(db: &Path) -> Self {
        ServiceBuilder {
            db: db.to_owned(),
            env: Vec::new(),
            ulimits: Vec::new(),
        }
    }

    /// Lowers the child's soft file limit (its hard limit stays).
    pub fn soft_file_limit(mut self, n: u64) -> Self {
        self.ulimits.push(format!("-Sn {n}"));
        self
    }

    /// Lowers the child's soft and hard file limits.
    pub fn hard_file_limit(mut self, n: u64) -> Self {
        self.ulimits.push(format!("-n {n}"));
        self
    }

    /// Every provider's secret.
    pub fn all_secrets(mut self) -> Self {
        for (_, var, value) in secrets() {
            self.env.push((var.to_owned(), value.to_owned()));
        }
        self
    }

    pub fn crm(self, fake: &FakeHubSpot) -> Self {
        self.env("HUBSPOT_TOKEN", TOKEN)
            .env("HUBSPOT_BASE_URL", &fake.url)
            // Quick retries keep the tests short; the policy itself is unit-tested.
            .env("CRM_SYNC_RETRY_BASE_MS", "50")
            .env("CRM_SYNC_RETRY_MAX_MS", "400")
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn command(&self) -> Command {
        let binary = env!("CARGO_BIN_EXE_crm-sync");
        let mut cmd = if self.ulimits.is_empty() {
            Command::new(binary)
        } else {
            // The limits apply to the shell, which then becomes the service.
            let limits: String = self
                .ulimits
                .iter()
                .map(|l| format!("ulimit {l}; "))
                .collect();
            let mut sh = Command::new("/bin/sh");
            sh.args(["-c", &format!("{limits}exec \"$0\""), binary]);
            sh
        };
        cmd.env_clear()
            .env("CRM_SYNC_ADDR", "127.0.0.1:0")
            .env("CRM_SYNC_DB", &self.db)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Starts the binary and waits (at most 30 s) for `listening on <addr>`.
    pub fn start(&self) -> Service {
        let mut child = self.command().spawn().expect("spawn crm-sync");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        // Drain both pipes for the whole life of the child, so it never blocks on a
        // full pipe.
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let logs = Arc::clone(&logs);
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Some(addr) = listening_addr(&line) {
                        let _ = tx.send(addr);
                    }
                    logs.lock().unwrap().push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "crm-sync did not log `listening on`; logs:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Service {
            child,
            addr,
            base: format!("http://{addr}"),
            logs,
        }
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    rest.split(|c: char| c.is_whitespace() || c == '"')
        .next()?
        .parse()
        .ok()
}

impl Service {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// `kill -9`.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits (at most 20 s) for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "crm-sync did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET /metrics`, parsed: `name{labels}` (labels sorted, as rendered) -> value.
    pub async fn metrics(
        &self,
        client: &reqwest::Client,
    ) -> std::collections::BTreeMap<String, f64> {
        let res = client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4"),
        );
        parse_prometheus(&res.text().await.unwrap())
    }

    pub async fn stats(&self, client: &reqwest::Client) -> Value {
        client
            .get(self.url("/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------------------

/// A delivery as a provider would send it: path (with query), headers, body.
#[derive(Debug, Clone)]
pub struct Signed {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Signed {
    pub fn new(provider: Provider, body: &[u8], params: &SignParams) -> Self {
        let signer = Signer::new(provider, secret(provider)).unwrap();
        let (headers, query) = sign_with(&signer, body, params);
        let path = match query {
            Some(q) => format!("/webhooks/{}?{q}", provider.as_str()),
            None => format!("/webhooks/{}", provider.as_str()),
        };
        Signed {
            path,
            headers,
            body: body.to_vec(),
        }
    }

    pub fn now(provider: Provider, body: &[u8]) -> Self {
        let params = with_metadata(provider, SignParams::now(), fnv(body));
        Self::new(provider, body, &params)
    }

    pub async fn send(&self, client: &reqwest::Client, service: &Service) -> (u16, String) {
        let mut req = client
            .post(service.url(&self.path))
            .header("content-type", "application/json")
            .body(self.body.clone());
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }
}

/// The delivery id prefix of each provider whose scheme sends an id, and the event type
/// SchedulingKit sends in a header (its samples are booking-created).
const METADATA: ByProvider<(Option<&str>, Option<&str>)> = ByProvider {
    slatis: (None, None),
    slotflow: (None, None),
    bookable: (None, None),
    schedulingkit: (Some("dlv"), Some("booking.created")),
    calcom: (None, None),
    calendly: (None, None),
    standard: (Some("msg"), None),
};

/// `params` with the delivery id (`<prefix>_<id>`) and event type `provider` sends.
pub fn with_metadata(
    provider: Provider,
    params: SignParams,
    id: impl std::fmt::Display,
) -> SignParams {
    let (prefix, event_type) = *METADATA.get(provider);
    let params = match prefix {
        Some(prefix) => params.id(format!("{prefix}_{id}")),
        None => params,
    };
    match event_type {
        Some(event_type) => params.event_type(event_type),
        None => params,
    }
}

/// A stable short hash, to derive delivery ids from bodies.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

/// A Slatis `BOOKING_CREATED` body for a given attendee.
pub fn slatis_body(booking: &str, name: &str, email: &str) -> Vec<u8> {
    serde_json::json!({
        "event": "BOOKING_CREATED",
        "timestamp": "2026-05-01T14:05:00.000Z",
        "webhook_id": "wh_01abc",
        "data": {
            "id": booking,
            "status": "SCHEDULED",
            "start_time": "2026-05-01T14:00:00.000Z",
            "attendee": {"name": name, "email": email}
        }
    })
    .to_string()
    .into_bytes()
}

/// The attendee the events crate finds in a sample body.
pub fn attendee_of(provider: bookhook_events::Provider, body: &str) -> (String, Option<String>) {
    let event = BookingEvent::parse(provider, body.as_bytes()).unwrap();
    let a = event.attendee.expect("sample has an attendee");
    (a.email.expect("sample has an email"), a.name)
}

pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inbox.db");
    (dir, db)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Rows by status, read straight from the SQLite file.
pub fn db_statuses(db: &Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT provider, status, COALESCE(contact_email, '') FROM deliveries ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------

/// What one `crm-sync …` run printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs the real binary with `args` and only `CRM_SYNC_DB` (plus `env`) set; at most 30 s.
pub fn crm_sync(db: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm-sync"))
        .env_clear()
        .env("CRM_SYNC_DB", db)
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crm-sync");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("crm-sync {args:?} did not exit within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Rows by status, counted straight in the SQLite file.
pub fn db_counts(db: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for (_, status, _) in db_statuses(db) {
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

/// Parses Prometheus text into `series -> value`, with each series' labels sorted by name
/// (`name{a="1",b="2"}`), asserting every line is a comment or a sample.
pub fn parse_prometheus(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let key = match series.split_once('{') {
            None => series.to_owned(),
            Some((name, labels)) => {
                let labels = labels
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("{line:?}"));
                let mut parts: Vec<&str> = labels.split(',').filter(|p| !p.is_empty()).collect();
                parts.sort_unstable();
                format!("{name}{{{}}}", parts.join(","))
            }
        };
        out.insert(key, value);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Headless Chromium through chromedriver (WebDriver)
// ---------------------------------------------------------------------------------------

/// What to install when the browser is missing (`scripts/install-test-deps.sh` does it).
pub const BROWSER_INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver   (or: scripts/install-test-deps.sh, as root)";

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// A headless Chromium driven over WebDriver; chromedriver is killed on drop.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free 127.0.0.1 port and a Chromium session with a fresh
    /// profile. `None` (after printing what to install) when either program is missing and
    /// `CI` is unset; with `CI` set a missing browser is a failure.
    pub async fn start() -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) =
            (find_program("chromium"), find_program("chromedriver"))
        else {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
            assert!(
                !ci,
                "CI is set and headless Chromium is missing; install it: {BROWSER_INSTALL}"
            );
            eprintln!(
                "SKIPPED: headless Chromium or chromedriver is missing; install: {BROWSER_INSTALL}"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let plain = reqwest::Client::new();
        eventually("chromedriver ready", Duration::from_secs(20), async || {
            let res = plain.get(format!("{url}/status")).send().await.ok()?;
            res.status().is_success().then_some(())
        })
        .await;
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1100",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps)
        .connect(&url)
        .await
        .expect("a Chromium session");
        Some(Browser {
            client,
            driver,
            _profile: profile,
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
