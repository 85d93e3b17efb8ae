use std::time::Duration;

use bookhook_replay::ReplayGuard;
use bookhook_verify::Verifier;
use tower_layer::Layer;

use super::Verify;
use crate::{DEFAULT_BODY_TIMEOUT, DEFAULT_LIMIT};

/// Applies [`Verify`] to a service: buffers the body (bounded in size and time), verifies it
/// with one route's [`Verifier`], and calls the service only with a verified request.
///
/// A plain configuration value: cheap to clone (the verifier is reference-counted), `Debug`
/// without secrets (the verifier's `Debug` is redacted).
///
/// It is also the configuration the standalone extractors accept from the router state
/// (see [`VerifierSource`](crate::VerifierSource)).
///
/// See the [module docs](crate::verify) for an example.
#[derive(Debug, Clone)]
#[must_use]
pub struct VerifyLayer {
    pub(crate) verifier: Verifier,
    pub(crate) limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) replay: Option<ReplayGuard>,
}

impl VerifyLayer {
    /// Verifies with `verifier`, a body limit of [`DEFAULT_LIMIT`] (256 KiB) and a body
    /// timeout of [`DEFAULT_BODY_TIMEOUT`] (10 s).
    pub fn new(verifier: Verifier) -> Self {
        VerifyLayer {
            verifier,
            limit: DEFAULT_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            replay: None,
        }
    }

    /// Admits each verified delivery at most once per window, between verification and the
    /// inner service (see [`bookhook_replay`]): a new key is reserved and the service runs;
    /// its 2xx commits the key, any other status releases it. The same key again answers
    /// `200 duplicate delivery` without calling the service once committed, `409` while in
    /// flight, and `503` when the store fails — never an unguarded call.
    ///
    /// The standalone extractors (used without this layer) are not guarded.
    pub fn replay_guard(mut self, guard: ReplayGuard) -> Self {
        self.replay = Some(guard);
        self
    }

    /// The replay guard, if any.
    pub fn guard(&self) -> Option<&ReplayGuard> {
        self.replay.as_ref()
    }

    /// The largest body accepted, in bytes; a larger one is answered `413 Payload Too Large`,
    /// without reading it when its `content-length` says so.
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// How long the client may take to send the whole body; a slower one is answered
    /// `408 Request Timeout`, however slowly bytes keep coming.
    ///
    /// The clock starts the first time reading the body has to wait for the client, which
    /// is right after the middleware has taken whatever part of the body had already
    /// arrived. A body that had arrived whole by then (the usual webhook of a few KiB) is
    /// read without starting a timer at all; any other gets `timeout` from that moment.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The body limit, in bytes.
    pub fn body_limit(&self) -> usize {
        self.limit
    }

    /// The body timeout.
    pub fn timeout(&self) -> Duration {
        self.body_timeout
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = Verify<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Verify::from_layer(inner, self.clone())
    }
}

#[cfg(test)]
mod tests {
    use bookhook_replay::MemoryStore;
    use bookhook_verify::Provider;

    use super::*;

    fn verifier() -> Verifier {
        Verifier::builder(Provider::CalCom)
            .secret("calcom-secret")
            .build()
            .unwrap()
    }

    #[test]
    fn a_new_layer_has_the_documented_defaults_and_no_guard() {
        let layer = VerifyLayer::new(verifier());
        assert_eq!(layer.body_limit(), 256 * 1024);
        assert_eq!(layer.timeout(), Duration::from_secs(10));
        assert!(layer.guard().is_none());
    }

    #[test]
    fn the_replay_guard_given_is_the_one_the_layer_reports() {
        for pass in [false, true] {
            let layer = VerifyLayer::new(verifier())
                .replay_guard(ReplayGuard::new(MemoryStore::new(8)).pass_duplicates(pass));
            assert_eq!(
                layer.guard().map(ReplayGuard::passes_duplicates),
                Some(pass)
            );
        }
    }
}
