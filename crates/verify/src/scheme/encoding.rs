//! Decoding signature entries into fixed-length tags and timestamps into numbers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Timestamp;
use crate::Malformed;
use crate::secret::TAG_LEN;

/// A 64-character hex HMAC-SHA256 tag (either case).
pub(super) fn hex_tag(entry: &str) -> Result<[u8; TAG_LEN], Malformed> {
    if entry.is_empty() {
        return Err(Malformed::EmptySignature);
    }
    if entry.len() != TAG_LEN * 2 {
        return Err(Malformed::WrongLength);
    }
    let mut tag = [0; TAG_LEN];
    hex::decode_to_slice(entry, &mut tag).map_err(|_| Malformed::BadEncoding("hex"))?;
    Ok(tag)
}

/// A padded standard-base64 HMAC-SHA256 tag (44 characters).
pub(super) fn base64_tag(entry: &str) -> Result<[u8; TAG_LEN], Malformed> {
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

/// A Unix time in seconds: ASCII digits only (no sign, no spaces), fitting in an `i64`.
/// Negative and overflowing values are malformed: never a panic, never a pass.
pub(super) fn timestamp(raw: &str) -> Result<Timestamp<'_>, Malformed> {
    if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::BadTimestamp);
    }
    let unix = raw.parse::<i64>().map_err(|_| Malformed::BadTimestamp)?;
    Ok(Timestamp { raw, unix })
}

/// Lowercase hex of a tag, for signing.
pub(super) fn to_hex(tag: &[u8; TAG_LEN]) -> String {
    hex::encode(tag)
}

/// Standard base64 of a tag, for signing.
pub(super) fn to_base64(tag: &[u8; TAG_LEN]) -> String {
    STANDARD.encode(tag)
}

/// Decodes a standard-base64 secret (after its `whsec_` prefix).
pub(super) fn base64_secret(s: &[u8]) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok().filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_tag_checks_length_before_characters() {
        assert_eq!(hex_tag(""), Err(Malformed::EmptySignature));
        assert_eq!(hex_tag("abcd"), Err(Malformed::WrongLength));
        assert_eq!(hex_tag(&"g".repeat(64)), Err(Malformed::BadEncoding("hex")));
        assert_eq!(hex_tag(&"AB".repeat(32)), Ok([0xab; 32]));
    }

    #[test]
    fn base64_tag_wants_exactly_32_bytes() {
        assert_eq!(base64_tag(""), Err(Malformed::EmptySignature));
        assert_eq!(base64_tag(&to_base64(&[7; 32])), Ok([7; 32]));
        assert_eq!(base64_tag("AAAA"), Err(Malformed::WrongLength));
        assert_eq!(base64_tag(&"A".repeat(200)), Err(Malformed::WrongLength));
        assert_eq!(base64_tag("!!!!"), Err(Malformed::BadEncoding("base64")));
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
                timestamp(bad).err(),
                Some(Malformed::BadTimestamp),
                "{bad:?}"
            );
        }
        assert_eq!(timestamp("9223372036854775807").unwrap().unix, i64::MAX);
        assert_eq!(timestamp("0").unwrap().unix, 0);
    }
}
