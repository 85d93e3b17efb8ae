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
}

impl HeaderSource for http::HeaderMap {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        for value in self.get_all(name) {
            f(value.as_bytes());
        }
    }
}

impl<T: HeaderSource + ?Sized> HeaderSource for &T {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        (**self).for_each_value(name, f);
    }
}
