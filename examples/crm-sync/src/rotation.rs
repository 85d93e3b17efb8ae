//! The rotation panel's numbers: verified deliveries per provider and secret index over the
//! last 24 hours, so an operator sees when the old secret has stopped matching and can be
//! removed.
//!
//! Kept in memory, in 24 hourly buckets per (provider, secret index): a restart starts the
//! window over (the admin page says since when it counts), which is honest and needs no
//! write on the ack path. The window is therefore between 23 and 24 hours wide, by the hour.
//! The lifetime totals are in `/metrics` (`crm_sync_secret_matches_total`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

const HOURS: usize = 24;

#[derive(Debug, Default, Clone, Copy)]
struct Buckets {
    /// For each slot, the hour (Unix seconds / 3600) its count belongs to.
    hour: [i64; HOURS],
    count: [u64; HOURS],
}

/// Matches per (provider, secret index) in hourly buckets.
#[derive(Debug)]
pub struct Rotation {
    since: OffsetDateTime,
    buckets: Mutex<BTreeMap<(&'static str, usize), Buckets>>,
}

/// One line of the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matches {
    /// The provider.
    pub provider: &'static str,
    /// The secret's index in its variable's comma-separated list (0 is the first).
    pub secret: usize,
    /// Verified deliveries in the window.
    pub last_24h: u64,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            since: OffsetDateTime::now_utc(),
            buckets: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Rotation {
    /// A window with every configured (provider, secret count) at 0, so an unused secret
    /// shows as 0 rather than not at all.
    pub fn new(providers: impl IntoIterator<Item = (&'static str, usize)>) -> Self {
        let rotation = Rotation::default();
        {
            let mut buckets = rotation.buckets.lock().unwrap_or_else(|p| p.into_inner());
            for (provider, secrets) in providers {
                for secret in 0..secrets {
                    buckets.insert((provider, secret), Buckets::default());
                }
            }
        }
        rotation
    }

    /// When counting started (the process's start).
    pub fn since(&self) -> OffsetDateTime {
        self.since
    }

    /// Counts one match at `now`.
    pub fn record(&self, provider: &'static str, secret: usize, now: OffsetDateTime) {
        let hour = now.unix_timestamp().div_euclid(3600);
        let slot = hour.rem_euclid(HOURS as i64) as usize;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry((provider, secret)).or_default();
        if b.hour[slot] != hour {
            b.hour[slot] = hour;
            b.count[slot] = 0;
        }
        b.count[slot] += 1;
    }

    /// Matches per (provider, secret) in the 24 hours before `now`, sorted.
    pub fn last_24h(&self, now: OffsetDateTime) -> Vec<Matches> {
        let hour = now.unix_timestamp().div_euclid(3600);
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets
            .iter()
            .map(|(&(provider, secret), b)| Matches {
                provider,
                secret,
                last_24h: (0..HOURS)
                    .filter(|&i| b.hour[i] > hour - HOURS as i64 && b.hour[i] <= hour)
                    .map(|i| b.count[i])
                    .sum(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fall_out_of_the_window_after_24_hours() {
        let r = Rotation::new([("slatis", 2)]);
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        r.record("slatis", 0, t0);
        r.record("slatis", 0, t0 + time::Duration::hours(3));
        r.record("slatis", 1, t0 + time::Duration::hours(23));
        let at = |h| {
            r.last_24h(t0 + time::Duration::hours(h))
                .iter()
                .map(|m| m.last_24h)
                .collect::<Vec<_>>()
        };
        assert_eq!(at(23), [2, 1]);
        assert_eq!(at(24), [1, 1], "the first hour left the window");
        assert_eq!(at(27), [0, 1]);
        assert_eq!(at(47), [0, 0]);
        // A slot reused a day later starts from zero.
        r.record("slatis", 0, t0 + time::Duration::hours(48));
        assert_eq!(at(48), [1, 0]);
    }
}
