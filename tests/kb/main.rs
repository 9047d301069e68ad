//! Integration tests for the knowledge base: one binary, so the crate links once.
//!
//! - [`format`]: what the loader refuses in intent files, and where it says the problem is;
//! - [`check`]: the warnings `beacon intents check` gives a knowledge base that loads;
//! - [`decisions`]: what the starter knowledge base answers, suggests and refuses to answer;
//! - [`cli`]: the `beacon` binary, run as a support lead would run it.

mod check;
mod cli;
mod decisions;
mod format;

use std::path::PathBuf;

/// The starter knowledge base shipped in the repository.
pub fn starter_intents() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("intents")
}
