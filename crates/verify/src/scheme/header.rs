//! Reading header values safely: visible ASCII only, bounded, with duplicates handled.

use crate::{HeaderSource, Malformed, VerifyError};

/// The longest single header value bookhook reads (a signature header with a handful of
/// rotated signatures is well under 1 KiB).
const MAX_VALUE_LEN: usize = 8 * 1024;

/// Calls `f` with each value of `name` as visible-ASCII text, in order; returns how many
/// values there were.
///
/// # Errors
///
/// `Malformed` for a value with other bytes or longer than 8 KiB, or whatever `f` returns.
pub(super) fn for_each_value<'h>(
    headers: &'h dyn HeaderSource,
    name: &'static str,
    mut f: impl FnMut(&'h str) -> Result<(), Malformed>,
) -> Result<usize, VerifyError> {
    let mut count = 0;
    let mut failure = None;
    headers.for_each_value(name, &mut |bytes| {
        if failure.is_some() {
            return;
        }
        count += 1;
        let result = as_text(bytes).and_then(&mut f);
        if let Err(reason) = result {
            failure = Some(VerifyError::malformed(name, reason));
        }
    });
    match failure {
        Some(err) => Err(err),
        None => Ok(count),
    }
}

/// The one value of `name`, if present. A header repeated with the same value is accepted
/// (proxies sometimes duplicate headers); different values are ambiguous and refused.
pub(super) fn single_value<'h>(
    headers: &'h dyn HeaderSource,
    name: &'static str,
) -> Result<Option<&'h str>, VerifyError> {
    let mut found: Option<&'h str> = None;
    for_each_value(headers, name, |value| match found {
        Some(first) if first != value => Err(Malformed::Conflicting),
        _ => {
            found = Some(value);
            Ok(())
        }
    })?;
    Ok(found)
}

/// Like [`single_value`], but absence is [`VerifyError::MissingHeader`].
pub(super) fn required_value<'h>(
    headers: &'h dyn HeaderSource,
    name: &'static str,
) -> Result<&'h str, VerifyError> {
    single_value(headers, name)?.ok_or(VerifyError::MissingHeader { name })
}

fn as_text(bytes: &[u8]) -> Result<&str, Malformed> {
    if bytes.len() > MAX_VALUE_LEN {
        return Err(Malformed::TooLong);
    }
    if !bytes
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(Malformed::NotAscii);
    }
    // Visible ASCII is UTF-8; this never fails.
    std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| Malformed::NotAscii)
}
