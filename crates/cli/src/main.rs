//! `bookhook`: sign, verify and send booking-platform webhooks from a shell.
//!
//! The command only parses arguments, reads files and prints; every signature rule lives in
//! `bookhook-verify` and every sample payload in `bookhook-events`. Exit codes are decided in
//! one place, [`error::CliError::exit_code`]: 0 success, 1 rejected (or a non-2xx answer to
//! `send`), 2 malformed input, usage or configuration error, or a failed connection.

mod cli;
mod commands;
mod error;
mod input;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::error::CliError;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2, the same code as ours.
    let cli = cli::Cli::parse();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = commands::run(cli.command, &mut out);
    // Flush what was printed (e.g. a non-2xx response) before reporting any error.
    let flushed = out.flush().map_err(|source| CliError::Output { source });
    match result.and(flushed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Messages never carry a secret, an expected signature or a computed MAC.
            eprintln!("bookhook: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
