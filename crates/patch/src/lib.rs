//! The four Kubernetes PATCH types (being written).
