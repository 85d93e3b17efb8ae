//! The negative matrix, run for every signed scheme: each row builds a delivery, changes one
//! thing, and states the one outcome that is right.
//!
//! Valid deliveries come from `Signer`; that `Signer` agrees with an independent
//! implementation is checked against openssl-computed vectors in `tests/` at the top level.

use std::time::Duration;

use bookhook_testkit::clock::{fixed_at, verifier_at};
use bookhook_testkit::headers::Pairs;
use bookhook_testkit::secrets::SECRETS;
use bookhook_testkit::signing::{SIGNATURE_HEADER, signature_header};
use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{
    ByProvider, ConfigError, MAX_SIGNATURES, Malformed, Provider, SignParams, Signer, Verified,
    Verifier, VerifyError,
};

const NOW: i64 = 1_780_000_000;
const BODY: &[u8] = br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1","attendee":{"name":"Jane Smith","email":"jane@example.com"}}}"#;

/// The signed providers with their current and previous test secrets.
fn signed_schemes() -> impl Iterator<Item = (Provider, &'static str, &'static str)> {
    SECRETS
        .iter()
        .filter(|(p, _)| SIGNATURE_HEADER.get(*p).is_some())
        .map(|(p, s)| (p, s.current, s.previous))
}

/// How a scheme writes its signature header (`None`: Slotflow signs nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `sha256=<hex>`, entries separated by `,`.
    Sha256Hex,
    /// `t=<unix>,v1=<hex>[,v1=<hex>…]`.
    TimestampHex,
    /// `<hex>`, entries separated by `,`.
    BareHex,
    /// `v1,<base64>`, entries separated by ` `.
    StandardBase64,
}

const FORMAT: ByProvider<Option<Format>> = ByProvider {
    slatis: Some(Format::Sha256Hex),
    slotflow: None,
    bookable: Some(Format::TimestampHex),
    schedulingkit: Some(Format::BareHex),
    calcom: Some(Format::BareHex),
    calendly: Some(Format::TimestampHex),
    standard: Some(Format::StandardBase64),
};

fn format_of(provider: Provider) -> Format {
    FORMAT
        .get(provider)
        .unwrap_or_else(|| panic!("{provider} is not signed"))
}

/// The headers `provider` sends for `body` signed with `secret` at `at`. Raw pairs let the
/// tests send mixed-case names and repeated headers exactly, without `http::HeaderMap`
/// normalising them first.
fn signed(provider: Provider, secret: &str, at: i64, body: &[u8]) -> Pairs {
    let params = SignParams::at(at).id("msg_1").event_type("booking.created");
    Pairs::signed(provider, secret, body, &params).0
}

/// What these tests do to a scheme's signature header.
trait SignatureEntries: Sized {
    /// The signature entry (hex or base64 tag) of a freshly signed header.
    fn tag(&self, provider: Provider) -> String;
    /// Replaces the signature header with one carrying `entries` (each a raw tag string).
    fn with_entries(self, provider: Provider, at: i64, entries: &[&str]) -> Self;
}

impl SignatureEntries for Pairs {
    fn tag(&self, provider: Provider) -> String {
        let value = self.get(signature_header(provider));
        match format_of(provider) {
            Format::Sha256Hex => value.trim_start_matches("sha256=").to_owned(),
            Format::TimestampHex => value.split_once("v1=").unwrap().1.to_owned(),
            Format::StandardBase64 => value.trim_start_matches("v1,").to_owned(),
            Format::BareHex => value,
        }
    }

    fn with_entries(mut self, provider: Provider, at: i64, entries: &[&str]) -> Self {
        let value = match format_of(provider) {
            Format::Sha256Hex => entries
                .iter()
                .map(|e| format!("sha256={e}"))
                .collect::<Vec<_>>()
                .join(","),
            Format::TimestampHex => {
                let v1: String = entries.iter().map(|e| format!(",v1={e}")).collect();
                format!("t={at}{v1}")
            }
            Format::StandardBase64 => entries
                .iter()
                .map(|e| format!("v1,{e}"))
                .collect::<Vec<_>>()
                .join(" "),
            Format::BareHex => entries.join(","),
        };
        self.set(signature_header(provider), value);
        self
    }
}

fn verifier(provider: Provider, secrets: &[&str]) -> Verifier {
    verifier_at(provider, secrets, NOW)
}

fn check(provider: Provider, headers: &Pairs, body: &[u8]) -> Result<Verified, VerifyError> {
    let secrets = SECRETS.get(provider);
    verifier(provider, &[secrets.current, secrets.previous]).verify(headers, body)
}

fn malformed(provider: Provider, reason: Malformed) -> VerifyError {
    VerifyError::Malformed {
        header: signature_header(provider),
        reason,
    }
}

