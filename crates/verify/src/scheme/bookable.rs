//! Bookable (Samna) sends `X-Samna-Signature: t=<unix>,v1=<hex>`, the HMAC-SHA256 of
//! `<t>.<body>` keyed with the subscription's `wh_sec_...` secret as raw bytes, and asks
//! receivers to refuse deliveries more than 5 minutes from now.

use super::stripe_style::StripeStyle;

pub(crate) const BOOKABLE: StripeStyle = StripeStyle {
    header: "x-samna-signature",
    spelled: "X-Samna-Signature",
};
