//! Reading header values safely: visible ASCII only, bounded, with duplicates handled.

use crate::headers::same_name;
use crate::{HeaderSource, Malformed, VerifyError};

/// The most header names one scheme reads (Standard Webhooks and SchedulingKit read three).
const MAX_NAMES: usize = 3;

/// The most values of one name kept; a request repeating a header more often than this
/// (never seen from a real sender) is read from its headers directly. Small, so that the
/// collection stays a few cache lines that are cheap to build and move.
const MAX_VALUES: usize = 4;

/// The values of the headers a scheme reads, collected with one
/// [`HeaderSource::for_each_value_of`] call so that the scheme's several lookups cost one
/// pass over the request's headers. It answers lookups of those names from what it
/// collected, and passes anything else (another name, or a name repeated more than
/// [`MAX_VALUES`] times) to the request's headers, so a scheme sees exactly what it would
/// have seen there.
pub(crate) struct Gathered<'h> {
    headers: &'h dyn HeaderSource,
    names: &'h [&'static str],
    values: [[&'h [u8]; MAX_VALUES]; MAX_NAMES],
    counts: [usize; MAX_NAMES],
    complete: bool,
}

impl<'h> Gathered<'h> {
    pub(crate) fn new(headers: &'h dyn HeaderSource, names: &'h [&'static str]) -> Self {
        let mut gathered = Gathered {
            headers,
            names,
            values: [[&[]; MAX_VALUES]; MAX_NAMES],
            counts: [0; MAX_NAMES],
            complete: names.len() <= MAX_NAMES,
        };
        if gathered.complete {
            let Gathered {
                values,
                counts,
                complete,
                ..
            } = &mut gathered;
            headers.for_each_value_of(names, &mut |i, value| {
                let slot = counts.get_mut(i).and_then(|n| {
                    *n += 1;
                    values[i].get_mut(*n - 1)
                });
                match slot {
                    Some(slot) => *slot = value,
                    None => *complete = false,
                }
            });
        }
        gathered
    }
}

impl HeaderSource for Gathered<'_> {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        let index = self.names.iter().position(|n| same_name(n, name));
        match index {
            Some(i) if self.complete => self.values[i][..self.counts[i]].iter().for_each(|v| f(v)),
            _ => self.headers.for_each_value(name, f),
        }
    }
}

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
    // Without early exit, so the compiler checks 32 bytes at a time: an `all` with `||`
    // went byte by byte, and this check runs on every header value of every delivery.
    let visible = bytes.iter().fold(true, |ok, &b| {
        ok & ((b == b'\t') | (b.wrapping_sub(b' ') < 0x5f))
    });
    if !visible {
        return Err(Malformed::NotAscii);
    }
    // Only space and tab can surround a visible-ASCII value, so `trim_ascii` trims what
    // `str::trim` would; and visible ASCII is UTF-8, so this never fails.
    std::str::from_utf8(bytes.trim_ascii()).map_err(|_| Malformed::NotAscii)
}
