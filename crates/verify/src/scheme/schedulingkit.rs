//! SchedulingKit signs the raw body and sends `X-Webhook-Signature: <hex>` (a `sha256=`
//! prefix is tolerated), with unsigned `X-Webhook-Event` and `X-Webhook-Delivery-Id` headers.
//!
//! The two unsigned headers are reported in [`Verified`](crate::Verified) for routing and
//! deduplication, but an attacker who replays a signed body can change them: trust the body.

use super::hex_body::{self, Prefix};
use super::{Parsed, Request, Scheme};
use crate::VerifyError;
use crate::sign::{SignParams, SignedDelivery};

const SIGNATURE: &str = "x-webhook-signature";
const EVENT: &str = "x-webhook-event";
const DELIVERY_ID: &str = "x-webhook-delivery-id";
/// The headers read, in the order [`Fields`](super::header::Fields) indexes them.
const NAMES: [&str; 3] = [SIGNATURE, EVENT, DELIVERY_ID];
const PREFIX: Prefix = Prefix::Optional("sha256=");

pub(crate) struct SchedulingKit;

impl Scheme for SchedulingKit {
    fn header_names(&self) -> &[&'static str] {
        &NAMES
    }

    fn parse<'h>(&self, request: &Request<'h, '_>) -> Result<Parsed<'h>, VerifyError> {
        let mut parsed = Parsed::new(hex_body::credential(request, 0, PREFIX)?);
        parsed.event_type = request.fields.single(1)?;
        parsed.delivery_id = request.fields.single(2)?;
        Ok(parsed)
    }

    fn sign(&self, key: &[u8], body: &[u8], params: &SignParams) -> SignedDelivery {
        let mut headers = vec![("X-Webhook-Signature", hex_body::sign(key, body, PREFIX))];
        if let Some(event) = params.event_type_ref() {
            headers.push(("X-Webhook-Event", event.to_owned()));
        }
        if let Some(id) = params.id_ref() {
            headers.push(("X-Webhook-Delivery-Id", id.to_owned()));
        }
        SignedDelivery::from_headers(headers)
    }
}
