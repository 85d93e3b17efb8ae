//! The negative matrix, run for every signed scheme: each row builds a delivery, changes one
//! thing, and states the one outcome that is right.
//!
//! Valid deliveries come from `Signer`; that `Signer` agrees with an independent
//! implementation is checked against openssl-computed vectors in `tests/` at the top level.

use std::time::Duration;

use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{
    ConfigError, FixedClock, HeaderSource, MAX_SIGNATURES, Malformed, Provider, SignParams, Signer,
    Verified, Verifier, VerifyError,
};

const NOW: i64 = 1_780_000_000;
const BODY: &[u8] = br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1","attendee":{"name":"Jane Smith","email":"jane@example.com"}}}"#;

/// The signed providers and a secret in the form each issues.
const SIGNED: [(Provider, &str, &str); 6] = [
    (Provider::Slatis, "whsec_slatis_current", "whsec_slatis_old"),
    (
        Provider::Bookable,
        "wh_sec_bookable_current",
        "wh_sec_bookable_old",
    ),
    (Provider::SchedulingKit, "sk-current", "sk-old"),
    (Provider::CalCom, "calcom-current", "calcom-old"),
    (Provider::Calendly, "calendly-current", "calendly-old"),
    (
        Provider::StandardWebhooks,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_c2Vjb25kLXNlY3JldC1vZi1zdGFuZGFyZA==",
    ),
];

/// Headers as an ordered list with names as given: lets the tests send mixed-case names and
/// repeated headers exactly, without `http::HeaderMap` normalising them first.
#[derive(Debug, Clone, Default)]
struct Headers(Vec<(String, Vec<u8>)>);

impl HeaderSource for Headers {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        for (n, v) in &self.0 {
            if n.eq_ignore_ascii_case(name) {
                f(v);
            }
        }
    }
}

impl Headers {
    fn signed(provider: Provider, secret: &str, at: i64, body: &[u8]) -> Self {
        let signed = Signer::new(provider, secret).unwrap().sign(
            body,
            &SignParams::at(at).id("msg_1").event_type("booking.created"),
        );
        Headers(
            signed
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone().into_bytes()))
                .collect(),
        )
    }

    fn signature_header(provider: Provider) -> &'static str {
        match provider {
            Provider::Slatis => "x-slatis-signature",
            Provider::Bookable => "x-samna-signature",
            Provider::SchedulingKit => "x-webhook-signature",
            Provider::CalCom => "x-cal-signature-256",
            Provider::Calendly => "calendly-webhook-signature",
            Provider::StandardWebhooks => "webhook-signature",
            other => panic!("{other} is not signed"),
        }
    }

    fn get(&self, name: &str) -> String {
        let (_, v) = self
            .0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap();
        String::from_utf8(v.clone()).unwrap()
    }

    fn set(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.remove(name);
        self.0.push((name.to_owned(), value.into()));
    }

    fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The signature entry (hex or base64 tag) of a freshly signed header.
    fn tag(&self, provider: Provider) -> String {
        let value = self.get(Self::signature_header(provider));
        match provider {
            Provider::Slatis => value.trim_start_matches("sha256=").to_owned(),
            Provider::Bookable | Provider::Calendly => {
                value.split_once("v1=").unwrap().1.to_owned()
            }
            Provider::StandardWebhooks => value.trim_start_matches("v1,").to_owned(),
            _ => value,
        }
    }

    /// Replaces the signature header with one carrying `entries` (each a raw tag string).
    fn with_entries(mut self, provider: Provider, at: i64, entries: &[&str]) -> Self {
        let value = match provider {
            Provider::Slatis => entries
                .iter()
                .map(|e| format!("sha256={e}"))
                .collect::<Vec<_>>()
                .join(","),
            Provider::Bookable | Provider::Calendly => {
                let v1: String = entries.iter().map(|e| format!(",v1={e}")).collect();
                format!("t={at}{v1}")
            }
            Provider::StandardWebhooks => entries
                .iter()
                .map(|e| format!("v1,{e}"))
                .collect::<Vec<_>>()
                .join(" "),
            _ => entries.join(","),
        };
        self.set(Self::signature_header(provider), value);
        self
    }
}

fn verifier(provider: Provider, secrets: &[&str]) -> Verifier {
    secrets
        .iter()
        .fold(Verifier::builder(provider), |b, s| b.secret(s))
        .clock(FixedClock::new(
            OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        ))
        .build()
        .unwrap()
}

