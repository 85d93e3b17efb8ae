//! Calendly sends `Calendly-Webhook-Signature: t=<unix>,v1=<hex>`, the HMAC-SHA256 of
//! `<t>.<body>` keyed with the subscription's signing key as raw bytes.

use super::stripe_style::StripeStyle;

pub(crate) const CALENDLY: StripeStyle = StripeStyle {
    header: "calendly-webhook-signature",
    spelled: "Calendly-Webhook-Signature",
};
