#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod buffer;
pub mod extract;
pub mod rejection;
pub mod verify;

use std::time::Duration;

pub use extract::{FromLayer, Verified, VerifiedBody, VerifierSource};
pub use verify::{Verify, VerifyLayer};

// Re-exported so that users name the verifier and event types at the versions this adapter
// was built with.
pub use bookhook_events;
pub use bookhook_replay;
pub use bookhook_verify;

/// The body limit used unless configured otherwise: 256 KiB, well above any booking
/// webhook (they are a few KiB) and small enough that buffering cannot exhaust memory.
pub const DEFAULT_LIMIT: usize = 256 * 1024;

/// How long a client may take to send the whole body, unless configured otherwise. A
/// client that trickles its body (slowloris) is answered `408 Request Timeout` after this.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