fn check(provider: Provider, headers: &Headers, body: &[u8]) -> Result<Verified, VerifyError> {
    let (_, current, old) = SIGNED.iter().find(|(p, ..)| *p == provider).unwrap();
    verifier(provider, &[current, old]).verify(headers, body)
}

fn malformed(provider: Provider, reason: Malformed) -> VerifyError {
    VerifyError::Malformed {
        header: Headers::signature_header(provider),
        reason,
    }
}

/// A tag of the right length that no secret produced.
fn wrong_tag(provider: Provider) -> String {
    match provider {
        Provider::StandardWebhooks => "A".repeat(43) + "=",
        _ => "0".repeat(64),
    }
}

#[test]
fn valid_delivery_verifies_with_the_first_secret() {
    for (p, current, _) in SIGNED {
        let v = check(p, &Headers::signed(p, current, NOW, BODY), BODY)
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(v.provider(), p);
        assert_eq!(v.secret_index(), 0, "{p}");
        let expected_ts = p
            .signs_timestamp()
            .then(|| OffsetDateTime::from_unix_timestamp(NOW).unwrap());
        assert_eq!(v.timestamp(), expected_ts, "{p}");
    }
}

#[test]
fn delivery_signed_with_the_second_secret_reports_index_one() {
    for (p, _, old) in SIGNED {
        let v = check(p, &Headers::signed(p, old, NOW, BODY), BODY)
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(v.secret_index(), 1, "{p}");
    }
}

#[test]
fn tampered_body_is_a_mismatch() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            check(p, &headers, &tampered).unwrap_err(),
            VerifyError::SignatureMismatch,
            "{p}"
        );
        assert_eq!(
            check(p, &headers, &BODY[..BODY.len() - 1]).unwrap_err(),
            VerifyError::SignatureMismatch,
            "{p}"
        );
        assert_eq!(
            check(p, &headers, b"").unwrap_err(),
            VerifyError::SignatureMismatch,
            "{p}"
        );
    }
}

#[test]
fn wrong_secret_is_a_mismatch_with_status_401() {
    for (p, current, _) in SIGNED {
        let other = match p {
            Provider::StandardWebhooks => "whsec_b3RoZXItc2VjcmV0LW5vdC1jb25maWd1cmVk",
            _ => "not-the-configured-secret",
        };
        let err = verifier(p, &[current])
            .verify(&Headers::signed(p, other, NOW, BODY), BODY)
            .unwrap_err();
        assert_eq!(err, VerifyError::SignatureMismatch, "{p}");
        assert_eq!(err.status(), 401);
    }
}

#[test]
fn missing_signature_header_is_missing_with_status_401() {
    for (p, current, _) in SIGNED {
        let mut headers = Headers::signed(p, current, NOW, BODY);
        headers.remove(Headers::signature_header(p));
        let err = check(p, &headers, BODY).unwrap_err();
        assert_eq!(
            err,
            VerifyError::MissingHeader {
                name: Headers::signature_header(p)
            },
            "{p}"
        );
        assert_eq!(err.status(), 401);
        assert_eq!(
            check(p, &Headers::default(), BODY).unwrap_err().status(),
            401,
            "{p}"
        );
    }
}

#[test]
fn empty_signature_is_malformed_with_status_400_never_a_match() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY).with_entries(p, NOW, &[""]);
        let err = check(p, &headers, BODY).unwrap_err();
        assert_eq!(err, malformed(p, Malformed::EmptySignature), "{p}");
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn completely_empty_header_value_is_malformed() {
    for (p, current, _) in SIGNED {
        let mut headers = Headers::signed(p, current, NOW, BODY);
        headers.set(Headers::signature_header(p), "");
        assert_eq!(check(p, &headers, BODY).unwrap_err().status(), 400, "{p}");
    }
}

#[test]
fn truncated_or_extended_signature_is_wrong_length() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let tag = headers.tag(p);
        // Well-encoded but of the wrong size: 30 and 36 bytes for base64.
        let (short, long) = match p {
            Provider::StandardWebhooks => ("A".repeat(40), "A".repeat(48)),
            _ => (
                tag[..tag.len() - 4].to_owned(),
                format!("{tag}{}", &tag[..4]),
            ),
        };
        for entry in [&short[..], &long[..]] {
            let h = headers.clone().with_entries(p, NOW, &[entry]);
            assert_eq!(
                check(p, &h, BODY).unwrap_err(),
                malformed(p, Malformed::WrongLength),
                "{p} {entry}"
            );
        }
    }
}

