//! Secret hygiene: nothing a caller can format — every error (`{}`, `{:?}`, `{:#?}`) and every
//! configuration type (`{:?}`, `{:#?}`) — contains a secret in any spelling, a real MAC, or the
//! bytes a client sent in a header.
//!
//! Two kinds of check:
//! - *needles*: the raw secret, its hex and base64, the decoded Standard Webhooks key, the
//!   Slotflow token and its SHA-256, and the real tag of the body in hex and base64 are
//!   searched for in every formatted string;
//! - *independence*: the `Debug` of each configuration type is compared with the `Debug` of
//!   the same configuration built from other secrets of the same count; they must be equal,
//!   which rules out any secret-derived byte (a prefix, a hash, a length) and not only the
//!   spellings listed.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_testkit::clock::{fixed_at, verifier_at};
use bookhook_testkit::headers::Pairs;
use bookhook_testkit::secrets::SECRETS;
use bookhook_testkit::signing::{self, SIGNATURE_HEADER};
use bookhook_verify::{
    ByProvider, ConfigError, FixedClock, MAX_SIGNATURES, Malformed, Provider, SecretSet,
    SignParams, Signer, Verifier, VerifyError,
};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_780_000_000;
const BODY: &[u8] =
    br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1","attendee":{"email":"jane@example.com"}}}"#;

/// A value a client puts in a header, which no error may echo (log injection).
const CLIENT_MARKER: &str = "CLIENTMARKER";

/// Two secrets (current, old) and two others of the same form, per provider.
fn secrets(p: Provider) -> [&'static str; 4] {
    let s = SECRETS.get(p);
    [s.current, s.previous, s.unrelated[0], s.unrelated[1]]
}

/// Every spelling of secret material that must never be printed.
fn needles(p: Provider) -> Vec<String> {
    let mut out = Vec::new();
    for secret in &secrets(p)[..2] {
        out.push(secret.to_string());
        out.push(hex::encode(secret));
        out.push(STANDARD.encode(secret));
        out.push(format!("{:?}", secret.as_bytes()));
        if let Some(b64) = secret.strip_prefix("whsec_")
            && p == Provider::StandardWebhooks
        {
            out.push(b64.to_owned());
            let key = STANDARD.decode(b64).unwrap();
            out.push(String::from_utf8_lossy(&key).into_owned());
            out.push(hex::encode(&key));
            out.push(format!("{key:?}"));
        }
        if p == Provider::Slotflow {
            out.push(hex::encode(Sha256::digest(secret)));
            out.push(format!("{:?}", Sha256::digest(secret).as_slice()));
        } else {
            // The real tag over the body, as the provider would send it and decoded.
            let tag = real_tag(p, secret);
            out.push(hex::encode(&tag));
            out.push(STANDARD.encode(&tag));
            out.push(format!("{tag:?}"));
        }
    }
    out
}

fn real_tag(p: Provider, secret: &str) -> Vec<u8> {
    signing::real_tag(p, secret, BODY, &params())
}

fn params() -> SignParams {
    SignParams::at(NOW)
        .id("msg_hygiene")
        .event_type("booking.created")
}

fn clock() -> FixedClock {
    fixed_at(NOW)
}

fn verifier(p: Provider, secrets: &[&str]) -> Verifier {
    verifier_at(p, secrets, NOW)
}

fn assert_clean(p: Provider, what: &str, text: &str) {
    for needle in needles(p) {
        assert!(
            !text.contains(&needle),
            "{p}: {what} = {text:?} contains {needle:?}"
        );
    }
    assert!(
        !text.contains(CLIENT_MARKER),
        "{p}: {what} = {text:?} echoes a client's header"
    );
}

/// The headers (raw pairs, so any bytes can be sent) and query of a delivery of [`BODY`].
fn signed(p: Provider, secret: &str) -> (Pairs, Option<String>) {
    Pairs::signed(p, secret, BODY, &params())
}

/// The header a provider reads its signature from; Slotflow reads none, so entries put in
/// `x-unused` reach no parser.
fn signature_header(p: Provider) -> &'static str {
    SIGNATURE_HEADER.get(p).unwrap_or("x-unused")
}

