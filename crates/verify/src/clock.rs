//! Where a verifier gets "now" from, so that tests and replays of recorded deliveries are
//! deterministic.

use std::fmt::Debug;

use time::OffsetDateTime;

/// A source of the current time for timestamp tolerance checks.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system's real-time clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one instant: for tests, and for verifying recorded deliveries.
///
/// # Example
///
/// ```
/// use bookhook_verify::{Clock, FixedClock};
/// use time::OffsetDateTime;
///
/// let at = OffsetDateTime::from_unix_timestamp(1_747_299_612).unwrap();
/// assert_eq!(FixedClock::new(at).now(), at);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(OffsetDateTime);

impl FixedClock {
    /// A clock that always answers `at`.
    pub const fn new(at: OffsetDateTime) -> Self {
        FixedClock(at)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}
