//! The public pages (being written).
