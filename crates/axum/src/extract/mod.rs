//! Extractors for verified webhook deliveries: [`VerifiedBody`] (the raw bytes) and
//! [`Verified<T>`](Verified) (parsed as a [`FromDelivery`](bookhook_events::FromDelivery)
//! type such as [`BookingEvent`](bookhook_events::BookingEvent)).
//!
//! Each works in two modes:
//!
//! - **Behind a [`VerifyLayer`](crate::VerifyLayer)** (the default, `V = FromLayer`): the
//!   layer buffered and verified the request; the extractor takes its result from the
//!   request extensions and does not verify again. Any router state works, so a service
//!   with several providers puts one layer per route and shares one application state.
//! - **Standalone**, with `V = Verifier` (or `V = VerifyLayer` to configure the limits): the
//!   extractor takes the verifier from the router state via `FromRef`, buffers the body
//!   (256 KiB and 10 s by default) and verifies it itself.
//!
//! With neither a layer nor a verifier in the state, the request is refused with
//! `500 no verifier configured`, logged at `error`.
//!
//! # Example: standalone, verifier in the state
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
//! use bookhook_axum::Verified;
//! use bookhook_events::BookingEvent;
//! use bookhook_verify::{Provider, SignParams, Signer, Verifier};
//! use tower::ServiceExt;
//!
//! async fn hook(Verified(event, ..): Verified<BookingEvent, Verifier>) -> String {
//!     format!("ok:{}", event.event_type)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder(Provider::SchedulingKit).secret("sk-secret").build()?;
//! let app = Router::new().route("/hook", post(hook)).with_state(verifier);
//!
//! let body = bookhook_events::samples::booking_created(bookhook_events::Provider::SchedulingKit);
//! let signed = Signer::new(Provider::SchedulingKit, "sk-secret")?
//!     .sign(body.as_bytes(), &SignParams::now().event_type("booking.created"));
//! let mut request = Request::post("/hook").body(Body::from(body))?;
//! *request.headers_mut() = signed.header_map();
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! let forged = Request::post("/hook")
//!     .header("x-webhook-signature", "00".repeat(32))
//!     .body(Body::from(body))?;
//! let response = app.oneshot(forged).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```

mod source;
mod verified;
mod verified_body;

pub use source::{FromLayer, VerifierSource};
pub use verified::Verified;
pub use verified_body::VerifiedBody;
