//! Reading a request body into memory, bounded in size and in time, through
//! `bookhook-body`'s [`Collector`] (the accumulator `bookhook-actix` uses too).
//!
//! Both the middleware and the standalone extractors buffer through [`Buffer`], so they
//! refuse the same requests with the same rejections.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bookhook_body::{CollectError, Collector};
use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body::Body;
use pin_project_lite::pin_project;

use crate::rejection::{BodyReadFailed, BodyTimeout, PayloadTooLarge, VerifiedBodyRejection};

/// A boxed error, as `tower` and `axum` spell it.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body length a request announces: the larger of its `content-length` header and its
/// body's own size hint (a full in-memory body knows its size). Zero when neither says.
fn declared_length<B: Body>(headers: &HeaderMap, body: &B) -> u64 {
    let header = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    header.max(body.size_hint().lower())
}

pin_project! {
    /// Collects a body into one `Bytes`, refusing it once it exceeds the limit or once the
    /// body timeout passes (see [`Collector`] for when the deadline is armed: a body that
    /// has arrived whole by the first poll is read without creating a timer at all).
    pub(crate) struct Buffer<B> {
        #[pin]
        body: B,
        collector: Collector,
    }
}

impl<B> Buffer<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Prepares to read `body`, or refuses it before reading anything when its
    /// `content-length` (or size hint) announces more than `limit` bytes.
    pub(crate) fn new(
        headers: &HeaderMap,
        body: B,
        limit: usize,
        timeout: Duration,
    ) -> Result<Self, PayloadTooLarge> {
        let declared = declared_length(headers, &body);
        let collector = Collector::new(Some(declared), limit, timeout)
            .map_err(|_| PayloadTooLarge::new(limit))?;
        Ok(Buffer { body, collector })
    }

    /// Whether the deadline has been armed (for tests: a body that was complete at once
    /// must not have needed one).
    #[cfg(test)]
    fn is_timed(&self) -> bool {
        self.collector.is_timed()
    }
}

