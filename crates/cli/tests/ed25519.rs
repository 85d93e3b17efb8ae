//! Standard Webhooks `v1a` (ed25519) through the binary: `keygen`, `sign` with a `whsk_` key,
//! `verify` with a `whpk_` key (alone or mixed with `whsec_` secrets), and the refusals, with
//! their exit codes (0 ok, 1 refused, 2 malformed or bad key).

use std::process::Output;

use bookhook_testkit::cli::{Bookhook, assert_exit, stderr, stdout};
use bookhook_testkit::secrets::{PUBLIC_KEY_A, SECRET_KEY_A, STANDARD_SECRET};

/// The binary under test.
const BOOKHOOK: Bookhook = Bookhook::new(env!("CARGO_BIN_EXE_bookhook"));

/// The Standard Webhooks reference server's published example.
const SECRET_KEY: &str = SECRET_KEY_A;
const PUBLIC_KEY: &str = PUBLIC_KEY_A;
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const T: &str = "1614265330";
const BODY: &str = r#"{"test": 2432232314}"#;
const SIGNATURE: &str =
    "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";
const HMAC_SECRET: &str = STANDARD_SECRET;

/// `bookhook sign --provider standard --secret <secret>` of `body` (from stdin) at `T`.
fn sign(secret: &str, body: &str) -> Output {
    let args = [
        "sign",
        "--provider",
        "standard",
        "--secret",
        secret,
        "--id",
        ID,
        "--timestamp",
        T,
        "--body-file",
        "-",
    ];
    BOOKHOOK.run_with_stdin(&args, body)
}

/// `bookhook verify --provider standard --secret <secrets>` of `body` (from stdin) at `T`.
fn verify(secrets: &str, signature: &str, body: &str) -> Output {
    let headers = [
        format!("webhook-id: {ID}"),
        format!("webhook-timestamp: {T}"),
        format!("webhook-signature: {signature}"),
    ];
    let mut args = vec!["verify", "--provider", "standard", "--secret", secrets];
    for header in &headers {
        args.extend(["--header", header]);
    }
    args.extend(["--now", T, "--body-file", "-"]);
    BOOKHOOK.run_with_stdin(&args, body)
}

fn signature_of(signed: &Output) -> String {
    assert_exit(signed, 0);
    stdout(signed)
        .lines()
        .find_map(|l| l.strip_prefix("webhook-signature: "))
        .expect("a signature header")
        .to_owned()
}

#[test]
fn sign_with_a_secret_key_prints_the_published_v1a_header() {
    let out = sign(SECRET_KEY, BODY);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("webhook-id: {ID}\nwebhook-timestamp: {T}\nwebhook-signature: {SIGNATURE}\n")
    );
}

#[test]
fn verify_with_the_public_key_accepts_the_published_vector() {
    let out = verify(PUBLIC_KEY, SIGNATURE, BODY);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with("ok (secret #1, ed25519)\n"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains(&format!("delivery-id: {ID}\n")));
    // A changed body, or another sender's key: refused, exit 1.
    let tampered = verify(PUBLIC_KEY, SIGNATURE, r#"{"test": 2432232315}"#);
    assert_exit(&tampered, 1);
    assert!(
        stderr(&tampered).contains("signature mismatch"),
        "{}",
        stderr(&tampered)
    );
    let other = "whpk_6eUwGL28I77vSQ8N80UZS5x9ixrg8qtEoWK1GnzjgO0=";
    assert_exit(&verify(other, SIGNATURE, BODY), 1);
}

#[test]
fn secret_lists_mix_hmac_secrets_and_public_keys() {
    // Verify: the public key is the second secret of the list.
    let out = verify(&format!("{HMAC_SECRET},{PUBLIC_KEY}"), SIGNATURE, BODY);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with("ok (secret #2, ed25519)\n"),
        "{}",
        stdout(&out)
    );
    // Sign with both: one header, a v1 and a v1a entry, each verifiable by its own kind.
    let both = signature_of(&sign(&format!("{HMAC_SECRET}, {SECRET_KEY}"), BODY));
    let (v1, v1a) = both.split_once(' ').expect("two entries");
    assert!(v1.starts_with("v1,"), "{both}");
    assert_eq!(v1a, SIGNATURE);
    let by_hmac = verify(HMAC_SECRET, &both, BODY);
    assert_exit(&by_hmac, 0);
    assert!(
        stdout(&by_hmac).starts_with("ok (secret #1)\n"),
        "{}",
        stdout(&by_hmac)
    );
    assert_exit(&verify(PUBLIC_KEY, &both, BODY), 0);
    // Kinds never cross: the v1 entry alone against the public key, the v1a entry alone
    // against the HMAC secret.
    assert_exit(&verify(PUBLIC_KEY, v1, BODY), 1);
    assert_exit(&verify(HMAC_SECRET, v1a, BODY), 1);
}

