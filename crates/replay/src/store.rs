//! [`ReplayStore`]: where reservations and committed keys live.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::ReplayKey;

/// The future a store method returns: boxed, `Send` and `'static`, so the trait stays
/// usable as `dyn ReplayStore` (one guard type for every store) and an adapter's response
/// future can hold it without borrowing the store.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// Identifies one reservation, so that releasing it never removes a later reservation of
/// the same key (one made after this one's lease ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token(pub u64);

/// What [`ReplayStore::reserve`] found.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// The key was free: it is now reserved under this token, for the lease.
    Reserved(Token),
    /// Another delivery with the key is being handled.
    InFlight,
    /// An earlier delivery with the key was answered 2xx, within the window.
    Committed,
}

/// A store failed: the guard answers `503`, never lets the delivery through.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The in-memory store holds its maximum of unexpired entries.
    #[error("replay store full ({capacity} unexpired entries)")]
    Full {
        /// The configured maximum.
        capacity: usize,
    },
    /// The store could not be reached or did not answer in time.
    #[error("replay store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A store of replay keys: an atomic reserve, then commit or release.
///
/// Implementations must make [`reserve`](Self::reserve) atomic across every process that
/// shares the store: two concurrent calls with the same free key reserve it once.
pub trait ReplayStore: fmt::Debug + Send + Sync + 'static {
    /// Reserves `key` for `lease` if it is free (absent or expired).
    fn reserve(&self, key: ReplayKey, lease: Duration) -> StoreFuture<Reserve>;

    /// Marks `key` as handled for `window` (from now), whatever became of the reservation:
    /// the handler answered 2xx, so the delivery was processed.
    fn commit(&self, key: ReplayKey, token: Token, window: Duration) -> StoreFuture<()>;

    /// Frees `key` if it is still reserved under `token`, so the provider's retry goes
    /// through.
    fn release(&self, key: ReplayKey, token: Token) -> StoreFuture<()>;
}

impl<S: ReplayStore + ?Sized> ReplayStore for std::sync::Arc<S> {
    fn reserve(&self, key: ReplayKey, lease: Duration) -> StoreFuture<Reserve> {
        (**self).reserve(key, lease)
    }

    fn commit(&self, key: ReplayKey, token: Token, window: Duration) -> StoreFuture<()> {
        (**self).commit(key, token, window)
    }

    fn release(&self, key: ReplayKey, token: Token) -> StoreFuture<()> {
        (**self).release(key, token)
    }
}
