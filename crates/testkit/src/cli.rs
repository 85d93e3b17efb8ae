//! The `bookhook` binary under test, run with a time bound, and checks of its exit codes.
//!
//! Cargo tells only the CLI crate's own tests where its binary is, so a test file names it:
//!
//! ```text
//! const BOOKHOOK: Bookhook = Bookhook::new(env!("CARGO_BIN_EXE_bookhook"));
//! ```

use std::ffi::OsStr;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

/// How long one run of the binary may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The `bookhook` binary at a path.
#[derive(Debug, Clone, Copy)]
pub struct Bookhook {
    bin: &'static str,
}

impl Bookhook {
    /// The binary at `bin` (`env!("CARGO_BIN_EXE_bookhook")` in the CLI's tests).
    pub const fn new(bin: &'static str) -> Self {
        Bookhook { bin }
    }

    /// A command running the binary with `args`, bounded by [`TIMEOUT`].
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(self.bin);
        cmd.args(args).timeout(TIMEOUT);
        cmd
    }

    /// Runs the binary with `args` and an empty stdin.
    ///
    /// # Panics
    ///
    /// If the binary cannot be started.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.command(args).output().expect("bookhook runs")
    }

    /// Runs the binary with `args` and `stdin` as its standard input.
    ///
    /// # Panics
    ///
    /// If the binary cannot be started.
    pub fn run_with_stdin<S: AsRef<OsStr>>(&self, args: &[S], stdin: impl Into<Vec<u8>>) -> Output {
        self.command(args)
            .write_stdin(stdin)
            .output()
            .expect("bookhook runs")
    }
}

/// Standard output, which must be UTF-8.
///
/// # Panics
///
/// If it is not UTF-8.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Standard error, lossily decoded.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the run exited with `code`; the failure shows both streams.
///
/// # Panics
///
/// If it did not.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    check_exit(output, code, "");
}

/// [`assert_exit`] for a run about `what` (a vector's name), which the failure names first.
///
/// # Panics
///
/// If the run did not exit with `code`.
#[track_caller]
pub fn assert_exit_of(output: &Output, code: i32, what: &str) {
    check_exit(output, code, &format!("{what}\n"));
}

#[track_caller]
fn check_exit(output: &Output, code: i32, heading: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{heading}stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}
