//! Why a request was refused, as types users can match on.
//!
//! Two levels, as in axum: a leaf type per failure, with a fixed status and a short body
//! text, and one `#[non_exhaustive]` enum per extractor ([`VerifiedBodyRejection`],
//! [`VerifiedRejection`]) that wraps them. Every rejection answers `text/plain` with its
//! [`body_text`](VerifiedRejection::body_text), which never holds a secret, an expected or
//! computed signature, or any of the request body.
//!
//! # Example
//!
//! A handler can take `Result<Verified<T>, VerifiedRejection>` to answer differently:
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
//! use axum::response::{IntoResponse, Response};
//! use bookhook_axum::{Verified, VerifyLayer};
//! use bookhook_axum::rejection::VerifiedRejection;
//! use bookhook_events::BookingEvent;
//! use bookhook_verify::{Provider, Verifier};
//! use tower::ServiceExt;
//!
//! async fn hook(event: Result<Verified<BookingEvent>, VerifiedRejection>) -> Response {
//!     match event {
//!         Ok(Verified(event, ..)) => event.event_type.into_response(),
//!         // Acknowledge verified bodies we cannot parse, so the provider stops retrying.
//!         Err(VerifiedRejection::InvalidEvent(_)) => StatusCode::ACCEPTED.into_response(),
//!         Err(other) => other.into_response(),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = "sf_token_0123456789abcdef";
//! let verifier = Verifier::builder(Provider::Slotflow).secret(token).build()?;
//! let app: Router = Router::new().route("/hook", post(hook).layer(VerifyLayer::new(verifier)));
//!
//! let not_json = Request::post(format!("/hook?token={token}")).body(Body::from("hello"))?;
//! assert_eq!(app.clone().oneshot(not_json).await?.status(), StatusCode::ACCEPTED);
//! // Refusals of the layer itself never reach the handler.
//! let wrong = Request::post("/hook?token=sf_token_wrong_0000000000").body(Body::from("{}"))?;
//! assert_eq!(app.oneshot(wrong).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```

use std::error::Error;
use std::fmt;
use std::time::Duration;

use axum_core::response::{IntoResponse, Response};
use bookhook_events::EventError;
pub use bookhook_verify::RejectionCause;
use bookhook_verify::{Provider, VerifyError};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};

use crate::buffer::BoxError;

/// `text/plain; charset=utf-8`, the content type of every rejection.
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// A plain-text response of any body type that can be made from a `String`, carrying its
/// [`RejectionCause`] in the extensions, so that a surrounding middleware can count
/// refusals by cause without parsing the body.
///
/// ```
/// use axum::response::IntoResponse;
/// use bookhook_axum::rejection::{RejectionCause, VerifiedBodyRejection};
/// use bookhook_verify::VerifyError;
///
/// let response = VerifiedBodyRejection::from(VerifyError::SignatureMismatch).into_response();
/// let cause = response.extensions().get::<RejectionCause>().unwrap();
/// assert_eq!(cause.as_str(), "signature_mismatch");
/// ```
pub(crate) fn text_response<B: From<String>>(
    status: StatusCode,
    cause: RejectionCause,
    text: String,
) -> http::Response<B> {
    let mut response = http::Response::new(B::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, TEXT_PLAIN);
    response.extensions_mut().insert(cause);
    response
}

/// Logs a refused request: `error` for server-side faults (5xx), `warn` otherwise. Fields
/// are the provider, the cause's label, the status and the short reason, never secrets or
/// bodies; the message is `webhook refused`, as in `bookhook-actix`.
pub(crate) fn log(
    provider: Option<Provider>,
    status: StatusCode,
    cause: RejectionCause,
    reason: &dyn fmt::Display,
) {
    let provider = provider.map(Provider::as_str);
    let cause = cause.as_str();
    if status.is_server_error() {
        tracing::error!(provider, cause, status = status.as_u16(), %reason, "webhook refused");
    } else {
        tracing::warn!(provider, cause, status = status.as_u16(), %reason, "webhook refused");
    }
}