#[test]
fn bad_encoding_is_malformed() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let tag = headers.tag(p);
        let (bad, enc) = match p {
            Provider::StandardWebhooks => (format!("!{}", &tag[1..]), "base64"),
            _ => (format!("zz{}", &tag[2..]), "hex"),
        };
        let h = headers.with_entries(p, NOW, &[&bad]);
        assert_eq!(
            check(p, &h, BODY).unwrap_err(),
            malformed(p, Malformed::BadEncoding(enc)),
            "{p}"
        );
    }
}

#[test]
fn several_entries_where_only_the_last_is_right_verify() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let right = headers.tag(p);
        let wrong = wrong_tag(p);
        let h = headers.with_entries(p, NOW, &[&wrong, &wrong, &right]);
        assert!(check(p, &h, BODY).is_ok(), "{p}: {:?}", h);
    }
}

#[test]
fn several_wrong_entries_are_a_mismatch() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let wrong = wrong_tag(p);
        let h = headers.with_entries(p, NOW, &[&wrong, &wrong]);
        assert_eq!(
            check(p, &h, BODY).unwrap_err(),
            VerifyError::SignatureMismatch,
            "{p}"
        );
    }
}

#[test]
fn repeated_header_where_the_second_is_right_verifies() {
    for (p, current, _) in SIGNED {
        let good = Headers::signed(p, current, NOW, BODY);
        let name = Headers::signature_header(p);
        let right_value = good.get(name);
        let mut h = good.clone().with_entries(p, NOW, &[&wrong_tag(p)]);
        h.0.push((name.to_owned(), right_value.into_bytes()));
        assert!(check(p, &h, BODY).is_ok(), "{p}");
    }
}

#[test]
fn header_names_match_in_any_case() {
    for (p, current, _) in SIGNED {
        let mut h = Headers::signed(p, current, NOW, BODY);
        for (name, _) in &mut h.0 {
            *name = name.to_ascii_uppercase();
        }
        assert!(check(p, &h, BODY).is_ok(), "{p}");
    }
}

#[test]
fn more_entries_than_the_cap_are_refused_before_any_mac() {
    for (p, current, _) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let right = headers.tag(p);
        let many = vec![right.as_str(); MAX_SIGNATURES + 1];
        let h = headers.clone().with_entries(p, NOW, &many);
        assert_eq!(
            check(p, &h, BODY).unwrap_err(),
            malformed(p, Malformed::TooManySignatures),
            "{p}"
        );
        let at_cap = headers.with_entries(p, NOW, &many[..MAX_SIGNATURES]);
        assert!(check(p, &at_cap, BODY).is_ok(), "{p}");
    }
}

#[test]
fn non_ascii_header_bytes_are_malformed() {
    for (p, current, _) in SIGNED {
        let mut h = Headers::signed(p, current, NOW, BODY);
        let name = Headers::signature_header(p);
        let mut value = h.get(name).into_bytes();
        value.push(0xff);
        h.set(name, value);
        assert_eq!(
            check(p, &h, BODY).unwrap_err(),
            malformed(p, Malformed::NotAscii),
            "{p}"
        );
    }
}

const TIMESTAMPED: [Provider; 3] = [
    Provider::Bookable,
    Provider::Calendly,
    Provider::StandardWebhooks,
];

fn secret_of(p: Provider) -> &'static str {
    SIGNED.iter().find(|(q, ..)| *q == p).unwrap().1
}

#[test]
fn timestamps_at_the_tolerance_edge_pass_and_one_second_beyond_fail() {
    for p in TIMESTAMPED {
        for at in [NOW - 300, NOW + 300] {
            assert!(
                check(p, &Headers::signed(p, secret_of(p), at, BODY), BODY).is_ok(),
                "{p} {at}"
            );
        }
        assert_eq!(
            check(p, &Headers::signed(p, secret_of(p), NOW - 301, BODY), BODY).unwrap_err(),
            VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            },
            "{p}"
        );
        let err = check(p, &Headers::signed(p, secret_of(p), NOW + 301, BODY), BODY).unwrap_err();
        assert_eq!(
            err,
            VerifyError::TimestampInFuture {
                ahead_secs: 301,
                tolerance_secs: 300
            },
            "{p}"
        );
        assert_eq!(err.status(), 401);
    }
}

