//! Deduplication keys: what a provider's redelivery of the same delivery has in common.
//!
//! A retry carries the same body but may carry a new timestamp and signature, so the key
//! is never a signature. Per the design:
//!
//! | provider | key |
//! |---|---|
//! | Slatis, Slotflow, Cal.com, Calendly | SHA-256 of the body (Slatis' `webhook_id` names the subscription, not the delivery) |
//! | Bookable | the envelope `id` |
//! | SchedulingKit | SHA-256 of the body (its `X-Webhook-Delivery-Id` header is unsigned) |
//! | Standard Webhooks | the `webhook-id` header (signed: it is part of the signed string) |
//!
//! Keys are prefixed with their kind (`id:` or `sha256:`) so that an id can never collide
//! with a hash.
//!
//! A key must be bound to signed content: an attacker who replays a captured signed body
//! may change any unsigned header at will, so a key read from one would let every replay
//! through as "new". SchedulingKit was keyed by its unsigned `X-Webhook-Delivery-Id` until
//! issue 17; rows stored before keep their `id:` keys (the `UNIQUE(provider, dedupe_key)`
//! constraint holds for both forms side by side, nothing is migrated). The one cost of the
//! switch: a provider retry of a delivery first stored *before* the upgrade gets the new
//! `sha256:` key and is stored once more, during the provider's retry schedule only.

use bookhook_events::{BookingEvent, ByProvider};
use sha2::{Digest, Sha256};

/// The dedupe key of a verified delivery: `header_id` is the delivery id the verifier read
/// from the headers (`X-Webhook-Delivery-Id`, `webhook-id`); Bookable's envelope `id` is
/// `event.delivery_id`.
///
/// A provider whose id is missing falls back to the body hash: a delivery is never stored
/// without a key.
///
/// ```
/// use bookhook_events::{BookingEvent, BookingKind, Provider};
/// use crm_sync::dedupe::dedupe_key;
///
/// let event = BookingEvent::new(Provider::Slatis, BookingKind::Created, "BOOKING_CREATED");
/// assert_eq!(
///     dedupe_key(&event, None, b"{}"),
///     "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
/// );
/// let event = BookingEvent::new(Provider::StandardWebhooks, BookingKind::Created, "booking.created");
/// assert_eq!(dedupe_key(&event, Some("msg_1"), b"{}"), "id:msg_1");
/// ```
pub fn dedupe_key(event: &BookingEvent, header_id: Option<&str>, body: &[u8]) -> String {
    let id = match KEY_SOURCES.get(event.provider) {
        KeySource::EnvelopeId => event.delivery_id.as_deref(),
        KeySource::HeaderId => header_id,
        KeySource::BodyHash => None,
    };
    match id.filter(|id| !id.is_empty()) {
        Some(id) => format!("id:{id}"),
        None => body_hash(body),
    }
}

/// Where a provider's dedupe key comes from (the design's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    /// The SHA-256 of the verified body.
    BodyHash,
    /// The envelope's id (a signed field of the body).
    EnvelopeId,
    /// The delivery-id header, for schemes that sign it (Standard Webhooks' `webhook-id`).
    HeaderId,
}

/// The registry line per provider: where its dedupe key comes from.
const KEY_SOURCES: ByProvider<KeySource> = ByProvider {
    slatis: KeySource::BodyHash,
    slotflow: KeySource::BodyHash,
    bookable: KeySource::EnvelopeId,
    // Not the `X-Webhook-Delivery-Id` header: it is unsigned (see the module docs).
    schedulingkit: KeySource::BodyHash,
    calcom: KeySource::BodyHash,
    calendly: KeySource::BodyHash,
    standard: KeySource::HeaderId,
};

/// `sha256:<hex>` of the body.
pub fn body_hash(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

#[cfg(test)]
mod tests {
    use bookhook_events::BookingKind;
    use bookhook_events::Provider;

    use super::*;

    fn event(provider: Provider, envelope_id: Option<&str>) -> BookingEvent {
        let mut e = BookingEvent::new(provider, BookingKind::Created, "x");
        e.delivery_id = envelope_id.map(str::to_owned);
        e
    }

    #[test]
    fn hash_providers_ignore_any_id() {
        for p in [
            Provider::Slatis,
            Provider::Slotflow,
            Provider::SchedulingKit,
            Provider::CalCom,
            Provider::Calendly,
        ] {
            assert_eq!(
                dedupe_key(&event(p, Some("wh_01abc")), Some("h"), b"body"),
                body_hash(b"body")
            );
        }
    }

    #[test]
    fn bookable_uses_the_envelope_id() {
        let e = event(Provider::Bookable, Some("a1b2"));
        assert_eq!(dedupe_key(&e, None, b"body"), "id:a1b2");
    }

    #[test]
    fn standard_webhooks_uses_the_signed_header_id_not_the_body() {
        let e = event(Provider::StandardWebhooks, Some("body-id"));
        assert_eq!(dedupe_key(&e, Some("msg_1"), b"b"), "id:msg_1");
    }

    #[test]
    fn schedulingkit_ignores_its_unsigned_delivery_id_header() {
        // A replay of one signed body with two attacker-chosen ids is one key.
        let e = event(Provider::SchedulingKit, None);
        let first = dedupe_key(&e, Some("dlv_original"), b"body");
        assert_eq!(first, dedupe_key(&e, Some("dlv_attacker_chosen"), b"body"));
        assert_eq!(first, body_hash(b"body"));
    }

    #[test]
    fn missing_or_empty_id_falls_back_to_the_body_hash() {
        assert_eq!(
            dedupe_key(&event(Provider::StandardWebhooks, None), None, b"body"),
            body_hash(b"body")
        );
        assert_eq!(
            dedupe_key(&event(Provider::Bookable, Some("")), None, b"body"),
            body_hash(b"body")
        );
    }

    #[test]
    fn different_bodies_have_different_hashes() {
        assert_ne!(body_hash(b"a"), body_hash(b"b"));
    }
}
