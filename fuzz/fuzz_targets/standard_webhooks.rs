//! Standard Webhooks' three headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64> ...`), reached through `Verifier::verify`.
#![no_main]

use bookhook_fuzz::Delivery;
use bookhook_verify::Provider;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|delivery: Delivery| {
    let _ = delivery.check(Provider::StandardWebhooks);
});
