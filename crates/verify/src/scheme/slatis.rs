//! Slatis signs the raw body and sends `x-slatis-signature: sha256=<hex>`.
//!
//! Its secrets look like `whsec_...` but, unlike Standard Webhooks, the whole string is the
//! HMAC key. Slatis sends no timestamp: replays must be caught by deduplication.

use super::hex_body::{HexBody, Prefix};

pub(crate) const SLATIS: HexBody = HexBody {
    header: "x-slatis-signature",
    spelled: "x-slatis-signature",
    prefix: Prefix::Required("sha256="),
};