/// Defines a leaf rejection's common items from its cause: `cause`, `status` (the cause's),
/// `body_text` (its `Display`), `Display` itself and `IntoResponse`.
macro_rules! leaf_rejection {
    ($leaf:ty, $cause:ident, |$this:ident, $f:ident| $display:expr) => {
        impl $leaf {
            #[doc = concat!("The cause: [`RejectionCause::", stringify!($cause), "`].")]
            pub const fn cause(&self) -> RejectionCause {
                RejectionCause::$cause
            }

            /// The status of the cause.
            pub const fn status(&self) -> StatusCode {
                RejectionCause::$cause.status()
            }

            /// The short `text/plain` body: the `Display` text.
            pub fn body_text(&self) -> String {
                self.to_string()
            }
        }

        impl fmt::Display for $leaf {
            fn fmt(&self, $f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $this = self;
                $display
            }
        }

        impl IntoResponse for $leaf {
            fn into_response(self) -> Response {
                text_response(self.status(), self.cause(), self.body_text())
            }
        }
    };
}

/// The body declares, or turned out to hold, more bytes than the limit. Status 413:
/// `payload too large: the limit is <limit> bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTooLarge {
    limit: usize,
}

impl PayloadTooLarge {
    pub(crate) const fn new(limit: usize) -> Self {
        PayloadTooLarge { limit }
    }

    /// The configured limit, in bytes.
    pub const fn limit(&self) -> usize {
        self.limit
    }
}

leaf_rejection!(PayloadTooLarge, PayloadTooLarge, |this, f| write!(
    f,
    "payload too large: the limit is {} bytes",
    this.limit
));

impl Error for PayloadTooLarge {}

/// The client did not send the whole body within the body timeout (a slow or stalled
/// client, e.g. a slowloris attack). Status 408: `request body timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout {
    timeout: Duration,
}

impl BodyTimeout {
    pub(crate) const fn new(timeout: Duration) -> Self {
        BodyTimeout { timeout }
    }

    /// The configured timeout.
    pub const fn timeout(&self) -> Duration {
        self.timeout
    }
}

leaf_rejection!(BodyTimeout, BodyTimeout, |_this, f| f
    .write_str("request body timeout"));

impl Error for BodyTimeout {}

/// The body could not be read (the client went away mid-body, or the transport failed).
/// Status 400: `failed to read the request body`.
#[derive(Debug)]
pub struct BodyReadFailed {
    source: BoxError,
}

impl BodyReadFailed {
    pub(crate) fn new(source: BoxError) -> Self {
        BodyReadFailed { source }
    }
}

leaf_rejection!(BodyReadFailed, BodyReadFailed, |_this, f| f
    .write_str("failed to read the request body"));

impl Error for BodyReadFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

/// The route has no `VerifyLayer` and its extractor found no verifier in the state: a
/// wiring mistake in the service. Status 500 (`no verifier configured`), logged at `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NoVerifier;

leaf_rejection!(NoVerifier, NotConfigured, |_this, f| f
    .write_str("no verifier configured"));

impl Error for NoVerifier {}

/// The verified body is not the provider's event: status 400 with `invalid JSON: <where
/// and what>` for a body that is not the expected JSON; 500 when the route's parser does not
/// fit the provider (a wiring mistake). The text never repeats any of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEvent {
    error: EventError,
}

impl InvalidEvent {
    /// The cause: `invalid_json`, `wrong_provider` for a parser that does not fit the
    /// route's provider, or `invalid_event`.
    pub fn cause(&self) -> RejectionCause {
        match self.error {
            EventError::InvalidJson { .. } => RejectionCause::InvalidJson,
            EventError::WrongProvider { .. } => RejectionCause::WrongProvider,
            _ => RejectionCause::InvalidEvent,
        }
    }

    pub(crate) fn new(error: EventError) -> Self {
        InvalidEvent { error }
    }

    /// The parse error.
    pub fn error(&self) -> &EventError {
        &self.error
    }

    /// The status of the cause: 400 for invalid JSON, 500 otherwise.
    pub fn status(&self) -> StatusCode {
        self.cause().status()
    }

