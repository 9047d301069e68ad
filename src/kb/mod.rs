//! The knowledge base: intent files, text normalisation, language detection and the matcher.
//!
//! Pure code: no Discord, no database, no async. Everything here can be tested in memory and
//! used from the command line without a token.

pub mod check;
pub mod faq;
pub mod features;
pub mod intents;
pub mod lang;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod similar;
