//! A header source of raw pairs.

use bookhook_verify::{HeaderSource, Provider, SignParams, Signer};

/// Headers as an ordered list of raw name/value pairs: mixed-case names, repeated headers and
/// any bytes (non-UTF-8, oversized) reach the verifier exactly as given, as a server that does
/// not normalise or validate them would pass them; `http::HeaderMap` would clean them first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(pub Vec<(String, Vec<u8>)>);

impl HeaderSource for Pairs {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        for (n, v) in &self.0 {
            if n.eq_ignore_ascii_case(name) {
                f(v);
            }
        }
    }
}

impl Pairs {
    /// The headers `provider` sends for `body` signed with `secret` and `params`, and the
    /// query string (Slotflow's token).
    ///
    /// # Panics
    ///
    /// If `secret` is not a valid signing secret of `provider`.
    pub fn signed(
        provider: Provider,
        secret: &str,
        body: &[u8],
        params: &SignParams,
    ) -> (Self, Option<String>) {
        let signed = Signer::new(provider, secret)
            .expect("a valid test secret")
            .sign(body, params);
        let pairs = signed
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone().into_bytes()))
            .collect();
        (Pairs(pairs), signed.query().map(str::to_owned))
    }

    /// The first value of header `name` (any case) as text.
    ///
    /// # Panics
    ///
    /// If there is no such header or its value is not UTF-8.
    pub fn get(&self, name: &str) -> String {
        let (_, v) = self
            .0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("no header {name}"));
        String::from_utf8(v.clone()).expect("header value is text")
    }

    /// Replaces every header `name` (any case) with one `value`, at the end.
    pub fn set(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.remove(name);
        self.0.push((name.to_owned(), value.into()));
    }

    /// Removes every header `name` (any case).
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// A copy with header `name` replaced by one `value`.
    #[must_use]
    pub fn with(&self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        let mut out = self.clone();
        out.set(name, value);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_of_a_name_is_found_in_any_case_and_in_order() {
        let pairs = Pairs(vec![
            ("X-A".into(), b"1".to_vec()),
            ("x-b".into(), b"2".to_vec()),
            ("x-a".into(), vec![0xff]),
        ]);
        let mut seen = Vec::new();
        pairs.for_each_value("x-A", &mut |v| seen.push(v.to_vec()));
        assert_eq!(seen, [b"1".to_vec(), vec![0xff]]);
        let replaced = pairs.with("X-A", "3");
        assert_eq!(replaced.get("x-a"), "3");
        assert_eq!(replaced.0.len(), 2);
    }
}
