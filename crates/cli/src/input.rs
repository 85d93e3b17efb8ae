//! Turning arguments into what the library takes: body bytes, secrets, a header map, a query.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::cli::{ActiveSecrets, OneSecret};
use crate::error::CliError;

/// The path that means standard input.
const STDIN: &str = "-";

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// The bytes of `path`, or of standard input for `-`, exactly as stored.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, CliError> {
    let read = if is_stdin(path) {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        fs::read(path)
    };
    read.map_err(|source| CliError::Read {
        path: display_path(path),
        source,
    })
}

fn display_path(path: &Path) -> PathBuf {
    if is_stdin(path) {
        PathBuf::from("standard input")
    } else {
        path.to_owned()
    }
}

/// The text of a secret file, which must be UTF-8 (secrets are passed on as text).
fn read_secret_file(path: &Path) -> Result<String, CliError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|_| CliError::Read {
        path: display_path(path),
        source: io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
    })
}

/// Standard input can feed one of the body and the secret file, not both.
pub(crate) fn check_one_stdin(
    body: Option<&Path>,
    secret_file: Option<&Path>,
) -> Result<(), CliError> {
    if body.is_some_and(is_stdin) && secret_file.is_some_and(is_stdin) {
        return Err(CliError::Usage(
            "--body-file - and --secret-file - cannot both read standard input".into(),
        ));
    }
    Ok(())
}

impl OneSecret {
    /// The secret to sign with, trimmed of surrounding whitespace (as in the lists `verify`
    /// and the services read, so a file's trailing newline is not part of the key). A
    /// comma-separated list only where `list_allowed` (Standard Webhooks, whose deliveries
    /// carry several signatures and whose keys hold no commas).
    pub(crate) fn read(&self, list_allowed: bool) -> Result<String, CliError> {
        let secret = match (&self.secret, &self.secret_file) {
            (Some(secret), _) => secret.expose().trim().to_owned(),
            (None, Some(path)) => {
                let text = read_secret_file(path)?;
                let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
                let first = lines.next().unwrap_or("").to_owned();
                if lines.next().is_some() {
                    return Err(CliError::Usage(format!(
                        "{}: expected one secret, found several lines",
                        display_path(path).display()
                    )));
                }
                first
            }
            // clap's group makes one of the two required.
            (None, None) => String::new(),
        };
        if secret.contains(',') && !list_allowed {
            return Err(CliError::Usage(
                "signing takes one secret, not a comma-separated list (only Standard Webhooks deliveries carry several signatures)".into(),
            ));
        }
        Ok(secret)
    }
}

impl ActiveSecrets {
    /// The active secrets as comma-separated lists, in order: one per `--secret`, or one per
    /// non-blank line of `--secret-file`. Numbering across all of them starts at 1.
    pub(crate) fn read_lists(&self) -> Result<Vec<String>, CliError> {
        match &self.secret_file {
            Some(path) => Ok(read_secret_file(path)?
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect()),
            None => Ok(self
                .secret
                .iter()
                .map(|secret| secret.expose().to_owned())
                .collect()),
        }
    }
}

/// Headers from `Name: value` arguments, in order; a repeated name keeps every value.
///
/// An error names the argument by position and header name only: the value may be a
/// signature, and stays off stderr.
pub(crate) fn parse_headers(args: &[String]) -> Result<HeaderMap, CliError> {
    let mut headers = HeaderMap::new();
    for (position, arg) in args.iter().enumerate() {
        let number = position + 1;
        let Some((name, value)) = arg.split_once(':') else {
            return Err(CliError::Usage(format!(
                "--header #{number}: expected `Name: value`"
            )));
        };
        let name = name.trim();
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CliError::Usage(format!("--header #{number}: invalid header name")))?;
        let value = HeaderValue::from_bytes(value.trim().as_bytes()).map_err(|_| {
            CliError::Usage(format!(
                "--header #{number} ({name}): the value holds a control character"
            ))
        })?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The query string from `token=...`, `?token=...` or a whole URL.
pub(crate) fn query_part(arg: &str) -> &str {
    let query = arg.split_once('?').map_or(arg, |(_, query)| query);
    // A fragment is never sent to the server.
    query.split_once('#').map_or(query, |(query, _)| query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_repeats_and_trim_optional_whitespace() {
        let headers = parse_headers(&[
            "X-Cal-Signature-256:  abc ".into(),
            "x-cal-signature-256:def".into(),
        ])
        .unwrap();
        let values: Vec<_> = headers.get_all("x-cal-signature-256").iter().collect();
        assert_eq!(values, ["abc", "def"]);
    }

    #[test]
    fn header_without_colon_is_a_usage_error_without_the_value() {
        let err = parse_headers(&["x-slatis-signature sha256=deadbeef".into()]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(!err.to_string().contains("deadbeef"), "{err}");
    }

    #[test]
    fn header_with_bad_name_is_a_usage_error() {
        assert!(parse_headers(&["bad name: v".into()]).is_err());
        assert!(parse_headers(&[": v".into()]).is_err());
    }

    #[test]
    fn query_is_taken_from_any_form() {
        assert_eq!(query_part("token=abc"), "token=abc");
        assert_eq!(query_part("?token=abc"), "token=abc");
        assert_eq!(
            query_part("https://h/webhooks/slotflow?a=1&token=abc#frag"),
            "a=1&token=abc"
        );
    }
}
