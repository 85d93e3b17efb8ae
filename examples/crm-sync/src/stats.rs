//! Counters behind `GET /stats`.
//!
//! `received`, `duplicates` and `rejected` count requests since the process started;
//! `pending`, `delivered`, `failed` and `skipped` are the inbox's row counts (persistent,
//! exact as of the last commit).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::inbox::StatusCounts;

/// Request counters of this process.
#[derive(Debug, Default)]
pub struct Stats {
    received: AtomicU64,
    duplicates: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
}

/// The JSON document `GET /stats` answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Deliveries verified, parsed and acknowledged (new ones and duplicates).
    pub received: u64,
    /// Of those, redeliveries of a delivery already in the inbox.
    pub duplicates: u64,
    /// Refused requests by cause (`signature_mismatch`, `timestamp_too_old`,
    /// `payload_too_large`, `invalid_json`, ...).
    pub rejected: BTreeMap<&'static str, u64>,
    /// Inbox rows waiting for the CRM.
    pub pending: u64,
    /// Inbox rows the CRM accepted.
    pub delivered: u64,
    /// Inbox rows the CRM refused for good.
    pub failed: u64,
    /// Inbox rows stored without a CRM call.
    pub skipped: u64,
}

impl Stats {
    /// Counts an acknowledged delivery.
    pub fn received(&self, duplicate: bool) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if duplicate {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a refused request under `cause`.
    pub fn rejected(&self, cause: &'static str) {
        let mut rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        *rejected.entry(cause).or_default() += 1;
    }

    /// The counters together with the inbox's row counts.
    pub fn snapshot(&self, rows: StatusCounts) -> Snapshot {
        Snapshot {
            received: self.received.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rejected: self
                .rejected
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            pending: rows.pending,
            delivered: rows.delivered,
            failed: rows.failed,
            skipped: rows.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_serializes_to_the_documented_shape() {
        let stats = Stats::default();
        stats.received(false);
        stats.received(true);
        stats.rejected("signature_mismatch");
        stats.rejected("signature_mismatch");
        stats.rejected("payload_too_large");
        let rows = StatusCounts {
            pending: 1,
            delivered: 2,
            failed: 3,
            skipped: 4,
        };
        let json = serde_json::to_value(stats.snapshot(rows)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "received": 2, "duplicates": 1,
                "rejected": {"payload_too_large": 1, "signature_mismatch": 2},
                "pending": 1, "delivered": 2, "failed": 3, "skipped": 4
            })
        );
    }
}
