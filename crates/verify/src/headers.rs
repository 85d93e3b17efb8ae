//! Read-only access to request headers, independent of the `http` crate version.

/// A source of request headers.
///
/// Implemented for [`http::HeaderMap`] (http 1.x). Servers on other header types (actix-web 4
/// still uses `http` 0.2) implement it on a thin wrapper instead of copying headers for every
/// request.
///
/// # Example
///
/// ```
/// use bookhook_verify::HeaderSource;
///
/// /// Headers as a plain list, e.g. from a recorded delivery.
/// struct Pairs<'a>(&'a [(&'a str, &'a str)]);
///
/// impl HeaderSource for Pairs<'_> {
///     fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
///         for (n, v) in self.0 {
///             if n.eq_ignore_ascii_case(name) {
///                 f(v.as_bytes());
///             }
///         }
///     }
/// }
///
/// let pairs = Pairs(&[("X-Cal-Signature-256", "ab"), ("x-cal-signature-256", "cd")]);
/// let mut seen = Vec::new();
/// pairs.for_each_value("x-cal-signature-256", &mut |v| seen.push(v));
/// assert_eq!(seen, [b"ab", b"cd"]);
/// ```
pub trait HeaderSource {
    /// Calls `f` once for every value of the header `name`, in the order received.
    ///
    /// `name` is always lowercase ASCII; matching must be case-insensitive. A header that
    /// is absent calls `f` zero times. The values may be any bytes a client sent.
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8]));

    /// Calls `f(i, value)` for every value of every header `names[i]`; the values of one
    /// name come in the order received. `names` are distinct and lowercase ASCII.
    ///
    /// A verifier reads all the headers its scheme needs with one call. The default asks
    /// [`for_each_value`](Self::for_each_value) once per name; override it when one pass
    /// over the headers is cheaper than a lookup per name, as it is for `http::HeaderMap`.
    fn for_each_value_of<'a>(&'a self, names: &[&str], f: &mut dyn FnMut(usize, &'a [u8])) {
        for (i, name) in names.iter().enumerate() {
            self.for_each_value(name, &mut |value| f(i, value));
        }
    }
}

/// Up to this many distinct header names, one pass over an `http::HeaderMap` comparing names
/// is cheaper than one `get_all` per name (each parses the name and hashes it byte by byte).
/// A webhook delivery carries about ten; past this, lookups are used.
const SCAN_MAX_NAMES: usize = 32;

/// The names a one-pass [`HeaderSource::for_each_value_of`] looks for, ready to be checked
/// against every header name of a request, which is what such a pass does per header.
///
/// Most header names differ in length from all the names looked for, which one bit test
/// tells; the rest are compared by length and last byte before their bytes (the names a
/// verifier looks for often share a length with another header, such as `webhook-id` and
/// `user-agent`, but rarely a last byte). For implementors of [`HeaderSource`] over their own
/// header map; `http::HeaderMap`'s implementation uses it.
///
/// # Example
///
/// ```
/// use bookhook_verify::NameFilter;
///
/// let wanted = ["webhook-id", "webhook-signature"];
/// let filter = NameFilter::new(&wanted);
/// assert_eq!(filter.position("webhook-signature"), Some(1));
/// assert_eq!(filter.position("user-agent"), None); // the length of `webhook-id`
/// assert_eq!(filter.position("host"), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NameFilter<'n> {
    names: &'n [&'n str],
    /// A bit per length of the names (lengths of 63 and more share the last bit).
    lengths: u64,
}

impl<'n> NameFilter<'n> {
    /// A filter for `names` (lowercase, as [`HeaderSource::for_each_value_of`] gets them).
    pub fn new(names: &'n [&'n str]) -> Self {
        let lengths = names.iter().fold(0, |set, name| set | length_bit(name));
        NameFilter { names, lengths }
    }

    /// The index in the names of `key`, a header name as stored lowercase by the map, if
    /// it is one of them.
    pub fn position(&self, key: &str) -> Option<usize> {
        if self.lengths & length_bit(key) == 0 {
            return None;
        }
        let last = key.as_bytes().last();
        self.names.iter().position(|name| {
            name.len() == key.len() && name.as_bytes().last() == last && *name == key
        })
    }
}

fn length_bit(name: &str) -> u64 {
    1 << name.len().min(63)
}