/// Requests that reach every refusal a provider can give, each carrying [`CLIENT_MARKER`]
/// somewhere a careless error would echo it.
fn hostile_requests(p: Provider) -> Vec<(String, Option<String>, Pairs, Vec<u8>)> {
    let [current, _, other, _] = secrets(p);
    let (good, query) = signed(p, current);
    let (wrong, wrong_query) = signed(p, other);
    let sig = signature_header(p);
    let mut tampered = BODY.to_vec();
    tampered[3] ^= 1;
    let marker_entry = format!("{CLIENT_MARKER}{}", "0".repeat(52));
    let mut out = vec![
        (
            "valid".to_owned(),
            query.clone(),
            good.clone(),
            BODY.to_vec(),
        ),
        (
            "tampered body".to_owned(),
            query.clone(),
            good.clone(),
            tampered,
        ),
        ("wrong secret".to_owned(), wrong_query, wrong, BODY.to_vec()),
        (
            "no headers".to_owned(),
            None,
            Pairs::default(),
            BODY.to_vec(),
        ),
        (
            "non-ascii".to_owned(),
            query.clone(),
            good.with(sig, [CLIENT_MARKER.as_bytes(), &[0xff]].concat()),
            BODY.to_vec(),
        ),
        (
            "64 KiB".to_owned(),
            query.clone(),
            good.with(sig, CLIENT_MARKER.repeat(64 * 1024 / 12)),
            BODY.to_vec(),
        ),
        (
            "marker as signature".to_owned(),
            query.clone(),
            good.with(sig, marker_entry.clone()),
            BODY.to_vec(),
        ),
        (
            "marker as v1".to_owned(),
            query.clone(),
            good.with(sig, format!("t={NOW},v1={marker_entry}")),
            BODY.to_vec(),
        ),
        (
            "marker as b64".to_owned(),
            query.clone(),
            good.with(sig, format!("v1,{CLIENT_MARKER}")),
            BODY.to_vec(),
        ),
        (
            "marker as t".to_owned(),
            query.clone(),
            good.with(sig, format!("t={CLIENT_MARKER},v1=00")),
            BODY.to_vec(),
        ),
        (
            "many entries".to_owned(),
            query.clone(),
            good.with(
                sig,
                vec![marker_entry.as_str(); MAX_SIGNATURES + 1].join(","),
            ),
            BODY.to_vec(),
        ),
        (
            "stale".to_owned(),
            query.clone(),
            good.with(sig, format!("t={},v1={}", NOW - 10_000, "0".repeat(64))),
            BODY.to_vec(),
        ),
        (
            "future".to_owned(),
            query.clone(),
            good.with(sig, format!("t={},v1={}", NOW + 10_000, "0".repeat(64))),
            BODY.to_vec(),
        ),
        (
            "overflow t".to_owned(),
            query.clone(),
            good.with("webhook-timestamp", "99999999999999999999"),
            BODY.to_vec(),
        ),
        (
            "marker id".to_owned(),
            query.clone(),
            good.with("webhook-id", CLIENT_MARKER.repeat(40)),
            BODY.to_vec(),
        ),
        (
            "marker conflicting id".to_owned(),
            query.clone(),
            {
                let mut h = good.clone();
                h.0.push(("webhook-id".into(), CLIENT_MARKER.into()));
                h
            },
            BODY.to_vec(),
        ),
        (
            "stale standard".to_owned(),
            query.clone(),
            good.with("webhook-timestamp", (NOW - 10_000).to_string()),
            BODY.to_vec(),
        ),
    ];
    if p == Provider::Slotflow {
        for q in [
            format!("token={CLIENT_MARKER}"),
            "token=".to_owned(),
            format!("a={CLIENT_MARKER}"),
            vec![format!("token={current}"); MAX_SIGNATURES + 1].join("&"),
            format!("token={}", &current[..current.len() - 1]),
        ] {
            out.push((
                format!("query {q}"),
                Some(q),
                Pairs::default(),
                BODY.to_vec(),
            ));
        }
    }
    out
}

