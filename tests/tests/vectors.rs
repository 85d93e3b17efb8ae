//! bookhook agrees with independently computed signatures: openssl for every scheme (HMAC and
//! ed25519), the Standard Webhooks authors' published vectors (`v1` and `v1a`), and RFC 4231's
//! HMAC-SHA-256 cases.

use bookhook_testkit::vectors::{Delivery, deliveries, rfc4231, standard_v1a};
use bookhook_verify::{
    ConfigError, KeyKind, Malformed, Provider, SignParams, Signer, Verifier, VerifyError,
};

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

fn timestamp_of(d: &Delivery) -> Option<i64> {
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
        let key = hex::decode(&c.key).expect("hex key");
        let data = hex::decode(&c.data).expect("hex data");
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

#[test]
fn every_openssl_v1a_vector_verifies_with_its_public_key_only() {
    let all = standard_v1a();
    assert_eq!(
        all.len(),
        5,
        "published, two openssl keys, empty body, rotation"
    );
    for v in &all {
        let verified = v
            .verifier(&[&v.public_key])
            .unwrap()
            .verify(&v.header_map(), v.body.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(verified.key_kind(), KeyKind::Ed25519, "{}", v.name);
        assert_eq!(verified.delivery_id(), Some(&*v.id), "{}", v.name);
        // One byte more, or one changed, and it is refused.
        let mut longer = v.body.clone().into_bytes();
        longer.push(b' ');
        let mut changed = v.body.clone().into_bytes();
        if let Some(first) = changed.first_mut() {
            *first ^= 0x01;
        }
        for body in [longer, changed]
            .iter()
            .filter(|b| **b != v.body.as_bytes())
        {
            let err = v
                .verifier(&[&v.public_key])
                .unwrap()
                .verify(&v.header_map(), body)
                .unwrap_err();
            assert_eq!(err, VerifyError::SignatureMismatch, "{}", v.name);
        }
        // Another vector's public key does not verify it.
        let stranger = all.iter().find(|o| o.public_key != v.public_key).unwrap();
        let err = v
            .verifier(&[&stranger.public_key])
            .unwrap()
            .verify(&v.header_map(), v.body.as_bytes())
            .unwrap_err();
        assert_eq!(err, VerifyError::SignatureMismatch, "{}", v.name);
    }
}

#[test]
fn signer_reproduces_every_openssl_v1a_signature_exactly() {
    // Ed25519 is deterministic: the same key and message give the same signature in every
    // correct implementation, so bookhook's header must equal openssl's byte for byte.
    for v in standard_v1a() {
        let list = match &v.hmac_secret {
            Some(hmac) => format!("{hmac},{}", v.secret_key),
            None => v.secret_key.clone(),
        };
        let signed = Signer::from_list(Provider::StandardWebhooks, &list)
            .unwrap()
            .sign(
                v.body.as_bytes(),
                &SignParams::at(v.timestamp).id(v.id.clone()),
            );
        assert_eq!(
            signed.header("webhook-signature"),
            Some(&*v.signature),
            "{}",
            v.name
        );
        if let Some(published) = &v.published_signature {
            assert_eq!(
                &v.signature, published,
                "openssl agrees with the published vector"
            );
        }
    }
}

#[test]
fn published_v1a_vector_both_ways() {
    let v = standard_v1a()
        .into_iter()
        .find(|v| v.published_signature.is_some())
        .unwrap();
    assert_eq!(
        v.public_key,
        "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
    );
    assert_eq!(v.id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assert_eq!(v.timestamp, 1_614_265_330);
    assert_eq!(v.body, r#"{"test": 2432232314}"#);
    let published = v.published_signature.as_deref().unwrap();
    // Signing: the published secret key gives the published signature.
    let ours = Signer::new(Provider::StandardWebhooks, &v.secret_key)
        .unwrap()
        .sign(
            v.body.as_bytes(),
            &SignParams::at(v.timestamp).id(v.id.clone()),
        );
    assert_eq!(ours.header("webhook-signature"), Some(published));
    // Verifying: the published signature passes with the published public key.
    let verified = v
        .verifier(&[&v.public_key])
        .unwrap()
        .verify(&v.header_map(), v.body.as_bytes())
        .unwrap();
    assert_eq!(verified.key_kind(), KeyKind::Ed25519);
    // And the secret key is refused by a verifier, with the fix in the message.
    let err = v.verifier(&[&v.secret_key]).unwrap_err();
    assert_eq!(
        err,
        ConfigError::SigningKeyForVerifier {
            provider: Provider::StandardWebhooks,
            index: 0
        }
    );
}

#[test]
fn openssl_rotation_vector_verifies_with_either_kind_and_never_crossed() {
    let v = standard_v1a()
        .into_iter()
        .find(|v| v.hmac_secret.is_some())
        .unwrap();
    let hmac = v.hmac_secret.clone().unwrap();
    let body = v.body.as_bytes();
    let check = |secrets: &[&str]| v.verifier(secrets).unwrap().verify(&v.header_map(), body);
    assert_eq!(check(&[&hmac]).unwrap().key_kind(), KeyKind::Hmac);
    assert_eq!(
        check(&[&v.public_key]).unwrap().key_kind(),
        KeyKind::Ed25519
    );
    let both = check(&[&v.public_key, &hmac]).unwrap();
    assert_eq!(
        (both.secret_index(), both.key_kind()),
        (0, KeyKind::Ed25519)
    );
    // Each entry alone, against the other kind of key only: refused.
    let (v1, v1a) = v.signature.split_once(' ').unwrap();
    for (entry, key) in [(v1, &v.public_key), (v1a, &hmac)] {
        let mut headers = v.header_map();
        headers.insert("webhook-signature", entry.parse().unwrap());
        let err = v
            .verifier(&[key])
            .unwrap()
            .verify(&headers, body)
            .unwrap_err();
        assert_eq!(
            err,
            VerifyError::SignatureMismatch,
            "{entry} with {}",
            &key[..5]
        );
    }
}
