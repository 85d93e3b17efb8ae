//! crm-sync: verified booking webhooks into a durable SQLite inbox, synced to HubSpot.
#![forbid(unsafe_code)]

pub mod config;
pub mod contact;
pub mod dedupe;
pub mod hubspot;
pub mod inbox;
pub mod stats;
pub mod worker;
