//! Reading a request body into memory, bounded in size and in time.
//!
//! Both the middleware and the standalone extractors buffer through [`Buffer`], so they
//! refuse the same requests with the same rejections.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use crate::rejection::{BodyReadFailed, BodyTimeout, PayloadTooLarge, VerifiedBodyRejection};

/// A boxed error, as `tower` and `axum` spell it.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many frames one `poll` reads before yielding, so that a body that is always ready
/// (e.g. endless empty frames) cannot monopolise the executor thread.
const FRAMES_PER_POLL: usize = 64;

/// Refuses, before reading anything, a body that declares more than `limit` bytes: by its
/// `content-length` header or by its own size hint (a full in-memory body knows its size).
pub(crate) fn declared_too_large<B: Body>(headers: &HeaderMap, body: &B, limit: usize) -> bool {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    declared.is_some_and(|len| len > limit) || body.size_hint().lower() > limit
}

pin_project! {
    /// Collects a body into one `Bytes`, refusing it once it exceeds the limit or once the
    /// deadline passes.
    pub(crate) struct Buffer<B> {
        #[pin]
        body: B,
        #[pin]
        deadline: Option<Sleep>,
        timeout: Duration,
        buf: BytesMut,
        limit: usize,
    }
}

impl<B> Buffer<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Starts the deadline now.
    ///
    /// The deadline needs a Tokio runtime with its timer enabled, as every axum or hyper
    /// server on Tokio has. Outside any Tokio runtime the body is read without a deadline
    /// rather than panicking on a request.
    pub(crate) fn new(body: B, limit: usize, timeout: Duration) -> Self {
        let deadline = tokio::runtime::Handle::try_current()
            .ok()
            .map(|_| tokio::time::sleep(timeout));
        let hint = body.size_hint().exact().unwrap_or(0);
        let capacity = usize::try_from(hint).unwrap_or(limit).min(limit);
        Buffer {
            body,
            deadline,
            timeout,
            buf: BytesMut::with_capacity(capacity),
            limit,
        }
    }
}

impl<B> Future for Buffer<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Bytes, VerifiedBodyRejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        for _ in 0..FRAMES_PER_POLL {
            let frame = match this.body.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    if let Some(deadline) = this.deadline.as_mut().as_pin_mut() {
                        ready!(deadline.poll(cx));
                        let timeout = BodyTimeout::new(*this.timeout);
                        return Poll::Ready(Err(timeout.into()));
                    }
                    return Poll::Pending;
                }
            };
            match frame {
                None => return Poll::Ready(Ok(std::mem::take(this.buf).freeze())),
                Some(Err(err)) => {
                    return Poll::Ready(Err(BodyReadFailed::new(err.into()).into()));
                }
                Some(Ok(frame)) => {
                    // Trailers are not part of what providers sign: skip them.
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    let len = this.buf.len().saturating_add(data.remaining());
                    if len > *this.limit {
                        return Poll::Ready(Err(PayloadTooLarge::new(*this.limit).into()));
                    }
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        let n = chunk.len();
                        this.buf.extend_from_slice(chunk);
                        data.advance(n);
                    }
                }
            }
        }
        // The deadline also bounds a body that is always ready but never ends.
        if let Some(deadline) = this.deadline.as_mut().as_pin_mut() {
            if deadline.poll(cx).is_ready() {
                return Poll::Ready(Err(BodyTimeout::new(*this.timeout).into()));
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
