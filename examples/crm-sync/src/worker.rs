//! The background worker: pending inbox rows → HubSpot batch upserts.
//!
//! It claims pending rows oldest first, up to [`hubspot::MAX_BATCH`] at a time (on
//! PostgreSQL under a lease shared with the other replicas' workers, renewed before each
//! attempt: see [`crate::inbox::postgres`]), merges rows with the same email (the latest
//! non-empty name wins: HubSpot refuses a batch naming one contact twice), and sends one
//! batch upsert. Then:
//!
//! - 2xx: the rows become `delivered`.
//! - 429, 5xx, 408, connection error, timeout: the rows stay `pending` (attempt count and
//!   reason recorded) and the same batch is retried after `Retry-After` if HubSpot sent
//!   one, else after a capped exponential backoff with jitter.
//! - 401, 403: HubSpot refuses the *token*, which says nothing about the rows. The worker
//!   **pauses**: the rows stay `pending` and untouched (no attempt counted), `/healthz`
//!   answers 503 with the reason, `crm_sync_crm_paused` reads 1, an error is logged when
//!   the pause starts and then at most once a minute, and the same batch is sent again as a
//!   probe after a capped exponential backoff (the retry policy). The first answer that is
//!   not 401/403 ends the pause: a token fixed on HubSpot's side resumes the worker without
//!   a restart, and a restart with a new `HUBSPOT_TOKEN` starts unpaused.
//! - any other status: the rows become `failed` with the status and reason, never retried.
//!   A validation refusal (400, 409, 422) of a batch of several contacts is first split in
//!   halves, so one bad email does not fail the others.
//!
//! It never blocks acknowledgements: handlers only talk to the inbox.
//!
//! # Delivery guarantee
//!
//! At least once towards HubSpot: rows are marked delivered only after HubSpot answered
//! 2xx, so a crash between the answer and the mark resends the batch after restart. The
//! upsert by email is idempotent, so the contact ends up as if it was sent once.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::contact::Contact;
use crate::hubspot::{self, HubSpot, Outcome, UpsertInput};
use crate::inbox::{Change, Inbox, InboxError, PendingRow};

/// How old a claim may be before a CRM attempt renews it (see [`Worker::still_held`]).
/// `CRM_SYNC_LEASE_SECS` must exceed `HUBSPOT_TIMEOUT_MS` by at least twice this.
pub const RENEW_AFTER: Duration = Duration::from_secs(1);

/// When to retry after a failed attempt that HubSpot did not time with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first delay (doubled after each consecutive failure).
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 500 ms doubling up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }
}

/// Capped exponential backoff with "equal jitter": the n-th consecutive delay is uniformly
/// drawn from `[d/2, d]` with `d = min(max, base·2ⁿ)`, so retries from several instances
/// spread out while never coming sooner than half the nominal delay.
#[derive(Debug)]
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
    random: RandomState,
}

impl Backoff {
    /// A backoff at its first step.
    pub fn new(policy: RetryPolicy) -> Self {
        Backoff {
            policy,
            failures: 0,
            random: RandomState::new(),
        }
    }

    /// The delay before the next attempt; each call counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self
            .policy
            .base
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.policy.max);
        self.failures = self.failures.saturating_add(1);
        let half = nominal / 2;
        let half_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = match half_nanos {
            0 => 0,
            n => self.random.hash_one(self.failures) % (n + 1),
        };
        half + Duration::from_nanos(jitter)
    }

    /// Back to the first step, after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// One contact of a batch and the inbox rows it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What to send.
    pub input: UpsertInput,
    /// The rows marked with the outcome.
    pub ids: Vec<i64>,
}

/// Merges rows with the same email (ASCII case-insensitive) into one entry, in order of
/// first appearance; for each name part the latest row that has one wins.
pub fn merge(rows: Vec<PendingRow>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(rows.len());
    let mut by_email: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for row in rows {
        let Contact { ref email, .. } = row.contact;
        let (first, last) = row.contact.first_last();
        match by_email.get(&row.contact.merge_key()) {
            Some(&i) => {
                let entry = &mut entries[i];
                entry.ids.push(row.id);
                entry.input.email.clone_from(email);
                if first.is_some() {
                    entry.input.firstname = first;
                }
                if last.is_some() {
                    entry.input.lastname = last;
                }
            }
            None => {
                by_email.insert(row.contact.merge_key(), entries.len());
                entries.push(Entry {
                    input: UpsertInput {
                        email: email.clone(),
                        firstname: first,
                        lastname: last,
                    },
                    ids: vec![row.id],
                });
            }
        }
    }
    entries
}

