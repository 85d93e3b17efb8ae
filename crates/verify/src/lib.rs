#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cause;
mod clock;
mod ed25519;
mod error;
mod headers;
mod provider;
mod scheme;
mod secret;
mod sign;
mod verifier;

pub use cause::RejectionCause;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ConfigError, Malformed, VerifyError};
pub use headers::{HeaderSource, NameFilter};
pub use provider::{ByProvider, Provider, UnknownProvider};
pub use secret::{KeyKind, SecretSet};
pub use sign::{SignParams, SignedDelivery, Signer};
pub use verifier::{DEFAULT_TOLERANCE, Verified, Verifier, VerifierBuilder};

/// The most signature entries (or URL tokens) one request may carry. A request with more is
/// [`Malformed::TooManySignatures`]: the work per request stays bounded however many entries
/// a client sends, while leaving room for rotation on the sender's side (which needs two).
pub const MAX_SIGNATURES: usize = 16;

// Re-exported so users can build a `FixedClock` or read `Verified::timestamp` without
// adding `time` themselves at a matching version.
pub use time;
