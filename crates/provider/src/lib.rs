#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt;
use core::str::FromStr;

/// A booking or scheduling platform that bookhook verifies and parses.
///
/// The names of [`Provider::as_str`] are stable identifiers: routes (`/webhooks/<name>`),
/// the CLI's `--provider`, log fields and metric labels use them.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// Slatis: `x-slatis-signature: sha256=<hex>` over the raw body.
    Slatis,
    /// Slotflow: unsigned; a receiver-chosen `token` in the query string.
    Slotflow,
    /// Bookable (Samna): `X-Samna-Signature: t=<unix>,v1=<hex>` over `<t>.<body>`.
    Bookable,
    /// SchedulingKit: `X-Webhook-Signature: <hex>` over the raw body.
    SchedulingKit,
    /// Cal.com: `X-Cal-Signature-256: <hex>` over the raw body.
    CalCom,
    /// Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex>` over `<t>.<body>`.
    Calendly,
    /// Standard Webhooks (Svix and others): `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature: v1,<base64> v1a,<base64>` over `<id>.<t>.<body>`.
    StandardWebhooks,
}

/// One value per provider, in named fields.
///
/// Build it as a struct literal: the literal is the crate's registry line for every
/// provider, and one that misses a provider does not compile. Look values up with
/// [`get`](Self::get), which matches exhaustively here, in the crate that defines
/// [`Provider`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ByProvider<T> {
    /// [`Provider::Slatis`]'s value.
    pub slatis: T,
    /// [`Provider::Slotflow`]'s value.
    pub slotflow: T,
    /// [`Provider::Bookable`]'s value.
    pub bookable: T,
    /// [`Provider::SchedulingKit`]'s value.
    pub schedulingkit: T,
    /// [`Provider::CalCom`]'s value.
    pub calcom: T,
    /// [`Provider::Calendly`]'s value.
    pub calendly: T,
    /// [`Provider::StandardWebhooks`]'s value.
    pub standard: T,
}

impl<T> ByProvider<T> {
    /// `provider`'s value.
    pub const fn get(&self, provider: Provider) -> &T {
        match provider {
            Provider::Slatis => &self.slatis,
            Provider::Slotflow => &self.slotflow,
            Provider::Bookable => &self.bookable,
            Provider::SchedulingKit => &self.schedulingkit,
            Provider::CalCom => &self.calcom,
            Provider::Calendly => &self.calendly,
            Provider::StandardWebhooks => &self.standard,
        }
    }

    /// `provider`'s value, mutably.
    pub fn get_mut(&mut self, provider: Provider) -> &mut T {
        match provider {
            Provider::Slatis => &mut self.slatis,
            Provider::Slotflow => &mut self.slotflow,
            Provider::Bookable => &mut self.bookable,
            Provider::SchedulingKit => &mut self.schedulingkit,
            Provider::CalCom => &mut self.calcom,
            Provider::Calendly => &mut self.calendly,
            Provider::StandardWebhooks => &mut self.standard,
        }
    }

    /// A value for every provider, computed by `f`.
    pub fn from_fn(mut f: impl FnMut(Provider) -> T) -> Self {
        ByProvider {
            slatis: f(Provider::Slatis),
            slotflow: f(Provider::Slotflow),
            bookable: f(Provider::Bookable),
            schedulingkit: f(Provider::SchedulingKit),
            calcom: f(Provider::CalCom),
            calendly: f(Provider::Calendly),
            standard: f(Provider::StandardWebhooks),
        }
    }

    /// Every provider with its value, in the order of [`Provider::ALL`].
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Provider, &T)> {
        Provider::ALL.into_iter().map(move |p| (p, self.get(p)))
    }
}

/// Which providers sign a timestamp (so that stale deliveries can be refused).
const SIGNS_TIMESTAMP: ByProvider<bool> = ByProvider {
    slatis: false,
    slotflow: false,
    bookable: true,
    schedulingkit: false,
    calcom: false,
    calendly: true,
    standard: true,
};

/// The stable names.
const NAMES: ByProvider<&str> = ByProvider {
    slatis: "slatis",
    slotflow: "slotflow",
    bookable: "bookable",
    schedulingkit: "schedulingkit",
    calcom: "calcom",
    calendly: "calendly",
    standard: "standard",
};

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 7] = [
        Provider::Slatis,
        Provider::Slotflow,
        Provider::Bookable,
        Provider::SchedulingKit,
        Provider::CalCom,
        Provider::Calendly,
        Provider::StandardWebhooks,
    ];

    /// The stable lowercase name: `slatis`, `slotflow`, `bookable`, `schedulingkit`,
    /// `calcom`, `calendly` or `standard`.
    pub const fn as_str(self) -> &'static str {
        NAMES.get(self)
    }

    /// Whether the provider signs a timestamp, so that stale deliveries can be refused.
    ///
    /// Providers without one cannot stop a replay on their own: the receiver must
    /// deduplicate (see the CRM-sync example) or use a replay guard.
    pub const fn signs_timestamp(self) -> bool {
        *SIGNS_TIMESTAMP.get(self)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Provider::from_str`] is none of [`Provider::as_str`]'s names.
///
/// The message repeats the name it was given (at most 32 characters, escaped): a provider
/// name is never a secret, and seeing the typo is what helps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider {
    name: String,
}

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown provider {:?}: expected one of ", self.name)?;
        for (i, p) in Provider::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(p.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownProvider {}

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// The inverse of [`Provider::as_str`]; ASCII case is ignored, so `CalCom` works too.
    ///
    /// # Errors
    ///
    /// [`UnknownProvider`] for any other name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownProvider {
                name: s.chars().take(32).collect(),
            })
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Provider {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Provider {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_provider_ignoring_ascii_case() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
            assert_eq!(p.as_str().to_uppercase().parse::<Provider>(), Ok(p));
            assert_eq!(p.to_string(), p.as_str());
        }
        let names: Vec<_> = Provider::ALL.iter().map(|p| p.as_str()).collect();
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
    fn every_field_of_by_provider_belongs_to_its_provider() {
        let table = ByProvider::from_fn(Provider::as_str);
        for (p, name) in table.iter() {
            assert_eq!(*name, p.as_str());
        }
        let mut counts = ByProvider::<u32>::default();
        for p in Provider::ALL {
            *counts.get_mut(p) += 1;
        }
        assert!(counts.iter().all(|(_, n)| *n == 1));
        assert_eq!(table.iter().len(), Provider::ALL.len());
    }

    #[test]
    fn only_the_timestamped_schemes_sign_a_timestamp() {
        let timestamped: Vec<_> = Provider::ALL
            .into_iter()
            .filter(|p| p.signs_timestamp())
            .collect();
        assert_eq!(
            timestamped,
            [
                Provider::Bookable,
                Provider::Calendly,
                Provider::StandardWebhooks
            ]
        );
    }

    #[test]
    fn an_unknown_name_is_echoed_short_and_escaped() {
        let err = "x".repeat(100).parse::<Provider>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("unknown provider \"{}\"", "x".repeat(32)))
        );
        let err = "a\nb".parse::<Provider>().unwrap_err();
        assert!(
            err.to_string().starts_with("unknown provider \"a\\nb\""),
            "{err}"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_uses_the_stable_names() {
        for p in Provider::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), p);
        }
        assert!(serde_json::from_str::<Provider>("\"stripe\"").is_err());
    }
}
