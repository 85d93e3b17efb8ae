//! Slotflow's `token=` query-string parser, reached through `Verifier::verify_with_query`.
#![no_main]

use bookhook_fuzz::Delivery;
use bookhook_verify::Provider;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|delivery: Delivery| {
    let _ = delivery.check(Provider::Slotflow);
});
