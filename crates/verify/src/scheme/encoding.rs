//! Decoding signature entries into fixed-length tags and timestamps into numbers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Timestamp;
use super::header::Text;
use crate::Malformed;
use crate::ed25519::SIGNATURE_LEN;
use crate::secret::TAG_LEN;

/// A 64-character hex HMAC-SHA256 tag (either case).
pub(super) fn hex_tag(entry: Text<'_>) -> Result<[u8; TAG_LEN], Malformed> {
    if entry.is_empty() {
        return Err(Malformed::EmptySignature);
    }
    let entry: &[u8; TAG_LEN * 2] = entry
        .as_bytes()
        .try_into()
        .map_err(|_| Malformed::WrongLength)?;
    // A table lookup per digit, checked once at the end: what `hex::decode_to_slice`
    // accepts (either case), in a third of its time.
    let mut seen = 0;
    let mut tag = [0; TAG_LEN];
    for (pair, out) in entry.chunks_exact(2).zip(&mut tag) {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        seen |= hi | lo;
        *out = hi << 4 | lo;
    }
    if seen >= 16 {
        return Err(Malformed::BadEncoding("hex"));
    }
    Ok(tag)
}

/// Hex digit values of ASCII bytes (either case); `INVALID` elsewhere.
const HEX_VALUES: [u8; 256] = {
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        values[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        values[b'a' as usize + i] = 10 + i as u8;
        values[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    values
};

/// A padded standard-base64 HMAC-SHA256 tag (44 characters).
pub(super) fn base64_tag(entry: Text<'_>) -> Result<[u8; TAG_LEN], Malformed> {
    let entry = entry.as_bytes();
    if let Some(tag) = canonical_base64_tag(entry) {
        return Ok(tag);
    }
    if entry.is_empty() {
        return Err(Malformed::EmptySignature);
    }
    // 32 bytes are 44 characters; anything much longer cannot be a tag, and refusing it
    // early bounds the decoding work.
    if entry.len() > 64 {
        return Err(Malformed::WrongLength);
    }
    let mut buf = [0; 48];
    let n = STANDARD
        .decode_slice(entry, &mut buf)
        .map_err(|_| Malformed::BadEncoding("base64"))?;
    buf[..n].try_into().map_err(|_| Malformed::WrongLength)
}

/// A padded standard-base64 ed25519 signature (64 bytes, 88 characters): `Malformed` like a
/// bad tag (empty, wrong length, bad encoding), so a broken `v1a` entry is refused as a
/// broken `v1` entry is.
pub(super) fn base64_signature(entry: Text<'_>) -> Result<[u8; SIGNATURE_LEN], Malformed> {
    let entry = entry.as_bytes();
    if entry.is_empty() {
        return Err(Malformed::EmptySignature);
    }
    // 64 bytes are 88 characters; as for tags, much longer is refused before decoding.
    if entry.len() > 128 {
        return Err(Malformed::WrongLength);
    }
    let mut buf = [0; 96];
    let n = STANDARD
        .decode_slice(entry, &mut buf)
        .map_err(|_| Malformed::BadEncoding("base64"))?;
    buf[..n].try_into().map_err(|_| Malformed::WrongLength)
}

/// Standard-base64 values of ASCII bytes; `INVALID` elsewhere (and for `=`).
const BASE64_VALUES: [u8; 256] = {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        values[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    values
};
const INVALID: u8 = 0xff;

/// The fast path of [`base64_tag`]: the one encoding of a 32-byte tag that the `base64`
/// crate's `STANDARD` engine accepts (43 characters, one `=`, zero trailing bits), decoded
/// in one pass without its length estimate and chunk loop; `None` for anything else, which
/// the general path then decodes or classifies. It ran on every Standard Webhooks delivery
/// and cost about as much as hashing 200 bytes.
fn canonical_base64_tag(entry: &[u8]) -> Option<[u8; TAG_LEN]> {
    let entry: &[u8; 44] = entry.try_into().ok()?;
    let (data, pad) = entry.split_at(43);
    if pad != b"=" {
        return None;
    }
    let value = |c: u8| u32::from(BASE64_VALUES[usize::from(c)]);
    let mut seen = 0;
    let mut tag = [0; TAG_LEN];
    for (chars, out) in data.chunks_exact(4).zip(tag.chunks_exact_mut(3)) {
        let (a, b, c, d) = (
            value(chars[0]),
            value(chars[1]),
            value(chars[2]),
            value(chars[3]),
        );
        seen |= a | b | c | d;
        out.copy_from_slice(&(a << 18 | b << 12 | c << 6 | d).to_be_bytes()[1..]);
    }
    // The last 3 characters carry 18 bits: the tag's last 2 bytes and 2 bits that must be 0.
    let (a, b, c) = (value(data[40]), value(data[41]), value(data[42]));
    seen |= a | b | c;
    let n = a << 12 | b << 6 | c;
    tag[30..].copy_from_slice(&((n >> 2) as u16).to_be_bytes());
    (seen < 64 && n & 0b11 == 0).then_some(tag)
}

/// A Unix time in seconds: ASCII digits only (no sign, no spaces), fitting in an `i64`.
/// Negative and overflowing values are malformed: never a panic, never a pass.
pub(super) fn timestamp(raw: Text<'_>) -> Result<Timestamp<'_>, Malformed> {
    let digits = raw.as_bytes();
    if digits.is_empty() || digits.len() > 19 {
        return Err(Malformed::BadTimestamp);
    }
    // 19 digits are below 10^19 < u64::MAX: this cannot overflow; `i64` is checked below.
    let mut value: u64 = 0;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return Err(Malformed::BadTimestamp);
        }
        value = value * 10 + u64::from(digit);
    }
    let unix = i64::try_from(value).map_err(|_| Malformed::BadTimestamp)?;
    Ok(Timestamp { raw, unix })
}

/// Lowercase hex of a tag, for signing.
pub(super) fn to_hex(tag: &[u8; TAG_LEN]) -> String {
    hex::encode(tag)
}

/// Standard base64 of a tag or signature, for signing.
pub(super) fn to_base64(tag: &[u8]) -> String {
    STANDARD.encode(tag)
}

/// Decodes a standard-base64 secret (after its `whsec_` prefix).
pub(super) fn base64_secret(s: &[u8]) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok().filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Text<'_> {
        Text::unchecked(s)
    }

    #[test]
    fn hex_tag_checks_length_before_characters() {
        assert_eq!(hex_tag(t("")), Err(Malformed::EmptySignature));
        assert_eq!(hex_tag(t("abcd")), Err(Malformed::WrongLength));
        assert_eq!(
            hex_tag(t(&"g".repeat(64))),
            Err(Malformed::BadEncoding("hex"))
        );
        assert_eq!(hex_tag(t(&"AB".repeat(32))), Ok([0xab; 32]));
    }

    #[test]
    fn hex_tag_refuses_the_characters_next_to_each_digit_range() {
        let good = "0123456789abcdefABCDEF".repeat(3);
        let good = &good[..64];
        assert!(hex_tag(t(good)).is_ok());
        for c in ['/', ':', '@', 'G', '`', 'g'] {
            for i in [0, 1, 31, 63] {
                let mut bad = good.to_owned();
                bad.replace_range(i..=i, &c.to_string());
                assert_eq!(
                    hex_tag(t(&bad)),
                    Err(Malformed::BadEncoding("hex")),
                    "{bad}"
                );
            }
        }
    }

    #[test]
    fn base64_tag_wants_exactly_32_bytes() {
        assert_eq!(base64_tag(t("")), Err(Malformed::EmptySignature));
        assert_eq!(base64_tag(t(&to_base64(&[7; 32]))), Ok([7; 32]));
        assert_eq!(base64_tag(t("AAAA")), Err(Malformed::WrongLength));
        assert_eq!(base64_tag(t(&"A".repeat(200))), Err(Malformed::WrongLength));
        assert_eq!(base64_tag(t("!!!!")), Err(Malformed::BadEncoding("base64")));
        // Up to 64 characters are decoded (and classified), longer ones refused unread.
        let at_limit = "!".repeat(64);
        assert_eq!(
            base64_tag(t(&at_limit)),
            Err(Malformed::BadEncoding("base64"))
        );
        assert_eq!(base64_tag(t(&"!".repeat(65))), Err(Malformed::WrongLength));
        // Likewise 128 characters for an ed25519 signature.
        let at_limit = "!".repeat(128);
        assert_eq!(
            base64_signature(t(&at_limit)),
            Err(Malformed::BadEncoding("base64"))
        );
        assert_eq!(
            base64_signature(t(&"!".repeat(129))),
            Err(Malformed::WrongLength)
        );
    }

    // The hand-written decoders above exist for speed (see BENCHMARKS.md); the `hex` and
    // `base64` crates stay the reference they must agree with on every input.
    proptest::proptest! {
        #[test]
        fn hex_tag_agrees_with_the_hex_crate(s in "[0-9a-fA-F]{60,68}|[ -~]{64}|[0-9a-gA-G]{64}") {
            let mut reference = [0u8; TAG_LEN];
            let expected = match s.len() {
                0 => Err(Malformed::EmptySignature),
                64 => hex::decode_to_slice(&s, &mut reference)
                    .map(|()| reference)
                    .map_err(|_| Malformed::BadEncoding("hex")),
                _ => Err(Malformed::WrongLength),
            };
            proptest::prop_assert_eq!(hex_tag(t(&s)), expected);
        }

        #[test]
        fn base64_tag_agrees_with_the_base64_crate(s in "[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/=]{44}|[ -~]{44}|[A-Za-z0-9+/]{42}==") {
            let reference = STANDARD
                .decode(&s)
                .ok()
                .and_then(|v| <[u8; TAG_LEN]>::try_from(v).ok());
            proptest::prop_assert_eq!(base64_tag(t(&s)).ok(), reference);
        }

        #[test]
        fn base64_tag_decodes_every_tag_the_crate_encodes(tag in proptest::array::uniform32(proptest::prelude::any::<u8>())) {
            proptest::prop_assert_eq!(base64_tag(t(&to_base64(&tag))), Ok(tag));
            proptest::prop_assert_eq!(hex_tag(t(&to_hex(&tag))), Ok(tag));
            proptest::prop_assert_eq!(hex_tag(t(&to_hex(&tag).to_ascii_uppercase())), Ok(tag));
        }
    }

    #[test]
    fn fast_base64_path_agrees_with_the_base64_crate() {
        let mut tag = [0u8; TAG_LEN];
        for seed in 0..=255u8 {
            for (i, b) in tag.iter_mut().enumerate() {
                *b = seed
                    .wrapping_mul(31)
                    .wrapping_add(i as u8)
                    .rotate_left(u32::from(seed % 7));
            }
            let encoded = to_base64(&tag);
            assert_eq!(
                canonical_base64_tag(encoded.as_bytes()),
                Some(tag),
                "{encoded}"
            );
            assert_eq!(base64_tag(t(&encoded)), Ok(tag));
        }
        let good = to_base64(&[0xa5; TAG_LEN]);
        let mut variants = vec![
            good.replace('=', "A"),           // no padding character
            format!("{}==", &good[..42]),     // padding too early
            format!("{}B=", &good[..42]),     // non-zero trailing bits
            format!("{}-=", &good[..42]),     // URL-safe alphabet
            format!("{}\u{e9}", &good[..42]), // not ASCII (two bytes)
        ];
        for (i, c) in ["!", " ", "=", "_", "\0"].iter().enumerate() {
            variants.push(format!("{}{c}{}", &good[..i * 9], &good[i * 9 + 1..]));
        }
        for bad in variants {
            let expected = STANDARD
                .decode(&bad)
                .ok()
                .and_then(|v| <[u8; TAG_LEN]>::try_from(v).ok());
            assert_eq!(canonical_base64_tag(bad.as_bytes()), None, "{bad:?}");
            assert_eq!(base64_tag(t(&bad)).ok(), expected, "{bad:?}");
            assert!(expected.is_none(), "{bad:?}");
        }
    }

    /// Faults that cancel or hide each other if the fast path's checks were combined
    /// wrongly: one, two or three invalid characters anywhere (in one 4-character group or
    /// several, in the last 3 characters), and an invalid character next to non-zero
    /// trailing bits. Every such entry is refused by both paths.
    #[test]
    fn base64_tags_with_several_faults_at_once_are_refused() {
        let good = to_base64(&[0x5a; TAG_LEN]);
        let refused = |bad: &[u8]| {
            let text = std::str::from_utf8(bad).unwrap();
            assert_eq!(canonical_base64_tag(bad), None, "{text:?}");
            assert!(STANDARD.decode(bad).is_err(), "{text:?}");
            assert!(base64_tag(t(text)).is_err(), "{text:?}");
        };
        for bad in ["!", "=", "-", "\u{7f}"] {
            let bad = bad.as_bytes()[0];
            for i in 0..43 {
                let mut single = good.clone().into_bytes();
                single[i] = bad;
                refused(&single);
                for j in i + 1..43 {
                    let mut entry = single.clone();
                    entry[j] = bad;
                    refused(&entry);
                    for k in [j + 1, 42].into_iter().filter(|&k| k < 43 && k != j) {
                        entry[k] = bad;
                        refused(&entry);
                    }
                }
            }
        }
        // The last character carries 2 bits that must be zero: one set, plus an invalid
        // character earlier.
        for last in ["B", "C", "D", "F", "z", "/"] {
            for i in 0..42 {
                let mut entry = format!("{}{last}=", &good[..42]).into_bytes();
                entry[i] = b'!';
                refused(&entry);
            }
        }
    }

    #[test]
    fn base64_signature_wants_exactly_64_bytes() {
        let sig: [u8; SIGNATURE_LEN] = std::array::from_fn(|i| i as u8 * 3);
        assert_eq!(base64_signature(t(&to_base64(&sig))), Ok(sig));
        assert_eq!(base64_signature(t("")), Err(Malformed::EmptySignature));
        // A 32-byte tag is well encoded but the wrong length for a signature.
        assert_eq!(
            base64_signature(t(&to_base64(&[7; 32]))),
            Err(Malformed::WrongLength)
        );
        assert_eq!(
            base64_signature(t(&to_base64(&[7; 65]))),
            Err(Malformed::WrongLength)
        );
        assert_eq!(
            base64_signature(t(&"A".repeat(400))),
            Err(Malformed::WrongLength)
        );
        let mut bad = to_base64(&sig);
        bad.replace_range(10..11, "!");
        assert_eq!(
            base64_signature(t(&bad)),
            Err(Malformed::BadEncoding("base64"))
        );
        // URL-safe alphabet and missing padding are not standard base64.
        let unpadded = to_base64(&sig).trim_end_matches('=').to_owned();
        assert_eq!(
            base64_signature(t(&unpadded)),
            Err(Malformed::BadEncoding("base64"))
        );
    }

    #[test]
    fn timestamps_that_overflow_or_carry_signs_are_malformed() {
        for bad in [
            "",
            "-1",
            "+5",
            " 5",
            "1.5",
            "99999999999999999999",
            "9223372036854775808",
            "-9223372036854775808",
        ] {
            assert_eq!(
                timestamp(t(bad)).err(),
                Some(Malformed::BadTimestamp),
                "{bad:?}"
            );
        }
        assert_eq!(timestamp(t("9223372036854775807")).unwrap().unix, i64::MAX);
        assert_eq!(timestamp(t("0")).unwrap().unix, 0);
    }
}
