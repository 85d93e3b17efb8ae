//! Shared pieces of bookhook's benchmarks: deliveries of a given size with the headers real
//! deliveries carry, and the floor every verifier is measured against.
//!
//! Not published and not tested: `scripts/bench.sh` runs the benches and load tools and
//! `BENCHMARKS.md` holds the numbers.

// The deliveries, secrets and floor live in `bookhook-testkit` (feature `bench`), which
// `bookhook-verify`'s own benches use too.
pub use bookhook_testkit::bench::{Floor, MESSAGE_ID, ROTATION, SIZES, body, delivery_headers};

/// A Standard Webhooks secret (`whsec_` + base64), as Svix issues them.
pub const STANDARD_SECRET: &str = bookhook_testkit::secrets::STANDARD_SECRET;

/// Two more Standard Webhooks secrets, for the rotation case.
pub const OTHER_STANDARD_SECRETS: [&str; 2] = [ROTATION[0], ROTATION[1]];