#[test]
fn every_refusal_formats_without_secrets_macs_or_client_bytes() {
    let mut seen = std::collections::BTreeSet::new();
    for p in Provider::ALL {
        let [current, old, ..] = secrets(p);
        let v = verifier(p, &[current, old]);
        for (name, query, headers, body) in hostile_requests(p) {
            match v.verify_with_query(query.as_deref(), &headers, &body) {
                // Requests that change only headers this provider does not read stay valid, and
                // Slotflow signs no body.
                Ok(verified) => {
                    assert!(
                        name != "wrong secret"
                            && (name != "tampered body" || p == Provider::Slotflow),
                        "{p}: {name}"
                    );
                    assert_clean(p, "Verified", &format!("{verified:?}"));
                    assert_clean(p, "Verified", &format!("{verified:#?}"));
                }
                Err(err) => {
                    seen.insert(err.cause().as_str());
                    for text in [
                        err.to_string(),
                        format!("{err:?}"),
                        format!("{err:#?}"),
                        err.cause().to_string(),
                    ] {
                        assert_clean(p, &format!("{name}: error"), &text);
                    }
                }
            }
        }
        let err = Verifier::unconfigured(p)
            .verify(&Pairs::default(), BODY)
            .unwrap_err();
        seen.insert(err.cause().as_str());
        assert_clean(p, "unconfigured", &format!("{err} {err:?}"));
    }
    // The requests above reach every kind of refusal.
    let all = [
        "missing_header",
        "missing_token",
        "malformed",
        "signature_mismatch",
        "token_mismatch",
        "timestamp_too_old",
        "timestamp_in_future",
        "no_secret",
    ];
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), {
        let mut a = all.to_vec();
        a.sort();
        a
    });
}

#[test]
fn every_error_variant_formats_from_fixed_text_only() {
    // Every variant, built directly: the only data they carry are header names, reasons,
    // numbers, provider names and static descriptions of a secret's form.
    let reasons = [
        Malformed::NotAscii,
        Malformed::EmptySignature,
        Malformed::WrongLength,
        Malformed::BadEncoding("hex"),
        Malformed::MissingPrefix("sha256="),
        Malformed::NoSignature,
        Malformed::TooManySignatures,
        Malformed::MissingTimestamp,
        Malformed::BadTimestamp,
        Malformed::Conflicting,
        Malformed::Syntax,
        Malformed::TooLong,
    ];
    let mut errors: Vec<VerifyError> = vec![
        VerifyError::MissingHeader {
            name: "x-slatis-signature",
        },
        VerifyError::MissingToken,
        VerifyError::SignatureMismatch,
        VerifyError::TokenMismatch,
        VerifyError::TimestampTooOld {
            age_secs: 301,
            tolerance_secs: 300,
        },
        VerifyError::TimestampInFuture {
            ahead_secs: 301,
            tolerance_secs: 300,
        },
        VerifyError::NoSecret,
    ];
    errors.extend(reasons.iter().map(|&reason| VerifyError::Malformed {
        header: "webhook-signature",
        reason,
    }));
    for err in &errors {
        for p in Provider::ALL {
            assert_clean(p, "VerifyError", &format!("{err} {err:?} {err:#?}"));
        }
        // Bodies of rejections are short plain reasons.
        assert!(err.to_string().len() < 80, "{err}");
    }
    for reason in reasons {
        for p in Provider::ALL {
            assert_clean(p, "Malformed", &format!("{reason} {reason:?}"));
        }
    }
}

