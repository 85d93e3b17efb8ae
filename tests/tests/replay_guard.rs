//! The replay guard's contract through both adapters (axum's `VerifyLayer`, actix's `Verify`
//! middleware) and both stores (in memory, and a real `redis-server` started by the
//! harness), over real loopback sockets:
//!
//! - a first delivery passes; its replay after a 2xx answers `200 duplicate delivery`
//!   without the handler;
//! - a replay after a 500 goes through;
//! - concurrent twins: one 2xx, one 409, the handler ran once;
//! - a SchedulingKit replay with a fresh (unsigned) delivery id is still a duplicate;
//! - a Standard Webhooks delivery is keyed by its signed id;
//! - after the window, a replay passes again;
//! - with `pass_duplicates`, a replay reaches the handler marked as a duplicate;
//! - Redis stopped mid-test: 503s, never an unguarded 2xx.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bookhook_replay::{DuplicateDelivery, MemoryStore, RedisStore, ReplayGuard, ReplayStore};
use bookhook_testkit::raw_http::{self, RawHeaders};
use bookhook_testkit::redis_server::RedisServer;
use bookhook_verify::{Provider, SignParams, Signer, Verifier};
use bytes::Bytes;

const CALCOM: &str = "calcom-replay-secret";
const SCHEDULINGKIT: &str = "schedulingkit-replay-secret";
const STANDARD: &str = "whsec_c2VjcmV0LWtleS1mb3ItcmVwbGF5LXRlc3Rz";
/// The window of the `/short` route (Cal.com, no timestamp).
const SHORT_WINDOW: Duration = Duration::from_millis(400);
const TIMEOUT: Duration = Duration::from_secs(20);

/// What the handlers saw and how they answer; shared by the test and the server.
struct Control {
    /// Handler runs per body.
    calls: Mutex<HashMap<Vec<u8>, usize>>,
    /// Answer 500 to the next this many calls.
    fail_next: AtomicUsize,
    /// Handlers currently waiting at the gate (bodies containing `"hold"`).
    held: AtomicUsize,
    gate: tokio::sync::Semaphore,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            calls: Mutex::default(),
            fail_next: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            gate: tokio::sync::Semaphore::new(0),
        }
    }
}

impl Control {
    fn calls(&self, body: &[u8]) -> usize {
        self.calls.lock().unwrap().get(body).copied().unwrap_or(0)
    }

    /// The handler: count, maybe wait at the gate, then 200 or 500; the body says whether
    /// the guard marked the request as a duplicate (`pass_duplicates`).
    async fn handle(&self, body: &[u8], duplicate: bool) -> (u16, &'static str) {
        *self.calls.lock().unwrap().entry(body.to_vec()).or_default() += 1;
        if body.windows(6).any(|w| w == b"\"hold\"") {
            self.held.fetch_add(1, Ordering::SeqCst);
            self.gate.acquire().await.expect("gate open").forget();
        }
        let fail = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let text = if duplicate { "marked duplicate" } else { "" };
        if fail { (500, text) } else { (200, text) }
    }
}

fn verifier(provider: Provider, secret: &str) -> Verifier {
    Verifier::builder(provider).secret(secret).build().unwrap()
}