/// A tag of the right length that no secret produced.
fn wrong_tag(provider: Provider) -> String {
    match format_of(provider) {
        Format::StandardBase64 => "A".repeat(43) + "=",
        Format::Sha256Hex | Format::TimestampHex | Format::BareHex => "0".repeat(64),
    }
}

#[test]
fn valid_delivery_verifies_with_the_first_secret() {
    for (p, current, _) in signed_schemes() {
        let v =
            check(p, &signed(p, current, NOW, BODY), BODY).unwrap_or_else(|e| panic!("{p}: {e}"));
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
    for (p, _, old) in signed_schemes() {
        let v = check(p, &signed(p, old, NOW, BODY), BODY).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(v.secret_index(), 1, "{p}");
    }
}

#[test]
fn tampered_body_is_a_mismatch() {
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
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
    for (p, current, _) in signed_schemes() {
        let other = SECRETS.get(p).unrelated[0];
        let err = verifier(p, &[current])
            .verify(&signed(p, other, NOW, BODY), BODY)
            .unwrap_err();
        assert_eq!(err, VerifyError::SignatureMismatch, "{p}");
        assert_eq!(err.status(), 401);
    }
}

#[test]
fn missing_signature_header_is_missing_with_status_401() {
    for (p, current, _) in signed_schemes() {
        let mut headers = signed(p, current, NOW, BODY);
        headers.remove(signature_header(p));
        let err = check(p, &headers, BODY).unwrap_err();
        assert_eq!(
            err,
            VerifyError::MissingHeader {
                name: signature_header(p)
            },
            "{p}"
        );
        assert_eq!(err.status(), 401);
        assert_eq!(
            check(p, &Pairs::default(), BODY).unwrap_err().status(),
            401,
            "{p}"
        );
    }
}

#[test]
fn empty_signature_is_malformed_with_status_400_never_a_match() {
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY).with_entries(p, NOW, &[""]);
        let err = check(p, &headers, BODY).unwrap_err();
        assert_eq!(err, malformed(p, Malformed::EmptySignature), "{p}");
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn completely_empty_header_value_is_malformed() {
    for (p, current, _) in signed_schemes() {
        let mut headers = signed(p, current, NOW, BODY);
        headers.set(signature_header(p), "");
        assert_eq!(check(p, &headers, BODY).unwrap_err().status(), 400, "{p}");
    }
}

#[test]
fn truncated_or_extended_signature_is_wrong_length() {
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
        let tag = headers.tag(p);
        // Well-encoded but of the wrong size: 30 and 36 bytes for base64.
        let (short, long) = match format_of(p) {
            Format::StandardBase64 => ("A".repeat(40), "A".repeat(48)),
            Format::Sha256Hex | Format::TimestampHex | Format::BareHex => (
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
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
        let tag = headers.tag(p);
        let (bad, enc) = match format_of(p) {
            Format::StandardBase64 => (format!("!{}", &tag[1..]), "base64"),
            Format::Sha256Hex | Format::TimestampHex | Format::BareHex => {
                (format!("zz{}", &tag[2..]), "hex")
            }
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
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
        let right = headers.tag(p);
        let wrong = wrong_tag(p);
        let h = headers.with_entries(p, NOW, &[&wrong, &wrong, &right]);
        assert!(check(p, &h, BODY).is_ok(), "{p}: {:?}", h);
    }
}

#[test]
fn several_wrong_entries_are_a_mismatch() {
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
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
    for (p, current, _) in signed_schemes() {
        let good = signed(p, current, NOW, BODY);
        let name = signature_header(p);
        let right_value = good.get(name);
        let mut h = good.clone().with_entries(p, NOW, &[&wrong_tag(p)]);
        h.0.push((name.to_owned(), right_value.into_bytes()));
        assert!(check(p, &h, BODY).is_ok(), "{p}");
    }
}

#[test]
fn header_names_match_in_any_case() {
    for (p, current, _) in signed_schemes() {
        let mut h = signed(p, current, NOW, BODY);
        for (name, _) in &mut h.0 {
            *name = name.to_ascii_uppercase();
        }
        assert!(check(p, &h, BODY).is_ok(), "{p}");
    }
}

#[test]
fn more_entries_than_the_cap_are_refused_before_any_mac() {
    for (p, current, _) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
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
    for (p, current, _) in signed_schemes() {
        let mut h = signed(p, current, NOW, BODY);
        let name = signature_header(p);
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
    SECRETS.get(p).current
}

#[test]
fn timestamps_at_the_tolerance_edge_pass_and_one_second_beyond_fail() {
    for p in TIMESTAMPED {
        for at in [NOW - 300, NOW + 300] {
            assert!(
                check(p, &signed(p, secret_of(p), at, BODY), BODY).is_ok(),
                "{p} {at}"
            );
        }
        assert_eq!(
            check(p, &signed(p, secret_of(p), NOW - 301, BODY), BODY).unwrap_err(),
            VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            },
            "{p}"
        );
        let err = check(p, &signed(p, secret_of(p), NOW + 301, BODY), BODY).unwrap_err();
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
            .clock(fixed_at(NOW))
            .build()
            .unwrap();
        assert!(
            strict
                .verify(&signed(p, secret_of(p), NOW - 10, BODY), BODY)
                .is_ok()
        );
        assert!(matches!(
            strict.verify(&signed(p, secret_of(p), NOW - 11, BODY), BODY),
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
            let mut h = signed(p, secret_of(p), NOW, BODY);
            match format_of(p) {
                Format::StandardBase64 => h.set("webhook-timestamp", t),
                Format::TimestampHex => {
                    let tag = h.tag(p);
                    h.set(signature_header(p), format!("t={t},v1={tag}"));
                }
                Format::Sha256Hex | Format::BareHex => unreachable!("{p} signs no timestamp"),
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
            let err = check(p, &signed(p, secret_of(p), at, BODY), BODY).unwrap_err();
            assert_eq!(err.status(), 401, "{p} {at}: {err}");
        }
    }
}

#[test]
fn stripe_style_header_without_timestamp_or_v1_is_malformed() {
    for p in [Provider::Bookable, Provider::Calendly] {
        let h = signed(p, secret_of(p), NOW, BODY);
        let tag = h.tag(p);
        let name = signature_header(p);
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
    let good = signed(p, secret_of(p), NOW, BODY);
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
    let h = signed(Provider::Slatis, secret_of(Provider::Slatis), NOW, BODY);
    let bare = h.tag(Provider::Slatis);
    let mut h2 = h.clone();
    h2.set("x-slatis-signature", bare.clone());
    assert_eq!(
        check(Provider::Slatis, &h2, BODY).unwrap_err(),
        malformed(Provider::Slatis, Malformed::MissingPrefix("sha256="))
    );
    let sk = signed(
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
fn only_a_delivery_id_the_signature_covers_counts_as_signed() {
    // Standard Webhooks signs `webhook-id` (`<id>.<timestamp>.<body>`); SchedulingKit's
    // `X-Webhook-Delivery-Id` is read but not signed, so a replay of a captured body may
    // carry any id: replay and dedupe keys must not be built from it.
    for (p, signed_id) in [
        (Provider::StandardWebhooks, Some("msg_1")),
        (Provider::SchedulingKit, None),
    ] {
        let v = check(p, &signed(p, secret_of(p), NOW, BODY), BODY).unwrap();
        assert_eq!(v.delivery_id(), Some("msg_1"), "{p}");
        assert_eq!(v.signed_delivery_id(), signed_id, "{p}");
    }
}

#[test]
fn hex_is_accepted_in_either_case() {
    for p in [
        Provider::CalCom,
        Provider::SchedulingKit,
        Provider::Bookable,
    ] {
        let h = signed(p, secret_of(p), NOW, BODY);
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
        let h = Pairs::default();
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
        let h = Pairs::default();
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
            .verify_with_query(Some("token="), &Pairs::default(), BODY)
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
            v().verify_with_query(signed.query(), &Pairs::default(), BODY)
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
            .verify(&signed(Provider::CalCom, "x", NOW, BODY), BODY)
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
    let h = signed(
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
    let as_slatis = signed(Provider::Slatis, secret, NOW, BODY);
    let std_key = signed(
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
    for (p, current, old) in signed_schemes() {
        let headers = signed(p, current, NOW, BODY);
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
        let expected = signed(p, current, NOW, &tampered).tag(p);
        for out in &outputs {
            for needle in [current, old, &expected, &tag] {
                assert!(!out.contains(needle), "{p}: {out:?} contains {needle:?}");
            }
        }
    }
}

#[test]
fn standard_webhooks_id_of_1_to_256_characters_verifies_and_empty_or_longer_is_400() {
    let p = Provider::StandardWebhooks;
    for len in [1, 255, 256] {
        let params = SignParams::at(NOW).id("i".repeat(len));
        let (h, _) = Pairs::signed(p, secret_of(p), BODY, &params);
        let v = check(p, &h, BODY).unwrap_or_else(|e| panic!("{len}: {e}"));
        assert_eq!(v.delivery_id().map(str::len), Some(len));
    }
    for len in [0, 257, 1000] {
        let params = SignParams::at(NOW).id("i".repeat(len));
        let (h, _) = Pairs::signed(p, secret_of(p), BODY, &params);
        let err = check(p, &h, BODY).unwrap_err();
        assert_eq!(
            err,
            VerifyError::Malformed {
                header: "webhook-id",
                reason: Malformed::TooLong
            },
            "{len}"
        );
        assert_eq!(err.status(), 400, "{len}");
    }
}

#[test]
fn a_header_carrying_the_same_valid_entry_twice_still_verifies() {
    for (p, current, old) in signed_schemes() {
        let h = signed(p, current, NOW, BODY);
        let tag = h.tag(p);
        let twice = h.clone().with_entries(p, NOW, &[&tag, &tag]);
        assert_eq!(check(p, &twice, BODY).unwrap().secret_index(), 0, "{p}");
        // Also beside a wrong entry, and for the second secret.
        let wrong = wrong_tag(p);
        let mixed = h.clone().with_entries(p, NOW, &[&tag, &wrong, &tag]);
        assert_eq!(check(p, &mixed, BODY).unwrap().secret_index(), 0, "{p}");
        let old_tag = signed(p, old, NOW, BODY).tag(p);
        let old_twice = h.with_entries(p, NOW, &[&old_tag, &old_tag]);
        assert_eq!(check(p, &old_twice, BODY).unwrap().secret_index(), 1, "{p}");
    }
}

#[test]
fn slotflow_query_carrying_the_same_valid_token_twice_still_verifies() {
    let p = Provider::Slotflow;
    let token = secret_of(p);
    let v = verifier(p, &[token]);
    let query = format!("token={token}&token={token}");
    assert!(
        v.verify_with_query(Some(&query), &Pairs::default(), BODY)
            .is_ok()
    );
    let query = format!("token={token}&x=1&token={token}");
    assert!(
        v.verify_with_query(Some(&query), &Pairs::default(), BODY)
            .is_ok()
    );
}

#[test]
fn a_header_repeated_with_the_same_value_is_read_once_and_different_values_are_400() {
    for (p, current, _) in signed_schemes() {
        let h = signed(p, current, NOW, BODY);
        for (name, value) in h.0.clone() {
            let mut repeated = h.clone();
            repeated.0.push((name.clone(), value.clone()));
            let result = check(p, &repeated, BODY);
            // Signature headers may legitimately carry several values (each one more entry);
            // every other header read must be one value, which a duplicate still is.
            assert!(result.is_ok(), "{p} {name} twice: {result:?}");
        }
    }
    let p = Provider::StandardWebhooks;
    let good = signed(p, secret_of(p), NOW, BODY);
    for name in ["webhook-id", "webhook-timestamp"] {
        let mut h = good.clone();
        h.0.push((name.into(), b"1".to_vec()));
        assert_eq!(
            check(p, &h, BODY).unwrap_err(),
            VerifyError::Malformed {
                header: name,
                reason: Malformed::Conflicting
            },
            "{name}"
        );
    }
}

#[test]
fn slotflow_tokens_need_at_least_16_url_safe_characters() {
    let p = Provider::Slotflow;
    for token in [
        "a".repeat(16),
        "A-._~0123456789z".to_owned(),
        "t".repeat(200),
    ] {
        let v = Verifier::builder(p).secret(&token).build();
        let v = v.unwrap_or_else(|e| panic!("{token}: {e}"));
        let query = format!("token={token}");
        assert!(
            v.verify_with_query(Some(&query), &Pairs::default(), BODY)
                .is_ok()
        );
    }
    for token in ["a".repeat(15), "a".repeat(15) + "/", "b".repeat(16) + "%"] {
        let err = Verifier::builder(p).secret(&token).build().unwrap_err();
        assert!(
            matches!(err, ConfigError::InvalidSecret { index: 0, .. }),
            "{token:?}: {err:?}"
        );
    }
}

#[test]
fn verifier_reports_its_tolerance_and_whether_it_has_secrets() {
    for (p, current, _) in signed_schemes() {
        let default = Verifier::builder(p).secret(current).build().unwrap();
        assert_eq!(default.tolerance(), bookhook_verify::DEFAULT_TOLERANCE);
        assert_eq!(default.tolerance(), Duration::from_secs(300));
        assert!(default.is_configured(), "{p}");
        assert_eq!(default.provider(), p);
        let strict = Verifier::builder(p)
            .secret(current)
            .tolerance(Duration::from_secs(7))
            .build()
            .unwrap();
        assert_eq!(strict.tolerance(), Duration::from_secs(7));
        let unconfigured = Verifier::unconfigured(p);
        assert!(!unconfigured.is_configured(), "{p}");
        assert_eq!(
            unconfigured
                .verify(&signed(p, current, NOW, BODY), BODY)
                .unwrap_err(),
            VerifyError::NoSecret
        );
    }
}
