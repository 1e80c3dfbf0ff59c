//! Helpers shared by the protobuf test crates: the envelope, and prost objects the way
//! kubectl's gogo marshaller fills them (zero strings of non-pointer fields present).
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;

use ironclad_wire::{BodyFormat, decode};
use k8s_pb::api::core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::Value;

pub fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let mut body = b"k8s\0".to_vec();
    Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    }
    .encode(&mut body)
    .unwrap();
    body
}

pub fn decoded(api_version: &str, kind: &str, object: &impl Message) -> Value {
    decode(
        BodyFormat::Protobuf,
        &envelope(api_version, kind, object.encode_to_vec()),
    )
    .unwrap()
}

pub fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

pub fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// ObjectMeta the way gogo writes kubectl's objects: zero strings present.
pub fn meta(name: &str, labels: &[(&str, &str)]) -> Option<meta::ObjectMeta> {
    Some(meta::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(""),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        labels: map(labels),
        ..Default::default()
    })
}

pub fn int_or_string_int(v: i32) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(0),
        int_val: Some(v),
        str_val: s(""),
    })
}

pub fn int_or_string_str(v: &str) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s(v),
    })
}

pub fn quantities(entries: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Quantity { string: s(v) }))
        .collect()
}

/// A container with gogo's zero fields, as `kubectl create deployment` builds it.
pub fn container(name: &str, image: &str, command: &[&str]) -> core::v1::Container {
    core::v1::Container {
        name: s(name),
        image: s(image),
        command: command.iter().map(|c| (*c).to_owned()).collect(),
        working_dir: s(""),
        resources: Some(Default::default()),
        termination_message_path: s(""),
        termination_message_policy: s(""),
        image_pull_policy: s(""),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        ..Default::default()
    }
}