#[test]
fn every_config_error_formats_without_the_secret() {
    for p in Provider::ALL {
        let [current, ..] = secrets(p);
        // Not base64 / too short and not URL-safe: both carry secret material in them.
        let invalid: &[&str] = ByProvider::<&[&str]> {
            slatis: &[],
            slotflow: &["SECRETshort", "SECRET token with spaces 0123"],
            bookable: &[],
            schedulingkit: &[],
            calcom: &[],
            calendly: &[],
            standard: &["whsec_SECRET!MATERIAL", "whsec_"],
        }
        .get(p);
        let mut errors = vec![
            SecretSet::from_list(p, "").unwrap_err(),
            SecretSet::from_list(p, &format!("{current},,{current}")).unwrap_err(),
            Verifier::builder(p).build().unwrap_err(),
            Signer::new(p, "").unwrap_err(),
        ];
        for bad in invalid {
            errors.push(SecretSet::from_list(p, &format!("{current},{bad}")).unwrap_err());
            errors.push(
                Verifier::builder(p)
                    .secret(current)
                    .secret(bad)
                    .build()
                    .unwrap_err(),
            );
            errors.push(Signer::new(p, bad).unwrap_err());
        }
        for err in &errors {
            assert!(matches!(
                err,
                ConfigError::NoSecret { .. }
                    | ConfigError::EmptySecret { .. }
                    | ConfigError::InvalidSecret { .. }
            ));
            let text = format!("{err} {err:?} {err:#?}");
            assert_clean(p, "ConfigError", &text);
            // Every invalid secret above carries the word SECRET: none of it is echoed.
            assert!(!text.contains("SECRET"), "{p}: {text}");
        }
    }
}

/// The `Debug` of every configuration type, built with `secrets`.
fn configs(p: Provider, secrets: [&str; 2]) -> Vec<(&'static str, String)> {
    let list = secrets.join(",");
    let set = SecretSet::from_list(p, &list).unwrap();
    let builder = Verifier::builder(p)
        .secrets(&list)
        .tolerance(Duration::from_secs(60))
        .clock(clock());
    let verifier = verifier(p, &secrets);
    let from_set = Verifier::new(SecretSet::from_list(p, &list).unwrap());
    let builder_with_set = Verifier::builder(p).secret_set(SecretSet::from_list(p, &list).unwrap());
    let signer = Signer::new(p, secrets[0]).unwrap();
    let mut out = vec![
        ("SecretSet", format!("{set:?}")),
        ("SecretSet alt", format!("{set:#?}")),
        ("VerifierBuilder", format!("{builder:?}")),
        ("VerifierBuilder alt", format!("{builder:#?}")),
        ("VerifierBuilder with set", format!("{builder_with_set:?}")),
        ("Verifier", format!("{verifier:?}")),
        ("Verifier alt", format!("{verifier:#?}")),
        ("Verifier::new", format!("{from_set:?}")),
        ("Signer", format!("{signer:?}")),
        ("Signer alt", format!("{signer:#?}")),
        ("SignParams", format!("{:?}", params())),
        (
            "Verifier::unconfigured",
            format!("{:?}", Verifier::unconfigured(p)),
        ),
    ];
    if p == Provider::Slotflow {
        // The query is the token itself: redacted.
        let signed = signer.sign(BODY, &params());
        out.push(("SignedDelivery", format!("{signed:?} {signed:#?}")));
    }
    out
}

#[test]
fn every_config_debug_is_independent_of_the_secrets() {
    for p in Provider::ALL {
        let [current, old, other_a, other_b] = secrets(p);
        let ours = configs(p, [current, old]);
        let others = configs(p, [other_a, other_b]);
        for ((what, a), (_, b)) in ours.iter().zip(&others) {
            assert_eq!(a, b, "{p}: {what} Debug depends on the secrets");
            assert_clean(p, what, a);
        }
    }
}

#[test]
fn signed_delivery_debug_shows_signatures_but_never_the_secret() {
    // A signature is public (it travels with the request); the secret that made it is not.
    for p in Provider::ALL {
        let [current, ..] = secrets(p);
        let signed = Signer::new(p, current).unwrap().sign(BODY, &params());
        let text = format!("{signed:?} {signed:#?}");
        for secret in &secrets(p)[..2] {
            assert!(!text.contains(secret), "{p}: {text}");
            if let Some(b64) = secret.strip_prefix("whsec_") {
                assert!(!text.contains(b64), "{p}: {text}");
            }
        }
    }
}

