//! `FromRequest` extractors: [`VerifiedBody`] (the raw verified bytes) and [`Verified<T>`]
//! (the bytes parsed as a `bookhook-events` type), each with its own rejection enum and
//! named future.

mod body;
mod verified;

pub use body::{VerifiedBody, VerifiedBodyError, VerifiedBodyFut};
pub use verified::{Verified, VerifiedError, VerifiedFut};
