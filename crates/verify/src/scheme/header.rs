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

/// A header value checked to be visible ASCII (or tab) and trimmed: text, kept as bytes so
/// that reading it costs no UTF-8 validation and splitting it no `char` decoding. Parsing
/// headers with `str` methods cost more than hashing a 256-byte body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Text<'h>(&'h [u8]);

/// As the text, for test failures; request paths never format header values.
impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.escape_ascii().fmt(f)
    }
}

impl<'h> Text<'h> {
    /// Checks and trims a raw header value.
    fn new(bytes: &'h [u8]) -> Result<Self, Malformed> {
        if bytes.len() > MAX_VALUE_LEN {
            return Err(Malformed::TooLong);
        }
        // Without early exit, so the compiler checks 32 bytes at a time (an `all` with `||`
        // went byte by byte).
        let visible = bytes.iter().fold(true, |ok, &b| {
            ok & ((b == b'\t') | (b.wrapping_sub(b' ') < 0x5f))
        });
        if !visible {
            return Err(Malformed::NotAscii);
        }
        // Only space and tab can surround visible ASCII: this trims what `str::trim` would.
        Ok(Text(bytes.trim_ascii()))
    }

    /// Any string, unchecked: for tests of parsers that must also refuse what `new` would.
    #[cfg(test)]
    pub(crate) fn unchecked(s: &'h str) -> Self {
        Text(s.as_bytes())
    }

    pub(crate) fn as_bytes(self) -> &'h [u8] {
        self.0
    }

    pub(crate) fn len(self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    /// The text as `&str`: visible ASCII is UTF-8, so the check always passes.
    pub(crate) fn to_str(self) -> &'h str {
        std::str::from_utf8(self.0).unwrap_or_default()
    }

    /// Without the spaces and tabs around it.
    pub(crate) fn trim(self) -> Self {
        Text(self.0.trim_ascii())
    }

    /// Without `prefix` (compared ASCII case-insensitively) at its start, if it starts so.
    pub(crate) fn strip_prefix_ignore_case(self, prefix: &str) -> Option<Self> {
        let head = self.0.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix.as_bytes())
            .then(|| Text(&self.0[prefix.len()..]))
    }

    /// The parts between `sep` bytes, like `str::split`.
    pub(crate) fn split(self, sep: u8) -> impl Iterator<Item = Text<'h>> {
        self.0.split(move |&b| b == sep).map(Text)
    }

    /// The parts before and after the first `sep`, like `str::split_once`.
    pub(crate) fn split_once(self, sep: u8) -> Option<(Self, Self)> {
        let at = self.0.iter().position(|&b| b == sep)?;
        Some((Text(&self.0[..at]), Text(&self.0[at + 1..])))
    }

    /// The non-empty parts between spaces and tabs, like `str::split_ascii_whitespace` on
    /// visible ASCII. A value without any (the usual single signature) is found so with one
    /// vectorised pass instead of a byte-by-byte search.
    pub(crate) fn split_whitespace(self) -> impl Iterator<Item = Text<'h>> {
        let (whole, parts) = if has_space_or_tab(self.0) {
            (None, Some(self.0.split(|&b| b == b' ' || b == b'\t')))
        } else {
            (Some(self.0), None)
        };
        whole
            .into_iter()
            .chain(parts.into_iter().flatten())
            .filter(|part| !part.is_empty())
            .map(Text)
    }
}

/// Whether `bytes` holds a space or a tab, eight bytes at a time: header values are too
/// short for the compiler's vectorised loops, which start at 32 or 64 bytes.
fn has_space_or_tab(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Exact for "some byte of `v` is zero" (the classic bit trick).
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    let found = words.by_ref().any(|word| {
        let v = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        has_zero(v ^ (ONES * u64::from(b' '))) || has_zero(v ^ (ONES * u64::from(b'\t')))
    });
    found || words.remainder().iter().any(|&b| b == b' ' || b == b'\t')
}

/// Calls `f` with each value of `name` as visible-ASCII text, in order; returns how many
/// values there were.
///
/// # Errors
///
/// `Malformed` for a value with other bytes or longer than 8 KiB, or whatever `f` returns.
pub(super) fn for_each_value<'h>(
    headers: &'h dyn HeaderSource,
    name: &'static str,
    mut f: impl FnMut(Text<'h>) -> Result<(), Malformed>,
) -> Result<usize, VerifyError> {
    let mut count = 0;
    let mut failure = None;
    headers.for_each_value(name, &mut |bytes| {
        if failure.is_some() {
            return;
        }
        count += 1;
        let result = Text::new(bytes).and_then(&mut f);
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
) -> Result<Option<Text<'h>>, VerifyError> {
    let mut found: Option<Text<'h>> = None;
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
) -> Result<Text<'h>, VerifyError> {
    single_value(headers, name)?.ok_or(VerifyError::MissingHeader { name })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(parts: impl Iterator<Item = Text<'a>>) -> Vec<&'a str> {
        parts.map(Text::to_str).collect()
    }

    #[test]
    fn text_is_visible_ascii_trimmed_like_str_trim() {
        for raw in ["  v1,abc\t", "\tx y ", "", "   ", "a"] {
            assert_eq!(
                Text::new(raw.as_bytes()).unwrap().to_str(),
                raw.trim(),
                "{raw:?}"
            );
        }
        for bad in [&b"a\nb"[..], b"\x7f", b"caf\xc3\xa9", b"\0"] {
            assert_eq!(Text::new(bad), Err(Malformed::NotAscii), "{bad:?}");
        }
        assert_eq!(
            Text::new(&[b'a'; MAX_VALUE_LEN + 1]),
            Err(Malformed::TooLong)
        );
    }

    #[test]
    fn space_or_tab_is_found_at_every_position() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert!(!has_space_or_tab(&plain));
            for at in 0..len {
                for c in [b' ', b'\t'] {
                    let mut with = plain.clone();
                    with[at] = c;
                    assert!(has_space_or_tab(&with), "{len} {at} {c}");
                }
                let mut near = plain.clone();
                near[at] = b'!'; // 0x21, next to space
                assert!(!has_space_or_tab(&near));
            }
        }
    }

    #[test]
    fn splitting_text_agrees_with_str() {
        for raw in [
            "v1,a v1,b",
            "v1,a",
            "  v1,a\t\tv1,b  ",
            "",
            " ",
            "a,,b,",
            "t=1, v1=2",
        ] {
            let text = Text(raw.as_bytes());
            assert_eq!(
                texts(text.split_whitespace()),
                raw.split_ascii_whitespace().collect::<Vec<_>>(),
                "{raw:?}"
            );
            assert_eq!(
                texts(text.split(b',')),
                raw.split(',').collect::<Vec<_>>(),
                "{raw:?}"
            );
            assert_eq!(
                text.split_once(b',').map(|(a, b)| (a.to_str(), b.to_str())),
                raw.split_once(','),
                "{raw:?}"
            );
            assert_eq!(text.trim().to_str(), raw.trim(), "{raw:?}");
        }
    }
}
