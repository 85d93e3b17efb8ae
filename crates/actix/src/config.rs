//! Per-route configuration: which verifier, and how many body bytes to buffer.

use std::time::Duration;

use actix_web::{HttpRequest, web};
use bookhook_replay::ReplayGuard;
use bookhook_verify::Verifier;

/// The body limit when none is set: 256 KiB, as actix-web's own `PayloadConfig`.
pub const DEFAULT_LIMIT: usize = 256 * 1024;

/// How long a body may take to arrive when none is set: 10 s, as `bookhook-axum`. Webhook
/// senders post a few KiB at once; a body that trickles in (slowloris) would otherwise hold
/// a worker and a buffer for as long as the client likes.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a route verifies deliveries with: a [`Verifier`] and a body limit.
///
/// The extractors look it up from the request's `app_data::<VerifyConfig>()`, then from
/// `app_data::<web::Data<VerifyConfig>>()`, so each `App`, `Scope` or `Resource` can carry
/// its own provider and secrets. The [`Verify`](crate::Verify) middleware takes it directly.
///
/// Cloning is cheap (a reference count); `Debug` never shows a secret.
///
/// # Example
///
/// ```
/// use actix_web::{App, web};
/// use bookhook_actix::VerifyConfig;
/// use bookhook_verify::{Provider, Verifier};
///
/// let slatis = Verifier::builder(Provider::Slatis).secrets("whsec_a").build()?;
/// let calcom = Verifier::builder(Provider::CalCom).secrets("calcom_secret").build()?;
///
/// let app = App::new()
///     .service(web::scope("/slatis").app_data(VerifyConfig::new(slatis)))
///     .service(web::scope("/calcom").app_data(VerifyConfig::new(calcom).limit(64 * 1024)));
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub(crate) verifier: Verifier,
    pub(crate) limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) replay: Option<ReplayGuard>,
}

impl VerifyConfig {
    /// Verifies with `verifier`, buffering at most [`DEFAULT_LIMIT`] bytes of body.
    ///
    /// A verifier without secrets ([`Verifier::unconfigured`]) is logged at `error` level
    /// here, once at start-up, and answers every delivery with 500.
    pub fn new(verifier: Verifier) -> Self {
        if !verifier.is_configured() {
            tracing::error!(
                provider = verifier.provider().as_str(),
                "no secret configured: every delivery to this route will be refused with 500"
            );
        }
        VerifyConfig {
            verifier,
            limit: DEFAULT_LIMIT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            replay: None,
        }
    }

    /// Admits each verified delivery at most once per window, in the [`Verify`](crate::Verify)
    /// middleware between verification and the inner service (see [`bookhook_replay`]): a
    /// new key is reserved and the service runs; its 2xx commits the key, any other status
    /// releases it. The same key again answers `200 duplicate delivery` without calling the
    /// service once committed, `409` while in flight, and `503` when the store fails —
    /// never an unguarded call.
    ///
    /// Only the middleware applies it: the extractors used alone are not guarded.
    #[must_use]
    pub fn replay_guard(mut self, guard: ReplayGuard) -> Self {
        self.replay = Some(guard);
        self
    }

    /// The replay guard, if any.
    pub fn guard(&self) -> Option<&ReplayGuard> {
        self.replay.as_ref()
    }

    /// Sets the largest body, in bytes, that is buffered and verified; a larger one is
    /// refused with 413 (before reading, when its `content-length` already says so).
    #[must_use]
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// Sets how long the whole body may take to arrive; a slower body is refused with 408
    /// (default [`DEFAULT_BODY_TIMEOUT`]), however slowly bytes keep coming.
    ///
    /// The clock starts the first time reading the body has to wait for the client, right
    /// after taking whatever part of it had already arrived; a body that had arrived whole
    /// by then is read without a timer.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Finds the route's configuration: `VerifyConfig`, then `web::Data<VerifyConfig>`.
    pub(crate) fn from_req(req: &HttpRequest) -> Option<&Self> {
        req.app_data::<Self>()
            .or_else(|| req.app_data::<web::Data<Self>>().map(|data| data.get_ref()))
    }
}

impl From<Verifier> for VerifyConfig {
    fn from(verifier: Verifier) -> Self {
        VerifyConfig::new(verifier)
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
    fn a_new_config_has_the_documented_defaults_and_no_guard() {
        let config = VerifyConfig::new(verifier());
        assert_eq!(config.limit, 256 * 1024);
        assert_eq!(config.body_timeout, Duration::from_secs(10));
        assert!(config.guard().is_none());
    }

    #[test]
    fn the_replay_guard_given_is_the_one_the_config_reports() {
        for pass in [false, true] {
            let config = VerifyConfig::new(verifier())
                .replay_guard(ReplayGuard::new(MemoryStore::new(8)).pass_duplicates(pass));
            assert_eq!(
                config.guard().map(ReplayGuard::passes_duplicates),
                Some(pass)
            );
        }
    }
}