#[test]
fn tolerance_is_configurable_per_verifier() {
    for p in TIMESTAMPED {
        let strict = Verifier::builder(p)
            .secret(secret_of(p))
            .tolerance(Duration::from_secs(10))
            .clock(FixedClock::new(
                OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
            ))
            .build()
            .unwrap();
        assert!(
            strict
                .verify(&Headers::signed(p, secret_of(p), NOW - 10, BODY), BODY)
                .is_ok()
        );
        assert!(matches!(
            strict.verify(&Headers::signed(p, secret_of(p), NOW - 11, BODY), BODY),
            Err(VerifyError::TimestampTooOld { .. })
        ));
    }
}

#[test]
fn extreme_and_overflowing_timestamps_are_malformed_never_a_panic_or_a_pass() {
    for p in TIMESTAMPED {
        for t in [
            "-9223372036854775808",
            "99999999999999999999",
            "9223372036854775808",
            "-1",
            "+1780000000",
            "",
            "1e9",
            "0x10",
        ] {
            let mut h = Headers::signed(p, secret_of(p), NOW, BODY);
            match p {
                Provider::StandardWebhooks => h.set("webhook-timestamp", t),
                _ => {
                    let tag = h.tag(p);
                    h.set(Headers::signature_header(p), format!("t={t},v1={tag}"));
                }
            }
            let err = check(p, &h, BODY).unwrap_err();
            assert_eq!(err.status(), 400, "{p} t={t}: {err}");
            assert!(
                matches!(
                    err,
                    VerifyError::Malformed {
                        reason: Malformed::BadTimestamp,
                        ..
                    }
                ),
                "{p} t={t}: {err:?}"
            );
        }
    }
}

#[test]
fn extreme_but_valid_timestamps_are_refused_as_out_of_tolerance() {
    for p in TIMESTAMPED {
        for at in [0, i64::MAX] {
            let err = check(p, &Headers::signed(p, secret_of(p), at, BODY), BODY).unwrap_err();
            assert_eq!(err.status(), 401, "{p} {at}: {err}");
        }
    }
}

#[test]
fn stripe_style_header_without_timestamp_or_v1_is_malformed() {
    for p in [Provider::Bookable, Provider::Calendly] {
        let h = Headers::signed(p, secret_of(p), NOW, BODY);
        let tag = h.tag(p);
        let name = Headers::signature_header(p);
        let cases = [
            (format!("v1={tag}"), Malformed::MissingTimestamp),
            (format!("t={NOW}"), Malformed::NoSignature),
            (format!("t={NOW},v0={tag}"), Malformed::NoSignature),
            (format!("t={NOW},{tag}"), Malformed::Syntax),
            (
                format!("t={NOW},t={},v1={tag}", NOW + 1),
                Malformed::Conflicting,
            ),
        ];
        for (value, reason) in cases {
            let mut h = h.clone();
            h.set(name, value.clone());
            assert_eq!(
                check(p, &h, BODY).unwrap_err(),
                malformed(p, reason),
                "{p} {value}"
            );
        }
        // Unknown versions next to a valid v1 are ignored, as are spaces after commas.
        let mut h2 = h.clone();
        h2.set(name, format!("t={NOW}, v0=abc, v1={tag}"));
        assert!(check(p, &h2, BODY).is_ok(), "{p}");
    }
}