    /// `invalid JSON: invalid slatis webhook body at line 1, column 9: ...`, or the
    /// mismatch for a 500.
    pub fn body_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for InvalidEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error {
            EventError::InvalidJson { .. } => write!(f, "invalid JSON: {}", self.error),
            _ => write!(f, "{}", self.error),
        }
    }
}

impl Error for InvalidEvent {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}

impl IntoResponse for InvalidEvent {
    fn into_response(self) -> Response {
        text_response(self.status(), self.cause(), self.body_text())
    }
}

/// Defines a composite rejection: the enum, `From` for each leaf, `status`, `body_text`,
/// `cause`, `Display`, `Error` (with `source` forwarded to the leaf) and `IntoResponse`.
macro_rules! composite_rejection {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($leaf:ty), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant($leaf), )*
        }

        impl $name {
            /// The HTTP status answered for this rejection.
            pub fn status(&self) -> StatusCode {
                match self {
                    $( $name::$variant(inner) => inner.status(), )*
                }
            }

            /// The short `text/plain` body answered for this rejection.
            pub fn body_text(&self) -> String {
                self.to_string()
            }

            /// The cause, whose label logs and metrics use: [`VerifyError::cause`] for
            /// verification failures (`signature_mismatch`, `missing_header`, ...), else
            /// `payload_too_large`, `body_timeout`, `body_read_failed`, `not_configured`,
            /// `invalid_json`, `wrong_provider` or `invalid_event`.
            pub fn cause(&self) -> RejectionCause {
                match self {
                    $( $name::$variant(inner) => inner.cause(), )*
                }
            }
        }

        $(
            impl From<$leaf> for $name {
                fn from(inner: $leaf) -> Self {
                    $name::$variant(inner)
                }
            }
        )*

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( $name::$variant(inner) => fmt::Display::fmt(inner, f), )*
                }
            }
        }

        impl Error for $name {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                match self {
                    $( $name::$variant(inner) => Some(inner), )*
                }
            }
        }

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                text_response(self.status(), self.cause(), self.body_text())
            }
        }
    };
}

composite_rejection! {
    /// Why [`VerifiedBody`](crate::VerifiedBody) refused a request (and why
    /// [`VerifyLayer`](crate::VerifyLayer) did, with the same statuses and texts).
    pub enum VerifiedBodyRejection {
        /// The body is over the limit: 413.
        PayloadTooLarge(PayloadTooLarge),
        /// The body took longer than the body timeout: 408.
        BodyTimeout(BodyTimeout),
        /// The body could not be read: 400.
        BodyReadFailed(BodyReadFailed),
        /// Neither a `VerifyLayer` nor the state provides a verifier: 500.
        NoVerifier(NoVerifier),
        /// The signature or token was refused: 401, 400 for a malformed one, or 500 for an
        /// unconfigured verifier (see [`VerifyError::status`]).
        Verification(VerifyError),
    }
}

composite_rejection! {
    /// Why [`Verified`](crate::Verified) refused a request: any
    /// [`VerifiedBodyRejection`], or a verified body that is not the event.
    pub enum VerifiedRejection {
        /// The body is over the limit: 413.
        PayloadTooLarge(PayloadTooLarge),
        /// The body took longer than the body timeout: 408.
        BodyTimeout(BodyTimeout),
        /// The body could not be read: 400.
        BodyReadFailed(BodyReadFailed),
        /// Neither a `VerifyLayer` nor the state provides a verifier: 500.
        NoVerifier(NoVerifier),
        /// The signature or token was refused: 401, 400 for a malformed one, or 500 for an
        /// unconfigured verifier (see [`VerifyError::status`]).
        Verification(VerifyError),
        /// The verified body is not valid JSON for the event type: 400 (see
        /// [`InvalidEvent`]).
        InvalidEvent(InvalidEvent),
    }
}

impl From<VerifiedBodyRejection> for VerifiedRejection {
    fn from(rejection: VerifiedBodyRejection) -> Self {
        match rejection {
            VerifiedBodyRejection::PayloadTooLarge(r) => r.into(),
            VerifiedBodyRejection::BodyTimeout(r) => r.into(),
            VerifiedBodyRejection::BodyReadFailed(r) => r.into(),
            VerifiedBodyRejection::NoVerifier(r) => r.into(),
            VerifiedBodyRejection::Verification(r) => r.into(),
        }
    }
}

