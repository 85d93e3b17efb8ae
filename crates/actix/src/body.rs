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

/// Reads a payload into one buffer, refusing more than `limit` bytes and bodies slower than
/// the body timeout (counted from the first poll).
///
/// A `content-length` above the limit is refused before a byte is read; a body without one
/// (chunked) is refused as soon as the bytes received pass the limit. No decompression: the
/// signature covers the bytes as sent.
pub(crate) struct Collect {
    payload: Payload,
    buf: BytesMut,
    limit: usize,
    timeout: Duration,
    /// Armed on the first poll, inside the runtime (actix-web runs on Tokio's timer).
    deadline: Option<Pin<Box<Sleep>>>,
    refused: Option<VerifiedBodyError>,
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
        // Trust the announced length for the first allocation only when it fits the limit.
        let capacity = match (&refused, length) {
            (None, Some(length)) => length,
            _ => 0,
        };
        Collect {
            payload,
            buf: BytesMut::with_capacity(capacity),
            limit,
            timeout: config.body_timeout,
            deadline: None,
            refused,
        }
    }
}

impl Future for Collect {
    type Output = Result<Bytes, VerifiedBodyError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(err) = this.refused.take() {
            return Poll::Ready(Err(err));
        }
        let timeout = this.timeout;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        loop {
            let next = match Pin::new(&mut this.payload).poll_next(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => {
                    return match deadline.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(VerifiedBodyError::BodyTimeout)),
                        Poll::Pending => Poll::Pending,
                    };
                }
            };
            match next {
                Some(Ok(chunk)) => {
                    if chunk.len() > this.limit - this.buf.len() {
                        return Poll::Ready(Err(VerifiedBodyError::Overflow { limit: this.limit }));
                    }
                    this.buf.extend_from_slice(&chunk);
                }
                Some(Err(err)) => return Poll::Ready(Err(VerifiedBodyError::Payload(err))),
                None => return Poll::Ready(Ok(std::mem::take(&mut this.buf).freeze())),
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
