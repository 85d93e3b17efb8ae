//! actix-web's header map as a [`HeaderSource`], without copying it.

use actix_web::http::header::HeaderMap;
use bookhook_verify::{HeaderSource, NameFilter};

/// Lets `bookhook-verify` read an actix-web [`HeaderMap`].
///
/// actix-web 4 uses `http` 0.2 types while `bookhook-verify` is written against `http` 1, so
/// this thin wrapper adapts the map in place: no header is copied per request. The
/// extractors and the middleware use it; use it directly to verify in your own code.
///
/// # Example
///
/// ```
/// use actix_web::test::TestRequest;
/// use bookhook_actix::Headers;
/// use bookhook_verify::{Provider, VerifyError, Verifier};
///
/// let verifier = Verifier::builder(Provider::Slatis).secrets("whsec_a").build()?;
/// let req = TestRequest::post().insert_header(("x-slatis-signature", "sha256=")).to_http_request();
/// let err = verifier.verify(&Headers::new(req.headers()), b"{}").unwrap_err();
/// assert_eq!(err.status(), 400);
/// # Ok::<(), bookhook_verify::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a>(&'a HeaderMap);

impl<'a> Headers<'a> {
    /// Wraps a request's header map.
    pub fn new(map: &'a HeaderMap) -> Self {
        Headers(map)
    }
}

/// Up to this many distinct header names, one pass over the map comparing names is cheaper
/// than one `get_all` per name: each of those parses the name into an `http` 0.2
/// `HeaderName`, which allocates for every name that is not a standard header (all the
/// signature headers), then hashes it. A webhook delivery carries about ten.
const SCAN_MAX_NAMES: usize = 32;

impl HeaderSource for Headers<'_> {
    fn for_each_value<'b>(&'b self, name: &str, f: &mut dyn FnMut(&'b [u8])) {
        // `get_all` matches case-insensitively (names are stored lowercase) and yields
        // repeated headers in the order received.
        for value in self.0.get_all(name) {
            f(value.as_bytes());
        }
    }

    fn for_each_value_of<'b>(&'b self, names: &[&str], f: &mut dyn FnMut(usize, &'b [u8])) {
        if self.0.len_keys() > SCAN_MAX_NAMES {
            for (i, name) in names.iter().enumerate() {
                self.for_each_value(name, &mut |value| f(i, value));
            }
            return;
        }
        let filter = NameFilter::new(names);
        // Names are stored lowercase, as `names` are. A matching name's values are then
        // looked up by the stored `HeaderName` itself: no parse, no allocation, in the order
        // received.
        for key in self.0.keys() {
            if let Some(i) = filter.position(key.as_str()) {
                for value in self.0.get_all(key) {
                    f(i, value.as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn values<'a>(headers: &'a Headers<'a>, name: &str) -> Vec<&'a [u8]> {
        let mut seen = Vec::new();
        headers.for_each_value(name, &mut |v| seen.push(v));
        seen
    }

    #[test]
    fn repeated_header_yields_every_value_in_order() {
        let req = TestRequest::default()
            .append_header(("X-Cal-Signature-256", "ab"))
            .append_header(("x-cal-signature-256", "cd"))
            .to_http_request();
        let headers = Headers::new(req.headers());
        assert_eq!(values(&headers, "x-cal-signature-256"), [b"ab", b"cd"]);
    }

    /// Every value of each name, in order, as `for_each_value_of` reports them.
    fn values_of(headers: &Headers<'_>, names: &[&str]) -> Vec<Vec<Vec<u8>>> {
        let mut seen = vec![Vec::new(); names.len()];
        headers.for_each_value_of(names, &mut |i, v| seen[i].push(v.to_vec()));
        seen
    }

    fn one_by_one(headers: &Headers<'_>, names: &[&str]) -> Vec<Vec<Vec<u8>>> {
        names
            .iter()
            .map(|name| values(headers, name).iter().map(|v| v.to_vec()).collect())
            .collect()
    }

    #[test]
    fn one_pass_finds_what_lookups_find_in_order_for_small_and_large_maps() {
        let long = "x-".repeat(40);
        let names = [
            "webhook-id",
            "webhook-signature",
            "content-type",
            long.as_str(),
            "absent",
        ];
        for extra in [0, SCAN_MAX_NAMES + 1] {
            let mut req = TestRequest::default()
                .append_header(("Webhook-Signature", "v1,a"))
                .append_header(("content-type", "application/json"))
                .append_header((long.to_uppercase(), "long"))
                // Same length as `webhook-id`, another name.
                .append_header(("user-agen0", "ua"));
            for i in 0..extra {
                req = req.append_header((format!("x-extra-{i}"), "x"));
            }
            let req = req
                .append_header(("webhook-id", "msg_1"))
                .append_header(("webhook-signature", "v1,b v1,c"))
                .append_header(("webhook-signature", "v1,d"))
                .to_http_request();
            let headers = Headers::new(req.headers());
            let seen = values_of(&headers, &names);
            assert_eq!(seen, one_by_one(&headers, &names), "{extra} extra headers");
            assert_eq!(seen[0], [b"msg_1"], "{extra} extra headers");
            assert_eq!(seen[1], [&b"v1,a"[..], b"v1,b v1,c", b"v1,d"]);
            assert_eq!(seen[3], [b"long"]);
            assert!(seen[4].is_empty());
        }
    }

    #[test]
    fn absent_header_yields_nothing() {
        let req = TestRequest::default().to_http_request();
        assert!(values(&Headers::new(req.headers()), "webhook-id").is_empty());
    }

    #[test]
    fn non_utf8_values_are_passed_through_as_bytes() {
        let req = TestRequest::default()
            .insert_header((
                "webhook-signature",
                actix_web::http::header::HeaderValue::from_bytes(b"v1,\xff").unwrap(),
            ))
            .to_http_request();
        assert_eq!(
            values(&Headers::new(req.headers()), "webhook-signature"),
            [b"v1,\xff"]
        );
    }
}
