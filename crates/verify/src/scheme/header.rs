//! Reading header values safely: visible ASCII only, bounded, with duplicates handled.

use crate::{HeaderSource, Malformed, VerifyError};

/// The most header names one scheme reads (Standard Webhooks and SchedulingKit read three).
pub(crate) const MAX_NAMES: usize = 3;

/// The most values of one name kept; a request repeating a header more often than this
/// (never seen from a real sender) is read from its headers directly. Small, so that the
/// collection stays a few cache lines that are cheap to build.
const MAX_VALUES: usize = 4;

/// The values of the headers a scheme reads, collected with one
/// [`HeaderSource::for_each_value_of`] call, so that the scheme's several lookups cost one
/// pass over the request's headers (the one dynamically dispatched call). Schemes then ask
/// for a header by its index in their [`header_names`](super::Scheme::header_names): no
/// name is compared again, and the lookups are plain, inlinable calls.
pub(crate) struct Fields<'h> {
    source: &'h dyn HeaderSource,
    names: &'h [&'static str],
    values: [[&'h [u8]; MAX_VALUES]; MAX_NAMES],
    /// How many values each name had; above [`MAX_VALUES`], the values are read again
    /// from `source` when asked for.
    counts: [usize; MAX_NAMES],
}

impl<'h> Fields<'h> {
    /// Collects the values of `names` (at most [`MAX_NAMES`]; any further name is read from
    /// `source` when asked for).
    pub(crate) fn gather(source: &'h dyn HeaderSource, names: &'h [&'static str]) -> Self {
        let mut values = [[&[][..]; MAX_VALUES]; MAX_NAMES];
        let mut counts = [0; MAX_NAMES];
        source.for_each_value_of(names, &mut |i, value| {
            if let Some(n) = counts.get_mut(i) {
                if let Some(slot) = values[i].get_mut(*n) {
                    *slot = value;
                }
                *n += 1;
            }
        });
        Fields {
            source,
            names,
            values,
            counts,
        }
    }

    /// The name at `index`, as the scheme listed it.
    pub(crate) fn name(&self, index: usize) -> &'static str {
        self.names[index]
    }

    /// Calls `f` with each value of the header at `index` as visible-ASCII text, in order;
    /// returns how many values there were.
    ///
    /// # Errors
    ///
    /// `Malformed` for a value with other bytes or longer than 8 KiB, or whatever `f`
    /// returns, as a [`VerifyError::Malformed`] naming the header.
    pub(crate) fn for_each(
        &self,
        index: usize,
        mut f: impl FnMut(Text<'h>) -> Result<(), Malformed>,
    ) -> Result<usize, VerifyError> {
        let name = self.name(index);
        let kept = self
            .counts
            .get(index)
            .and_then(|&n| self.values[index].get(..n));
        let Some(values) = kept else {
            return self.for_each_from_source(name, f);
        };
        for &value in values {
            Text::new(value)
                .and_then(&mut f)
                .map_err(|reason| VerifyError::malformed(name, reason))?;
        }
        Ok(values.len())
    }

    /// [`for_each`](Self::for_each) for a name whose values were not all kept.
    fn for_each_from_source(
        &self,
        name: &'static str,
        mut f: impl FnMut(Text<'h>) -> Result<(), Malformed>,
    ) -> Result<usize, VerifyError> {
        let mut count = 0;
        let mut failure = None;
        self.source.for_each_value(name, &mut |bytes| {
            if failure.is_some() {
                return;
            }
            count += 1;
            if let Err(reason) = Text::new(bytes).and_then(&mut f) {
                failure = Some(VerifyError::malformed(name, reason));
            }
        });
        match failure {
            Some(err) => Err(err),
            None => Ok(count),
        }
    }

    /// The one value of the header at `index`, if present. A header repeated with the same
    /// value is accepted (proxies sometimes duplicate headers); different values are
    /// ambiguous and refused.
    pub(crate) fn single(&self, index: usize) -> Result<Option<Text<'h>>, VerifyError> {
        // The usual case, a header sent once, without the general loop.
        if let (Some(1), Some(&[value, ..])) = (self.counts.get(index), self.values.get(index)) {
            let name = self.name(index);
            return Text::new(value)
                .map(Some)
                .map_err(|reason| VerifyError::malformed(name, reason));
        }
        let mut found: Option<Text<'h>> = None;
        self.for_each(index, |value| match found {
            Some(first) if first != value => Err(Malformed::Conflicting),
            _ => {
                found = Some(value);
                Ok(())
            }
        })?;
        Ok(found)
    }

    /// Like [`single`](Self::single), but absence is [`VerifyError::MissingHeader`].
    pub(crate) fn required(&self, index: usize) -> Result<Text<'h>, VerifyError> {
        self.single(index)?.ok_or(VerifyError::MissingHeader {
            name: self.name(index),
        })
    }
}

/// The longest single header value bookhook reads (a signature header with a handful of
/// rotated signatures is well under 1 KiB).
const MAX_VALUE_LEN: usize = 8 * 1024;

/// A header value checked to be visible ASCII (or tab) and trimmed: text, kept as bytes so
/// that reading it costs no UTF-8 validation and splitting it no `char` decoding. Parsing
/// headers with `str` methods cost more than hashing a 256-byte body.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Text<'h>(&'h [u8]);

/// As the text, for test failures; request paths never format header values.
impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Display` of the escaped bytes: its `Debug` would print `EscapeAscii { .. }`.
        std::fmt::Display::fmt(&self.0.escape_ascii(), f)
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

    /// Calls `f` with each non-empty part between spaces and tabs (the parts
    /// `str::split_ascii_whitespace` gives on visible ASCII), stopping at the first error.
    /// A value without any (the usual single signature) is found so with one word-at-a-time
    /// pass and goes to `f` whole, without an iterator chain around it.
    pub(crate) fn for_each_word<E>(
        self,
        mut f: impl FnMut(Text<'h>) -> Result<(), E>,
    ) -> Result<(), E> {
        if !has_space_or_tab(self.0) {
            return if self.0.is_empty() { Ok(()) } else { f(self) };
        }
        self.0
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|part| !part.is_empty())
            .try_for_each(|part| f(Text(part)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::SchemeOf;

    #[test]
    fn a_text_debugs_as_its_escaped_bytes() {
        // Test failures show the header value they were about, control bytes escaped.
        assert_eq!(format!("{:?}", Text(b"v1,abc")), "v1,abc");
        assert_eq!(format!("{:?}", Text(b"a\nb")), "a\\nb");
    }

    fn texts<'a>(parts: impl Iterator<Item = Text<'a>>) -> Vec<&'a str> {
        parts.map(Text::to_str).collect()
    }

    #[test]
    fn every_scheme_reads_at_most_max_names_headers() {
        for provider in crate::Provider::ALL {
            let names = provider.scheme().header_names();
            assert!(names.len() <= MAX_NAMES, "{provider}: {names:?}");
            assert!(
                names.iter().all(|n| *n == n.to_ascii_lowercase()),
                "{names:?}"
            );
        }
    }

    /// What `Fields` reports for each name equals what reading the request's headers one
    /// name at a time gives: for names sent once, up to `MAX_VALUES` times and beyond (read
    /// again from the source), absent, and a name past `MAX_NAMES`.
    #[test]
    fn fields_report_every_value_as_direct_lookups_do() {
        let names = ["x-once", "x-four", "x-many", "x-absent"];
        let mut map = http::HeaderMap::new();
        map.append("x-once", http::HeaderValue::from_static(" one\t"));
        for i in 0..MAX_VALUES + 3 {
            let value = http::HeaderValue::from_str(&format!("v{i}")).unwrap();
            if i < MAX_VALUES {
                map.append("x-four", value.clone());
            }
            map.append("x-many", value);
        }
        let fields = Fields::gather(&map, &names);
        for (i, name) in names.iter().enumerate() {
            let mut direct = Vec::new();
            map.for_each_value(name, &mut |v| direct.push(v.trim_ascii().to_vec()));
            let mut seen = Vec::new();
            let count = fields
                .for_each(i, |text| {
                    seen.push(text.as_bytes().to_vec());
                    Ok(())
                })
                .unwrap();
            assert_eq!(seen, direct, "{name}");
            assert_eq!(count, direct.len(), "{name}");
        }
        assert_eq!(fields.single(0).unwrap().unwrap().to_str(), "one");
        assert_eq!(
            fields.required(3),
            Err(VerifyError::MissingHeader { name: "x-absent" })
        );
        assert_eq!(
            fields.single(2),
            Err(VerifyError::malformed("x-many", Malformed::Conflicting))
        );
        // An error from the callback names the header, and stops the walk.
        let mut calls = 0;
        let err = fields.for_each(2, |_| {
            calls += 1;
            Err(Malformed::Syntax)
        });
        assert_eq!(
            err,
            Err(VerifyError::malformed("x-many", Malformed::Syntax))
        );
        assert_eq!(calls, 1);
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
            let mut words = Vec::new();
            text.for_each_word(|word| {
                words.push(word.to_str());
                Ok::<_, ()>(())
            })
            .unwrap();
            assert_eq!(
                words,
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
