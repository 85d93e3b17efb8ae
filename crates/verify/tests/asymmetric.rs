//! Standard Webhooks `v1a` (ed25519): key intake, the published vector, verifiers holding
//! both kinds of key, and the rule that a key of one kind never verifies an entry of the
//! other. The openssl-computed vectors are checked in `tests/` at the top level.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_testkit::clock;
use bookhook_testkit::secrets::{PUBLIC_KEY_A, SECRET_KEY_A, STANDARD_SECRET as HMAC_SECRET};
use bookhook_verify::{
    ConfigError, KeyKind, MAX_SIGNATURES, Malformed, Provider, SignParams, Signer, Verifier,
    VerifyError,
};
use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use sha2::Sha256;

const P: Provider = Provider::StandardWebhooks;

/// The published example of the Standard Webhooks reference server.
const VECTOR_SECRET_KEY: &str = SECRET_KEY_A;
const VECTOR_PUBLIC_KEY: &str = PUBLIC_KEY_A;
const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const VECTOR_TIMESTAMP: i64 = 1_614_265_330;
const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
const VECTOR_SIGNATURE: &str =
    "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";

const NOW: i64 = 1_780_000_000;
const BODY: &[u8] =
    br#"{"type":"booking.created","data":{"attendee":{"email":"jane@example.com"}}}"#;

/// A `whsk_`/`whpk_` pair from a seed, encoded as the reference server encodes them.
fn pair(seed: u8) -> (String, String) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    (
        format!("whsk_{}", STANDARD.encode(key.to_keypair_bytes())),
        format!("whpk_{}", STANDARD.encode(key.verifying_key().to_bytes())),
    )
}

fn verifier_at(now: i64, secrets: &[&str]) -> Verifier {
    clock::verifier_at(P, secrets, now)
}

fn verifier(secrets: &[&str]) -> Verifier {
    verifier_at(NOW, secrets)
}

fn signed(secrets: &str, body: &[u8]) -> HeaderMap {
    Signer::from_list(P, secrets)
        .unwrap()
        .sign(body, &SignParams::at(NOW).id("msg_1"))
        .header_map()
}

fn with_signature(mut headers: HeaderMap, value: &str) -> HeaderMap {
    headers.insert("webhook-signature", HeaderValue::from_str(value).unwrap());
    headers
}

fn malformed(reason: Malformed) -> VerifyError {
    VerifyError::Malformed {
        header: "webhook-signature",
        reason,
    }
}

/// The signed content of a delivery made by `signed`.
fn content(body: &[u8]) -> Vec<u8> {
    [format!("msg_1.{NOW}.").as_bytes(), body].concat()
}

