//! The HTTP server: hyper-util's connection builder with the connection limits that
//! `axum::serve` does not have.
//!
//! `axum::serve` never closes a connection that does not finish its request headers, and
//! accepts until the process runs out of file descriptors. Measured against the previous
//! build: 1 135 connections that sent `POST /webhooks/slatis HTTP/1.1` and one header line
//! exhausted a soft limit of 1 024, after which every valid delivery timed out and the log
//! filled with `accept error: Too many open files`. This server adds:
//!
//! - **a header timeout** ([`Limits::header_timeout`]): a connection that has not sent
//!   complete request headers in time, counted from its accept or from the first byte of
//!   a keep-alive request, is closed;
//! - **an idle timeout** ([`Limits::idle_timeout`]): a keep-alive connection with no request
//!   in flight and no byte received for that long is closed;
//! - **a connection cap** ([`Limits::max_connections`]): at the cap the server stops
//!   accepting, so new connections wait in the kernel's backlog while the open ones keep
//!   being served;
//! - **accept errors back off** (5 ms doubling to 1 s) and are logged at most once a second.
//!
//! A connection with a request in flight is never closed by these timers: reading a slow
//! body is governed by the verify layer's body timeout (`408`), and a handler that has
//! started storing a delivery always finishes.
//!
//! hyper's own `header_read_timeout` starts counting as soon as it waits for a request
//! head, so on its own it would close every idle keep-alive connection after the header
//! timeout. The two timeouts are therefore kept by a small per-connection supervisor that
//! sees when requests start and end and when bytes arrive; hyper's timer (set to the longer
//! of the two) stays as a backstop.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// File descriptors kept back from connections for everything else the process opens: the
/// SQLite files, the listener, CRM client sockets, log and runtime descriptors.
pub const RESERVED_FDS: u64 = 64;

/// The default cap never exceeds this, however high the file limit: beyond it memory
/// (~15 KB a connection) matters more than descriptors.
pub const DEFAULT_MAX_CONNECTIONS_CEILING: usize = 10_000;

/// Connection-level limits (`CRM_SYNC_HEADER_TIMEOUT_SECS`, `CRM_SYNC_IDLE_TIMEOUT_SECS`,
/// `CRM_SYNC_MAX_CONNECTIONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a connection may take to send complete request headers.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
}

/// The default connection cap for a soft file limit of `nofile`: three quarters of what is
/// left after [`RESERVED_FDS`], at most [`DEFAULT_MAX_CONNECTIONS_CEILING`], at least 1.
pub fn default_max_connections(nofile: u64) -> usize {
    let share = nofile.saturating_sub(RESERVED_FDS) / 4 * 3;
    usize::try_from(share)
        .unwrap_or(usize::MAX)
        .clamp(1, DEFAULT_MAX_CONNECTIONS_CEILING)
}

