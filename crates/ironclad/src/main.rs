//! The ironclad binary.

fn main() {}
