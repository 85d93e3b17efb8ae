//! [`VerifyMiddleware`]: the service [`Verify`](crate::Verify) wraps around a scope.

use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};

use crate::VerifyConfig;
use crate::body::Collect;
use crate::middleware::ResponseFuture;

/// Buffers, verifies, then calls the inner service; see the [module docs](crate::middleware).
///
/// The inner service is shared with the in-flight [`ResponseFuture`]s (it is called once the
/// body has been read), hence the `Rc`.
#[derive(Debug)]
pub struct VerifyMiddleware<S> {
    service: Rc<S>,
    config: VerifyConfig,
}

impl<S> VerifyMiddleware<S> {
    /// Wraps `service`.
    pub fn new(service: S, config: VerifyConfig) -> Self {
        VerifyMiddleware {
            service: Rc::new(service),
            config,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.service
    }

    /// The configuration.
    pub fn config(&self) -> &VerifyConfig {
        &self.config
    }
}

impl<S, B> Service<ServiceRequest> for VerifyMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>> + 'static,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = ResponseFuture<S>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let payload = req.take_payload();
        let collect = Collect::new(req.headers(), payload, &self.config);
        ResponseFuture::new(req, collect, Rc::clone(&self.service), self.config.clone())
    }
}