/// The most connections a soft file limit of `nofile` can hold besides [`RESERVED_FDS`].
pub fn max_connections_allowed(nofile: u64) -> usize {
    usize::try_from(nofile.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as the Go runtime does at start-up)
/// and returns the soft limit in force afterwards. Where the limit cannot be read (not
/// Unix), returns `None`.
pub fn raise_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => Some(limit),
            Err(err) => {
                tracing::warn!(error = %err, "could not raise the file limit");
                rlimit::Resource::NOFILE.get_soft().ok()
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Serves `app` on `listener` with `limits` until `shutdown` resolves; then stops
/// accepting, closes idle connections, lets requests in flight finish, and returns once
/// every connection is closed.
///
/// # Errors
///
/// Never at present; `io::Error` is kept for listener failures a future version may report.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // A backstop only: the supervisor below keeps both timeouts (see the module docs).
        .header_read_timeout(limits.header_timeout.max(limits.idle_timeout));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.idle_timeout);
    let builder = Arc::new(builder);

    // Clamped: `Semaphore::new` panics above its maximum and `acquire_many` takes a `u32`
    // (reachable only where the file limit is unknown, so the cap was not checked against it).
    let total = limits
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let slots = Arc::new(Semaphore::new(total));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut accept_errors = AcceptErrors::default();

    loop {
        // At the cap, wait for a connection to close before accepting another: new
        // connections queue in the kernel's backlog meanwhile.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    accept_errors.reset();
                    stream
                }
                Err(err) => {
                    drop(slot);
                    let pause = accept_errors.record(&err);
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(pause) => continue,
                    }
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn = Supervised::new(stream, app.clone(), Arc::clone(&builder), limits);
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            conn.run(stop).await;
            drop(slot);
        });
    }

    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it is closed: all slots back means all closed.
    let _ = slots
        .acquire_many(u32::try_from(total).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Back-off and log throttling for failed `accept` calls (`EMFILE`, `ENFILE`, `ENOBUFS`...):
/// retrying at once would spin on the same error.
#[derive(Debug, Default)]
struct AcceptErrors {
    pause: Duration,
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl AcceptErrors {
    const FIRST_PAUSE: Duration = Duration::from_millis(5);
    const MAX_PAUSE: Duration = Duration::from_secs(1);
    const LOG_EVERY: Duration = Duration::from_secs(1);

    fn reset(&mut self) {
        self.pause = Duration::ZERO;
    }

    /// Logs `err` unless one was logged less than a second ago; returns how long to pause.
    fn record(&mut self, err: &io::Error) -> Duration {
        self.pause = (self.pause * 2).clamp(Self::FIRST_PAUSE, Self::MAX_PAUSE);
        let now = Instant::now();
        if self
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= Self::LOG_EVERY)
        {
            tracing::error!(
                error = %err,
                suppressed = self.suppressed,
                pause_ms = self.pause.as_millis() as u64,
                "accept failed; pausing before the next accept"
            );
            self.last_logged = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
        self.pause
    }
}

/// `u64::MAX` in an [`Activity`] time field: not set.
const UNSET: u64 = u64::MAX;

/// What the supervisor of one connection needs to know, updated by the connection's
/// reads and by its requests. Times are milliseconds since the connection was accepted.
#[derive(Debug)]
struct Activity {
    accepted: Instant,
    in_flight: AtomicUsize,
    /// Requests completed so far (0: the connection is fresh).
    completed: AtomicU64,
    /// When the last request in flight finished.
    idle_since: AtomicU64,
    /// When the first byte arrived while no request was in flight ([`UNSET`]: none did).
    first_byte: AtomicU64,
    /// Signalled when the deadline may have moved (a request ended, bytes arrived).
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Activity {
            accepted: Instant::now(),
            in_flight: AtomicUsize::new(0),
            completed: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            first_byte: AtomicU64::new(UNSET),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(UNSET - 1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.accepted + Duration::from_millis(ms)
    }

    /// Bytes were read from the connection.
    fn read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self
                .first_byte
                .compare_exchange(UNSET, self.now(), Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    /// A request's headers are complete: it is handed to the application.
    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.first_byte.store(UNSET, Ordering::Release);
        InFlight(Arc::clone(self))
    }

    /// When the connection must be closed if nothing changes, or `None` while a request is
    /// in flight (its own timeouts govern it).
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let first_byte = self.first_byte.load(Ordering::Acquire);
        Some(if first_byte != UNSET {
            // A request has begun: its headers must be complete in time.
            self.at(first_byte) + limits.header_timeout
        } else if self.completed.load(Ordering::Acquire) == 0 {
            // A fresh connection that has sent nothing yet is a request that has not begun.
            self.accepted + limits.header_timeout
        } else {
            self.at(self.idle_since.load(Ordering::Acquire)) + limits.idle_timeout
        })
    }
}

/// Marks a request as in flight until dropped (the response is ready, or the request
/// was cancelled).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since.store(a.now(), Ordering::Release);
        a.completed.fetch_add(1, Ordering::AcqRel);
        if a.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            a.changed.notify_one();
        }
    }
}

