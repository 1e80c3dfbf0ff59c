//! Admission plugins (being written).
