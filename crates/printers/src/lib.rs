//! Table printing (being written).
