//! `ToJson` for every k8s-pb message a supported kind reaches (generated, see
//! `crates/wire/tools/gen_messages.py`).

mod apps_v1;
mod authentication_v1;
mod authorization_v1;
mod autoscaling_v1;
mod autoscaling_v2;
mod batch_v1;
mod certificates_v1;
mod coordination_v1;
mod core_v1;
mod discovery_v1;
mod events_v1;
mod meta_v1;
mod networking_v1;
mod node_v1;
mod policy_v1;
mod rbac_v1;
mod scheduling_v1;
mod storage_v1;
