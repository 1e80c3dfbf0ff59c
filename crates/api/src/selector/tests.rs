//! Unit tests of the selectors, by concern.

mod fields;
mod garbage;
mod labels;
