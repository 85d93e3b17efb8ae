//! Standard Webhooks' mixed `webhook-signature` header (`v1,` HMAC and `v1a,` ed25519 entries)
//! against a route holding one key of each kind: see `bookhook_fuzz::mixed`.
#![no_main]

use bookhook_fuzz::mixed::MixedDelivery;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|delivery: MixedDelivery| {
    let _ = delivery.check();
});
