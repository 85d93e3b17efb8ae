//! The test secrets of every provider, in one [`ByProvider`] table.
//!
//! A struct literal per provider: a new provider does not compile until it has its secrets
//! here, so no test hands it another provider's by default.

use bookhook_verify::{ByProvider, Provider};

/// A provider's test secrets, each in the form the provider issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secrets {
    /// The secret a route holds and a sender signs with.
    pub current: &'static str,
    /// The secret it replaced, still held during a rotation.
    pub previous: &'static str,
    /// Two more of the same form that no route holds: a wrong secret, an attacker's. Their
    /// lengths differ from [`current`](Self::current)'s and [`previous`](Self::previous)'s,
    /// so that a `Debug` that prints anything derived from a secret (even a length) differs
    /// between a verifier built from the configured pair and one built from these.
    pub unrelated: [&'static str; 2],
}

/// Every provider's test secrets.
pub const SECRETS: ByProvider<Secrets> = ByProvider {
    slatis: Secrets {
        current: "whsec_SLATIS_test_current",
        previous: "whsec_SLATIS_test_previous",
        unrelated: ["whsec_otherX", "whsec_otherY"],
    },
    slotflow: Secrets {
        current: "sf_token_0123456789abcdef",
        previous: "sf_token_previous_987654321",
        unrelated: ["sf_token_other_000000000", "sf_token_other_111111111"],
    },
    bookable: Secrets {
        current: "wh_sec_2f1d3a8b6c4e0f9a7d2b1c8e5f3a9b6d",
        previous: "wh_sec_BOOKABLE_previous",
        unrelated: ["wh_sec_x", "wh_sec_y"],
    },
    schedulingkit: Secrets {
        current: "sk_SCHEDULINGKIT_current",
        previous: "sk_SCHEDULINGKIT_previous",
        unrelated: ["sk-x", "sk-y"],
    },
    calcom: Secrets {
        current: "CALCOM_test_current_secret",
        previous: "CALCOM_test_previous_secret",
        unrelated: ["cal-x", "cal-y"],
    },
    calendly: Secrets {
        current: "CALENDLY_signing_key_current",
        previous: "CALENDLY_signing_key_previous",
        unrelated: ["cly-x", "cly-y"],
    },
    standard: Secrets {
        // The secret of Svix's documentation.
        current: STANDARD_SECRET,
        // base64 of "second-secret-of-standard".
        previous: "whsec_c2Vjb25kLXNlY3JldC1vZi1zdGFuZGFyZA==",
        // base64 of "other-one", "other-two".
        unrelated: ["whsec_b3RoZXItb25l", "whsec_b3RoZXItdHdv"],
    },
};

/// `provider`'s current test secret.
pub fn secret(provider: Provider) -> &'static str {
    SECRETS.get(provider).current
}

/// The Standard Webhooks secret of Svix's documentation (`whsec_` + base64).
pub const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Standard Webhooks `v1a` (ed25519) key pair `A`: the `whsk_` secret key a sender signs with
/// (the Standard Webhooks reference server's published example).
pub const SECRET_KEY_A: &str =
    "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
/// The `whpk_` public half of [`SECRET_KEY_A`], which a receiver verifies with.
pub const PUBLIC_KEY_A: &str = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
/// A second sender's secret key (made with `openssl genpkey -algorithm ed25519`).
pub const SECRET_KEY_B: &str =
    "whsk_u4pQGXSOdQ/UAvesjb/7GsKcHvCVvLKjQvI/yLobdoDp5TAYvbwjvu9JDw3zRRlLnH2LGuDyq0ShYrUafOOA7Q==";
/// The public half of [`SECRET_KEY_B`].
pub const PUBLIC_KEY_B: &str = "whpk_6eUwGL28I77vSQ8N80UZS5x9ixrg8qtEoWK1GnzjgO0=";
/// An HMAC secret whose bytes are [`SECRET_KEY_B`]'s ed25519 seed: a verifier holding it must
/// not accept `B`'s `v1a` signatures.
pub const HMAC_SECRET_EQUAL_TO_SEED_B: &str = "whsec_u4pQGXSOdQ/UAvesjb/7GsKcHvCVvLKjQvI/yLobdoA=";
/// An HMAC secret whose bytes are [`PUBLIC_KEY_A`]'s: anyone can sign with it, so a verifier
/// holding only `PUBLIC_KEY_A` must not accept its `v1` signatures.
pub const HMAC_SECRET_EQUAL_TO_PUBLIC_KEY_A: &str =
    "whsec_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";

#[cfg(test)]
mod tests {
    use super::*;
    use bookhook_verify::Verifier;

    #[test]
    fn every_test_secret_is_accepted_by_its_provider_and_all_differ() {
        for (p, s) in SECRETS.iter() {
            let all = [s.current, s.previous, s.unrelated[0], s.unrelated[1]];
            for secret in all {
                Verifier::builder(p)
                    .secret(secret)
                    .build()
                    .unwrap_or_else(|e| panic!("{p}: {secret}: {e}"));
            }
            for (i, a) in all.iter().enumerate() {
                assert!(!all[i + 1..].contains(a), "{p}: {a} twice");
            }
        }
    }

    #[test]
    fn unrelated_secrets_differ_in_length_from_the_configured_pair() {
        for (p, s) in SECRETS.iter() {
            for other in s.unrelated {
                assert_ne!(other.len(), s.current.len(), "{p}");
                assert_ne!(other.len(), s.previous.len(), "{p}");
            }
        }
    }
}
