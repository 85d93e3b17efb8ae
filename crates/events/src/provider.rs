//! Which platform sent a delivery: the workspace's one [`Provider`] type (from
//! `bookhook-provider`, shared with `bookhook-verify`), and decoding tagged with it.

use serde::de::DeserializeOwned;

pub use bookhook_provider::{ByProvider, Provider, UnknownProvider};

use crate::error::EventError;

/// `provider.decode(body)`: deserializes a body, tagging any failure with the provider.
pub(crate) trait Decode {
    /// Deserializes `body` as `T`.
    fn decode<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, EventError>;
}

impl Decode for Provider {
    fn decode<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, EventError> {
        serde_json::from_slice(body).map_err(|err| EventError::invalid_json(self, &err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_provider_is_the_verify_provider_by_name() {
        // One type: nothing to convert. The names are the routes' and the CLI's.
        assert_eq!("calcom".parse::<Provider>(), Ok(Provider::CalCom));
        for bad in ["", "cal.com", "standard-webhooks", " slatis", "svix"] {
            assert!(bad.parse::<Provider>().is_err(), "{bad:?}");
        }
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
