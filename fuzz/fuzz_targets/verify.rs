//! `Verifier::verify_with_query` for every provider, with arbitrary headers (any names, any
//! bytes, repeated, up to 72 KiB each), an arbitrary query and an arbitrary body.
#![no_main]

use bookhook_fuzz::{Delivery, provider};
use bookhook_verify::Provider;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, Delivery)| {
    let (which, delivery) = input;
    let _ = delivery.check(provider(which, &Provider::ALL));
});