/// Whether a refusal may be about some inputs only, so that halves may succeed.
fn is_validation_refusal(status: u16) -> bool {
    matches!(status, 400 | 409 | 422)
}

/// How often a pause is logged again while it lasts.
pub const PAUSE_LOG_EVERY: Duration = Duration::from_secs(60);

/// Whether the worker is paused because HubSpot refuses the token; read by `/healthz`,
/// `/metrics` and the admin page.
#[derive(Debug, Default)]
pub struct CrmHealth {
    paused: AtomicBool,
    reason: Mutex<Option<String>>,
}

impl CrmHealth {
    /// `Some(one line)` while paused.
    pub fn paused(&self) -> Option<String> {
        if !self.paused.load(Ordering::Relaxed) {
            return None;
        }
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether paused, without the reason.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    fn pause(&self, reason: String) {
        *self.reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
        self.paused.store(true, Ordering::Relaxed);
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::Relaxed);
        *self.reason.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The pause's own state inside the worker.
#[derive(Debug)]
struct Pause {
    backoff: Backoff,
    since: Option<Instant>,
    last_logged: Option<Instant>,
    probes: u64,
}

/// Sends pending inbox rows to HubSpot until told to stop.
#[derive(Debug)]
pub struct Worker {
    inbox: Inbox,
    crm: Option<HubSpot>,
    backoff: Backoff,
    health: Arc<CrmHealth>,
    pause: Pause,
}

/// Whether the worker goes on.
enum Flow {
    Continue,
    Stop,
}

impl Worker {
    /// A worker for `inbox`. Without a CRM client (no `HUBSPOT_TOKEN`) it only waits:
    /// rows stay pending and are sent by a later run that has the token.
    pub fn new(inbox: Inbox, crm: Option<HubSpot>, retry: RetryPolicy) -> Self {
        Worker {
            inbox,
            crm,
            backoff: Backoff::new(retry),
            health: Arc::new(CrmHealth::default()),
            pause: Pause {
                backoff: Backoff::new(retry),
                since: None,
                last_logged: None,
                probes: 0,
            },
        }
    }

    /// Reports the pause through `health` (shared with the HTTP side).
    pub fn with_health(mut self, health: Arc<CrmHealth>) -> Self {
        self.health = health;
        self
    }

    /// HubSpot refused the token: pause (or stay paused) and log at most once a minute.
    fn paused(&mut self, status: u16, reason: &str) -> Duration {
        let now = Instant::now();
        self.pause.probes += 1;
        if self.pause.since.is_none() {
            self.pause.since = Some(now);
            self.health.pause(format!(
                "crm paused: HubSpot refuses the token (HTTP {status}); rows stay pending"
            ));
        }
        if self
            .pause
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= PAUSE_LOG_EVERY)
        {
            self.pause.last_logged = Some(now);
            tracing::error!(
                status,
                reason = %reason,
                probes = self.pause.probes,
                paused_secs = self.pause.since.map_or(0, |s| now.duration_since(s).as_secs()),
                "crm refuses the token: worker paused, rows stay pending; fix HUBSPOT_TOKEN \
                 (or its scopes) on HubSpot's side or restart with a new one"
            );
        }
        self.pause.backoff.next_delay()
    }

    /// Any answer other than 401/403 ends a pause.
    fn resumed(&mut self) {
        if let Some(since) = self.pause.since.take() {
            tracing::info!(
                paused_secs = since.elapsed().as_secs(),
                probes = self.pause.probes,
                "crm accepts the token again: worker resumed"
            );
            self.health.resume();
            self.pause.backoff.reset();
            self.pause.last_logged = None;
            self.pause.probes = 0;
        }
    }

    /// Runs until `shutdown` turns `true` (or its sender is dropped). An HTTP call in
    /// flight is abandoned then: its rows stay pending and are sent again after restart.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let Some(crm) = self.crm.take() else {
            tracing::warn!(
                "HUBSPOT_TOKEN is not set: deliveries are stored and stay pending; \
                 restart with the token to send them"
            );
            let _ = shutdown.wait_for(|stop| *stop).await;
            return;
        };
        tracing::info!(endpoint = crm.endpoint(), "crm worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed_at = Instant::now();
            let rows = match self.inbox.claim(hubspot::MAX_BATCH).await {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::error!(error = %err, "reading pending rows failed");
                    let delay = self.backoff.next_delay();
                    if let Flow::Stop = sleep_or_stop(delay, &mut shutdown).await {
                        break;
                    }
                    continue;
                }
            };
            if rows.is_empty() {
                tokio::select! {
                    () = self.inbox.new_pending() => continue,
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
            }
            if let Flow::Stop = self
                .deliver(&crm, merge(rows), claimed_at, &mut shutdown)
                .await
            {
                break;
            }
        }
        tracing::info!("crm worker stopped");
    }

    /// Sends one batch (and, after a validation refusal, its halves) to a final outcome,
    /// retrying retryable failures.
    async fn deliver(
        &mut self,
        crm: &HubSpot,
        entries: Vec<Entry>,
        claimed_at: Instant,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Flow {
        let mut held_since = claimed_at;
        let mut groups = vec![entries];
        while let Some(group) = groups.pop() {
            let group = match self.still_held(group, &mut held_since).await {
                Ok(group) if group.is_empty() => continue,
                Ok(group) => group,
                Err(err) => {
                    // The rows stay claimed by this process and are claimed again (after
                    // the backoff) by the next round.
                    tracing::error!(error = %err, "renewing the claim on pending rows failed");
                    return sleep_or_stop(self.backoff.next_delay(), shutdown).await;
                }
            };
            let inputs: Vec<UpsertInput> = group.iter().map(|e| e.input.clone()).collect();
            let ids: Vec<i64> = group.iter().flat_map(|e| e.ids.iter().copied()).collect();
            let outcome = tokio::select! {
                outcome = crm.upsert(&inputs) => outcome,
                _ = shutdown.wait_for(|stop| *stop) => return Flow::Stop,
            };
            crate::metrics::crm_request(match &outcome {
                Outcome::Delivered { status }
                | Outcome::Unauthorized { status, .. }
                | Outcome::Rejected { status, .. } => Some(*status),
                Outcome::Retry { status, .. } => *status,
            });
            if !matches!(outcome, Outcome::Unauthorized { .. }) {
                self.resumed();
            }
            match outcome {
                Outcome::Unauthorized { status, reason } => {
                    // Not the rows' fault: leave them untouched and probe again later
                    // with the same batch.
                    let delay = self.paused(status, &reason);
                    groups.push(group);
                    if let Flow::Stop = sleep_or_stop(delay, shutdown).await {
                        return Flow::Stop;
                    }
                }
                Outcome::Delivered { status } => {
                    self.backoff.reset();
                    tracing::info!(
                        contacts = inputs.len(),
                        rows = ids.len(),
                        status,
                        "crm upsert delivered"
                    );
                    let change = Change::Delivered {
                        http_status: status,
                    };
                    if let Flow::Stop = self.record(ids, change, shutdown).await {
                        return Flow::Stop;
                    }
                }
                Outcome::Retry {
                    status,
                    retry_after,
                    reason,
                } => {
                    let delay = retry_after.unwrap_or_else(|| self.backoff.next_delay());
                    tracing::warn!(
                        contacts = inputs.len(),
                        status,
                        reason = %reason,
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "crm upsert failed; will retry"
                    );
                    let change = Change::Retrying {
                        http_status: status,
                        reason,
                    };
                    if let Flow::Stop = self.record(ids, change, shutdown).await {
                        return Flow::Stop;
                    }
                    groups.push(group);
                    if let Flow::Stop = sleep_or_stop(delay, shutdown).await {
                        return Flow::Stop;
                    }
                }
                Outcome::Rejected { status, reason }
                    if group.len() > 1 && is_validation_refusal(status) =>
                {
                    tracing::warn!(
                        contacts = group.len(),
                        status,
                        reason = %reason,
                        "crm refused the batch; retrying it in halves to isolate the bad contact"
                    );
                    let mut first = group;
                    let second = first.split_off(first.len() / 2);
                    groups.push(second);
                    groups.push(first);
                }
                Outcome::Rejected { status, reason } => {
                    self.backoff.reset();
                    tracing::warn!(
                        contacts = inputs.len(),
                        rows = ids.len(),
                        status,
                        reason = %reason,
                        "crm refused the upsert; rows marked failed"
                    );
                    let change = Change::Failed {
                        http_status: Some(status),
                        reason,
                    };
                    if let Flow::Stop = self.record(ids, change, shutdown).await {
                        return Flow::Stop;
                    }
                }
            }
        }
        Flow::Continue
    }

    /// Renews this process's claim on the rows of `group` just before they are sent, and
    /// drops the rows it no longer holds: on PostgreSQL, a lease that ran out (a long
    /// pause, a stalled process) may have let another replica take them over, and it sends
    /// them instead. On SQLite every row is still held.
    ///
    /// A claim younger than [`RENEW_AFTER`] is sent as it is (the first attempt, right
    /// after the claim): nobody can have taken it over, and at least the lease less
    /// [`RENEW_AFTER`] is left, which start-up requires to exceed the CRM timeout. That
    /// saves a write per batch, and on PostgreSQL a dead row version per delivery.
    async fn still_held(
        &self,
        mut group: Vec<Entry>,
        held_since: &mut Instant,
    ) -> Result<Vec<Entry>, InboxError> {
        if held_since.elapsed() < RENEW_AFTER {
            return Ok(group);
        }
        let ids: Vec<i64> = group.iter().flat_map(|e| e.ids.iter().copied()).collect();
        let wanted = ids.len();
        let renewed_at = Instant::now();
        let held = self.inbox.renew(ids).await?;
        *held_since = renewed_at;
        if held.len() < wanted {
            tracing::warn!(
                rows = wanted - held.len(),
                "rows taken over by another replica after this one's lease ran out; not sending them"
            );
            for entry in &mut group {
                entry.ids.retain(|id| held.binary_search(id).is_ok());
            }
            group.retain(|e| !e.ids.is_empty());
        }
        Ok(group)
    }

    /// Writes an outcome to the inbox. If that fails the rows stay pending and are sent
    /// again (at least once), after a backoff.
    async fn record(
        &mut self,
        ids: Vec<i64>,
        change: Change,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Flow {
        match self.inbox.mark(ids, change).await {
            Ok(_) => Flow::Continue,
            Err(InboxError::Closed) => Flow::Stop,
            Err(err) => {
                tracing::error!(error = %err, "recording the crm outcome failed");
                sleep_or_stop(self.backoff.next_delay(), shutdown).await
            }
        }
    }
}

async fn sleep_or_stop(delay: Duration, shutdown: &mut watch::Receiver<bool>) -> Flow {
    tokio::select! {
        () = tokio::time::sleep(delay) => Flow::Continue,
        _ = shutdown.wait_for(|stop| *stop) => Flow::Stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, email: &str, name: Option<&str>) -> PendingRow {
        PendingRow {
            id,
            contact: Contact::new(email, name.map(str::to_owned)),
        }
    }

    #[test]
    fn merge_keeps_one_entry_per_email_and_the_latest_names() {
        let entries = merge(vec![
            row(1, "jane@example.com", Some("Jane Smith")),
            row(2, "bob@example.com", Some("Bob")),
            row(3, "JANE@example.com", Some("Janet Smythe")),
            row(4, "jane@example.com", None),
        ]);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].ids, [1, 3, 4]);
        assert_eq!(
            entries[0].input,
            UpsertInput {
                email: "jane@example.com".into(),
                firstname: Some("Janet".into()),
                lastname: Some("Smythe".into()),
            }
        );
        assert_eq!(entries[1].ids, [2]);
        assert_eq!(entries[1].input.lastname, None);
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let mut b = Backoff::new(RetryPolicy {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
        });
        let nominal = [500u64, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
        for (n, ms) in nominal.into_iter().enumerate() {
            let d = b.next_delay();
            let nominal = Duration::from_millis(ms);
            assert!(d >= nominal / 2 && d <= nominal, "step {n}: {d:?}");
        }
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_secs(60));
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(500));
    }

    #[test]
    fn only_validation_refusals_are_split() {
        assert!(is_validation_refusal(400));
        assert!(!is_validation_refusal(401));
        assert!(!is_validation_refusal(403));
    }
}
