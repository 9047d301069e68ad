//! Charts for reports (being written).
