//! Which platform sent a delivery.

use core::fmt;
use core::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{EventError, UnknownProvider};

/// A booking or scheduling platform whose webhooks this crate understands.
///
/// The names returned by [`Provider::as_str`] are the stable identifiers the other
/// bookhook crates (verification schemes, adapters, the CLI, routes such as
/// `/webhooks/<name>`) map by, so they never change once published.
///
/// # Example
///
/// ```
/// use bookhook_events::Provider;
///
/// let p: Provider = "calcom".parse().unwrap();
/// assert_eq!(p, Provider::CalCom);
/// assert_eq!(p.to_string(), "calcom");
/// assert!(Provider::ALL.iter().all(|p| p.as_str().parse() == Ok(*p)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Provider {
    /// Slatis (`x-slatis-signature`, HMAC over the raw body).
    Slatis,
    /// Slotflow (unsigned; authenticated by a receiver-chosen URL token).
    Slotflow,
    /// Bookable by Samna (`X-Samna-Signature: t=..,v1=..`).
    Bookable,
    /// SchedulingKit (`X-Webhook-Signature`, `X-Webhook-Delivery-Id`).
    SchedulingKit,
    /// Cal.com (`X-Cal-Signature-256`).
    CalCom,
    /// Calendly (`Calendly-Webhook-Signature: t=..,v1=..`).
    Calendly,
    /// Any platform following the Standard Webhooks specification (Svix and others).
    StandardWebhooks,
}

impl Provider {
    /// Every provider, in declaration order.
    pub const ALL: [Provider; 7] = [
        Provider::Slatis,
        Provider::Slotflow,
        Provider::Bookable,
        Provider::SchedulingKit,
        Provider::CalCom,
        Provider::Calendly,
        Provider::StandardWebhooks,
    ];

    /// The stable lowercase identifier: `"slatis"`, `"slotflow"`, `"bookable"`,
    /// `"schedulingkit"`, `"calcom"`, `"calendly"` or `"standard"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Provider::Slatis => "slatis",
            Provider::Slotflow => "slotflow",
            Provider::Bookable => "bookable",
            Provider::SchedulingKit => "schedulingkit",
            Provider::CalCom => "calcom",
            Provider::Calendly => "calendly",
            Provider::StandardWebhooks => "standard",
        }
    }

    /// Deserializes `body` as `T`, tagging any failure with this provider.
    pub(crate) fn decode<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, EventError> {
        serde_json::from_slice(body).map_err(|err| EventError::invalid_json(self, &err))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// The inverse of [`Provider::as_str`]; ASCII case is ignored so `"CalCom"` works too.
    ///
    /// # Errors
    ///
    /// [`UnknownProvider`] for any other name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(UnknownProvider::new)
    }
}

impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_documented_identifiers() {
        let names: Vec<&str> = Provider::ALL.iter().map(Provider::as_str).collect();
        assert_eq!(
            names,
            [
                "slatis",
                "slotflow",
                "bookable",
                "schedulingkit",
                "calcom",
                "calendly",
                "standard"
            ]
        );
    }

    #[test]
    fn from_str_is_the_inverse_of_as_str() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
            assert_eq!(p.to_string().to_uppercase().parse::<Provider>(), Ok(p));
        }
    }

    #[test]
    fn from_str_rejects_unknown_names_with_a_typed_error() {
        for bad in ["", "cal.com", "standard-webhooks", " slatis", "svix"] {
            assert_eq!(
                bad.parse::<Provider>(),
                Err(UnknownProvider::new()),
                "{bad:?}"
            );
        }
        let msg = "nope".parse::<Provider>().unwrap_err().to_string();
        assert!(msg.contains("slatis") && !msg.contains("nope"), "{msg}");
    }

    #[test]
    fn serde_uses_the_identifier() {
        let json = serde_json::to_string(&Provider::StandardWebhooks).unwrap();
        assert_eq!(json, "\"standard\"");
        let back: Provider = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Provider::StandardWebhooks);
        assert!(serde_json::from_str::<Provider>("\"other\"").is_err());
    }
}
