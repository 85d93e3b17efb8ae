//! Properties over arbitrary inputs: round trips always verify, any single-bit change is
//! refused, and no header content makes the verifier panic.

use bookhook_testkit::clock::fixed_at;
use bookhook_testkit::secrets::secret;
use bookhook_verify::{Provider, SignParams, Signer, Verifier};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

const NOW: i64 = 1_780_000_000;
const EMPTY_OBJECT: &[u8] = b"{}";

fn verifier(p: Provider) -> Verifier {
    Verifier::builder(p)
        .secret(secret(p))
        .clock(fixed_at(NOW))
        .build()
        .unwrap()
}

fn provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(Provider::ALL.to_vec())
}

fn signed_provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(
        Provider::ALL
            .into_iter()
            .filter(|p| *p != Provider::Slotflow)
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(p in provider(), body in prop::collection::vec(any::<u8>(), 0..2048), skew in -300i64..=300) {
        let signed = Signer::new(p, secret(p)).unwrap().sign(&body, &SignParams::at(NOW + skew).id("msg_prop"));
        let verified = verifier(p).verify_with_query(signed.query(), &signed.header_map(), &body);
        prop_assert!(verified.is_ok(), "{:?}", verified);
    }

    #[test]
    fn any_single_bit_flip_of_the_body_is_refused(p in signed_provider(), body in prop::collection::vec(any::<u8>(), 1..1024), bit in any::<prop::sample::Index>()) {
        let headers = Signer::new(p, secret(p)).unwrap().sign(&body, &SignParams::at(NOW)).header_map();
        let mut tampered = body.clone();
        let i = bit.index(body.len() * 8);
        tampered[i / 8] ^= 1 << (i % 8);
        prop_assert!(verifier(p).verify(&headers, &tampered).is_err());
    }

    #[test]
    fn any_single_bit_flip_of_a_signed_header_is_refused(p in signed_provider(), body in prop::collection::vec(any::<u8>(), 0..256), which in any::<prop::sample::Index>(), bit in any::<prop::sample::Index>()) {
        let signed = Signer::new(p, secret(p)).unwrap().sign(&body, &SignParams::at(NOW).id("msg_prop").event_type("booking.created"));
        // Headers that carry a signature, timestamp or signed id (not SchedulingKit's unsigned extras).
        let signed_headers: Vec<_> = signed.headers().iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("x-webhook-event") && !n.eq_ignore_ascii_case("x-webhook-delivery-id"))
            .collect();
        let (name, value) = signed_headers[which.index(signed_headers.len())];
        let mut bytes = value.clone().into_bytes();
        let i = bit.index(bytes.len() * 7); // the 7 ASCII bits, so the value stays a valid header value
        bytes[i / 7] ^= 1 << (i % 7);
        prop_assume!(bytes.iter().all(|&b| (0x20..0x7f).contains(&b)));
        let mut map = signed.header_map();
        map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_bytes(&bytes).unwrap());
        // A flipped case bit of a hex digit still decodes to the same tag: that is not a change.
        let same_hex = String::from_utf8(bytes.clone()).unwrap().eq_ignore_ascii_case(value) && !name.starts_with("webhook-");
        prop_assume!(!same_hex);
        prop_assert!(verifier(p).verify(&map, &body).is_err(), "{} = {:?}", name, String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_header_values_never_panic(p in provider(), values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..4), query in ".{0,64}") {
        let names = ["x-slatis-signature", "x-samna-signature", "x-webhook-signature", "x-cal-signature-256", "calendly-webhook-signature", "webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-delivery-id"];
        let mut map = HeaderMap::new();
        for (i, v) in values.iter().enumerate() {
            if let Ok(value) = HeaderValue::from_bytes(v) {
                map.append(names[i % names.len()], value);
            }
        }
        // The verifier may accept only what a secret signed: random bytes never are.
        prop_assert!(verifier(p).verify_with_query(Some(&query), &map, EMPTY_OBJECT).is_err());
    }

    #[test]
    fn arbitrary_stripe_style_strings_never_panic(s in "[tv0-9=,a-f ]{0,120}") {
        let mut map = HeaderMap::new();
        map.insert("x-samna-signature", HeaderValue::from_str(&s).unwrap());
        prop_assert!(verifier(Provider::Bookable).verify(&map, EMPTY_OBJECT).is_err());
    }
}

fn timestamped_provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(
        Provider::ALL
            .into_iter()
            .filter(|p| p.signs_timestamp())
            .collect::<Vec<_>>(),
    )
}

