//! One module per subcommand. Each takes its parsed arguments and a writer for stdout, and
//! returns a [`CliError`] on failure; `main` prints it and exits with its code.

mod keygen;
mod listen;
mod send;
mod sign;
mod verify;

use std::io::Write;

use bookhook_verify::{Provider, SignParams, Signer};

use crate::cli::{Command, OneSecret};
use crate::error::CliError;

/// Runs one subcommand, writing its output to `out`.
pub(crate) fn run(command: Command, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        Command::Sign(args) => sign::run(&args, out),
        Command::Verify(args) => verify::run(&args, out),
        Command::Send(args) => send::run(&args, out),
        Command::Keygen(args) => keygen::run(&args, out),
        Command::Listen(args) => listen::run(&args, out),
    }
}

/// The signer for the secret of `--secret` or `--secret-file`: for Standard Webhooks a
/// comma-separated list signs with each key, in order (a sender rotating); the other
/// providers' deliveries carry one signature, and a comma there is a usage error.
fn signer(provider: Provider, secret: &OneSecret) -> Result<Signer, CliError> {
    let several = provider == Provider::StandardWebhooks;
    let secret = secret.read(several)?;
    match several {
        true => Signer::from_list(provider, &secret),
        false => Signer::new(provider, &secret),
    }
    .map_err(CliError::Secret)
}

/// What the provider puts beside the body: when, which delivery, which event.
fn sign_params(timestamp: Option<i64>, id: Option<&str>, event_type: Option<&str>) -> SignParams {
    let mut params = timestamp.map_or_else(SignParams::now, SignParams::at);
    if let Some(id) = id {
        params = params.id(id);
    }
    if let Some(event_type) = event_type {
        params = params.event_type(event_type);
    }
    params
}

fn write_err(source: std::io::Error) -> CliError {
    CliError::Output { source }
}
