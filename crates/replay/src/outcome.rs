//! [`ReplayOutcome`]: what the guard answers instead of running the handler.

use std::fmt;

use http::StatusCode;

/// Why the guard answered a verified delivery itself, with a stable label for logs and
/// metrics (the same `cause` field as `bookhook_verify::RejectionCause`'s labels, which
/// never collide with these).
///
/// A separate type from `RejectionCause`, on purpose: that one is the list of *refusals*
/// of the rejection table, decided by verification or by reading the body, all 4xx/5xx.
/// A duplicate is *accepted* (`200`, the provider must stop retrying) and the other
/// outcomes depend on a store, which `bookhook-verify` (pure, no I/O) knows nothing of.
/// Folding them in would make every "refused" counter count accepted duplicates and give
/// the verifier's enum states it can never produce.
///
/// ```
/// use bookhook_replay::ReplayOutcome;
///
/// assert_eq!(ReplayOutcome::Duplicate.as_str(), "duplicate");
/// assert_eq!(ReplayOutcome::Duplicate.status(), 200);
/// assert_eq!(ReplayOutcome::InFlight.status(), 409);
/// assert_eq!(ReplayOutcome::StoreUnavailable.status(), 503);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReplayOutcome {
    /// The key was committed by an earlier delivery that was answered 2xx: `200`, the
    /// handler does not run.
    Duplicate,
    /// The key is reserved by a delivery still being handled: `409`, the provider retries.
    InFlight,
    /// The store did not answer (down, timed out): `503`, never let through unguarded.
    StoreUnavailable,
    /// The in-memory store is full of unexpired keys: `503` (see `MemoryStore`).
    StoreFull,
}

impl ReplayOutcome {
    /// Every outcome, in a stable order.
    pub const ALL: [ReplayOutcome; 4] = [
        ReplayOutcome::Duplicate,
        ReplayOutcome::InFlight,
        ReplayOutcome::StoreUnavailable,
        ReplayOutcome::StoreFull,
    ];

    /// The stable lowercase label, for the `cause` field of logs and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReplayOutcome::Duplicate => "duplicate",
            ReplayOutcome::InFlight => "in_flight",
            ReplayOutcome::StoreUnavailable => "replay_store_unavailable",
            ReplayOutcome::StoreFull => "replay_store_full",
        }
    }

    /// The status to answer with.
    pub const fn status(self) -> StatusCode {
        match self {
            ReplayOutcome::Duplicate => StatusCode::OK,
            ReplayOutcome::InFlight => StatusCode::CONFLICT,
            ReplayOutcome::StoreUnavailable | ReplayOutcome::StoreFull => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The short `text/plain` body.
    pub const fn body_text(self) -> &'static str {
        match self {
            ReplayOutcome::Duplicate => "duplicate delivery",
            ReplayOutcome::InFlight => "delivery in flight",
            ReplayOutcome::StoreUnavailable => "replay store unavailable",
            ReplayOutcome::StoreFull => "replay store full",
        }
    }

    /// Whether the delivery was accepted (answered 2xx) rather than refused.
    pub const fn is_accepted(self) -> bool {
        matches!(self, ReplayOutcome::Duplicate)
    }

    /// Logs the outcome with the fields of the adapters' `webhook refused` line: a duplicate
    /// at `info` (`webhook duplicate`: not a refusal), a conflict at `warn`, a store fault at
    /// `error`.
    pub fn log(self, provider: bookhook_verify::Provider) {
        let provider = provider.as_str();
        let cause = self.as_str();
        let status = self.status().as_u16();
        match self {
            ReplayOutcome::Duplicate => {
                tracing::info!(provider, cause, status, "webhook duplicate");
            }
            ReplayOutcome::InFlight => {
                tracing::warn!(
                    provider,
                    cause,
                    status,
                    reason = self.body_text(),
                    "webhook refused"
                );
            }
            ReplayOutcome::StoreUnavailable | ReplayOutcome::StoreFull => {
                tracing::error!(
                    provider,
                    cause,
                    status,
                    reason = self.body_text(),
                    "webhook refused"
                );
            }
        }
    }
}

impl fmt::Display for ReplayOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use bookhook_verify::RejectionCause;

    use super::*;

    #[test]
    fn labels_never_collide_with_rejection_causes() {
        for outcome in ReplayOutcome::ALL {
            assert!(
                RejectionCause::ALL
                    .iter()
                    .all(|c| c.as_str() != outcome.as_str()),
                "{outcome}"
            );
        }
    }

    #[test]
    fn only_a_duplicate_is_accepted() {
        for outcome in ReplayOutcome::ALL {
            assert_eq!(
                outcome.is_accepted(),
                outcome.status().is_success(),
                "{outcome}"
            );
        }
    }
}