/// The routes every server has: `/calcom`, `/schedulingkit`, `/standard` with the default
/// windows, `/short` (Cal.com) with [`SHORT_WINDOW`] and `/pass` (Cal.com) passing
/// duplicates to the handler, marked; all guarded by one store.
fn routes(store: &Arc<dyn ReplayStore>) -> [(&'static str, Verifier, ReplayGuard); 5] {
    let guard = ReplayGuard::new(store.clone());
    [
        ("/calcom", verifier(Provider::CalCom, CALCOM), guard.clone()),
        (
            "/schedulingkit",
            verifier(Provider::SchedulingKit, SCHEDULINGKIT),
            guard.clone(),
        ),
        (
            "/standard",
            verifier(Provider::StandardWebhooks, STANDARD),
            guard.clone(),
        ),
        (
            "/short",
            verifier(Provider::CalCom, CALCOM),
            guard.clone().untimed_window(SHORT_WINDOW),
        ),
        (
            "/pass",
            verifier(Provider::CalCom, CALCOM),
            guard.pass_duplicates(true),
        ),
    ]
}

fn serve_axum(store: Arc<dyn ReplayStore>, control: Arc<Control>) -> SocketAddr {
    use axum::extract::State;
    use axum::http::StatusCode;
    use bookhook_axum::VerifyLayer;

    async fn hook(
        State(control): State<Arc<Control>>,
        duplicate: Option<axum::Extension<DuplicateDelivery>>,
        body: Bytes,
    ) -> (StatusCode, &'static str) {
        let (status, text) = control.handle(&body, duplicate.is_some()).await;
        (StatusCode::from_u16(status).unwrap(), text)
    }
    let mut app = axum::Router::new();
    for (path, verifier, guard) in routes(&store) {
        app = app.route(
            path,
            axum::routing::post(hook).layer(VerifyLayer::new(verifier).replay_guard(guard)),
        );
    }
    let app = app.with_state(control);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

fn serve_actix(store: Arc<dyn ReplayStore>, control: Arc<Control>) -> SocketAddr {
    use actix_web::{App, HttpResponse, HttpServer, web};
    use bookhook_actix::{Verify, VerifyConfig};

    async fn hook(
        control: web::Data<Control>,
        duplicate: Option<web::ReqData<DuplicateDelivery>>,
        body: web::Bytes,
    ) -> HttpResponse {
        let (status, text) = control.handle(&body, duplicate.is_some()).await;
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(text)
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let control = web::Data::from(control);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let mut app = App::new().app_data(control.clone());
                for (path, verifier, guard) in routes(&store) {
                    app = app.service(
                        web::scope(path)
                            .wrap(Verify::new(VerifyConfig::new(verifier).replay_guard(guard)))
                            .route("", web::post().to(hook)),
                    );
                }
                app
            })
            .workers(2)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    addr
}

/// A server of one adapter over one store.
struct Target {
    name: &'static str,
    addr: SocketAddr,
    control: Arc<Control>,
}

impl Target {
    fn post(&self, path: &str, headers: &RawHeaders, body: &[u8]) -> (u16, String) {
        let (status, text, _) =
            raw_http::exchange(self.addr, &raw_http::post(path, headers, body), TIMEOUT);
        (status, text)
    }

    fn calls(&self, body: &[u8]) -> usize {
        self.control.calls(body)
    }
}

fn targets(store: &Arc<dyn ReplayStore>) -> [Target; 2] {
    let axum = Arc::new(Control::default());
    let actix = Arc::new(Control::default());
    [
        Target {
            name: "axum",
            addr: serve_axum(store.clone(), axum.clone()),
            control: axum,
        },
        Target {
            name: "actix",
            addr: serve_actix(store.clone(), actix.clone()),
            control: actix,
        },
    ]
}

/// `<prefix>_<pid>_<n>`: unique within and across test processes running now.
fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

/// A unique Cal.com-style body (so runs sharing a store never share a key).
fn body(tag: &str) -> Vec<u8> {
    let nonce = unique("n");
    format!(
        r#"{{"triggerEvent":"BOOKING_CREATED","tag":"{tag}","nonce":"{nonce}","payload":{{}}}}"#
    )
    .into_bytes()
}

fn signed(provider: Provider, secret: &str, body: &[u8], params: &SignParams) -> RawHeaders {
    let signed = Signer::new(provider, secret).unwrap().sign(body, params);
    signed
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone().into_bytes()))
        .collect()
}

fn calcom(body: &[u8]) -> RawHeaders {
    signed(Provider::CalCom, CALCOM, body, &SignParams::now())
}

