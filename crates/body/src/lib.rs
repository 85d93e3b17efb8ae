#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::time::Sleep;

/// How many chunks one poll reads before yielding, so that a body that is always ready
/// cannot monopolise the executor thread.
pub const FRAMES_PER_POLL: usize = 64;

/// The body announces (`content-length`, or a size hint) more than the limit: refused
/// before a byte is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TooLarge {
    /// The announced length, in bytes.
    pub declared: u64,
    /// The limit, in bytes.
    pub limit: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload too large: {} bytes, the limit is {}",
            self.declared, self.limit
        )
    }
}

impl std::error::Error for TooLarge {}

/// Why collecting a body failed, with `E` the body's own read error.
#[derive(Debug)]
#[non_exhaustive]
pub enum CollectError<E> {
    /// The bytes received passed the limit (413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body did not end within the timeout (408).
    Timeout(Duration),
    /// The body could not be read (400).
    Read(E),
}

/// What has been read so far.
#[derive(Debug)]
enum Collected {
    /// Nothing yet.
    Empty,
    /// One chunk, kept as it arrived: a body that comes in one chunk is never copied.
    One(Bytes),
    /// Several chunks, joined into one buffer.
    Many(BytesMut),
}

impl Collected {
    fn len(&self) -> usize {
        match self {
            Collected::Empty => 0,
            Collected::One(bytes) => bytes.len(),
            Collected::Many(buf) => buf.len(),
        }
    }

    /// Appends `data`; `capacity` sizes the buffer when a second chunk makes one necessary.
    fn push<D: Buf>(&mut self, mut data: D, capacity: usize) {
        let len = data.remaining();
        if len == 0 {
            return;
        }
        match self {
            // `Bytes` hands itself over without copying; other `Buf`s are copied once.
            Collected::Empty => *self = Collected::One(data.copy_to_bytes(len)),
            Collected::One(first) => {
                let mut buf =
                    BytesMut::with_capacity(capacity.max(first.len().saturating_add(len)));
                buf.extend_from_slice(first);
                buf.put(data);
                *self = Collected::Many(buf);
            }
            Collected::Many(buf) => buf.put(data),
        }
    }

    fn take(&mut self) -> Bytes {
        match std::mem::replace(self, Collected::Empty) {
            Collected::Empty => Bytes::new(),
            Collected::One(bytes) => bytes,
            Collected::Many(buf) => buf.freeze(),
        }
    }
}

/// Collects a body's chunks into one `Bytes`, bounded by a limit and a timeout.
///
/// The timeout is a deadline armed lazily: the first time reading has to wait for the
/// client (the body is `Pending`, or an always-ready body used up one poll's budget), the
/// timeout is measured from that moment. Everything before it is the same poll's work on
/// bytes that had already arrived, bounded by the limit, so the timeout still fires
/// `timeout` after the body started being read, give or take that work.
///
/// The deadline needs a Tokio runtime with its timer enabled, as every axum, hyper or
/// actix-web server has. Polled outside any Tokio runtime, the body is read without a
/// deadline rather than panicking on a request.
#[derive(Debug)]
pub struct Collector {
    collected: Collected,
    /// The announced length, within the limit: the buffer size if chunks must be joined.
    capacity: usize,
    limit: usize,
    timeout: Duration,
    // Boxed: only a body that makes us wait pays for the timer's space, so the futures that
    // hold a `Collector` stay small to move.
    deadline: Option<Pin<Box<Sleep>>>,
    /// No deadline could be armed: no Tokio runtime around the poll that needed one.
    untimed: bool,
    /// See [`Collector::wait_once_untimed`].
    wait_once_untimed: bool,
    waited: bool,
}

impl Collector {
    /// Prepares to collect a body that announces `declared` bytes (its `content-length` or
    /// size hint; `None` when it says nothing), at most `limit` bytes, within `timeout`.
    ///
    /// # Errors
    ///
    /// [`TooLarge`] when `declared` is over the limit: nothing needs to be read.
    pub fn new(declared: Option<u64>, limit: usize, timeout: Duration) -> Result<Self, TooLarge> {
        let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
        let declared_len = declared.unwrap_or(0);
        if declared_len > limit_u64 {
            return Err(TooLarge {
                declared: declared_len,
                limit,
            });
        }
        Ok(Collector {
            collected: Collected::Empty,
            capacity: usize::try_from(declared_len).unwrap_or(limit).min(limit),
            limit,
            timeout,
            deadline: None,
            untimed: false,
            wait_once_untimed: false,
            waited: false,
        })
    }

