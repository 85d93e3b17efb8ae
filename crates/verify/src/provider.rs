//! The platforms bookhook knows how to verify: [`Provider`] (one type, shared with
//! `bookhook-events` through `bookhook-provider`) and the registry of their schemes.

pub use bookhook_provider::{ByProvider, Provider, UnknownProvider};

use crate::scheme::{self, Scheme};

/// The one registry line per provider: its signature scheme.
const SCHEMES: ByProvider<&'static (dyn Scheme + Sync)> = ByProvider {
    slatis: &scheme::slatis::SLATIS,
    slotflow: &scheme::slotflow::Slotflow,
    bookable: &scheme::bookable::BOOKABLE,
    schedulingkit: &scheme::schedulingkit::SchedulingKit,
    calcom: &scheme::calcom::CALCOM,
    calendly: &scheme::calendly::CALENDLY,
    standard: &scheme::standard::StandardWebhooks,
};

/// `provider.scheme()`: the scheme that verifies and signs `provider`'s deliveries.
pub(crate) trait SchemeOf {
    /// The scheme from the registry.
    fn scheme(self) -> &'static dyn Scheme;
}

impl SchemeOf for Provider {
    fn scheme(self) -> &'static dyn Scheme {
        *SCHEMES.get(self)
    }
}
