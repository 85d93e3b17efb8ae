//! Clocks: the system's Unix time, and a stopped one for verifiers.

use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{FixedClock, Provider, Verifier};

/// The current Unix time, in seconds (0 if the system clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A clock stopped at Unix time `unix`.
///
/// # Panics
///
/// If `unix` is outside the range `time` represents.
pub fn fixed_at(unix: i64) -> FixedClock {
    FixedClock::new(OffsetDateTime::from_unix_timestamp(unix).expect("a valid Unix time"))
}

/// A verifier of `provider` holding `secrets` in order, its clock stopped at `unix`.
///
/// # Panics
///
/// If a secret is invalid for `provider` (see [`VerifierBuilder`] for the error instead).
///
/// [`VerifierBuilder`]: bookhook_verify::VerifierBuilder
pub fn verifier_at(provider: Provider, secrets: &[&str], unix: i64) -> Verifier {
    secrets
        .iter()
        .fold(Verifier::builder(provider), |b, s| b.secret(s))
        .clock(fixed_at(unix))
        .build()
        .expect("valid test secrets")
}