    /// The first time the body is not ready, asks to be polled again at once instead of
    /// arming the timer; the second time arms it.
    ///
    /// For actix-web, whose HTTP/1 dispatcher polls the handler before it feeds the chunks
    /// it has already read, then again in the same turn: over a socket the first poll
    /// almost always finds the payload empty and the second finds it complete, so this
    /// spares the timer for nearly every body at the cost of one immediate wake-up.
    pub fn wait_once_untimed(mut self) -> Self {
        self.wait_once_untimed = true;
        self
    }

    /// Whether the deadline has been armed (a body complete at once never needs one).
    pub fn is_timed(&self) -> bool {
        self.deadline.is_some()
    }

    /// Reads chunks through `next` until the body ends, the limit is passed, the deadline
    /// passes or one poll's budget of [`FRAMES_PER_POLL`] chunks is used up.
    ///
    /// `next` polls the body for its next chunk: `Ready(Some(Ok(Some(data))))` for data,
    /// `Ready(Some(Ok(None)))` for a frame that is not data (trailers: not part of what
    /// providers sign, so skipped), `Ready(None)` at the end.
    pub fn poll_collect<B: Buf, E>(
        &mut self,
        cx: &mut Context<'_>,
        mut next: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<Option<B>, E>>>,
    ) -> Poll<Result<Bytes, CollectError<E>>> {
        for _ in 0..FRAMES_PER_POLL {
            match next(cx) {
                Poll::Pending => {
                    if self.wait_once_untimed && !self.waited {
                        self.waited = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    ready!(self.poll_deadline(cx));
                    return Poll::Ready(Err(CollectError::Timeout(self.timeout)));
                }
                Poll::Ready(None) => return Poll::Ready(Ok(self.collected.take())),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Err(CollectError::Read(err))),
                Poll::Ready(Some(Ok(None))) => {}
                Poll::Ready(Some(Ok(Some(data)))) => {
                    if data.remaining() > self.limit - self.collected.len() {
                        return Poll::Ready(Err(CollectError::TooLarge { limit: self.limit }));
                    }
                    self.collected.push(data, self.capacity);
                }
            }
        }
        // The deadline also bounds a body that is always ready but never ends.
        if self.poll_deadline(cx).is_ready() {
            return Poll::Ready(Err(CollectError::Timeout(self.timeout)));
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Arms the deadline if it is not yet, then polls it: `Ready` once the timeout has
    /// passed. Without a Tokio runtime there is no deadline and this is always `Pending`.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.deadline.is_none() && !self.untimed {
            if tokio::runtime::Handle::try_current().is_ok() {
                self.deadline = Some(Box::pin(tokio::time::sleep(self.timeout)));
            } else {
                self.untimed = true;
            }
        }
        match &mut self.deadline {
            Some(deadline) => deadline.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::task::Waker;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

    type Next = Poll<Option<Result<Option<Bytes>, Infallible>>>;

    fn poll(
        c: &mut Collector,
        next: impl FnMut(&mut Context<'_>) -> Next,
    ) -> Poll<Result<Bytes, CollectError<Infallible>>> {
        c.poll_collect(&mut Context::from_waker(Waker::noop()), next)
    }

    fn ready_chunks(chunks: &[&'static [u8]]) -> impl FnMut(&mut Context<'_>) -> Next {
        let mut chunks = Vec::from(chunks).into_iter();
        move |_| Poll::Ready(chunks.next().map(|c| Ok(Some(Bytes::from_static(c)))))
    }

    #[test]
    fn a_body_in_one_chunk_is_handed_over_without_a_copy() {
        let chunk = Bytes::from_static(b"{\"event\":\"x\"}");
        let ptr = chunk.as_ptr();
        let mut once = Some(chunk);
        let mut c = Collector::new(None, 1024, TIMEOUT).unwrap();
        let Poll::Ready(Ok(body)) = poll(&mut c, |_| Poll::Ready(once.take().map(|b| Ok(Some(b)))))
        else {
            panic!("not collected");
        };
        assert_eq!(body.as_ptr(), ptr);
        assert!(!c.is_timed());
    }

    #[test]
    fn chunks_are_joined_trailers_skipped_and_the_limit_counts_all_of_them() {
        let mut c = Collector::new(None, 6, TIMEOUT).unwrap();
        let mut frames = vec![
            Some(Bytes::from_static(b"abc")),
            None,
            Some(Bytes::from_static(b"def")),
        ]
        .into_iter();
        let polled = poll(&mut c, |_| Poll::Ready(frames.next().map(Ok)));
        assert!(
            matches!(polled, Poll::Ready(Ok(ref b)) if b == "abcdef"),
            "{polled:?}"
        );

        let mut c = Collector::new(None, 5, TIMEOUT).unwrap();
        let polled = poll(&mut c, ready_chunks(&[b"abc", b"def"]));
        assert!(matches!(
            polled,
            Poll::Ready(Err(CollectError::TooLarge { limit: 5 }))
        ));
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_before_reading() {
        assert_eq!(
            Collector::new(Some(11), 10, TIMEOUT).unwrap_err(),
            TooLarge {
                declared: 11,
                limit: 10
            }
        );
        assert!(Collector::new(Some(10), 10, TIMEOUT).is_ok());
        assert!(Collector::new(Some(u64::MAX), usize::MAX, TIMEOUT).is_ok());
    }

    #[test]
    fn read_errors_are_handed_back() {
        let mut c = Collector::new(None, 10, TIMEOUT).unwrap();
        let polled = c.poll_collect(&mut Context::from_waker(Waker::noop()), |_| {
            Poll::Ready(Some(Err::<Option<Bytes>, _>("reset")))
        });
        assert!(matches!(
            polled,
            Poll::Ready(Err(CollectError::Read("reset")))
        ));
    }

    #[test]
    fn one_poll_reads_at_most_its_budget_of_chunks() {
        let mut c = Collector::new(None, 1 << 20, TIMEOUT).unwrap();
        let mut calls = 0;
        let polled = poll(&mut c, |_| {
            calls += 1;
            Poll::Ready(Some(Ok(Some(Bytes::new()))))
        });
        assert!(polled.is_pending());
        assert_eq!(calls, FRAMES_PER_POLL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_arms_the_timer_at_the_first_wait_and_times_out() {
        let mut c = Collector::new(None, 10, TIMEOUT).unwrap();
        let started = tokio::time::Instant::now();
        let result =
            std::future::poll_fn(|cx| c.poll_collect::<Bytes, Infallible>(cx, |_| Poll::Pending))
                .await;
        assert!(matches!(result, Err(CollectError::Timeout(t)) if t == TIMEOUT));
        assert_eq!(started.elapsed(), TIMEOUT);
    }

    // Real time: a body that is always ready keeps the task busy, so a paused clock would
    // never auto-advance.
    #[tokio::test]
    async fn an_always_ready_endless_body_is_cut_off_at_the_timeout() {
        let mut c = Collector::new(None, 10, Duration::from_millis(50)).unwrap();
        let result = std::future::poll_fn(|cx| {
            c.poll_collect::<Bytes, Infallible>(cx, |_| Poll::Ready(Some(Ok(None))))
        })
        .await;
        assert!(matches!(result, Err(CollectError::Timeout(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_once_untimed_spares_the_timer_for_a_body_that_arrives_at_the_next_poll() {
        let mut c = Collector::new(None, 10, TIMEOUT)
            .unwrap()
            .wait_once_untimed();
        let mut arrived = false;
        let mut next = |_: &mut Context<'_>| {
            if std::mem::replace(&mut arrived, true) {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        };
        let body =
            std::future::poll_fn(|cx| c.poll_collect::<Bytes, Infallible>(cx, &mut next)).await;
        assert_eq!(body.unwrap(), "");
        assert!(!c.is_timed());
        // The same without the option arms the timer at the first wait.
        let mut c = Collector::new(None, 10, TIMEOUT).unwrap();
        let mut arrived = false;
        let polled =
            c.poll_collect::<Bytes, Infallible>(&mut Context::from_waker(Waker::noop()), |_| {
                if std::mem::replace(&mut arrived, true) {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                }
            });
        assert!(polled.is_pending());
        assert!(c.is_timed());
    }

    #[test]
    fn outside_a_runtime_a_waiting_body_is_read_without_a_deadline() {
        let mut c = Collector::new(None, 10, TIMEOUT).unwrap();
        assert!(poll(&mut c, |_| Poll::Pending).is_pending());
        assert!(!c.is_timed());
    }
}
