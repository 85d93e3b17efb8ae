//! Buffering a request body up to a limit, within a time limit, through `bookhook-body`'s
//! [`Collector`] (the accumulator `bookhook-axum` uses too).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap};
use bookhook_body::{CollectError, Collector};
use bytes::Bytes;
use futures_core::Stream;

use crate::{VerifiedBodyError, VerifyConfig};

/// Reads a payload into one `Bytes`, refusing more than `limit` bytes and bodies slower than
/// the body timeout.
///
/// A `content-length` above the limit is refused before a byte is read; a body without one
/// (chunked) is refused as soon as the bytes received pass the limit. No decompression: the
/// signature covers the bytes as sent. A body that arrives as one chunk is handed over as
/// that chunk, without a copy. One poll reads at most a budget of chunks, and the deadline
/// also bounds a payload that is always ready but never ends.
///
/// actix-web's HTTP/1 dispatcher calls the service (so polls this future) before it feeds
/// the chunks it has already read, then polls again in the same turn: so the first time
/// the payload is not ready, no timer is created (see [`Collector::wait_once_untimed`]); a
/// body that has arrived whole by the second poll never creates one.
pub(crate) struct Collect {
    payload: Payload,
    /// `None` when the announced length was refused before reading.
    collector: Option<Collector>,
    refused: Option<VerifiedBodyError>,
}

impl Collect {
    pub(crate) fn new(headers: &HeaderMap, payload: Payload, config: &VerifyConfig) -> Self {
        let limit = config.limit;
        let (collector, refused) =
            match Collector::new(content_length(headers), limit, config.body_timeout) {
                Ok(collector) => (Some(collector.wait_once_untimed()), None),
                Err(too_large) => (
                    None,
                    Some(VerifiedBodyError::OverflowKnownLength {
                        length: usize::try_from(too_large.declared).unwrap_or(usize::MAX),
                        limit,
                    }),
                ),
            };
        Collect {
            payload,
            collector,
            refused,
        }
    }

    /// Whether the deadline has been armed.
    #[cfg(test)]
    fn is_timed(&self) -> bool {
        self.collector.as_ref().is_some_and(Collector::is_timed)
    }
}

impl Future for Collect {
    type Output = Result<Bytes, VerifiedBodyError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(err) = this.refused.take() {
            return Poll::Ready(Err(err));
        }
        let Some(collector) = &mut this.collector else {
            // Polled again after the refusal was answered.
            return Poll::Ready(Err(VerifiedBodyError::OverflowKnownLength {
                length: usize::MAX,
                limit: 0,
            }));
        };
        let payload = &mut this.payload;
        collector
            .poll_collect(cx, |cx| {
                Pin::new(&mut *payload)
                    .poll_next(cx)
                    .map(|chunk| chunk.map(|c| c.map(Some)))
            })
            .map_err(|err| match err {
                CollectError::TooLarge { limit } => VerifiedBodyError::Overflow { limit },
                CollectError::Timeout(_) => VerifiedBodyError::BodyTimeout,
                CollectError::Read(err) => VerifiedBodyError::Payload(err),
                // `CollectError` is non-exhaustive: a new kind is a failed read until mapped.
                _ => VerifiedBodyError::Payload(actix_web::error::PayloadError::Incomplete(None)),
            })
    }
}

/// The announced body length. An unreadable value announces nothing (actix-http's own
/// parser refuses such requests before they get here); the limit then applies while reading.
/// A length beyond `u64` cannot be written; one beyond the limit is refused as too large.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_LENGTH)?.to_str().ok()?;
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

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
    async fn an_always_ready_endless_payload_is_cut_off_at_the_timeout() {
        // Empty chunks, forever, each ready at once: without a per-poll budget this would
        // hold the worker thread for good; the deadline ends it.
        let polls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&polls);
        let endless: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::repeat_with(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                Ok(Bytes::new())
            }));
        let config = limit(100).body_timeout(Duration::from_millis(50));
        let started = std::time::Instant::now();
        let err = Collect::new(&HeaderMap::new(), Payload::from(endless), &config)
            .await
            .unwrap_err();
        assert!(matches!(err, VerifiedBodyError::BodyTimeout), "{err:?}");
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(started.elapsed() < Duration::from_secs(5));
        // It yielded between budgets rather than spinning inside one poll.
        assert!(polls.load(Ordering::Relaxed) > bookhook_body::FRAMES_PER_POLL);
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
    async fn a_read_error_is_passed_on_as_the_payload_reported_it() {
        let err = Collect::new(
            &HeaderMap::new(),
            payload_of(vec![Err(PayloadError::EncodingCorrupted)]),
            &limit(5),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                VerifiedBodyError::Payload(PayloadError::EncodingCorrupted)
            ),
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
