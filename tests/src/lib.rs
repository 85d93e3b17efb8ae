//! Shared test vectors and case tables for bookhook's cross-crate tests.
//!
//! The vectors live in `tests/vectors/*.json`; each valid delivery in them was computed by a
//! route independent of bookhook (the command is recorded next to it), so a test that
//! passes here cannot merely agree with itself.

pub mod cases;
pub mod raw_http;
pub mod redis_server;
pub mod vectors;

/// The workspace README's examples, compiled (and run where not `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