impl VerifiedBodyRejection {
    /// Logs the rejection (see [`log`]).
    pub(crate) fn log(&self, provider: Option<Provider>) {
        log(provider, self.status(), self.cause(), self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_failures_keep_the_core_status_and_cause() {
        let r = VerifiedBodyRejection::from(VerifyError::SignatureMismatch);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.body_text(), "signature mismatch");
        assert_eq!(r.cause(), "signature_mismatch");
        let r = VerifiedRejection::from(r);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.source().is_some());
    }

    #[test]
    fn leaf_statuses_and_texts() {
        let r = VerifiedBodyRejection::from(PayloadTooLarge::new(10));
        assert_eq!(
            (r.status(), r.cause()),
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                RejectionCause::PayloadTooLarge
            )
        );
        assert_eq!(r.body_text(), "payload too large: the limit is 10 bytes");
        let r = VerifiedBodyRejection::from(BodyTimeout::new(Duration::from_secs(1)));
        assert_eq!(
            (r.status(), r.body_text().as_str()),
            (StatusCode::REQUEST_TIMEOUT, "request body timeout")
        );
        let r = VerifiedBodyRejection::from(NoVerifier);
        assert_eq!(
            (r.status(), r.body_text().as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "no verifier configured")
        );
    }

    #[test]
    fn invalid_json_is_a_400_whose_text_says_invalid_json() {
        let err = bookhook_events::BookingEvent::parse(bookhook_events::Provider::Slatis, b"nope")
            .unwrap_err();
        let r = VerifiedRejection::from(InvalidEvent::new(err));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(
            r.body_text()
                .starts_with("invalid JSON: invalid slatis webhook body"),
            "{r}"
        );
        let wrong = EventError::WrongProvider {
            expected: bookhook_events::Provider::CalCom,
            got: bookhook_events::Provider::Slatis,
        };
        assert_eq!(
            InvalidEvent::new(wrong).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn payload_too_large_reports_its_limit() {
        assert_eq!(PayloadTooLarge::new(4096).limit(), 4096);
        assert_eq!(
            BodyTimeout::new(Duration::from_secs(3)).timeout(),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn a_failed_read_keeps_the_transport_error_as_its_source() {
        let r = VerifiedBodyRejection::from(BodyReadFailed::new("connection reset".into()));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.body_text(), "failed to read the request body");
        let leaf = r.source().expect("the leaf");
        assert_eq!(
            leaf.source().map(ToString::to_string).as_deref(),
            Some("connection reset")
        );
    }

    #[test]
    fn a_parser_of_another_provider_is_a_500_wrong_provider_answered_as_text() {
        let wrong = EventError::WrongProvider {
            expected: bookhook_events::Provider::CalCom,
            got: bookhook_events::Provider::Slatis,
        };
        let r = InvalidEvent::new(wrong.clone());
        assert_eq!(r.cause(), RejectionCause::WrongProvider);
        assert_eq!(r.error(), &wrong);
        assert_eq!(r.body_text(), wrong.to_string());
        assert_eq!(r.source().map(ToString::to_string), Some(wrong.to_string()));
        let res = r.into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(
            res.extensions().get::<RejectionCause>(),
            Some(&RejectionCause::WrongProvider)
        );
    }

    #[test]
    fn an_invalid_json_event_answers_its_text_alone() {
        let err = bookhook_events::BookingEvent::parse(bookhook_events::Provider::Slatis, b"nope")
            .unwrap_err();
        let r = InvalidEvent::new(err.clone());
        assert_eq!(r.body_text(), format!("invalid JSON: {err}"));
        let res = r.into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            res.extensions().get::<RejectionCause>(),
            Some(&RejectionCause::InvalidJson)
        );
    }

    #[test]
    fn responses_are_plain_text() {
        let res = VerifiedRejection::from(NoVerifier).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(
            res.extensions().get::<RejectionCause>(),
            Some(&RejectionCause::NotConfigured)
        );
    }
}
