//! Headless Chromium for page tests (being written).
