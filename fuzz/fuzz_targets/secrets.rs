//! The secret-intake parser: `SecretSet::from_list` and `VerifierBuilder::secrets` on an
//! arbitrary comma-separated list (as read from an environment variable), for every provider.
//!
//! Properties: never a panic; the builder and `SecretSet` agree; `Debug` of the set and of the
//! verifier is exactly what the same number of dummy secrets gives (nothing of the secrets'
//! content shows); a construction error carries only provider, index and expected form; and
//! every accepted entry round-trips: what `Signer` signs with it, the verifier accepts.
#![no_main]

use arbitrary::Arbitrary;
use bookhook_fuzz::{NOW, provider};
use bookhook_testkit::clock::fixed_at;
use bookhook_verify::{
    ByProvider, ConfigError, FixedClock, Provider, SecretSet, SignParams, Signer, Verifier,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    provider: u8,
    list: String,
    body: Vec<u8>,
}

/// The entries `from_list` reads: none for a blank list, else each comma-separated part trimmed.
fn entries(list: &str) -> Vec<&str> {
    if list.trim().is_empty() {
        return Vec::new();
    }
    list.split(',').map(str::trim).collect()
}

/// A dummy secret in each provider's form.
const DUMMY: ByProvider<&str> = ByProvider {
    slatis: "dummy",
    slotflow: "dummy_token_0000000000",
    bookable: "dummy",
    schedulingkit: "dummy",
    calcom: "dummy",
    calendly: "dummy",
    standard: "whsec_ZHVtbXk=",
};

fn dummy(p: Provider, n: usize) -> String {
    vec![*DUMMY.get(p); n].join(",")
}

fn clock() -> FixedClock {
    fixed_at(NOW)
}

fuzz_target!(|input: Input| {
    let p = provider(input.provider, &Provider::ALL);
    let set = SecretSet::from_list(p, &input.list);
    let built = Verifier::builder(p)
        .secrets(&input.list)
        .clock(clock())
        .build();
    match (&set, &built) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "SecretSet and VerifierBuilder disagree"),
        _ => panic!("SecretSet {set:?} and VerifierBuilder {built:?} disagree"),
    }
    let (set, verifier) = match (set, built) {
        (Ok(set), Ok(verifier)) => (set, verifier),
        (Err(err), _) => return error_names_no_secret(p, &err),
        _ => unreachable!(),
    };

    let entries = entries(&input.list);
    assert_eq!(set.len(), entries.len());
    let template =
        SecretSet::from_list(p, &dummy(p, entries.len())).expect("dummy secrets are valid");
    assert_eq!(
        format!("{set:?}"),
        format!("{template:?}"),
        "SecretSet Debug depends on the secrets"
    );
    let template_verifier = Verifier::builder(p)
        .secret_set(template)
        .clock(clock())
        .build()
        .expect("valid");
    assert_eq!(
        format!("{verifier:?}"),
        format!("{template_verifier:?}"),
        "Verifier Debug depends on the secrets"
    );
    let builder = Verifier::builder(p).secrets(&input.list);
    let template_builder = Verifier::builder(p).secrets(&dummy(p, entries.len()));
    assert_eq!(
        format!("{builder:?}"),
        format!("{template_builder:?}"),
        "VerifierBuilder Debug depends on the secrets"
    );

    for (i, entry) in entries.iter().enumerate() {
        let signer = Signer::new(p, entry).expect("an entry the verifier accepts signs too");
        assert_eq!(
            format!("{signer:?}"),
            format!("{:?}", Signer::new(p, dummy(p, 1)).expect("valid"))
        );
        let signed = signer.sign(&input.body, &SignParams::at(NOW).id("msg_fuzz"));
        let verified = verifier
            .verify_with_query(signed.query(), &signed.header_map(), &input.body)
            .unwrap_or_else(|e| {
                panic!("entry #{i} signed a delivery its own verifier refuses: {e}")
            });
        // An equal key earlier in the list matches first.
        assert!(verified.secret_index() <= i);
    }
});

/// A construction error is built only from the provider, an index and a static description.
fn error_names_no_secret(p: Provider, err: &ConfigError) {
    let (display, debug) = match *err {
        ConfigError::NoSecret { provider } => (
            format!("no secret configured for {provider}: set at least one"),
            format!("NoSecret {{ provider: {provider:?} }}"),
        ),
        ConfigError::EmptySecret { provider, index } => (
            format!("secret #{index} for {provider} is empty"),
            format!("EmptySecret {{ provider: {provider:?}, index: {index} }}"),
        ),
        ConfigError::InvalidSecret {
            provider,
            index,
            expected,
        } => (
            format!("secret #{index} for {provider} is invalid: expected {expected}"),
            format!(
                "InvalidSecret {{ provider: {provider:?}, index: {index}, expected: {expected:?} }}"
            ),
        ),
        ref other => panic!("a ConfigError variant this harness does not know: {other:?}"),
    };
    assert_eq!(err.to_string(), display, "{p}");
    assert_eq!(format!("{err:?}"), debug, "{p}");
}