#[test]
fn published_vector_signs_and_verifies() {
    let signer = Signer::new(P, VECTOR_SECRET_KEY).unwrap();
    let delivery = signer.sign(VECTOR_BODY, &SignParams::at(VECTOR_TIMESTAMP).id(VECTOR_ID));
    assert_eq!(delivery.header("webhook-signature"), Some(VECTOR_SIGNATURE));

    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", HeaderValue::from_static(VECTOR_ID));
    headers.insert(
        "webhook-timestamp",
        HeaderValue::from_str(&VECTOR_TIMESTAMP.to_string()).unwrap(),
    );
    headers.insert(
        "webhook-signature",
        HeaderValue::from_static(VECTOR_SIGNATURE),
    );
    let verifier = verifier_at(VECTOR_TIMESTAMP, &[VECTOR_PUBLIC_KEY]);
    let verified = verifier.verify(&headers, VECTOR_BODY).unwrap();
    assert_eq!(verified.key_kind(), KeyKind::Ed25519);
    assert_eq!(verified.secret_index(), 0);
    assert_eq!(verified.delivery_id(), Some(VECTOR_ID));
    // One byte more and it is refused.
    assert_eq!(
        verifier.verify(&headers, br#"{"test": 2432232315}"#),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn v1a_deliveries_verify_and_any_change_is_refused() {
    let (sk, pk) = pair(1);
    let (_, other_pk) = pair(2);
    let headers = signed(&sk, BODY);
    let value = headers["webhook-signature"].to_str().unwrap().to_owned();
    assert!(value.starts_with("v1a,") && !value.contains(' '), "{value}");
    let v = verifier(&[&pk]);
    assert_eq!(
        v.verify(&headers, BODY).unwrap().key_kind(),
        KeyKind::Ed25519
    );

    let mut tampered = BODY.to_vec();
    tampered[5] ^= 1;
    assert_eq!(
        v.verify(&headers, &tampered),
        Err(VerifyError::SignatureMismatch)
    );
    // The id and timestamp are signed too.
    let mut other_id = headers.clone();
    other_id.insert("webhook-id", HeaderValue::from_static("msg_2"));
    assert_eq!(
        v.verify(&other_id, BODY),
        Err(VerifyError::SignatureMismatch)
    );
    let mut other_t = headers.clone();
    other_t.insert("webhook-timestamp", (NOW + 1).into());
    assert_eq!(
        v.verify(&other_t, BODY),
        Err(VerifyError::SignatureMismatch)
    );
    // Another sender's public key.
    assert_eq!(
        verifier(&[&other_pk]).verify(&headers, BODY),
        Err(VerifyError::SignatureMismatch)
    );
    // The tolerance applies as for `v1`.
    assert!(matches!(
        verifier_at(NOW + 301, &[&pk]).verify(&headers, BODY),
        Err(VerifyError::TimestampTooOld { age_secs: 301, .. })
    ));
    assert!(matches!(
        verifier_at(NOW - 301, &[&pk]).verify(&headers, BODY),
        Err(VerifyError::TimestampInFuture { .. })
    ));
}

#[test]
fn a_verifier_holds_both_kinds_and_reports_which_matched() {
    let (sk, pk) = pair(3);
    let v = verifier(&[HMAC_SECRET, &pk]);
    let by_hmac = v.verify(&signed(HMAC_SECRET, BODY), BODY).unwrap();
    assert_eq!(
        (by_hmac.secret_index(), by_hmac.key_kind()),
        (0, KeyKind::Hmac)
    );
    let by_key = v.verify(&signed(&sk, BODY), BODY).unwrap();
    assert_eq!(
        (by_key.secret_index(), by_key.key_kind()),
        (1, KeyKind::Ed25519)
    );

    // A sender rotating signs both; the first configured key that matches is reported.
    let both = signed(&format!("{HMAC_SECRET},{sk}"), BODY);
    let value = both["webhook-signature"].to_str().unwrap();
    assert!(
        value.starts_with("v1,") && value.contains(" v1a,"),
        "{value}"
    );
    let first = v.verify(&both, BODY).unwrap();
    assert_eq!((first.secret_index(), first.key_kind()), (0, KeyKind::Hmac));
    let reversed = verifier(&[&pk, HMAC_SECRET]).verify(&both, BODY).unwrap();
    assert_eq!(
        (reversed.secret_index(), reversed.key_kind()),
        (0, KeyKind::Ed25519)
    );
    // Either half alone is enough for a receiver holding only that kind.
    assert_eq!(
        verifier(&[&pk]).verify(&both, BODY).unwrap().key_kind(),
        KeyKind::Ed25519
    );
    assert_eq!(
        verifier(&[HMAC_SECRET])
            .verify(&both, BODY)
            .unwrap()
            .key_kind(),
        KeyKind::Hmac
    );
    // And a tampered body fails both.
    assert_eq!(v.verify(&both, b"{}"), Err(VerifyError::SignatureMismatch));
}

#[test]
fn a_public_key_never_verifies_a_v1_entry() {
    // Public keys are public: were the key's bytes ever used as an HMAC secret, anyone could
    // sign `v1` entries. Here an attacker does exactly that.
    let (_, pk) = pair(4);
    let pk_bytes = STANDARD.decode(pk.trim_start_matches("whpk_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&pk_bytes).unwrap();
    mac.update(&content(BODY));
    let forged = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let headers = with_signature(signed(HMAC_SECRET, BODY), &forged);
    assert_eq!(
        verifier(&[&pk]).verify(&headers, BODY),
        Err(VerifyError::SignatureMismatch)
    );
    // The same forgery against a verifier that holds the public key as HMAC bytes (which
    // is what `whsec_` + the same base64 means) does pass: the test can fail.
    let as_hmac = format!("whsec_{}", pk.trim_start_matches("whpk_"));
    assert!(verifier(&[&as_hmac]).verify(&headers, BODY).is_ok());
}

#[test]
fn an_hmac_secret_never_verifies_a_v1a_entry() {
    // A 32-byte HMAC secret used as an ed25519 seed gives a key pair; its signatures must
    // not pass a verifier that holds the secret only as an HMAC secret.
    let seed = [0x5a; 32];
    let secret = format!("whsec_{}", STANDARD.encode(seed));
    let key = SigningKey::from_bytes(&seed);
    let forged = format!(
        "v1a,{}",
        STANDARD.encode(key.sign(&content(BODY)).to_bytes())
    );
    let headers = with_signature(signed(&secret, BODY), &forged);
    assert_eq!(
        verifier(&[&secret]).verify(&headers, BODY),
        Err(VerifyError::SignatureMismatch)
    );
    // The same entry passes with the public key of that seed: the test can fail.
    let pk = format!("whpk_{}", STANDARD.encode(key.verifying_key().to_bytes()));
    assert!(verifier(&[&pk]).verify(&headers, BODY).is_ok());
}

#[test]
fn malformed_v1a_entries_are_400_unknown_versions_ignored() {
    let (sk, pk) = pair(5);
    let good = signed(&sk, BODY);
    let sig = good["webhook-signature"].to_str().unwrap()[4..].to_owned();
    let v = verifier(&[&pk, HMAC_SECRET]);
    let short = STANDARD.encode([9u8; 63]);
    let long = STANDARD.encode([9u8; 65]);
    let mut bad_char = sig.clone();
    bad_char.replace_range(0..1, "*");
    let cases = [
        ("v1a,".to_owned(), Malformed::EmptySignature),
        (format!("v1a,{short}"), Malformed::WrongLength),
        (format!("v1a,{long}"), Malformed::WrongLength),
        (format!("v1a,{bad_char}"), Malformed::BadEncoding("base64")),
        (
            format!("v1a,{}", sig.trim_end_matches('=')),
            Malformed::BadEncoding("base64"),
        ),
        (format!("v1a,{sig} v1a,{short}"), Malformed::WrongLength),
        (format!("v1a{sig}"), Malformed::Syntax),
    ];
    for (value, reason) in cases {
        let status = v.verify(&with_signature(good.clone(), &value), BODY);
        assert_eq!(status, Err(malformed(reason)), "{value}");
        assert_eq!(status.unwrap_err().status(), 400, "{value}");
    }
    // Other versions are skipped; a header of only those is malformed, as for `v1`.
    let skipped = with_signature(good.clone(), &format!("v2,{short} v1a,{sig} v1b,xyz"));
    assert!(v.verify(&skipped, BODY).is_ok());
    assert_eq!(
        v.verify(&with_signature(good, &format!("v2,{sig}")), BODY),
        Err(malformed(Malformed::NoSignature))
    );
}

#[test]
fn the_entry_bound_counts_both_kinds() {
    let (sk, pk) = pair(6);
    let good = signed(&sk, BODY);
    let v1a = good["webhook-signature"].to_str().unwrap().to_owned();
    let v1 = signed(HMAC_SECRET, BODY)["webhook-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let v = verifier(&[HMAC_SECRET, &pk]);
    let half = MAX_SIGNATURES / 2;
    let at_limit = [
        vec![v1.as_str(); half],
        vec![v1a.as_str(); MAX_SIGNATURES - half],
    ]
    .concat();
    assert!(
        v.verify(&with_signature(good.clone(), &at_limit.join(" ")), BODY)
            .is_ok()
    );
    for over in [
        [
            vec![v1.as_str(); half],
            vec![v1a.as_str(); MAX_SIGNATURES - half + 1],
        ]
        .concat(),
        vec![v1a.as_str(); MAX_SIGNATURES + 1],
    ] {
        assert_eq!(
            v.verify(&with_signature(good.clone(), &over.join(" ")), BODY),
            Err(malformed(Malformed::TooManySignatures))
        );
    }
}

#[test]
fn non_canonical_and_small_order_signatures_are_refused() {
    let (sk, pk) = pair(7);
    let good = signed(&sk, BODY);
    let sig = STANDARD
        .decode(&good["webhook-signature"].to_str().unwrap()[4..])
        .unwrap();
    let v = verifier(&[&pk]);
    assert!(v.verify(&good, BODY).is_ok());
    // s + ℓ: the same signature with a non-canonical scalar, accepted by lax verifiers.
    const ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut malleable = sig.clone();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(sig[32 + i]) + u16::from(ORDER[i]) + carry;
        malleable[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    // R of small order (the identity), s = 0.
    let mut small_r = vec![0u8; 64];
    small_r[0] = 1;
    for bad in [malleable, small_r] {
        let headers = with_signature(good.clone(), &format!("v1a,{}", STANDARD.encode(&bad)));
        assert_eq!(
            v.verify(&headers, BODY),
            Err(VerifyError::SignatureMismatch)
        );
    }
}

#[test]
fn key_intake_errors_name_the_fix_and_never_the_key() {
    let (sk, pk) = pair(8);
    let build = |secrets: &[&str]| {
        secrets
            .iter()
            .fold(Verifier::builder(P), |b, s| b.secret(s))
            .build()
            .unwrap_err()
    };
    // A receiver given the signing key is told to use the public key.
    let err = build(&[HMAC_SECRET, &sk]);
    assert_eq!(
        err,
        ConfigError::SigningKeyForVerifier {
            provider: P,
            index: 1
        }
    );
    let text = err.to_string();
    assert!(text.contains("`whpk_` public key instead"), "{text}");
    let seed_b64 = &sk["whsk_".len()..];
    for out in [text, format!("{err:?}")] {
        assert!(
            !out.contains(seed_b64) && !out.contains(&seed_b64[..20]),
            "{out}"
        );
    }
    // A public key cannot sign.
    assert_eq!(
        Signer::new(P, &pk).unwrap_err(),
        ConfigError::PublicKeyForSigner {
            provider: P,
            index: 0
        }
    );
    // Small-order and off-curve public keys, and a pair whose halves do not belong together.
    let identity = format!(
        "whpk_{}",
        STANDARD.encode({
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        })
    );
    assert_eq!(
        build(&[&identity]),
        ConfigError::WeakPublicKey {
            provider: P,
            index: 0
        }
    );
    let off_curve = format!(
        "whpk_{}",
        STANDARD.encode({
            let mut b = [0u8; 32];
            b[0] = 2;
            b
        })
    );
    assert_eq!(
        build(&[&off_curve]),
        ConfigError::InvalidPublicKey {
            provider: P,
            index: 0
        }
    );
    let (other_sk, _) = pair(9);
    let sk_bytes = STANDARD.decode(&sk[5..]).unwrap();
    let other_bytes = STANDARD.decode(&other_sk[5..]).unwrap();
    let mixed = format!(
        "whsk_{}",
        STANDARD.encode([&sk_bytes[..32], &other_bytes[32..]].concat())
    );
    assert_eq!(
        Signer::new(P, &mixed).unwrap_err(),
        ConfigError::KeyPairMismatch {
            provider: P,
            index: 0
        }
    );
    // Wrong lengths and encodings name the expected form.
    for (bad, form) in [
        ("whpk_AAAA", "`whpk_`"),
        ("whpk_not base64", "`whpk_`"),
        (&*format!("whpk_{}", STANDARD.encode([1u8; 33])), "`whpk_`"),
        (
            &*format!("whsk_{}", STANDARD.encode(&sk_bytes[..32])),
            "`whsk_`",
        ),
    ] {
        let err = Signer::new(P, bad).err().unwrap_or_else(|| build(&[bad]));
        let ConfigError::InvalidSecret { expected, .. } = err else {
            panic!("{bad}: {err:?}");
        };
        assert!(expected.starts_with(form), "{bad}: {expected}");
    }
    // A signer with several secrets is for providers whose deliveries carry several.
    assert_eq!(
        Signer::from_list(Provider::Slatis, "whsec_a,whsec_b").unwrap_err(),
        ConfigError::OneSecretOnly {
            provider: Provider::Slatis
        }
    );
    assert_eq!(
        Signer::from_list(P, " ").unwrap_err(),
        ConfigError::NoSecret { provider: P }
    );
}

#[test]
fn signer_debug_never_shows_key_material() {
    let (sk, _) = pair(10);
    let signer = Signer::from_list(P, &format!("{HMAC_SECRET},{sk}")).unwrap();
    let debug = format!("{signer:?} {signer:#?}");
    assert!(debug.contains("REDACTED; 2"), "{debug}");
    let sk_b64 = &sk[5..];
    for needle in [&sk_b64[..16], &sk_b64[44..60], &HMAC_SECRET[6..]] {
        assert!(!debug.contains(needle), "{debug} contains {needle}");
    }
}
