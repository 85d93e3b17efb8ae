//! The platforms bookhook knows how to verify.

use std::fmt;
use std::str::FromStr;

use crate::scheme::{self, Scheme};

/// A webhook sender whose signature scheme bookhook implements.
///
/// The string names (`as_str`, `FromStr`) are stable: the CLI, the CRM-sync service and the
/// events crate use them to refer to providers.
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
    /// `webhook-signature: v1,<base64>` over `<id>.<t>.<body>`.
    StandardWebhooks,
}

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

    /// Whether the scheme signs a timestamp, so that stale deliveries can be refused.
    ///
    /// Providers without one cannot stop a replay on their own: the receiver must
    /// deduplicate (see the CRM-sync example).
    pub const fn signs_timestamp(self) -> bool {
        matches!(
            self,
            Provider::Bookable | Provider::Calendly | Provider::StandardWebhooks
        )
    }

    /// The one registry line per provider.
    pub(crate) fn scheme(self) -> &'static dyn Scheme {
        match self {
            Provider::Slatis => &scheme::slatis::SLATIS,
            Provider::Slotflow => &scheme::slotflow::Slotflow,
            Provider::Bookable => &scheme::bookable::BOOKABLE,
            Provider::SchedulingKit => &scheme::schedulingkit::SchedulingKit,
            Provider::CalCom => &scheme::calcom::CALCOM,
            Provider::Calendly => &scheme::calendly::CALENDLY,
            Provider::StandardWebhooks => &scheme::standard::StandardWebhooks,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Provider::from_str`] is not one of the names in [`Provider::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown provider `{name}`: expected one of slatis, slotflow, bookable, schedulingkit, calcom, calendly, standard"
)]
pub struct UnknownProvider {
    name: String,
}

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownProvider { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_provider() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
            assert_eq!(p.to_string(), p.as_str());
        }
    }

    #[test]
    fn unknown_name_is_an_error_that_lists_the_valid_names() {
        let err = "stripe".parse::<Provider>().unwrap_err();
        assert!(err.to_string().contains("`stripe`"));
        assert!(err.to_string().contains("calendly"));
    }
}
