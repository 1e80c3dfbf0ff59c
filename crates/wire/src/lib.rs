//! Request body decoding (being written).
