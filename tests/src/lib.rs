//! bookhook's cross-crate scenarios: the rejection table every adapter must answer the same
//! way ([`cases`]), run by `tests/*.rs` against bookhook-axum and bookhook-actix, and the
//! checks against `tests/vectors/*.json`.
//!
//! The helpers these tests share with the rest of the workspace (secrets, signing, clocks,
//! raw HTTP, vector loaders) are in `bookhook-testkit`. Each valid delivery in the vectors was
//! computed by a route independent of bookhook (the command is recorded next to it), so a
//! test that passes here cannot merely agree with itself.

pub mod cases;

/// The workspace README's examples, compiled (and run where not `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
