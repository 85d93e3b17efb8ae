//! Buffering a request body up to a limit, within a time limit.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::time::Sleep;

use crate::{VerifiedBodyError, VerifyConfig};

/// Reads a payload into one `Bytes`, refusing more than `limit` bytes and bodies slower than
/// the body timeout.
///
/// A `content-length` above the limit is refused before a byte is read; a body without one
/// (chunked) is refused as soon as the bytes received pass the limit. No decompression: the
/// signature covers the bytes as sent. A body that arrives as one chunk is handed over as
/// that chunk, without a copy.
///
/// The timeout is a deadline armed lazily. actix-web's HTTP/1 dispatcher calls the service
/// (so polls this future) before it feeds the chunks it has already read, then polls again
/// in the same turn: over a socket the first poll almost always finds the payload empty,
/// and the second finds it complete. So the first time the payload is not ready, no timer
/// is created: this future asks to be polled again at once (`wake_by_ref`; the dispatcher's
/// own feeding wakes the same task, so this costs no extra turn) and returns `Pending`.
/// The second time it is not ready, the deadline is armed, and the timeout is measured from
/// then. Between the two lies at most one turn of the executor (the wake-up is immediate),
/// spent on bytes that had already arrived, so the 408 still comes `timeout` after the
/// body started being read, give or take that turn. A body that has arrived whole by the
/// second poll never creates a timer.
pub(crate) struct Collect {
    payload: Payload,
    collected: Collected,
    /// The announced length, within the limit: the buffer size if chunks must be joined.
    capacity: usize,
    limit: usize,
    timeout: Duration,
    /// Whether a poll has already found the payload not ready.
    waited: bool,
    /// Armed the second time the payload is not ready, inside the runtime (actix-web runs
    /// on Tokio's timer).
    deadline: Option<Pin<Box<Sleep>>>,
    refused: Option<VerifiedBodyError>,
}

/// What has been read so far.
enum Collected {
    /// Nothing yet.
    Empty,
    /// One chunk, kept as it arrived (no copy).
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

    /// Appends `chunk`; `capacity` sizes the buffer when a second chunk makes one necessary.
    fn push(&mut self, chunk: Bytes, capacity: usize) {
        if chunk.is_empty() {
            return;
        }
        match self {
            Collected::Empty => *self = Collected::One(chunk),
            Collected::One(first) => {
                let len = first.len().saturating_add(chunk.len());
                let mut buf = BytesMut::with_capacity(capacity.max(len));
                buf.extend_from_slice(first);
                buf.extend_from_slice(&chunk);
                *self = Collected::Many(buf);
            }
            Collected::Many(buf) => buf.extend_from_slice(&chunk),
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Collected::Empty => Bytes::new(),
            Collected::One(bytes) => bytes,
            Collected::Many(buf) => buf.freeze(),
        }
    }
}

impl Collect {
    pub(crate) fn new(headers: &HeaderMap, payload: Payload, config: &VerifyConfig) -> Self {
        let limit = config.limit;
        let length = content_length(headers);
        let refused = match length {
            Some(length) if length > limit => {
                Some(VerifiedBodyError::OverflowKnownLength { length, limit })
            }
            _ => None,
        };
        // Trust the announced length for a buffer only when it fits the limit.
        let capacity = match (&refused, length) {
            (None, Some(length)) => length,
            _ => 0,
        };
        Collect {
            payload,
            collected: Collected::Empty,
            capacity,
            limit,
            timeout: config.body_timeout,
            waited: false,
            deadline: None,
            refused,
        }
    }

    /// Whether the deadline has been armed.
    #[cfg(test)]
    fn is_timed(&self) -> bool {
        self.deadline.is_some()
    }
}