impl HeaderSource for http::HeaderMap {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        for value in self.get_all(name) {
            f(value.as_bytes());
        }
    }

    fn for_each_value_of<'a>(&'a self, names: &[&str], f: &mut dyn FnMut(usize, &'a [u8])) {
        if self.keys_len() > SCAN_MAX_NAMES {
            for (i, name) in names.iter().enumerate() {
                self.for_each_value(name, &mut |value| f(i, value));
            }
            return;
        }
        let filter = NameFilter::new(names);
        // `HeaderMap` names are lowercase; its iterator yields each name's values in order.
        for (key, value) in self {
            if let Some(i) = filter.position(key.as_str()) {
                f(i, value.as_bytes());
            }
        }
    }
}

impl<T: HeaderSource + ?Sized> HeaderSource for &T {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        (**self).for_each_value(name, f);
    }

    fn for_each_value_of<'a>(&'a self, names: &[&str], f: &mut dyn FnMut(usize, &'a [u8])) {
        (**self).for_each_value_of(names, f);
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    /// Every value of each name, in order, as `for_each_value_of` reports them.
    fn values_of(map: &HeaderMap, names: &[&str]) -> Vec<Vec<Vec<u8>>> {
        let mut seen = vec![Vec::new(); names.len()];
        map.for_each_value_of(names, &mut |i, v| seen[i].push(v.to_vec()));
        seen
    }

    fn one_by_one(map: &HeaderMap, names: &[&str]) -> Vec<Vec<Vec<u8>>> {
        names
            .iter()
            .map(|name| {
                let mut seen = Vec::new();
                map.for_each_value(name, &mut |v| seen.push(v.to_vec()));
                seen
            })
            .collect()
    }

    #[test]
    fn a_reference_to_a_header_source_reads_the_same_values() {
        let mut map = HeaderMap::new();
        map.append("x-sig", HeaderValue::from_static("a"));
        map.append("x-sig", HeaderValue::from_static("b"));
        let by_ref = &map;
        let mut seen = Vec::new();
        HeaderSource::for_each_value(&by_ref, "x-sig", &mut |v| seen.push(v.to_vec()));
        assert_eq!(seen, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(values_of(&map, &["x-sig"]), one_by_one(&map, &["x-sig"]));
    }

    #[test]
    fn name_filter_finds_exactly_the_equal_names() {
        let long = "x-".repeat(40);
        let longer = format!("{long}y");
        let names = ["webhook-id", "x-sig", "a", long.as_str()];
        let filter = NameFilter::new(&names);
        let keys = [
            "webhook-id",
            "user-agent",  // same length as webhook-id
            "webhook-ix",  // same length and first bytes
            "xwebhook-id", // same last byte, other length
            "x-sig",
            "y-sig", // same length and last byte
            "a",
            "",
            long.as_str(),
            longer.as_str(), // a long name sharing the catch-all length bit
        ];
        for key in keys {
            let expected = names.iter().position(|name| *name == key);
            assert_eq!(filter.position(key), expected, "{key:?}");
        }
        assert_eq!(NameFilter::new(&[]).position("a"), None);
    }

    #[test]
    fn one_pass_finds_what_lookups_find_in_order_for_small_and_large_maps() {
        let names = ["webhook-id", "webhook-signature", "content-type", "absent"];
        for extra in [0, SCAN_MAX_NAMES + 1] {
            let mut map = HeaderMap::new();
            map.append("Webhook-Signature", HeaderValue::from_static("v1,a"));
            map.append("content-type", HeaderValue::from_static("application/json"));
            for i in 0..extra {
                let name = HeaderName::from_bytes(format!("x-extra-{i}").as_bytes()).unwrap();
                map.append(name, HeaderValue::from_static("x"));
            }
            map.append("webhook-id", HeaderValue::from_static("msg_1"));
            map.append("webhook-signature", HeaderValue::from_static("v1,b v1,c"));
            map.append("webhook-signature", HeaderValue::from_static("v1,d"));
            let seen = values_of(&map, &names);
            assert_eq!(seen, one_by_one(&map, &names), "{extra} extra headers");
            assert_eq!(seen[1], [&b"v1,a"[..], b"v1,b v1,c", b"v1,d"]);
            assert!(seen[3].is_empty());
        }
    }
}
