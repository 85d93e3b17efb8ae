//! `bookhook sign`: the headers (or Slotflow query string) a provider would send.

use std::io::Write;

use super::{sign_params, signer, write_err};
use crate::cli::SignArgs;
use crate::error::CliError;
use crate::input;

pub(super) fn run(args: &SignArgs, out: &mut dyn Write) -> Result<(), CliError> {
    input::check_one_stdin(Some(&args.body_file), args.secret.secret_file.as_deref())?;
    let signer = signer(args.provider, &args.secret)?;
    let body = input::read_bytes(&args.body_file)?;
    let params = sign_params(
        args.timestamp,
        args.id.as_deref(),
        args.event_type.as_deref(),
    );
    let signed = signer.sign(&body, &params);
    for (name, value) in signed.headers() {
        writeln!(out, "{name}: {value}").map_err(write_err)?;
    }
    if let Some(query) = signed.query() {
        writeln!(out, "{query}").map_err(write_err)?;
    }
    Ok(())
}
