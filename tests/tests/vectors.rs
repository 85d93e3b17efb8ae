//! bookhook agrees with independently computed signatures: openssl for every scheme, the
//! Standard Webhooks authors' published vector, and RFC 4231's HMAC-SHA-256 cases.

use bookhook_integration::vectors::{deliveries, rfc4231};
use bookhook_verify::{Malformed, Provider, SignParams, Signer, Verifier, VerifyError};

#[test]
fn every_openssl_vector_verifies() {
    let all = deliveries();
    assert_eq!(all.len(), 8, "one vector per scheme variant");
    for d in &all {
        let verified = d
            .verifier()
            .verify_with_query(d.query.as_deref(), &d.header_map(), d.body.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", d.name));
        assert_eq!(verified.provider(), d.provider(), "{}", d.name);
        assert_eq!(
            verified.delivery_id(),
            d.expect_delivery_id.as_deref(),
            "{}",
            d.name
        );
        assert_eq!(
            verified.event_type(),
            d.expect_event_type.as_deref(),
            "{}",
            d.name
        );
        assert_eq!(verified.secret_index(), 0, "{}", d.name);
    }
}

#[test]
fn every_provider_has_a_vector() {
    let all = deliveries();
    for p in Provider::ALL {
        assert!(all.iter().any(|d| d.provider() == p), "no vector for {p}");
    }
}

#[test]
fn every_openssl_vector_fails_with_one_byte_changed() {
    for d in deliveries()
        .iter()
        .filter(|d| d.provider() != Provider::Slotflow)
    {
        let mut body = d.body.clone().into_bytes();
        let last = body.len() - 2;
        body[last] ^= 0x20;
        let err = d.verifier().verify(&d.header_map(), &body).unwrap_err();
        assert_eq!(err, VerifyError::SignatureMismatch, "{}", d.name);
    }
}

#[test]
fn signer_reproduces_every_openssl_signature_exactly() {
    for d in deliveries() {
        let p = d.provider();
        let mut params = SignParams::at(timestamp_of(&d).unwrap_or(0));
        if let Some(id) = &d.expect_delivery_id {
            params = params.id(id.clone());
        }
        if let Some(event) = &d.expect_event_type {
            params = params.event_type(event.clone());
        }
        let signed = Signer::new(p, &d.secret)
            .unwrap()
            .sign(d.body.as_bytes(), &params);
        assert_eq!(signed.query(), d.query.as_deref(), "{}", d.name);
        for (name, value) in &d.headers {
            let ours = signed
                .header(name)
                .unwrap_or_else(|| panic!("{}: no {name}", d.name));
            // The vectors' `sha256=` variant of SchedulingKit is a receiving-side tolerance.
            let theirs = value
                .strip_prefix("sha256=")
                .filter(|_| p == Provider::SchedulingKit)
                .unwrap_or(value);
            assert_eq!(ours, theirs, "{}: {name}", d.name);
        }
    }
}

#[test]
fn standard_webhooks_published_vector_matches_openssl_and_bookhook() {
    let d = deliveries()
        .into_iter()
        .find(|d| d.published_signature.is_some())
        .unwrap();
    let published = d.published_signature.as_deref().unwrap();
    let header = d
        .headers
        .iter()
        .find(|(n, _)| n == "webhook-signature")
        .unwrap();
    assert_eq!(
        header.1, published,
        "openssl agrees with the published vector"
    );
    let ours = Signer::new(Provider::StandardWebhooks, &d.secret)
        .unwrap()
        .sign(
            d.body.as_bytes(),
            &SignParams::at(1_614_265_330).id("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        );
    assert_eq!(ours.header("webhook-signature"), Some(published));
}

fn timestamp_of(d: &bookhook_integration::vectors::Delivery) -> Option<i64> {
    d.headers.iter().find_map(|(n, v)| {
        if n.eq_ignore_ascii_case("webhook-timestamp") {
            return v.parse().ok();
        }
        v.strip_prefix("t=")?.split(',').next()?.parse().ok()
    })
}

#[test]
fn rfc4231_hmac_sha256_cases_through_a_raw_body_scheme() {
    let cases = rfc4231();
    assert_eq!(cases.len(), 7);
    for c in cases {
        let key = hex_decode(&c.key);
        let data = hex_decode(&c.data);
        let verifier = Verifier::builder(Provider::CalCom)
            .secret(&key)
            .build()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-cal-signature-256", c.mac.parse().unwrap());
        let result = verifier.verify(&headers, &data);
        match c.truncated_bits {
            // A truncated MAC is never accepted as a match, even when it is a correct prefix.
            Some(_) => assert_eq!(
                result.unwrap_err(),
                VerifyError::Malformed {
                    header: "x-cal-signature-256",
                    reason: Malformed::WrongLength
                },
                "case {}",
                c.case
            ),
            None => {
                assert!(result.is_ok(), "RFC 4231 case {}: {result:?}", c.case);
                let signed = Signer::new(Provider::CalCom, &key)
                    .unwrap()
                    .sign(&data, &SignParams::at(0));
                assert_eq!(
                    signed.header("x-cal-signature-256"),
                    Some(&*c.mac),
                    "case {}",
                    c.case
                );
            }
        }
        // And the truncated case's full MAC starts with the published prefix.
        if c.truncated_bits.is_some() {
            let full = Signer::new(Provider::CalCom, &key)
                .unwrap()
                .sign(&data, &SignParams::at(0));
            assert!(
                full.header("x-cal-signature-256")
                    .unwrap()
                    .starts_with(&c.mac),
                "case {}",
                c.case
            );
        }
    }
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
