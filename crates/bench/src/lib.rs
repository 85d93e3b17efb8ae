//! Shared pieces of bookhook's benchmarks: deliveries of a given size with the headers real
//! deliveries carry, and the floor every verifier is measured against.
//!
//! Not published and not tested: `scripts/bench.sh` runs the benches and load tools and
//! `BENCHMARKS.md` holds the numbers.

// The deliveries and the floor, shared with `bookhook-verify`'s own benches (which cannot
// depend on this crate: it depends on `bookhook-verify`).
#[path = "../../verify/benches/common/fixtures.rs"]
mod fixtures;
pub use fixtures::{Floor, SIZES, body, delivery_headers};

/// A Standard Webhooks secret (`whsec_` + base64), as Svix issues them.
pub const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Two more Standard Webhooks secrets, for the rotation case.
pub const OTHER_STANDARD_SECRETS: [&str; 2] = [
    "whsec_c2Vjb25kLXNlY3JldC1vZi1zdGFuZGFyZA==",
    "whsec_dGhpcmQtc2VjcmV0LW9mLXN0YW5kYXJkLXdo",
];

/// A message id as Svix sends them.
pub const MESSAGE_ID: &str = "msg_2xQ7ZbN3kHc8sVd1pLmW4tRy9aE";
