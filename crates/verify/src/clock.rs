//! Where a verifier gets "now" from, so that tests and replays of recorded deliveries are
//! deterministic.

use std::fmt::Debug;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// A source of the current time for timestamp tolerance checks.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;

    /// The current time in whole seconds since the Unix epoch (rounded down), which is what
    /// a tolerance check compares. The default converts [`now`](Self::now); a clock that can
    /// answer directly overrides it, since it is asked once per timestamped delivery.
    fn now_unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

/// The system's real-time clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// From `SystemTime` directly, without building a calendar date.
    fn now_unix(&self) -> i64 {
        unix_seconds(SystemTime::now())
    }
}

/// `at` in whole seconds since the Unix epoch, rounded down (towards the past), as
/// `OffsetDateTime::unix_timestamp` counts; saturating at the ends of `i64`.
fn unix_seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        // Before 1970 (a badly set clock): round down, as `unix_timestamp` does.
        Err(before) => {
            let before = before.duration();
            let secs = before.as_secs() + u64::from(before.subsec_nanos() > 0);
            i64::try_from(secs).map_or(i64::MIN, |s| -s)
        }
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
pub struct FixedClock {
    at: OffsetDateTime,
    unix: i64,
}

impl FixedClock {
    /// A clock that always answers `at`.
    pub const fn new(at: OffsetDateTime) -> Self {
        FixedClock {
            at,
            unix: at.unix_timestamp(),
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.at
    }

    fn now_unix(&self) -> i64 {
        self.unix
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Unix seconds as `std` counts them, read before and after `f`.
    fn std_unix_around(f: impl FnOnce() -> i64) -> (i64, i64, i64) {
        let secs = || {
            let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            i64::try_from(since.as_secs()).unwrap()
        };
        let before = secs();
        let value = f();
        (before, value, secs())
    }

    #[test]
    fn system_clock_reads_the_real_time_of_std_system_time() {
        let (before, unix, after) = std_unix_around(|| SystemClock.now_unix());
        assert!(
            before <= unix && unix <= after,
            "{before} <= {unix} <= {after}"
        );
        let (before, unix, after) = std_unix_around(|| SystemClock.now().unix_timestamp());
        assert!(
            before <= unix && unix <= after,
            "{before} <= {unix} <= {after}"
        );
    }

    #[test]
    fn unix_seconds_rounds_down_on_both_sides_of_the_epoch_like_offset_date_time() {
        let cases = [
            (UNIX_EPOCH, 0),
            (UNIX_EPOCH + Duration::new(1, 0), 1),
            (
                UNIX_EPOCH + Duration::new(1_780_000_000, 999_999_999),
                1_780_000_000,
            ),
            (UNIX_EPOCH - Duration::new(0, 1), -1),
            (UNIX_EPOCH - Duration::new(1, 0), -1),
            (UNIX_EPOCH - Duration::new(1, 1), -2),
            (UNIX_EPOCH - Duration::new(2, 500_000_000), -3),
            (UNIX_EPOCH - Duration::new(86_400 * 365, 0), -31_536_000),
        ];
        for (at, expected) in cases {
            assert_eq!(unix_seconds(at), expected, "{at:?}");
            assert_eq!(
                OffsetDateTime::from(at).unix_timestamp(),
                expected,
                "{at:?}"
            );
        }
    }

    /// A clock that only says `now`: `now_unix` is the trait's default.
    #[derive(Debug)]
    struct CalendarClock(OffsetDateTime);

    impl Clock for CalendarClock {
        fn now(&self) -> OffsetDateTime {
            self.0
        }
    }

    #[test]
    fn default_now_unix_is_the_unix_time_of_now() {
        for unix in [-86_400, -1, 0, 1, 1_780_000_000] {
            let at = OffsetDateTime::from_unix_timestamp(unix).unwrap();
            assert_eq!(CalendarClock(at).now_unix(), unix);
        }
    }

    #[test]
    fn unix_now_agrees_with_now() {
        let system = SystemClock.now().unix_timestamp();
        assert!(SystemClock.now_unix().abs_diff(system) <= 1);
        for unix in [0, 1_780_000_000, -1, 253_402_300_799] {
            let clock = FixedClock::new(OffsetDateTime::from_unix_timestamp(unix).unwrap());
            assert_eq!(clock.now_unix(), unix);
            assert_eq!(clock.now().unix_timestamp(), unix);
        }
    }
}
