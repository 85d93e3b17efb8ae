//! The "hex HMAC of the body" header parser (Slatis `sha256=<hex>`, SchedulingKit `<hex>` with
//! an optional prefix plus its unsigned event and delivery-id headers, Cal.com `<hex>`),
//! reached through `Verifier::verify`.
#![no_main]

use bookhook_fuzz::{Delivery, provider};
use bookhook_verify::Provider;
use libfuzzer_sys::fuzz_target;

const HEX_BODY: [Provider; 3] = [Provider::Slatis, Provider::SchedulingKit, Provider::CalCom];

fuzz_target!(|input: (u8, Delivery)| {
    let (which, delivery) = input;
    let _ = delivery.check(provider(which, &HEX_BODY));
});