impl Future for Collect {
    type Output = Result<Bytes, VerifiedBodyError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(err) = this.refused.take() {
            return Poll::Ready(Err(err));
        }
        loop {
            let next = match Pin::new(&mut this.payload).poll_next(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => {
                    if !this.waited {
                        // First wait: most likely the dispatcher has not fed the chunks it
                        // holds yet. Be polled again right away rather than arm a timer.
                        this.waited = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    let timeout = this.timeout;
                    let deadline = this
                        .deadline
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                    return match deadline.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(VerifiedBodyError::BodyTimeout)),
                        Poll::Pending => Poll::Pending,
                    };
                }
            };
            match next {
                Some(Ok(chunk)) => {
                    if chunk.len() > this.limit - this.collected.len() {
                        return Poll::Ready(Err(VerifiedBodyError::Overflow { limit: this.limit }));
                    }
                    this.collected.push(chunk, this.capacity);
                }
                Some(Err(err)) => return Poll::Ready(Err(VerifiedBodyError::Payload(err))),
                None => {
                    let collected = std::mem::replace(&mut this.collected, Collected::Empty);
                    return Poll::Ready(Ok(collected.into_bytes()));
                }
            }
        }
    }
}

/// The announced body length. An unreadable value announces nothing (actix-http's own
/// parser refuses such requests before they get here); the limit then applies while reading.
/// A length beyond `usize` saturates, so it is refused as too large.
fn content_length(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(CONTENT_LENGTH)?.to_str().ok()?;
    let length: u64 = value.trim().parse().ok()?;
    Some(usize::try_from(length).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use actix_web::error::PayloadError;
    use actix_web::test::TestRequest;

    use super::*;

    fn payload_of(items: Vec<Result<Bytes, PayloadError>>) -> Payload {
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::iter(items));
        Payload::from(stream)
    }

    fn stream(chunks: &[&'static [u8]]) -> Payload {
        payload_of(chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect())
    }

    fn limit(bytes: usize) -> VerifyConfig {
        VerifyConfig::new(bookhook_verify::Verifier::unconfigured(
            bookhook_verify::Provider::Slatis,
        ))
        .limit(bytes)
    }

    #[actix_web::test]
    async fn a_body_that_stops_arriving_is_refused_at_the_timeout() {
        // A client that sent part of its body and then nothing: the payload never ends.
        let stalled: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::StreamExt::chain(
                futures_util::stream::iter([Ok(Bytes::from_static(b"ab"))]),
                futures_util::stream::pending(),
            ));
        let config = limit(100).body_timeout(Duration::from_millis(20));
        let started = std::time::Instant::now();
        let err = Collect::new(&HeaderMap::new(), Payload::from(stalled), &config)
            .await
            .unwrap_err();
        assert!(matches!(err, VerifiedBodyError::BodyTimeout), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    fn failing() -> Payload {
        payload_of(vec![Err(PayloadError::Incomplete(None))])
    }

    #[test]
    fn a_body_in_one_chunk_is_handed_over_without_a_copy() {
        let sent = Bytes::from(vec![7u8; 1024]);
        let payload = payload_of(vec![Ok(sent.clone())]);
        let got = futures_executor_block_on(Collect::new(&HeaderMap::new(), payload, &limit(4096)));
        let got = got.unwrap();
        assert_eq!(got, sent);
        assert_eq!(got.as_ptr(), sent.as_ptr(), "the body was copied");
    }

    #[test]
    fn a_payload_complete_at_the_first_poll_never_arms_a_timer() {
        // Outside any runtime: creating a Tokio timer here would panic, so this also proves
        // that none was created.
        let mut collect = Collect::new(&HeaderMap::new(), stream(&[b"ab", b"cd"]), &limit(10));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Pin::new(&mut collect).poll(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert_eq!(bytes, "abcd"),
            other => panic!("{other:?}"),
        }
        assert!(!collect.is_timed());
    }

    /// Counts its wake-ups.
    struct Wakes(AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[actix_web::test]
    async fn the_first_wait_asks_for_a_new_poll_and_the_second_arms_the_timer() {
        // Nothing at all: a client that sent its head and stopped.
        let stalled: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::pending());
        let mut collect = Collect::new(&HeaderMap::new(), Payload::from(stalled), &limit(10));
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);

        assert!(Pin::new(&mut collect).poll(&mut cx).is_pending());
        assert!(!collect.is_timed());
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "not woken for a new poll"
        );

        assert!(Pin::new(&mut collect).poll(&mut cx).is_pending());
        assert!(collect.is_timed());
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "woken again without a cause"
        );
    }

    #[test]
    fn a_payload_fed_after_the_first_poll_never_arms_a_timer() {
        // As actix-web's dispatcher does: poll once, feed what was read, poll again.
        let fed = Rc::new(RefCell::new(None));
        let mut collect = Collect::new(&HeaderMap::new(), fed_later(&fed), &limit(10));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(Pin::new(&mut collect).poll(&mut cx).is_pending());
        *fed.borrow_mut() = Some(vec![Bytes::from_static(b"ab"), Bytes::from_static(b"cd")]);
        match Pin::new(&mut collect).poll(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert_eq!(bytes, "abcd"),
            other => panic!("{other:?}"),
        }
        assert!(!collect.is_timed());
    }

    /// A payload that waits until `chunks` are set, then yields them and ends.
    fn fed_later(chunks: &Rc<RefCell<Option<Vec<Bytes>>>>) -> Payload {
        let chunks = Rc::clone(chunks);
        let mut next = 0;
        let stream = futures_util::stream::poll_fn(move |_| match &*chunks.borrow() {
            None => Poll::Pending,
            Some(chunks) => {
                next += 1;
                Poll::Ready(chunks.get(next - 1).cloned().map(Ok))
            }
        });
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(stream);
        Payload::from(stream)
    }

    /// Polls `fut` to completion on this thread, outside any runtime (the futures here
    /// never wait).
    fn futures_executor_block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for _ in 0..1000 {
            if let Poll::Ready(out) = Pin::new(&mut fut).poll(&mut cx) {
                return out;
            }
        }
        panic!("not ready after 1000 polls");
    }

    #[actix_web::test]
    async fn chunks_are_joined_up_to_the_limit() {
        let headers = HeaderMap::new();
        let bytes = Collect::new(&headers, stream(&[b"ab", b"cd", b"e"]), &limit(5))
            .await
            .unwrap();
        assert_eq!(bytes, "abcde");
    }

    #[actix_web::test]
    async fn one_byte_over_the_limit_without_length_is_refused() {
        let headers = HeaderMap::new();
        let err = Collect::new(&headers, stream(&[b"abc", b"def"]), &limit(5))
            .await
            .unwrap_err();
        assert!(
            matches!(err, VerifiedBodyError::Overflow { limit: 5 }),
            "{err:?}"
        );
    }

    #[actix_web::test]
    async fn announced_length_over_the_limit_is_refused_before_reading() {
        let req = TestRequest::default()
            .insert_header((CONTENT_LENGTH, "6"))
            .to_http_request();
        // The stream would fail if it were read.
        let err = Collect::new(req.headers(), failing(), &limit(5))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                VerifiedBodyError::OverflowKnownLength {
                    length: 6,
                    limit: 5
                }
            ),
            "{err:?}"
        );
    }

    #[actix_web::test]
    async fn absurd_content_length_saturates_and_is_refused() {
        let req = TestRequest::default()
            .insert_header((CONTENT_LENGTH, "18446744073709551615"))
            .to_http_request();
        let err = Collect::new(req.headers(), stream(&[]), &limit(5))
            .await
            .unwrap_err();
        assert!(
            matches!(err, VerifiedBodyError::OverflowKnownLength { .. }),
            "{err:?}"
        );
    }

    #[actix_web::test]
    async fn read_errors_are_reported() {
        let headers = HeaderMap::new();
        let err = Collect::new(&headers, failing(), &limit(5))
            .await
            .unwrap_err();
        assert!(matches!(err, VerifiedBodyError::Payload(_)), "{err:?}");
    }
}