#[test]
fn keys_in_the_wrong_place_exit_2_and_say_what_to_use() {
    // A receiver given the signing key: told to use the public key; the key is not echoed.
    let out = verify(SECRET_KEY, SIGNATURE, BODY);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("secret #1") && err.contains("`whpk_` public key instead"),
        "{err}"
    );
    assert!(!err.contains(&SECRET_KEY[5..25]), "{err}");
    assert!(out.stdout.is_empty());
    // A public key cannot sign.
    let out = sign(PUBLIC_KEY, BODY);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("cannot sign"), "{}", stderr(&out));
    // A secret key whose halves do not belong together: the published seed, another key's
    // public half.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pair = b64.decode(&SECRET_KEY[5..]).unwrap();
    let other_public = b64
        .decode("6eUwGL28I77vSQ8N80UZS5x9ixrg8qtEoWK1GnzjgO0=")
        .unwrap();
    pair[32..].copy_from_slice(&other_public);
    let out = sign(&format!("whsk_{}", b64.encode(&pair)), BODY);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("secret #1") && err.contains("inconsistent `whsk_` key"),
        "{err}"
    );
    assert!(!err.contains(&SECRET_KEY[5..25]), "{err}");
}

#[test]
fn malformed_v1a_entries_exit_2() {
    for bad in [
        "v1a,",
        "v1a,AAAA",
        "v1a,!!!!",
        &SIGNATURE[..SIGNATURE.len() - 2],
    ] {
        let out = verify(PUBLIC_KEY, bad, BODY);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("malformed delivery"),
            "{bad}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn keygen_prints_a_fresh_hmac_secret() {
    let a = BOOKHOOK.run(&["keygen", "--provider", "standard"]);
    let b = BOOKHOOK.run(&["keygen", "--provider", "standard"]);
    assert_exit(&a, 0);
    assert_exit(&b, 0);
    let secret = stdout(&a);
    let secret = secret.strip_suffix('\n').expect("one line");
    assert!(!secret.contains('\n'));
    let encoded = secret.strip_prefix("whsec_").expect("whsec_ prefix");
    assert_eq!(encoded.len(), 44, "32 bytes of base64: {secret}");
    assert_ne!(stdout(&a), stdout(&b), "two runs, two secrets");
    // It works as a secret: sign and verify with it.
    let signature = signature_of(&sign(secret, BODY));
    assert_exit(&verify(secret, &signature, BODY), 0);
}

#[test]
fn keygen_asymmetric_prints_a_pair_that_signs_and_verifies() {
    let out = BOOKHOOK.run(&["keygen", "--provider", "standard", "--asymmetric"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let secret_key = lines[0]
        .strip_prefix("secret-key: whsk_")
        .expect("labelled whsk_");
    let public_key = lines[1]
        .strip_prefix("public-key: whpk_")
        .expect("labelled whpk_");
    assert_eq!((secret_key.len(), public_key.len()), (88, 44), "{text}");
    // The secret key's second half is the public key (same base64 after the seed's bytes).
    let (secret_key, public_key) = (format!("whsk_{secret_key}"), format!("whpk_{public_key}"));
    let signature = signature_of(&sign(&secret_key, BODY));
    assert!(signature.starts_with("v1a,"), "{signature}");
    let ok = verify(&public_key, &signature, BODY);
    assert_exit(&ok, 0);
    assert!(stdout(&ok).starts_with("ok (secret #1, ed25519)\n"));
    // Not the published pair's key, and a second run gives another pair.
    assert_exit(&verify(PUBLIC_KEY, &signature, BODY), 1);
    let again = BOOKHOOK.run(&["keygen", "--provider", "standard", "--asymmetric"]);
    assert_ne!(stdout(&again), text);
}

#[test]
fn keygen_for_a_provider_that_issues_its_own_secrets_exits_2() {
    let out = BOOKHOOK.run(&["keygen", "--provider", "slatis"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--provider standard"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}
