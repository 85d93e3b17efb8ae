#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clock;
pub mod headers;
#[cfg(all(unix, feature = "postgres-server"))]
pub mod postgres_server;
pub mod raw_http;
#[cfg(feature = "redis-server")]
pub mod redis_server;
pub mod secrets;
#[cfg(any(feature = "redis-server", all(unix, feature = "postgres-server")))]
mod server_process;
pub mod signing;
#[cfg(feature = "vectors")]
pub mod vectors;
