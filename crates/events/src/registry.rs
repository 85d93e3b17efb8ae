//! The one registry of provider event types: what each provider module implements
//! ([`ProviderEvent`]) and the dispatch from a [`Provider`] to it.
//!
//! Adding a provider: its module implements [`ProviderEvent`] (one line in
//! `provider_events!` below) and takes its place in [`NORMALIZERS`], a [`ByProvider`]
//! literal that does not compile until it names every provider.

use crate::booking::{BookingEvent, BookingKind};
use crate::error::EventError;
use crate::provider::{ByProvider, Provider};

/// A provider's typed events: what every provider module's `Event` is.
///
/// The normalization into [`BookingEvent`] is the `From` conversion.
pub trait ProviderEvent: Sized + Into<BookingEvent> {
    /// The provider these events come from.
    const PROVIDER: Provider;

    /// Parses a verified body.
    ///
    /// # Errors
    ///
    /// [`EventError::InvalidJson`] when the body is not the provider's JSON envelope. An
    /// unknown event name is not an error: it gives the module's `Unknown` variant.
    fn from_slice(body: &[u8]) -> Result<Self, EventError>;

    /// The provider's raw event name.
    fn event_type(&self) -> &str;

    /// What happened to the booking.
    fn kind(&self) -> BookingKind;
}

/// Implements [`ProviderEvent`] for provider modules' `Event`s, with their inherent items
/// (kept inherent so that `slatis::Event::from_slice` needs no trait import).
macro_rules! provider_events {
    ($($module:ident),* $(,)?) => {$(
        impl ProviderEvent for crate::$module::Event {
            const PROVIDER: Provider = crate::$module::Event::PROVIDER;

            fn from_slice(body: &[u8]) -> Result<Self, EventError> {
                crate::$module::Event::from_slice(body)
            }

            fn event_type(&self) -> &str {
                crate::$module::Event::event_type(self)
            }

            fn kind(&self) -> BookingKind {
                crate::$module::Event::kind(self)
            }
        }
    )*};
}

provider_events!(
    slatis,
    slotflow,
    bookable,
    schedulingkit,
    calcom,
    calendly,
    standard
);

/// Parses a body as `E` and normalizes it.
fn normalize<E: ProviderEvent>(body: &[u8]) -> Result<BookingEvent, EventError> {
    E::from_slice(body).map(Into::into)
}

/// Parses and normalizes one provider's bodies.
type Normalizer = fn(&[u8]) -> Result<BookingEvent, EventError>;

/// The registry line per provider: how its bodies become a [`BookingEvent`].
static NORMALIZERS: ByProvider<Normalizer> = ByProvider {
    slatis: normalize::<crate::slatis::Event>,
    slotflow: normalize::<crate::slotflow::Event>,
    bookable: normalize::<crate::bookable::Event>,
    schedulingkit: normalize::<crate::schedulingkit::Event>,
    calcom: normalize::<crate::calcom::Event>,
    calendly: normalize::<crate::calendly::Event>,
    standard: normalize::<crate::standard::Event>,
};

/// `provider`'s body, normalized.
pub(crate) fn normalize_as(provider: Provider, body: &[u8]) -> Result<BookingEvent, EventError> {
    (NORMALIZERS.get(provider))(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry entry that parsed with another provider's types would still normalize
    /// (the bodies overlap): the provider recorded in the event tells them apart.
    #[test]
    fn every_registry_entry_parses_its_own_provider() {
        for provider in Provider::ALL {
            let body = crate::samples::booking_created(provider);
            let event = normalize_as(provider, body.as_bytes()).unwrap();
            assert_eq!(event.provider, provider);
        }
    }
}