#[test]
fn ed25519_key_errors_and_signers_format_without_the_key() {
    use ed25519_dalek::SigningKey;
    let p = Provider::StandardWebhooks;
    let keypair = |seed: u8| SigningKey::from_bytes(&[seed; 32]).to_keypair_bytes();
    let whsk = |bytes: &[u8]| format!("whsk_{}", STANDARD.encode(bytes));
    let (a, b) = (keypair(0x11), keypair(0x22));
    let mismatched = [&a[..32], &b[32..]].concat();
    let errors = [
        SecretSet::from_list(p, &whsk(&a)).unwrap_err(),
        Verifier::builder(p).secret(whsk(&a)).build().unwrap_err(),
        Signer::new(p, whsk(&mismatched)).unwrap_err(),
        Signer::from_list(p, &format!("{},{}", whsk(&a), whsk(&a[..40]))).unwrap_err(),
    ];
    for err in &errors {
        let text = format!("{err} {err:?} {err:#?}");
        for seed in [&a[..32], &b[..32]] {
            let b64 = STANDARD.encode(seed);
            // Any 12 consecutive characters of the seed's base64, or its hex.
            assert!(!text.contains(&hex::encode(seed)), "{text}");
            for window in b64.as_bytes().windows(12) {
                assert!(
                    !text.contains(std::str::from_utf8(window).unwrap()),
                    "{text}"
                );
            }
        }
    }
    // A signer's Debug is the same whatever its keys.
    let debug = |list: &str| format!("{:?}", Signer::from_list(p, list).unwrap());
    assert_eq!(
        debug(&format!("{},{}", secrets(p)[0], whsk(&a))),
        debug(&format!("{},{}", secrets(p)[2], whsk(&b)))
    );
}

/// Redacted is not empty: each configuration's `Debug` names the type and prints every field
/// that is not secret, so a `Debug` that printed nothing would fail here as a leaking one
/// fails above.
#[test]
fn config_debug_prints_the_type_and_every_non_secret_field() {
    for p in Provider::ALL {
        let [current, old, ..] = secrets(p);
        let list = format!("{current},{old}");
        let provider = format!("{p:?}");
        let clock = FixedClock::new(bookhook_verify::time::OffsetDateTime::UNIX_EPOCH);
        let builder = Verifier::builder(p)
            .secrets(&list)
            .tolerance(Duration::from_secs(61))
            .clock(clock);
        let text = format!("{builder:?}");
        for part in [
            "VerifierBuilder",
            &provider,
            "[REDACTED; 2]",
            "secret_set: None",
            "61s",
            &format!("{clock:?}"),
        ] {
            assert!(text.contains(part), "{p}: {part:?} not in {text}");
        }
        let with_set = Verifier::builder(p).secret_set(SecretSet::from_list(p, &list).unwrap());
        let text = format!("{with_set:?}");
        assert!(text.contains("[REDACTED; 0]"), "{p}: {text}");
        assert!(text.contains("secret_set: Some(SecretSet"), "{p}: {text}");

        let signer = Signer::new(p, current).unwrap();
        let text = format!("{signer:?}");
        for part in ["Signer", &provider, "[REDACTED; 1]"] {
            assert!(text.contains(part), "{p}: {part:?} not in {text}");
        }

        let signed = signer.sign(BODY, &params());
        let text = format!("{signed:?}");
        assert!(text.starts_with("SignedDelivery"), "{p}: {text}");
        for (name, value) in signed.headers() {
            assert!(text.contains(name), "{p}: {name} not in {text}");
            assert!(
                text.contains(&format!("{value:?}")),
                "{p}: {value} not in {text}"
            );
        }
        let query = if signed.query().is_some() {
            r#"query: Some("REDACTED")"#
        } else {
            "query: None"
        };
        assert!(text.contains(query), "{p}: {query:?} not in {text}");
    }
}

#[test]
fn a_secret_set_counts_its_secrets_and_is_never_empty() {
    for p in Provider::ALL {
        let [current, old, ..] = secrets(p);
        let one = SecretSet::from_list(p, current).unwrap();
        assert_eq!((one.len(), one.is_empty()), (1, false), "{p}");
        let two = SecretSet::from_list(p, &format!("{current},{old}")).unwrap();
        assert_eq!((two.len(), two.is_empty()), (2, false), "{p}");
        assert_eq!(two.provider(), p);
    }
}
