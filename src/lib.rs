//! Beacon, a customer-support bot for Discord community servers.
//!
//! - [`kb`]: the knowledge base and the matcher (pure).
//! - [`eval`]: measuring the matcher on labelled data.

pub mod eval;
pub mod kb;