/// `headers` with the signed timestamp replaced by `t` (signature left as it was).
fn with_timestamp(p: Provider, mut headers: HeaderMap, t: &str) -> HeaderMap {
    if p == Provider::StandardWebhooks {
        headers.insert("webhook-timestamp", HeaderValue::from_str(t).unwrap());
        return headers;
    }
    let name = if p == Provider::Bookable {
        "x-samna-signature"
    } else {
        "calendly-webhook-signature"
    };
    let value = headers[name].to_str().unwrap().to_owned();
    let (_, v1) = value.split_once(',').unwrap();
    headers.insert(name, HeaderValue::from_str(&format!("t={t},{v1}")).unwrap());
    headers
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// The timestamp is signed, not only range-checked: any single-bit flip of its digits is
    /// refused, and a flip that still reads as a timestamp inside the tolerance is refused as
    /// a signature mismatch (an implementation that checked the window but signed only the
    /// body would accept it). Low digits are drawn more often, so that in-window flips are
    /// common rather than rare.
    #[test]
    fn any_single_bit_flip_of_the_timestamp_is_refused(
        p in timestamped_provider(),
        body in prop::collection::vec(any::<u8>(), 0..256),
        skew in -300i64..=300,
        from_end in prop_oneof![0usize..3, 0usize..10],
        bit in 0u8..7,
    ) {
        let at = NOW + skew;
        let signed = Signer::new(p, secret(p)).unwrap().sign(&body, &SignParams::at(at).id("msg_prop"));
        let mut digits = at.to_string().into_bytes();
        let i = digits.len() - 1 - from_end;
        digits[i] ^= 1 << bit;
        prop_assume!(digits.iter().all(|&b| (0x21..0x7f).contains(&b) && b != b','));
        let flipped = String::from_utf8(digits).unwrap();
        let headers = with_timestamp(p, signed.header_map(), &flipped);
        let result = verifier(p).verify(&headers, &body);
        prop_assert!(result.is_err(), "{} accepted t={}", p, flipped);
        let in_window = flipped.bytes().all(|b| b.is_ascii_digit())
            && flipped.parse::<i64>().is_ok_and(|t| (t - NOW).abs() <= 300);
        if in_window {
            prop_assert_eq!(result.unwrap_err(), bookhook_verify::VerifyError::SignatureMismatch);
        }
    }
}

/// Standard Webhooks `v1a` (ed25519): a key pair made for these tests, the signing half for
/// the signer and the public half for the verifier.
mod v1a {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use bookhook_verify::{KeyKind, VerifyError};
    use ed25519_dalek::SigningKey;

    use super::*;

    const ID: &str = "msg_prop";

    fn keys() -> (String, String) {
        let key = SigningKey::from_bytes(&[0x3c; 32]);
        (
            format!("whsk_{}", STANDARD.encode(key.to_keypair_bytes())),
            format!("whpk_{}", STANDARD.encode(key.verifying_key().to_bytes())),
        )
    }

    fn verifier() -> Verifier {
        Verifier::builder(Provider::StandardWebhooks)
            .secret(keys().1)
            .secret(secret(Provider::StandardWebhooks))
            .clock(fixed_at(NOW))
            .build()
            .unwrap()
    }

    fn signed(body: &[u8], at: i64) -> HeaderMap {
        Signer::new(Provider::StandardWebhooks, keys().0)
            .unwrap()
            .sign(body, &SignParams::at(at).id(ID))
            .header_map()
    }

    fn flip_ascii(value: &str, bit: prop::sample::Index) -> Option<String> {
        let mut bytes = value.as_bytes().to_vec();
        let i = bit.index(bytes.len() * 7);
        bytes[i / 7] ^= 1 << (i % 7);
        let visible = bytes.iter().all(|&b| (0x21..0x7f).contains(&b));
        visible.then(|| String::from_utf8(bytes).unwrap())
    }

