//! Middleware that verifies webhook signatures before the handler runs.
//!
//! [`VerifyLayer`] wraps a route (or any `tower` service taking an `http::Request`) with
//! [`Verify`]: the body is buffered up to a limit and within a timeout, checked with the
//! route's [`Verifier`](bookhook_verify::Verifier), and only a verified request reaches the
//! inner service, with its body restored and the
//! [`bookhook_verify::Verified`] in its extensions. Refusals are answered by the middleware
//! itself (see the [rejection table](crate#rejections)).
//!
//! # Example
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
//! use bookhook_axum::VerifyLayer;
//! use bookhook_verify::{Provider, SignParams, Signer, Verifier};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder(Provider::CalCom).secret("calcom-secret").build()?;
//! let app = Router::new().route(
//!     "/webhooks/calcom",
//!     // Any handler: it only runs for verified requests.
//!     post(|body: String| async move { format!("{} bytes", body.len()) })
//!         .layer(VerifyLayer::new(verifier).limit(64 * 1024)),
//! );
//!
//! let body = r#"{"triggerEvent":"PING","createdAt":"2026-04-01T12:00:00Z","payload":{}}"#;
//! let signed = Signer::new(Provider::CalCom, "calcom-secret")?.sign(body.as_bytes(), &SignParams::now());
//! let mut request = Request::post("/webhooks/calcom").body(Body::from(body))?;
//! *request.headers_mut() = signed.header_map();
//! let response = app.clone().oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! // Unsigned: refused before the handler, with a short reason.
//! let response = app.oneshot(Request::post("/webhooks/calcom").body(Body::from(body))?).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub(crate) use future::VerifiedBytes;
pub use layer::VerifyLayer;
pub use service::Verify;
