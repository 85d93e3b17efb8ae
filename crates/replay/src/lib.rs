#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod guard;
mod key;
mod memory;
mod outcome;
#[cfg(feature = "redis")]
mod redis;
mod store;

pub use guard::{
    Admission, DEFAULT_LEASE, DEFAULT_UNTIMED_WINDOW, DuplicateDelivery, GuardSettleError,
    ReplayGuard, Reservation,
};
pub use key::{KeySource, ReplayKey};
pub use memory::MemoryStore;
pub use outcome::ReplayOutcome;
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_RESPONSE_TIMEOUT, RedisConfigError, RedisStore};
pub use store::{ReplayStore, Reserve, StoreError, StoreFuture, Token};