/// A TCP stream that reports its reads to the connection's [`Activity`].
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// One accepted connection and its supervisor.
struct Supervised {
    stream: Watched,
    app: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    limits: Limits,
}

impl Supervised {
    fn new(
        stream: TcpStream,
        app: Router,
        builder: Arc<auto::Builder<TokioExecutor>>,
        limits: Limits,
    ) -> Self {
        Supervised {
            stream: Watched {
                stream,
                activity: Arc::new(Activity::new()),
            },
            app,
            builder,
            limits,
        }
    }

    /// Serves the connection until it closes, a timeout closes it, or `stop` turns true
    /// (then idle connections close at once and requests in flight finish first).
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let Supervised {
            stream,
            app,
            builder,
            limits,
        } = self;
        let activity = Arc::clone(&stream.activity);
        let service = hyper::service::service_fn({
            let activity = Arc::clone(&activity);
            move |request: hyper::Request<Incoming>| {
                let in_flight = activity.request_started();
                let response = app.clone().oneshot(request);
                async move {
                    let response = response.await;
                    drop(in_flight);
                    response
                }
            }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let mut conn = std::pin::pin!(conn);
        let mut stopping = false;
        loop {
            let deadline = activity.deadline(&limits);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                    return;
                }
                () = activity.changed.notified() => {}
                () = sleep_until(deadline) => {
                    // Nothing is in flight (the deadline is `None` otherwise) and nothing
                    // moved it: close. Dropping the connection closes the socket; no
                    // handler is running, so no delivery is cut off.
                    if activity.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                        tracing::debug!("connection closed: header or idle timeout");
                        return;
                    }
                }
                changed = stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_err() || activity.in_flight.load(Ordering::Acquire) == 0 {
                        return;
                    }
                    // hyper finishes the request in flight, writes its answer with
                    // `Connection: close`, and then the connection future completes.
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cap_is_a_share_of_the_file_limit_within_bounds() {
        assert_eq!(default_max_connections(1024), (1024 - 64) / 4 * 3);
        assert_eq!(default_max_connections(1_048_576), 10_000);
        assert_eq!(default_max_connections(10), 1);
        assert_eq!(max_connections_allowed(1024), 960);
        assert_eq!(max_connections_allowed(10), 0);
    }

    #[test]
    fn accept_errors_back_off_and_log_at_most_once_a_second() {
        let mut errors = AcceptErrors::default();
        let err = io::Error::from_raw_os_error(24);
        let pauses: Vec<_> = (0..10).map(|_| errors.record(&err)).collect();
        assert_eq!(pauses[0], Duration::from_millis(5));
        assert_eq!(pauses[1], Duration::from_millis(10));
        assert_eq!(pauses[9], Duration::from_secs(1));
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        // Ten errors within a second: one logged, nine suppressed.
        assert_eq!(errors.suppressed, 9);
        errors.reset();
        assert_eq!(errors.record(&err), Duration::from_millis(5));
    }

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_connection_state() {
        let limits = Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
        };
        let a = Arc::new(Activity::new());
        let start = a.accepted;
        // Fresh: the headers are due within the header timeout of the accept.
        assert_eq!(a.deadline(&limits), Some(start + limits.header_timeout));
        let request = a.request_started();
        assert_eq!(a.deadline(&limits), None, "in flight: no deadline");
        tokio::time::advance(Duration::from_secs(3)).await;
        drop(request);
        // Idle keep-alive: the idle timeout from the end of the request.
        let idle_at = a.deadline(&limits).unwrap();
        assert_eq!(
            idle_at,
            start + Duration::from_secs(3) + limits.idle_timeout
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        // A new request begins: its headers are due within the header timeout.
        a.read();
        assert_eq!(
            a.deadline(&limits),
            Some(start + Duration::from_secs(8) + limits.header_timeout)
        );
        // More bytes of the same head do not move the deadline.
        tokio::time::advance(Duration::from_secs(2)).await;
        a.read();
        assert_eq!(
            a.deadline(&limits),
            Some(start + Duration::from_secs(8) + limits.header_timeout)
        );
    }
}
