//! What the throw-away servers (`redis_server`, `postgres_server`) share: waiting for a
//! child process to accept connections.

use std::process::Child;
use std::time::{Duration, Instant};

/// Polls `ready` every `pause` until it answers `true` (then `true`), the child exits, or
/// `within` passes (then `false`).
pub(crate) fn wait_until_ready(
    child: &mut Option<Child>,
    within: Duration,
    pause: Duration,
    mut ready: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        // (No let chain: the workspace's MSRV is 1.85.)
        let exited = child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(Some(_))));
        if exited {
            return false;
        }
        if ready() {
            return true;
        }
        std::thread::sleep(pause);
    }
    false
}
