//! The [`Verify`] middleware: verify every request of a scope before any handler runs.
//!
//! `.wrap(Verify::new(config))` on a `Scope` or `Resource` buffers each request body up to the
//! limit, verifies it, and then:
//!
//! - on success, inserts the [`bookhook_verify::Verified`] into the request extensions (read it
//!   with `web::ReqData<bookhook_verify::Verified>`), puts the body back with
//!   `set_payload` so any body extractor (`web::Bytes`, `web::Json`, ...) still works, and
//!   calls the inner service. [`VerifiedBody`](crate::VerifiedBody) and
//!   [`Verified<T>`](crate::Verified) then take the verified bytes without verifying again.
//! - otherwise answers the rejection itself, with the statuses and reasons of
//!   [`VerifiedBodyError`](crate::VerifiedBodyError); the inner service is never called.
//!
//! The middleware takes its [`VerifyConfig`](crate::VerifyConfig) directly: a scope's own
//! `app_data` is not visible to middleware wrapping that scope.
//!
//! # Example
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use bookhook_actix::{Verify, VerifyConfig};
//! use bookhook_verify::{Provider, SignParams, Signer, Verifier};
//!
//! async fn hook(body: web::Bytes, verified: web::ReqData<bookhook_verify::Verified>) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("{} bytes from {}", body.len(), verified.provider()))
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let verifier = Verifier::builder(Provider::Slotflow).secrets("sf_token_0123456789abcdef").build()?;
//! let app = test::init_service(
//!     App::new().service(
//!         web::scope("/webhooks")
//!             .wrap(Verify::new(VerifyConfig::new(verifier).limit(64 * 1024)))
//!             .route("/slotflow", web::post().to(hook)),
//!     ),
//! )
//! .await;
//!
//! let req = test::TestRequest::post()
//!     .uri("/webhooks/slotflow?token=sf_token_0123456789abcdef")
//!     .set_payload("{}")
//!     .to_request();
//! let res = test::call_service(&app, req).await;
//! assert_eq!(res.status(), 200);
//! assert_eq!(test::read_body(res).await, "2 bytes from slotflow");
//!
//! let req = test::TestRequest::post().uri("/webhooks/slotflow?token=guess").to_request();
//! let res = test::call_service(&app, req).await;
//! assert_eq!(res.status(), 401);
//! assert_eq!(test::read_body(res).await, "token mismatch");
//! # Ok::<(), bookhook_verify::ConfigError>(())
//! # }).unwrap();
//! ```

mod future;
mod service;
mod transform;

pub use future::ResponseFuture;
pub use service::VerifyMiddleware;
pub use transform::Verify;
