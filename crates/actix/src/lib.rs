#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod config;
pub mod extract;
mod headers;
mod log;
pub mod middleware;
mod verification;

pub use config::{DEFAULT_BODY_TIMEOUT, DEFAULT_LIMIT, VerifyConfig};
pub use extract::{Verified, VerifiedBody, VerifiedBodyError, VerifiedError};
pub use headers::Headers;
pub use middleware::{Verify, VerifyMiddleware};

// Re-exported so users name the same versions the adapter was built with.
pub use bookhook_events;
pub use bookhook_replay;
pub use bookhook_verify;
