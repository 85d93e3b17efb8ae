#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bookable;
pub mod calcom;
pub mod calendly;
pub mod samples;
pub mod schedulingkit;
pub mod slatis;
pub mod slotflow;
pub mod standard;

mod booking;
mod delivery;
mod error;
mod provider;
mod registry;

pub use booking::{Attendee, BookingEvent, BookingKind};
pub use delivery::{Delivery, FromDelivery};
pub use error::EventError;
pub use provider::{ByProvider, Provider, UnknownProvider};
pub use registry::ProviderEvent;
