use axum_core::extract::FromRef;
use bookhook_verify::Verifier;

use crate::VerifyLayer;

/// Where an extractor finds a verifier for a request that no [`VerifyLayer`] verified.
///
/// The second type parameter of [`Verified`](crate::Verified) and
/// [`VerifiedBody`](crate::VerifiedBody), in the manner of axum-extra's
/// `SignedCookieJar<K>`:
///
/// | parameter | behind a `VerifyLayer` | without one |
/// |---|---|---|
/// | [`FromLayer`] (the default) | uses the layer's result | `500 no verifier configured` |
/// | [`Verifier`] | uses the layer's result | verifies with `Verifier::from_ref(&state)`, default limit and timeout |
/// | [`VerifyLayer`] | uses the layer's result | verifies with `VerifyLayer::from_ref(&state)`: its verifier, limit and timeout |
///
/// Implement it for your own type to find the verifier some other way.
pub trait VerifierSource<S> {
    /// The verifier, body limit and body timeout to use, or `None` if the state has none.
    fn from_state(state: &S) -> Option<VerifyLayer>;
}

/// The default [`VerifierSource`]: the request must have been verified by a
/// [`VerifyLayer`]; the router state is not consulted (so any state type works).
#[derive(Debug, Clone, Copy)]
pub enum FromLayer {}

impl<S> VerifierSource<S> for FromLayer {
    fn from_state(_state: &S) -> Option<VerifyLayer> {
        None
    }
}

impl<S> VerifierSource<S> for Verifier
where
    Verifier: FromRef<S>,
{
    fn from_state(state: &S) -> Option<VerifyLayer> {
        Some(VerifyLayer::new(Verifier::from_ref(state)))
    }
}

impl<S> VerifierSource<S> for VerifyLayer
where
    VerifyLayer: FromRef<S>,
{
    fn from_state(state: &S) -> Option<VerifyLayer> {
        Some(VerifyLayer::from_ref(state))
    }
}