#[test]
fn standard_webhooks_needs_id_and_timestamp_and_ignores_other_versions() {
    let p = Provider::StandardWebhooks;
    let good = Headers::signed(p, secret_of(p), NOW, BODY);
    for name in ["webhook-id", "webhook-timestamp"] {
        let mut h = good.clone();
        h.remove(name);
        assert_eq!(
            check(p, &h, BODY).unwrap_err(),
            VerifyError::MissingHeader { name }
        );
    }
    // A different id is a different signed string.
    let mut h = good.clone();
    h.set("webhook-id", "msg_2");
    assert_eq!(
        check(p, &h, BODY).unwrap_err(),
        VerifyError::SignatureMismatch
    );
    // Entries of unknown versions are skipped; only-unknown is malformed.
    let tag = good.tag(p);
    let mut h = good.clone();
    h.set("webhook-signature", format!("v2,AAAA v1,{tag}"));
    assert!(check(p, &h, BODY).is_ok());
    h.set("webhook-signature", "v2,AAAA");
    assert_eq!(
        check(p, &h, BODY).unwrap_err(),
        malformed(p, Malformed::NoSignature)
    );
    // `v1a,` (ed25519) entries are verified now, so a broken one is malformed like a broken
    // `v1,` entry, even next to a valid `v1` (tests/asymmetric.rs has the rest).
    h.set("webhook-signature", format!("v1a,AAAA v1,{tag}"));
    assert_eq!(
        check(p, &h, BODY).unwrap_err(),
        malformed(p, Malformed::WrongLength)
    );
    // Two different ids are ambiguous.
    let mut h = good.clone();
    h.0.push(("webhook-id".into(), b"msg_other".to_vec()));
    assert!(matches!(
        check(p, &h, BODY).unwrap_err(),
        VerifyError::Malformed {
            header: "webhook-id",
            reason: Malformed::Conflicting
        }
    ));
    assert_eq!(check(p, &good, BODY).unwrap().delivery_id(), Some("msg_1"));
}

#[test]
fn slatis_requires_the_sha256_prefix_schedulingkit_tolerates_it() {
    let h = Headers::signed(Provider::Slatis, secret_of(Provider::Slatis), NOW, BODY);
    let bare = h.tag(Provider::Slatis);
    let mut h2 = h.clone();
    h2.set("x-slatis-signature", bare.clone());
    assert_eq!(
        check(Provider::Slatis, &h2, BODY).unwrap_err(),
        malformed(Provider::Slatis, Malformed::MissingPrefix("sha256="))
    );
    let sk = Headers::signed(
        Provider::SchedulingKit,
        secret_of(Provider::SchedulingKit),
        NOW,
        BODY,
    );
    let mut prefixed = sk.clone();
    prefixed.set(
        "x-webhook-signature",
        format!("sha256={}", sk.tag(Provider::SchedulingKit)),
    );
    let v = check(Provider::SchedulingKit, &prefixed, BODY).unwrap();
    assert_eq!(v.event_type(), Some("booking.created"));
    assert_eq!(v.delivery_id(), Some("msg_1"));
}

#[test]
fn hex_is_accepted_in_either_case() {
    for p in [
        Provider::CalCom,
        Provider::SchedulingKit,
        Provider::Bookable,
    ] {
        let h = Headers::signed(p, secret_of(p), NOW, BODY);
        let upper = h.tag(p).to_ascii_uppercase();
        assert!(
            check(p, &h.with_entries(p, NOW, &[&upper]), BODY).is_ok(),
            "{p}"
        );
    }
}

mod slotflow {
    use super::*;

    const TOKEN: &str = "sf_0123456789abcdef";

    fn v() -> Verifier {
        Verifier::builder(Provider::Slotflow)
            .secrets(&format!("{TOKEN},sf_previous_token_value"))
            .build()
            .unwrap()
    }

    #[test]
    fn right_token_in_query_verifies() {
        let h = Headers::default();
        assert_eq!(
            v().verify_with_query(Some(&format!("token={TOKEN}")), &h, BODY)
                .unwrap()
                .secret_index(),
            0
        );
        let q = "a=1&token=sf_previous_token_value&b=2";
        assert_eq!(
            v().verify_with_query(Some(q), &h, BODY)
                .unwrap()
                .secret_index(),
            1
        );
    }

    #[test]
    fn wrong_or_missing_token_is_401() {
        let h = Headers::default();
        for q in [
            None,
            Some(""),
            Some("tok=x"),
            Some("tokens=sf_0123456789abcdef"),
        ] {
            assert_eq!(
                v().verify_with_query(q, &h, BODY).unwrap_err(),
                VerifyError::MissingToken,
                "{q:?}"
            );
        }
        assert_eq!(v().verify(&h, BODY).unwrap_err(), VerifyError::MissingToken);
        for q in [
            "token=sf_0123456789abcdeF",
            "token=sf_0123456789abcde",
            "token=sf_0123456789abcdef0",
        ] {
            let err = v().verify_with_query(Some(q), &h, BODY).unwrap_err();
            assert_eq!(err, VerifyError::TokenMismatch, "{q}");
            assert_eq!(err.status(), 401);
        }
    }

