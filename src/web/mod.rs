//! Beacon on the web (issue 6).

pub mod pages;
