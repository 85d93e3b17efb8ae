//! Every way a command can fail, and the exit code of each: the one place they are decided.

use std::error::Error as _;
use std::fmt;
use std::io;
use std::path::PathBuf;

use bookhook_verify::{ConfigError, VerifyError};
use http::StatusCode;

/// Exit code of a delivery refused as missing, mismatched, stale or future (HTTP 401), or of a
/// `send` the receiver answered with anything but 2xx.
pub(crate) const EXIT_REJECTED: u8 = 1;
/// Exit code of malformed input (HTTP 400), a usage or configuration error, or a failed
/// connection. clap's own usage errors exit with 2 as well.
pub(crate) const EXIT_INVALID: u8 = 2;

/// Why a command failed. `Display` is the line printed on stderr: it never holds a secret,
/// an expected signature or a computed MAC.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Arguments that clap accepts but that cannot be used together or parsed further.
    Usage(String),
    /// A file (or standard input) could not be read.
    Read { path: PathBuf, source: io::Error },
    /// Standard output could not be written (e.g. a closed pipe).
    Output { source: io::Error },
    /// A secret is empty or not in the form the provider issues.
    Secret(ConfigError),
    /// The operating system's random source failed (`keygen`).
    Random(getrandom::Error),
    /// `verify` refused the delivery.
    Refused(VerifyError),
    /// `send` got no answer: connection refused, timeout, TLS failure, ...
    Request(reqwest::Error),
    /// `send` got an answer other than 2xx.
    Status(StatusCode),
}

impl CliError {
    /// The process exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Refused(err) if err.status() == StatusCode::UNAUTHORIZED => EXIT_REJECTED,
            CliError::Status(_) => EXIT_REJECTED,
            CliError::Refused(_)
            | CliError::Usage(_)
            | CliError::Read { .. }
            | CliError::Output { .. }
            | CliError::Secret(_)
            | CliError::Random(_)
            | CliError::Request(_) => EXIT_INVALID,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) => f.write_str(message),
            CliError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            CliError::Output { source } => write!(f, "cannot write the output: {source}"),
            CliError::Secret(err) => write_config_error(f, err),
            CliError::Random(err) => write!(f, "the system's random source failed: {err}"),
            CliError::Refused(err) => write_refusal(f, err),
            CliError::Request(err) => {
                // The URL may carry Slotflow's token: leave it out, keep the causes.
                write!(f, "request failed: {}", DisplayChain(err))
            }
            CliError::Status(status) => write!(f, "the receiver answered {status}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Read { source, .. } | CliError::Output { source } => Some(source),
            CliError::Secret(err) => Some(err),
            CliError::Refused(err) => Some(err),
            CliError::Usage(_)
            | CliError::Random(_)
            | CliError::Request(_)
            | CliError::Status(_) => None,
        }
    }
}

/// Secrets are numbered from 1 on the command line (the library counts from 0).
fn write_config_error(f: &mut fmt::Formatter<'_>, err: &ConfigError) -> fmt::Result {
    match renumbered(err) {
        ConfigError::NoSecret { provider } => write!(f, "no secret given for {provider}"),
        other => write!(f, "{other}"),
    }
}

/// `err` with its secret index counted from 1.
fn renumbered(err: &ConfigError) -> ConfigError {
    let mut err = err.clone();
    match &mut err {
        ConfigError::EmptySecret { index, .. }
        | ConfigError::InvalidSecret { index, .. }
        | ConfigError::SigningKeyForVerifier { index, .. }
        | ConfigError::PublicKeyForSigner { index, .. }
        | ConfigError::InvalidPublicKey { index, .. }
        | ConfigError::WeakPublicKey { index, .. }
        | ConfigError::KeyPairMismatch { index, .. } => *index += 1,
        _ => {}
    }
    err
}

/// "rejected: ..." for a 401, "malformed delivery: ..." for a 400, with the numbers that
/// help a human (how stale, what tolerance); never a MAC.
fn write_refusal(f: &mut fmt::Formatter<'_>, err: &VerifyError) -> fmt::Result {
    let kind = match err.status() {
        StatusCode::UNAUTHORIZED => "rejected",
        StatusCode::BAD_REQUEST => "malformed delivery",
        _ => "cannot verify",
    };
    match err {
        VerifyError::TimestampTooOld {
            age_secs,
            tolerance_secs,
        } => write!(
            f,
            "{kind}: {err} ({age_secs} s old, tolerance {tolerance_secs} s; \
             use --now to check a recorded delivery)"
        ),
        VerifyError::TimestampInFuture {
            ahead_secs,
            tolerance_secs,
        } => write!(
            f,
            "{kind}: {err} ({ahead_secs} s ahead, tolerance {tolerance_secs} s)"
        ),
        _ => write!(f, "{kind}: {err}"),
    }
}

/// A reqwest error without its URL, followed by its causes (`: connection refused`).
struct DisplayChain<'a>(&'a reqwest::Error);

impl fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.0.is_timeout() {
            "timed out"
        } else if self.0.is_connect() {
            "cannot connect"
        } else if self.0.is_redirect() {
            "redirect"
        } else if self.0.is_body() || self.0.is_decode() {
            "cannot read the response"
        } else {
            "error"
        };
        f.write_str(kind)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bookhook_verify::{Malformed, Provider};

    use super::*;

    #[test]
    fn rejections_exit_1_and_malformed_exit_2() {
        assert_eq!(
            CliError::Refused(VerifyError::SignatureMismatch).exit_code(),
            1
        );
        assert_eq!(CliError::Refused(VerifyError::MissingToken).exit_code(), 1);
        let malformed = VerifyError::Malformed {
            header: "x-slatis-signature",
            reason: Malformed::EmptySignature,
        };
        assert_eq!(CliError::Refused(malformed).exit_code(), 2);
        assert_eq!(CliError::Refused(VerifyError::NoSecret).exit_code(), 2);
        assert_eq!(CliError::Status(StatusCode::NOT_FOUND).exit_code(), 1);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
    }

    #[test]
    fn secret_indexes_count_from_one() {
        let err = CliError::Secret(ConfigError::EmptySecret {
            provider: Provider::Slatis,
            index: 1,
        });
        assert_eq!(err.to_string(), "secret #2 for slatis is empty");
    }

    #[test]
    fn key_errors_count_from_one_and_keep_the_fix() {
        let err = CliError::Secret(ConfigError::SigningKeyForVerifier {
            provider: Provider::StandardWebhooks,
            index: 0,
        });
        let text = err.to_string();
        assert!(
            text.starts_with("secret #1 for standard is a `whsk_`"),
            "{text}"
        );
        assert!(text.contains("`whpk_` public key instead"), "{text}");
        assert_eq!(err.exit_code(), 2);
        let err = CliError::Secret(ConfigError::InvalidSecret {
            provider: Provider::Bookable,
            index: 2,
            expected: "raw bytes",
        });
        assert_eq!(
            err.to_string(),
            "secret #3 for bookable is invalid: expected raw bytes"
        );
    }

    #[test]
    fn stale_timestamp_says_how_stale() {
        let err = CliError::Refused(VerifyError::TimestampTooOld {
            age_secs: 400,
            tolerance_secs: 300,
        });
        let text = err.to_string();
        assert!(
            text.starts_with("rejected: timestamp too old (400 s old"),
            "{text}"
        );
    }
}
