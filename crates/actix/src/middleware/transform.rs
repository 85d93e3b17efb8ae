//! [`Verify`]: the middleware factory given to `.wrap(...)`.

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};

use crate::{VerifyConfig, VerifyMiddleware};

/// Verifies every request of the wrapped scope or resource; see the
/// [module docs](crate::middleware).
#[derive(Debug, Clone)]
pub struct Verify {
    config: VerifyConfig,
}

impl Verify {
    /// Verifies with `config`'s verifier, buffering at most its limit.
    pub fn new(config: impl Into<VerifyConfig>) -> Self {
        Verify {
            config: config.into(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }
}

impl<S, B> Transform<S, ServiceRequest> for Verify
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>> + 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Transform = VerifyMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(VerifyMiddleware::new(service, self.config.clone())))
    }
}
