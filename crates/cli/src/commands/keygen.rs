//! `bookhook keygen`: a fresh Standard Webhooks secret, or an ed25519 key pair, from the
//! operating system's random source.
//!
//! Only here does bookhook need randomness: the library verifies and signs with keys it is
//! given, so it depends on no random source.

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_verify::Provider;
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::write_err;
use crate::cli::KeygenArgs;
use crate::error::CliError;

/// 32 random bytes: the HMAC key length that matches SHA-256's strength, and the length of an
/// ed25519 seed.
const KEY_LEN: usize = 32;

pub(super) fn run(args: &KeygenArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.provider != Provider::StandardWebhooks {
        return Err(CliError::Usage(format!(
            "keygen makes Standard Webhooks keys (--provider standard); {} issues its secrets itself: copy it from its dashboard",
            args.provider
        )));
    }
    let mut seed = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(&mut seed[..]).map_err(CliError::Random)?;
    if !args.asymmetric {
        let secret = Zeroizing::new(format!("whsec_{}", STANDARD.encode(&seed[..])));
        return writeln!(out, "{}", secret.as_str()).map_err(write_err);
    }
    let (secret_key, public_key) = key_pair(&seed);
    writeln!(out, "secret-key: {}", secret_key.as_str()).map_err(write_err)?;
    writeln!(out, "public-key: {public_key}").map_err(write_err)
}

/// The `whsk_` secret key (seed ‖ public key, as the Standard Webhooks reference server
/// encodes it) and the `whpk_` public key of an ed25519 seed.
fn key_pair(seed: &[u8; KEY_LEN]) -> (Zeroizing<String>, String) {
    // `SigningKey` wipes itself on drop (ed25519-dalek's `zeroize` feature).
    let key = SigningKey::from_bytes(seed);
    let pair = Zeroizing::new(key.to_keypair_bytes());
    (
        Zeroizing::new(format!("whsk_{}", STANDARD.encode(&pair[..]))),
        format!("whpk_{}", STANDARD.encode(key.verifying_key().as_bytes())),
    )
}

#[cfg(test)]
mod tests {
    use bookhook_verify::{KeyKind, SignParams, Signer, Verifier};

    use super::*;

    #[test]
    fn the_published_seed_gives_the_published_pair() {
        // The Standard Webhooks reference server's example: its whsk_ starts with the seed.
        let published = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
        let bytes = STANDARD.decode(&published[5..]).unwrap();
        let seed: [u8; KEY_LEN] = bytes[..KEY_LEN].try_into().unwrap();
        let (secret_key, public_key) = key_pair(&seed);
        assert_eq!(secret_key.as_str(), published);
        assert_eq!(
            public_key,
            "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
        );
    }

    #[test]
    fn a_generated_pair_signs_and_verifies_with_the_library() {
        let mut seed = [0u8; KEY_LEN];
        getrandom::fill(&mut seed).unwrap();
        let (secret_key, public_key) = key_pair(&seed);
        let body = br#"{"type":"booking.created"}"#;
        let signed = Signer::new(Provider::StandardWebhooks, secret_key.as_str())
            .unwrap()
            .sign(body, &SignParams::now());
        let verified = Verifier::builder(Provider::StandardWebhooks)
            .secret(&public_key)
            .build()
            .unwrap()
            .verify(&signed.header_map(), body)
            .unwrap();
        assert_eq!(verified.key_kind(), KeyKind::Ed25519);
    }
}
