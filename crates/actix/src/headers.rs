//! actix-web's header map as a [`HeaderSource`], without copying it.

use actix_web::http::header::HeaderMap;
use bookhook_verify::HeaderSource;

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

impl HeaderSource for Headers<'_> {
    fn for_each_value<'b>(&'b self, name: &str, f: &mut dyn FnMut(&'b [u8])) {
        // `get_all` matches case-insensitively (names are stored lowercase) and yields
        // repeated headers in the order received.
        for value in self.0.get_all(name) {
            f(value.as_bytes());
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