/// Polls `done` every 10 ms for at most `within`.
fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The whole contract against one target.
fn contract(t: &Target) {
    let name = t.name;

    // First delivery passes; its replay answers 200 without the handler.
    let b = body("first");
    assert_eq!(
        t.post("/calcom", &calcom(&b), &b),
        (200, String::new()),
        "{name}"
    );
    assert_eq!(t.calls(&b), 1, "{name}");
    let replay = t.post("/calcom", &calcom(&b), &b);
    assert_eq!(replay, (200, "duplicate delivery".into()), "{name}");
    assert_eq!(t.calls(&b), 1, "{name}: the handler ran for a replay");

    // A 500 releases the key: the provider's retry goes through, then is remembered.
    let b = body("fails-once");
    t.control.fail_next.store(1, Ordering::SeqCst);
    assert_eq!(t.post("/calcom", &calcom(&b), &b).0, 500, "{name}");
    assert_eq!(
        t.post("/calcom", &calcom(&b), &b),
        (200, String::new()),
        "{name}"
    );
    assert_eq!(t.calls(&b), 2, "{name}");
    assert_eq!(
        t.post("/calcom", &calcom(&b), &b).1,
        "duplicate delivery",
        "{name}"
    );

    // Concurrent twins: the second arrives while the first is in the handler.
    let b = body("hold");
    let held_before = t.control.held.load(Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    let (addr, first_body) = (t.addr, b.clone());
    std::thread::spawn(move || {
        let request = raw_http::post("/calcom", &calcom(&first_body), &first_body);
        let _ = tx.send(raw_http::exchange(addr, &request, TIMEOUT));
    });
    assert!(
        eventually(TIMEOUT, || t.control.held.load(Ordering::SeqCst)
            > held_before),
        "{name}: the first twin never reached the handler"
    );
    let twin = t.post("/calcom", &calcom(&b), &b);
    assert_eq!(twin, (409, "delivery in flight".into()), "{name}");
    t.control.gate.add_permits(1);
    let (status, _, _) = rx.recv_timeout(TIMEOUT).expect("the first twin answers");
    assert_eq!(status, 200, "{name}");
    assert_eq!(t.calls(&b), 1, "{name}: the handler ran for both twins");
    assert_eq!(
        t.post("/calcom", &calcom(&b), &b).1,
        "duplicate delivery",
        "{name}"
    );

    // SchedulingKit: the replay carries a fresh, unsigned delivery id; still a duplicate.
    let b = body("schedulingkit");
    let sign = |id: &str| {
        let params = SignParams::now().id(id).event_type("booking.created");
        signed(Provider::SchedulingKit, SCHEDULINGKIT, &b, &params)
    };
    assert_eq!(
        t.post("/schedulingkit", &sign("dlv_original"), &b).0,
        200,
        "{name}"
    );
    let replay = t.post("/schedulingkit", &sign("dlv_attacker_chosen"), &b);
    assert_eq!(replay, (200, "duplicate delivery".into()), "{name}");
    assert_eq!(t.calls(&b), 1, "{name}");

    // Standard Webhooks: keyed by the signed id. Re-signed later with the same id: a
    // duplicate; the same body under another id: a new delivery.
    // (Ids are unique per run: the targets share the store, and the key is the id alone.)
    let b = body("standard");
    let (id_1, id_2) = (unique("msg"), unique("msg"));
    let sign = |id: &str| {
        signed(
            Provider::StandardWebhooks,
            STANDARD,
            &b,
            &SignParams::now().id(id),
        )
    };
    assert_eq!(
        t.post("/standard", &sign(&id_1), &b),
        (200, String::new()),
        "{name}"
    );
    let replay = t.post("/standard", &sign(&id_1), &b);
    assert_eq!(replay, (200, "duplicate delivery".into()), "{name}");
    assert_eq!(
        t.post("/standard", &sign(&id_2), &b),
        (200, String::new()),
        "{name}"
    );
    assert_eq!(t.calls(&b), 2, "{name}");

    // `pass_duplicates`: the replay reaches the handler, marked as a duplicate.
    let b = body("pass");
    assert_eq!(
        t.post("/pass", &calcom(&b), &b),
        (200, String::new()),
        "{name}"
    );
    let replay = t.post("/pass", &calcom(&b), &b);
    assert_eq!(replay, (200, "marked duplicate".into()), "{name}");
    assert_eq!(t.calls(&b), 2, "{name}");

    // After the window the replay passes again (the route's window is SHORT_WINDOW).
    let b = body("window");
    assert_eq!(t.post("/short", &calcom(&b), &b).0, 200, "{name}");
    let committed = Instant::now();
    assert_eq!(
        t.post("/short", &calcom(&b), &b).1,
        "duplicate delivery",
        "{name}"
    );
    assert!(
        eventually(Duration::from_secs(10), || t.post(
            "/short",
            &calcom(&b),
            &b
        ) == (200, String::new())),
        "{name}: still a duplicate long after the window"
    );
    assert!(
        committed.elapsed() >= SHORT_WINDOW,
        "{name}: passed before the window ended"
    );
    assert_eq!(t.calls(&b), 2, "{name}");
}

#[test]
fn guard_contract_through_both_adapters_with_the_memory_store() {
    let store: Arc<dyn ReplayStore> = Arc::new(MemoryStore::new(10_000));
    for target in targets(&store) {
        contract(&target);
    }
}

fn redis_store(server: &RedisServer) -> Arc<dyn ReplayStore> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The connection manager's driver task runs on the runtime that built it: keep one
    // running for the whole test.
    let (tx, rx) = mpsc::channel();
    let url = server.url();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let store = RedisStore::connect(&url)
                .await
                .expect("connect to redis-server");
            tx.send(store).unwrap();
            std::future::pending::<()>().await;
        });
    });
    Arc::new(rx.recv_timeout(TIMEOUT).expect("the store connects"))
}

#[test]
fn guard_contract_through_both_adapters_with_a_real_redis_server() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = redis_store(&server);
    for target in targets(&store) {
        contract(&target);
    }
}

#[test]
fn redis_stopped_mid_test_answers_503_never_an_unguarded_2xx() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = redis_store(&server);
    let targets = targets(&store);
    let committed: Vec<_> = targets
        .iter()
        .map(|t| {
            let b = body("before-the-stop");
            assert_eq!(t.post("/calcom", &calcom(&b), &b).0, 200, "{}", t.name);
            b
        })
        .collect();
    server.stop();
    for (t, old) in targets.iter().zip(&committed) {
        let new = body("after-the-stop");
        for b in [&new, old] {
            let (status, text) = t.post("/calcom", &calcom(b), b);
            assert_eq!(
                (status, text.as_str()),
                (503, "replay store unavailable"),
                "{}",
                t.name
            );
        }
        assert_eq!(t.calls(&new), 0, "{}: the handler ran unguarded", t.name);
        assert_eq!(t.calls(old), 1, "{}", t.name);
    }
}