    proptest! {
        // ed25519 in a debug build costs milliseconds per verification: fewer cases.
        #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

        #[test]
        fn v1a_round_trips_and_says_so(body in prop::collection::vec(any::<u8>(), 0..1024), skew in -300i64..=300) {
            let verified = verifier().verify(&signed(&body, NOW + skew), &body);
            prop_assert!(verified.as_ref().is_ok_and(|v| v.key_kind() == KeyKind::Ed25519 && v.secret_index() == 0), "{:?}", verified);
        }

        #[test]
        fn v1a_body_bit_flip_is_a_mismatch(body in prop::collection::vec(any::<u8>(), 1..1024), bit in any::<prop::sample::Index>()) {
            let headers = signed(&body, NOW);
            let mut tampered = body.clone();
            let i = bit.index(body.len() * 8);
            tampered[i / 8] ^= 1 << (i % 8);
            prop_assert_eq!(verifier().verify(&headers, &tampered), Err(VerifyError::SignatureMismatch));
        }

        #[test]
        fn v1a_id_bit_flip_is_a_mismatch(body in prop::collection::vec(any::<u8>(), 0..256), bit in any::<prop::sample::Index>()) {
            let mut headers = signed(&body, NOW);
            let flipped = flip_ascii(ID, bit);
            prop_assume!(flipped.is_some());
            headers.insert("webhook-id", HeaderValue::from_str(&flipped.unwrap()).unwrap());
            prop_assert_eq!(verifier().verify(&headers, &body), Err(VerifyError::SignatureMismatch));
        }

        /// As for `v1` above: a flipped timestamp is refused, and inside the tolerance it is
        /// refused because it is signed, not only because it is out of range.
        #[test]
        fn v1a_timestamp_bit_flip_is_refused(body in prop::collection::vec(any::<u8>(), 0..256), skew in -300i64..=300, from_end in prop_oneof![0usize..3, 0usize..10], bit in 0u8..7) {
            let at = NOW + skew;
            let mut headers = signed(&body, at);
            let mut digits = at.to_string().into_bytes();
            let i = digits.len() - 1 - from_end;
            digits[i] ^= 1 << bit;
            prop_assume!(digits.iter().all(|&b| (0x21..0x7f).contains(&b)));
            let flipped = String::from_utf8(digits).unwrap();
            headers.insert("webhook-timestamp", HeaderValue::from_str(&flipped).unwrap());
            let result = verifier().verify(&headers, &body);
            prop_assert!(result.is_err(), "accepted t={}", flipped);
            let in_window = flipped.bytes().all(|b| b.is_ascii_digit())
                && flipped.parse::<i64>().is_ok_and(|t| (t - NOW).abs() <= 300);
            if in_window {
                prop_assert_eq!(result.unwrap_err(), VerifyError::SignatureMismatch);
            }
        }

        /// Any one of the signature's 512 bits flipped (re-encoded, so the entry stays well
        /// formed) is a mismatch: never accepted, never malformed.
        #[test]
        fn v1a_signature_bit_flip_is_a_mismatch(body in prop::collection::vec(any::<u8>(), 0..256), bit in 0usize..512) {
            let mut headers = signed(&body, NOW);
            let value = headers["webhook-signature"].to_str().unwrap().to_owned();
            let mut sig = STANDARD.decode(value.strip_prefix("v1a,").unwrap()).unwrap();
            sig[bit / 8] ^= 1 << (bit % 8);
            let entry = format!("v1a,{}", STANDARD.encode(&sig));
            headers.insert("webhook-signature", HeaderValue::from_str(&entry).unwrap());
            prop_assert_eq!(verifier().verify(&headers, &body), Err(VerifyError::SignatureMismatch));
        }

        /// Flips of the characters of a mixed `v1 … v1a …` header: never accepted unless the
        /// untouched entry still matches, never a panic.
        #[test]
        fn mixed_header_character_flips_leave_only_the_untouched_entry(body in prop::collection::vec(any::<u8>(), 0..256), bit in any::<prop::sample::Index>()) {
            let signer = Signer::from_list(Provider::StandardWebhooks, &format!("{},{}", secret(Provider::StandardWebhooks), keys().0)).unwrap();
            let mut headers = signer.sign(&body, &SignParams::at(NOW).id(ID)).header_map();
            let value = headers["webhook-signature"].to_str().unwrap().to_owned();
            let (v1, v1a) = value.split_once(' ').unwrap();
            let flipped_v1a = flip_ascii(v1a, bit);
            prop_assume!(flipped_v1a.is_some());
            let flipped_v1a = flipped_v1a.unwrap();
            headers.insert("webhook-signature", HeaderValue::from_str(&format!("{v1} {flipped_v1a}")).unwrap());
            // The v1 entry still matches the HMAC secret (index 1) unless the flip made the
            // v1a entry malformed, which refuses the whole header as for `v1`.
            match verifier().verify(&headers, &body) {
                Ok(v) => prop_assert_eq!((v.secret_index(), v.key_kind()), (1, KeyKind::Hmac)),
                Err(err) => prop_assert_eq!(err.status(), 400, "{:?} for {}", err, flipped_v1a),
            }
            // Without the v1 entry, the flipped v1a entry alone is always refused.
            headers.insert("webhook-signature", HeaderValue::from_str(&flipped_v1a).unwrap());
            prop_assert!(verifier().verify(&headers, &body).is_err());
        }
    }
}