    #[test]
    fn empty_token_is_malformed() {
        let err = v()
            .verify_with_query(Some("token="), &Headers::default(), BODY)
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn refuses_to_build_without_a_usable_token() {
        assert!(matches!(
            Verifier::builder(Provider::Slotflow).build(),
            Err(ConfigError::NoSecret { .. })
        ));
        assert!(matches!(
            Verifier::builder(Provider::Slotflow).secrets("").build(),
            Err(ConfigError::NoSecret { .. })
        ));
        for bad in ["short", "has space in it 123", "needs&escaping=1234567"] {
            assert!(
                matches!(
                    Verifier::builder(Provider::Slotflow).secret(bad).build(),
                    Err(ConfigError::InvalidSecret { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn signer_produces_the_query_and_it_verifies() {
        let signed = Signer::new(Provider::Slotflow, TOKEN)
            .unwrap()
            .sign(BODY, &SignParams::at(NOW));
        assert!(signed.headers().is_empty());
        assert_eq!(signed.query(), Some(&*format!("token={TOKEN}")));
        assert!(!format!("{signed:?}").contains(TOKEN));
        assert!(
            v().verify_with_query(signed.query(), &Headers::default(), BODY)
                .is_ok()
        );
    }
}

#[test]
fn unconfigured_verifier_refuses_everything_with_500() {
    for p in Provider::ALL {
        let v = Verifier::unconfigured(p);
        assert!(!v.is_configured());
        let err = v
            .verify(&Headers::signed(Provider::CalCom, "x", NOW, BODY), BODY)
            .unwrap_err();
        assert_eq!(err, VerifyError::NoSecret);
        assert_eq!(err.status(), 500);
    }
}

#[test]
fn standard_secrets_must_be_base64() {
    let err = Verifier::builder(Provider::StandardWebhooks)
        .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .secret("whsec_not base64!")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::InvalidSecret {
            provider: Provider::StandardWebhooks,
            index: 1,
            expected: "`whsec_` followed by standard base64"
        }
    );
    // The prefix is optional, as in the reference libraries.
    let plain = verifier(
        Provider::StandardWebhooks,
        &["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    );
    let h = Headers::signed(
        Provider::StandardWebhooks,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        NOW,
        BODY,
    );
    assert!(plain.verify(&h, BODY).is_ok());
}

#[test]
fn slatis_secret_is_the_whole_string_not_decoded() {
    // A Slatis `whsec_` secret keys HMAC as-is; decoding it like Standard Webhooks would be a bug.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let as_slatis = Headers::signed(Provider::Slatis, secret, NOW, BODY);
    let std_key = Headers::signed(
        Provider::CalCom,
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        NOW,
        BODY,
    );
    assert_ne!(
        as_slatis.tag(Provider::Slatis),
        std_key.tag(Provider::CalCom)
    );
    assert!(
        verifier(Provider::Slatis, &[secret])
            .verify(&as_slatis, BODY)
            .is_ok()
    );
}

#[test]
fn errors_and_debug_output_never_contain_secrets_or_macs() {
    for (p, current, old) in SIGNED {
        let headers = Headers::signed(p, current, NOW, BODY);
        let tag = headers.tag(p);
        let v = verifier(p, &[current, old]);
        let mut outputs = vec![
            format!("{v:?}"),
            format!("{:?}", Verifier::builder(p).secret(current)),
            format!("{:?}", Signer::new(p, current).unwrap()),
        ];
        let mut tampered = BODY.to_vec();
        tampered[3] ^= 4;
        for bad in [
            headers.clone().with_entries(p, NOW, &[&wrong_tag(p)]),
            headers.clone().with_entries(p, NOW, &[&tag[..10]]),
            headers.clone(),
        ] {
            if let Err(e) = v.verify(&bad, &tampered) {
                outputs.push(e.to_string());
                outputs.push(format!("{e:?}"));
            }
        }
        // The MAC a correct implementation computes for the tampered body: must never leak.
        let expected = Headers::signed(p, current, NOW, &tampered).tag(p);
        for out in &outputs {
            for needle in [current, old, &expected, &tag] {
                assert!(!out.contains(needle), "{p}: {out:?} contains {needle:?}");
            }
        }
    }
}
