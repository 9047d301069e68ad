//! Beacon, a customer-support bot for Discord community servers.
//!
//! - [`kb`]: the knowledge base and the matcher (pure).
//! - [`desk`]: the support domain (no Discord types), reaching storage through a trait.
//! - [`store`]: the database, through sqlx (SQLite by default, PostgreSQL for large servers).
//! - [`web`]: the status page, its feed, signed transcript links, health and metrics.
//! - [`chart`]: report charts as PNG images.
//! - [`eval`]: measuring the matcher on labelled data.

pub mod chart;
pub mod config;
pub mod desk;
pub mod discord;
pub mod eval;
pub mod kb;
pub mod locale;
pub mod logging;
pub mod metrics;
pub mod store;
pub mod web;
