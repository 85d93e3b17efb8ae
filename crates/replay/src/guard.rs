//! [`ReplayGuard`]: the contract the adapters apply between verification and the handler.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bookhook_verify::Verified;

use crate::store::{ReplayStore, Reserve, StoreError, Token};
use crate::{ReplayKey, ReplayOutcome};

/// How long the window is, by default, for schemes that sign no timestamp: see the crate
/// docs, "Windows".
pub const DEFAULT_UNTIMED_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a reservation holds a key while its handler runs, by default. It only matters
/// when the process handling it dies (a shared store: another replica may take the key over
/// after it) or when the handler outlives it; a finished handler commits or releases first.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Admits each verified delivery at most once per window: see the crate docs.
///
/// A plain configuration value, cheap to clone (the store is reference-counted).
#[derive(Clone)]
#[must_use]
pub struct ReplayGuard {
    store: Arc<dyn ReplayStore>,
    untimed_window: Duration,
    timed_window: Option<Duration>,
    lease: Duration,
    pass_duplicates: bool,
}

/// Marks a request the guard passed to the handler although it is a duplicate (see
/// [`ReplayGuard::pass_duplicates`]); the adapters put it in the request extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateDelivery;

/// What the guard decided for one delivery.
#[must_use]
#[derive(Debug)]
pub enum Admission {
    /// New: run the handler, then [`settle`](Reservation::settle) with its answer.
    First(Reservation),
    /// Answer it without the handler: see [`ReplayOutcome`]. The store error, if any, is
    /// the cause of a `503`.
    Answered(ReplayOutcome, Option<StoreError>),
}

impl Admission {
    /// The outcome when the guard answered, `None` when the handler is to run.
    pub fn outcome(&self) -> Option<ReplayOutcome> {
        match self {
            Admission::First(_) => None,
            Admission::Answered(outcome, _) => Some(*outcome),
        }
    }
}

/// A key reserved for one delivery while its handler runs.
///
/// [`settle`](Self::settle) it with whether the handler answered 2xx. Dropped unsettled
/// (the request was cancelled, e.g. the client went away), it is released in a spawned task
/// when a tokio runtime is running, else it lapses at the end of its lease.
#[must_use = "settle the reservation with the handler's answer"]
pub struct Reservation {
    store: Arc<dyn ReplayStore>,
    key: ReplayKey,
    token: Token,
    window: Duration,
    settled: bool,
}

/// Committing or releasing a reservation failed (the store went away meanwhile).
#[derive(Debug, thiserror::Error)]
#[error("could not {action} the replay key: {source}")]
pub struct GuardSettleError {
    action: &'static str,
    #[source]
    source: StoreError,
}

impl ReplayGuard {
    /// A guard over `store`, with the default windows and lease.
    pub fn new(store: impl ReplayStore) -> Self {
        ReplayGuard {
            store: Arc::new(store),
            untimed_window: DEFAULT_UNTIMED_WINDOW,
            timed_window: None,
            lease: DEFAULT_LEASE,
            pass_duplicates: false,
        }
    }

    /// Instead of answering a duplicate `200 duplicate delivery` itself, let the adapter call
    /// the handler with a [`DuplicateDelivery`] marker in the request extensions (its answer
    /// then goes out as is, and the key is neither committed again nor released). Still
    /// logged as a duplicate. For handlers that want to answer duplicates their own way.
    pub fn pass_duplicates(mut self, pass: bool) -> Self {
        self.pass_duplicates = pass;
        self
    }

    /// Whether duplicates reach the handler, marked (see [`pass_duplicates`](Self::pass_duplicates)).
    pub fn passes_duplicates(&self) -> bool {
        self.pass_duplicates
    }

    /// How long a key is kept for schemes without a signed timestamp (default 24 h).
    pub fn untimed_window(mut self, window: Duration) -> Self {
        self.untimed_window = window;
        self
    }

    /// How long a key is kept for timestamped schemes (default: twice the verifier's
    /// tolerance, after which the timestamp check refuses a replay anyway).
    pub fn timed_window(mut self, window: Duration) -> Self {
        self.timed_window = Some(window);
        self
    }

    /// How long a key stays reserved while its handler runs (default 60 s).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ReplayStore> {
        &self.store
    }

    /// How long `verified`'s key is kept after a 2xx, for a verifier with `tolerance`.
    pub fn window(&self, verified: &Verified, tolerance: Duration) -> Duration {
        if verified.timestamp().is_some() {
            self.timed_window
                .unwrap_or_else(|| tolerance.saturating_mul(2))
        } else {
            self.untimed_window
        }
    }

    /// Decides whether the handler may run for this verified delivery; `body` is the
    /// verified body and `tolerance` the verifier's. The key is computed now (hashing the
    /// body if the scheme signs no delivery id); the returned future owns all it needs.
    pub fn admit(
        &self,
        verified: &Verified,
        tolerance: Duration,
        body: &[u8],
    ) -> impl Future<Output = Admission> + Send + 'static {
        let key = ReplayKey::of(verified, body);
        let window = self.window(verified, tolerance);
        let store = self.store.clone();
        let reserve = self.store.reserve(key, self.lease);
        async move {
            let admission = match reserve.await {
                Ok(Reserve::Reserved(token)) => Admission::First(Reservation {
                    store,
                    key,
                    token,
                    window,
                    settled: false,
                }),
                Ok(Reserve::InFlight) => Admission::Answered(ReplayOutcome::InFlight, None),
                Ok(Reserve::Committed) => Admission::Answered(ReplayOutcome::Duplicate, None),
                Err(err @ StoreError::Full { .. }) => {
                    Admission::Answered(ReplayOutcome::StoreFull, Some(err))
                }
                Err(err) => Admission::Answered(ReplayOutcome::StoreUnavailable, Some(err)),
            };
            if let Admission::Answered(outcome, err) = &admission {
                outcome.log(key.provider());
                if let Some(err) = err {
                    tracing::error!(provider = key.provider().as_str(), error = %err, "replay store");
                }
            }
            admission
        }
    }
}

impl Reservation {
    /// The key reserved.
    pub fn key(&self) -> ReplayKey {
        self.key
    }

    /// Commits the key for the window when the handler answered 2xx (`success`), else
    /// releases it so that the provider's retry goes through.
    ///
    /// # Errors
    ///
    /// The store failed. After a 2xx the delivery *was* handled: answer the handler's
    /// response anyway; the key stays reserved until its lease ends, so a retry meanwhile
    /// is answered `409`.
    pub async fn settle(mut self, success: bool) -> Result<(), GuardSettleError> {
        self.settled = true;
        let (action, result) = if success {
            (
                "commit",
                self.store.commit(self.key, self.token, self.window).await,
            )
        } else {
            ("release", self.store.release(self.key, self.token).await)
        };
        result.map_err(|source| {
            tracing::error!(provider = self.key.provider().as_str(), error = %source, action, "replay store");
            GuardSettleError { action, source }
        })
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // The store's method does its work when called (the in-memory store) or when its
        // future is polled (Redis): poll it on the runtime if there is one.
        let release = self.store.release(self.key, self.token);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(release);
        }
    }
}

impl fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("store", &self.store)
            .field("untimed_window", &self.untimed_window)
            .field("timed_window", &self.timed_window)
            .field("lease", &self.lease)
            .field("pass_duplicates", &self.pass_duplicates)
            .finish()
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("key", &self.key)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}
