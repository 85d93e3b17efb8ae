//! The `t=<unix>,v1=<hex>` header parser (Bookable's `X-Samna-Signature`, Calendly's
//! `Calendly-Webhook-Signature`) and its timestamp parser, reached through `Verifier::verify`.
#![no_main]

use bookhook_fuzz::{Delivery, provider};
use bookhook_verify::Provider;
use libfuzzer_sys::fuzz_target;

const STRIPE_STYLE: [Provider; 2] = [Provider::Bookable, Provider::Calendly];

fuzz_target!(|input: (u8, Delivery)| {
    let (which, delivery) = input;
    let _ = delivery.check(provider(which, &STRIPE_STYLE));
});
