//! The cluster's PKI (being written).
