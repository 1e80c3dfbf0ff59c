//! The [`ironclad_store::Store`] trait on a real etcd v3 cluster.
