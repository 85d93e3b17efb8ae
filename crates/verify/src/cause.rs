//! [`RejectionCause`]: the one list of reasons a webhook request is refused, with the stable
//! labels that logs and metrics use, shared by both adapters, the CRM-sync service and the
//! CLI, so that a dashboard reads the same word whichever of them refused.

use core::fmt;

use http::StatusCode;

/// Why a request was refused: by verification ([`VerifyError::cause`](crate::VerifyError::cause)),
/// while reading the body, or while parsing the verified body (the adapters).
///
/// [`as_str`](Self::as_str) is the stable lowercase label, [`status`](Self::status) the
/// status of the rejection table.
///
/// ```
/// use bookhook_verify::{RejectionCause, VerifyError};
///
/// let cause = VerifyError::SignatureMismatch.cause();
/// assert_eq!(cause, RejectionCause::SignatureMismatch);
/// assert_eq!(cause.as_str(), "signature_mismatch");
/// assert_eq!(cause.status(), 401);
/// assert_eq!(cause, "signature_mismatch"); // compares with its label
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectionCause {
    /// A header the scheme requires is absent (401).
    MissingHeader,
    /// The URL token is absent (401).
    MissingToken,
    /// A signature, timestamp or id header does not parse (400).
    Malformed,
    /// No signature entry matches an active secret (401).
    SignatureMismatch,
    /// The URL token matches no active token (401).
    TokenMismatch,
    /// The signed timestamp is older than the tolerance (401).
    TimestampTooOld,
    /// The signed timestamp is further ahead than the tolerance (401).
    TimestampInFuture,
    /// The verifier has no secret (500).
    NoSecret,
    /// The body is, or announces, more than the limit (413).
    PayloadTooLarge,
    /// The body did not arrive within the body timeout (408).
    BodyTimeout,
    /// The body could not be read, e.g. the client went away mid-body (400).
    BodyReadFailed,
    /// The route has no verifier configured: a wiring mistake (500).
    NotConfigured,
    /// The verified body is not the provider's JSON envelope (400).
    InvalidJson,
    /// The route parses another provider's events: a wiring mistake (500).
    WrongProvider,
    /// The verified body could not be turned into the handler's type otherwise (500).
    InvalidEvent,
}

impl RejectionCause {
    /// Every cause, in a stable order.
    pub const ALL: [RejectionCause; 15] = [
        RejectionCause::MissingHeader,
        RejectionCause::MissingToken,
        RejectionCause::Malformed,
        RejectionCause::SignatureMismatch,
        RejectionCause::TokenMismatch,
        RejectionCause::TimestampTooOld,
        RejectionCause::TimestampInFuture,
        RejectionCause::NoSecret,
        RejectionCause::PayloadTooLarge,
        RejectionCause::BodyTimeout,
        RejectionCause::BodyReadFailed,
        RejectionCause::NotConfigured,
        RejectionCause::InvalidJson,
        RejectionCause::WrongProvider,
        RejectionCause::InvalidEvent,
    ];

    /// The stable lowercase label, for log fields and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectionCause::MissingHeader => "missing_header",
            RejectionCause::MissingToken => "missing_token",
            RejectionCause::Malformed => "malformed",
            RejectionCause::SignatureMismatch => "signature_mismatch",
            RejectionCause::TokenMismatch => "token_mismatch",
            RejectionCause::TimestampTooOld => "timestamp_too_old",
            RejectionCause::TimestampInFuture => "timestamp_in_future",
            RejectionCause::NoSecret => "no_secret",
            RejectionCause::PayloadTooLarge => "payload_too_large",
            RejectionCause::BodyTimeout => "body_timeout",
            RejectionCause::BodyReadFailed => "body_read_failed",
            RejectionCause::NotConfigured => "not_configured",
            RejectionCause::InvalidJson => "invalid_json",
            RejectionCause::WrongProvider => "wrong_provider",
            RejectionCause::InvalidEvent => "invalid_event",
        }
    }

    /// The status of the rejection table: 401 for a missing or wrong credential or a stale
    /// timestamp, 400 for what does not parse or could not be read, 408, 413, and 500 for
    /// the service's own wiring mistakes.
    pub const fn status(self) -> StatusCode {
        match self {
            RejectionCause::MissingHeader
            | RejectionCause::MissingToken
            | RejectionCause::SignatureMismatch
            | RejectionCause::TokenMismatch
            | RejectionCause::TimestampTooOld
            | RejectionCause::TimestampInFuture => StatusCode::UNAUTHORIZED,
            RejectionCause::Malformed
            | RejectionCause::BodyReadFailed
            | RejectionCause::InvalidJson => StatusCode::BAD_REQUEST,
            RejectionCause::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RejectionCause::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            RejectionCause::NoSecret
            | RejectionCause::NotConfigured
            | RejectionCause::WrongProvider
            | RejectionCause::InvalidEvent => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for RejectionCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for RejectionCause {
    fn eq(&self, label: &str) -> bool {
        self.as_str() == label
    }
}

impl PartialEq<&str> for RejectionCause {
    fn eq(&self, label: &&str) -> bool {
        self.as_str() == *label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_lowercase_words() {
        let mut labels: Vec<_> = RejectionCause::ALL.iter().map(|c| c.as_str()).collect();
        assert!(
            labels
                .iter()
                .all(|l| l.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), RejectionCause::ALL.len());
    }

    #[test]
    fn a_cause_prints_and_compares_as_its_label() {
        for cause in RejectionCause::ALL {
            let label = cause.as_str();
            assert_eq!(cause.to_string(), label);
            assert_eq!(format!("{cause:>1}"), label);
            assert!(cause == *label && cause == label, "{label}");
            for other in RejectionCause::ALL.into_iter().filter(|c| *c != cause) {
                assert!(
                    cause != *other.as_str() && cause != other.as_str(),
                    "{label}"
                );
            }
        }
        assert!(RejectionCause::Malformed != *"");
        assert!(RejectionCause::Malformed != "Malformed");
    }

    #[test]
    fn statuses_follow_the_rejection_table() {
        let status = |c: RejectionCause| c.status().as_u16();
        assert_eq!(status(RejectionCause::SignatureMismatch), 401);
        assert_eq!(status(RejectionCause::TimestampInFuture), 401);
        assert_eq!(status(RejectionCause::Malformed), 400);
        assert_eq!(status(RejectionCause::InvalidJson), 400);
        assert_eq!(status(RejectionCause::PayloadTooLarge), 413);
        assert_eq!(status(RejectionCause::BodyTimeout), 408);
        assert_eq!(status(RejectionCause::NotConfigured), 500);
        assert_eq!(status(RejectionCause::WrongProvider), 500);
    }
}
