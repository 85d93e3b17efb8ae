//! Cal.com signs the raw body and sends `X-Cal-Signature-256: <hex>`, keyed with the secret
//! set on the webhook. No timestamp: replays must be caught by deduplication.

use super::hex_body::{HexBody, Prefix};

pub(crate) const CALCOM: HexBody = HexBody {
    header: "x-cal-signature-256",
    spelled: "X-Cal-Signature-256",
    prefix: Prefix::Absent,
};
