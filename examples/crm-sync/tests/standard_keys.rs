//! `STANDARD_WEBHOOK_SECRET` takes Standard Webhooks `whpk_` ed25519 public keys beside
//! `whsec_` secrets (a sender moving to `v1a` signatures), and refuses a `whsk_` signing key
//! naming the variable, never the key.

use bookhook_testkit::secrets::{PUBLIC_KEY_A, SECRET_KEY_A, STANDARD_SECRET as HMAC_SECRET};
use bookhook_verify::{KeyKind, Provider, SignParams, Signer};
use crm_sync::config::{Config, ConfigError};

const VAR: &str = "STANDARD_WEBHOOK_SECRET";

fn config(value: &str) -> Result<Config, ConfigError> {
    let value = value.to_owned();
    Config::from_lookup(move |var| Ok((var == VAR).then(|| value.clone())))
}

#[test]
fn a_public_key_in_the_list_verifies_v1a_deliveries_on_the_standard_route() {
    let config = config(&format!("{HMAC_SECRET}, {PUBLIC_KEY_A}")).unwrap();
    let route = config
        .routes
        .iter()
        .find(|r| r.provider == Provider::StandardWebhooks)
        .unwrap();
    let verifier = route.verifier.as_ref().expect("the route is live");
    let body = br#"{"type":"booking.created","data":{"attendee":{"email":"ada@example.com"}}}"#;
    for (secret, index, kind) in [
        (SECRET_KEY_A, 1, KeyKind::Ed25519),
        (HMAC_SECRET, 0, KeyKind::Hmac),
    ] {
        let headers = Signer::new(Provider::StandardWebhooks, secret)
            .unwrap()
            .sign(body, &SignParams::now().id("msg_crm_1"))
            .header_map();
        let verified = verifier.verify(&headers, body).unwrap();
        assert_eq!(
            (verified.secret_index(), verified.key_kind()),
            (index, kind)
        );
        assert!(verifier.verify(&headers, b"{}").is_err());
    }
}

#[test]
fn a_signing_key_in_the_variable_is_refused_without_echoing_it() {
    let err = config(&format!("{HMAC_SECRET},{SECRET_KEY_A}")).unwrap_err();
    assert_eq!(err.var, VAR);
    let text = err.to_string();
    assert!(text.contains("`whpk_` public key instead"), "{text}");
    assert!(!text.contains(&SECRET_KEY_A[5..30]), "{text}");
    assert!(!text.contains(&HMAC_SECRET[6..]), "{text}");
}