impl<B> Future for Buffer<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Bytes, VerifiedBodyRejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut body = this.body;
        this.collector
            .poll_collect(cx, |cx| {
                body.as_mut()
                    .poll_frame(cx)
                    // Trailers are not part of what providers sign: `None`, skipped.
                    .map(|frame| frame.map(|f| f.map(|f| f.into_data().ok())))
            })
            .map_err(|err| match err {
                CollectError::TooLarge { limit } => PayloadTooLarge::new(limit).into(),
                CollectError::Timeout(timeout) => BodyTimeout::new(timeout).into(),
                CollectError::Read(err) => BodyReadFailed::new(err.into()).into(),
                // `CollectError` is non-exhaustive: a new kind is a failed read until mapped.
                _ => BodyReadFailed::new("the body could not be collected".into()).into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::pin::pin;
    use std::task::Waker;

    use http_body::Frame;
    use http_body_util::Full;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

    type Polled = Poll<Option<Result<Frame<Bytes>, Infallible>>>;

    /// A body whose every poll is a call of its closure: the bodies below, each in a few
    /// lines.
    struct PollFn<F>(F);

    impl<F: FnMut() -> Polled + Unpin> Body for PollFn<F> {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Polled {
            (self.get_mut().0)()
        }
    }

    /// A body whose chunks are all ready at once, one frame each.
    fn frames(chunks: &[&'static [u8]]) -> impl Body<Data = Bytes, Error = Infallible> {
        let mut chunks = Vec::from(chunks).into_iter();
        PollFn(move || {
            Poll::Ready(
                chunks
                    .next()
                    .map(|c| Ok(Frame::data(Bytes::from_static(c)))),
            )
        })
    }

    /// Sends `first`, then nothing, forever: a client that stopped mid-body.
    fn stalls(first: &'static [u8]) -> impl Body<Data = Bytes, Error = Infallible> {
        let mut first = Some(Bytes::from_static(first));
        PollFn(move || match first.take() {
            Some(first) => Poll::Ready(Some(Ok(Frame::data(first)))),
            None => Poll::Pending,
        })
    }

    /// Always ready, never ending: an empty data frame on every poll.
    fn endless() -> impl Body<Data = Bytes, Error = Infallible> {
        PollFn(|| Poll::Ready(Some(Ok(Frame::data(Bytes::new())))))
    }

    fn buffer<B: Body>(body: B, limit: usize) -> Buffer<B>
    where
        B::Error: Into<BoxError>,
    {
        match Buffer::new(&HeaderMap::new(), body, limit, TIMEOUT) {
            Ok(buffer) => buffer,
            Err(_) => panic!("refused before reading"),
        }
    }

    #[test]
    fn a_body_in_one_frame_is_handed_over_without_a_copy() {
        let sent = Bytes::from(vec![7u8; 1024]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let got = runtime
            .block_on(buffer(Full::new(sent.clone()), 4096))
            .unwrap();
        assert_eq!(got, sent);
        assert_eq!(got.as_ptr(), sent.as_ptr(), "the body was copied");
    }

    #[test]
    fn a_body_complete_at_the_first_poll_never_arms_a_timer() {
        // No time driver: creating a Tokio timer here would panic, so this also proves that
        // none was created, not only that none was polled.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let mut buffer = pin!(buffer(frames(&[b"ab", b"cd"]), 4096));
        let mut cx = Context::from_waker(Waker::noop());
        match buffer.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert_eq!(bytes, "abcd"),
            other => panic!("{other:?}"),
        }
        assert!(!buffer.is_timed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_arms_the_timer_at_the_first_wait_and_gets_408() {
        let mut buffer = pin!(buffer(stalls(b"ab"), 4096));
        let start = tokio::time::Instant::now();
        let first = std::future::poll_fn(|cx| Poll::Ready(buffer.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        assert!(buffer.is_timed());
        let err = buffer.await.unwrap_err();
        assert!(
            matches!(err, VerifiedBodyRejection::BodyTimeout(_)),
            "{err:?}"
        );
        assert_eq!(start.elapsed(), TIMEOUT);
    }

    #[tokio::test]
    async fn an_always_ready_endless_body_is_cut_off_at_the_timeout() {
        let timeout = Duration::from_millis(50);
        let buffer = match Buffer::new(&HeaderMap::new(), endless(), 4096, timeout) {
            Ok(buffer) => buffer,
            Err(_) => panic!("refused before reading"),
        };
        let start = std::time::Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(10), buffer).await;
        let err = result.expect("cut off by the body timeout").unwrap_err();
        assert!(
            matches!(err, VerifiedBodyRejection::BodyTimeout(_)),
            "{err:?}"
        );
        assert!(start.elapsed() >= timeout);
    }

    #[tokio::test]
    async fn chunks_are_joined_and_the_limit_counts_all_of_them() {
        let bytes = buffer(frames(&[b"ab", b"", b"cd", b"e"]), 5).await.unwrap();
        assert_eq!(bytes, "abcde");
        let err = buffer(frames(&[b"abc", b"def"]), 5).await.unwrap_err();
        assert!(
            matches!(err, VerifiedBodyRejection::PayloadTooLarge(_)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_body_that_fails_is_refused_with_its_error_as_the_source() {
        #[derive(Debug)]
        struct Reset;
        impl std::fmt::Display for Reset {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connection reset by peer")
            }
        }
        impl std::error::Error for Reset {}

        struct Failing;
        impl Body for Failing {
            type Data = Bytes;
            type Error = Reset;
            fn poll_frame(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, Reset>>> {
                Poll::Ready(Some(Err(Reset)))
            }
        }

        let err = buffer(Failing, 4096).await.unwrap_err();
        let VerifiedBodyRejection::BodyReadFailed(failed) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(
            std::error::Error::source(failed)
                .map(ToString::to_string)
                .as_deref(),
            Some("connection reset by peer")
        );
    }

    #[test]
    fn an_announced_length_over_the_limit_is_refused_before_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, "6".parse().unwrap());
        assert!(Buffer::new(&headers, endless(), 5, TIMEOUT).is_err());
        assert!(
            Buffer::new(
                &HeaderMap::new(),
                Full::new(Bytes::from_static(b"abcdef")),
                5,
                TIMEOUT
            )
            .is_err()
        );
        assert!(Buffer::new(&headers, endless(), 6, TIMEOUT).is_ok());
    }
}
