//! Structure-aware mutation of JSON inputs: the input is parsed, one node
//! of the tree is changed (replaced, spliced from the other input, a key
//! added, removed or renamed, an element dropped or repeated), and the tree
//! is printed again. Byte mutations rarely keep a patch valid JSON, and the
//! interesting code (strategic merge directives, apply ownership) is behind
//! the parser.

use serde_json::{Map, Value};

use super::Rng;

/// Keys a Kubernetes object or patch uses, directives included.
const KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "managedFields",
    "manager",
    "operation",
    "fieldsType",
    "fieldsV1",
    "f:data",
    "f:spec",
    "f:metadata",
    ".",
    "k:{\"name\":\"nginx\"}",
    "v:\"example.com/keep\"",
    "i:0",
    "spec",
    "template",
    "containers",
    "initContainers",
    "image",
    "env",
    "value",
    "ports",
    "containerPort",
    "protocol",
    "tolerations",
    "key",
    "operator",
    "data",
    "binaryData",
    "replicas",
    "selector",
    "matchLabels",
    "strategy",
    "rollingUpdate",
    "type",
    "status",
    "args",
    "command",
    "resources",
    "limits",
    "volumes",
    "volumeMounts",
    "mountPath",
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/env",
    "$setElementOrder/finalizers",
    "$setElementOrder/ports",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/args",
    "$deleteFromPrimitiveList",
    "$setElementOrder",
    "op",
    "path",
    "from",
    "",
    "x",
];

/// Strings worth putting where a value goes: directive values, merge keys,
/// JSON pointers, quantities, names.
const STRINGS: &[&str] = &[
    "replace",
    "delete",
    "merge",
    "retainKeys",
    "nginx",
    "A",
    "B",
    "web",
    "web-d",
    "example.com/keep",
    "add",
    "remove",
    "move",
    "copy",
    "test",
    "/spec/replicas",
    "/spec",
    "/metadata/labels/app",
    "/spec/template/spec/containers/0",
    "/spec/template/spec/containers/-",
    "/data/k",
    "/",
    "",
    "~",
    "~1",
    "/a~0b",
    "TCP",
    "UDP",
    "Exists",
    "Equal",
    "250m",
    "1Gi",
    "Apply",
    "Update",
    "FieldsV1",
    "apps/v1",
    "v1",
    "Deployment",
    "ConfigMap",
];

/// `base` parsed as JSON, with one node changed and printed back; `None`
/// when `base` is not JSON or the result would be longer than `max_len`.
pub(super) fn mutate(rng: &mut Rng, base: &[u8], other: &[u8], max_len: usize) -> Option<Vec<u8>> {
    let mut tree: Value = serde_json::from_slice(base).ok()?;
    let donor: Option<Value> = serde_json::from_slice(other).ok();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let spliced = donor
            .as_ref()
            .filter(|_| rng.below(3) == 0)
            .map(|d| pick(rng, d).clone());
        let node = pick_mut(rng, &mut tree);
        change(rng, node, spliced);
    }
    let out = serde_json::to_vec(&tree).ok()?;
    (out.len() <= max_len).then_some(out)
}

/// A node reached by a random walk from the root.
fn pick<'a>(rng: &mut Rng, mut node: &'a Value) -> &'a Value {
    loop {
        let next = match node {
            Value::Object(map) if !map.is_empty() && rng.below(4) != 0 => {
                map.values().nth(rng.below(map.len()))
            }
            Value::Array(items) if !items.is_empty() && rng.below(4) != 0 => {
                items.get(rng.below(items.len()))
            }
            _ => None,
        };
        match next {
            Some(child) => node = child,
            None => return node,
        }
    }
}

/// [`pick`], for changing the node.
fn pick_mut<'a>(rng: &mut Rng, node: &'a mut Value) -> &'a mut Value {
    let len = match &*node {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    if len == 0 || rng.below(4) == 0 {
        return node;
    }
    let i = rng.below(len);
    match node {
        Value::Object(map) => {
            // The key exists (i < len): `entry` reaches it without an
            // Option to unwrap.
            let key = map.keys().nth(i).cloned().unwrap_or_default();
            pick_mut(rng, map.entry(key).or_insert(Value::Null))
        }
        Value::Array(items) => pick_mut(rng, &mut items[i]),
        other => other,
    }
}

fn change(rng: &mut Rng, node: &mut Value, spliced: Option<Value>) {
    if let Some(value) = spliced {
        *node = value;
        return;
    }
    match node {
        Value::Object(map) if rng.below(2) == 0 => change_object(rng, map),
        Value::Array(items) if rng.below(2) == 0 => change_array(rng, items),
        _ => *node = scalar(rng),
    }
}

fn change_object(rng: &mut Rng, map: &mut Map<String, Value>) {
    let existing = (!map.is_empty())
        .then(|| map.keys().nth(rng.below(map.len())).cloned())
        .flatten();
    match (rng.below(4), existing) {
        (0, Some(key)) => {
            map.remove(&key);
        }
        (1, Some(key)) => {
            if let Some(value) = map.remove(&key) {
                map.insert(rng.pick(KEYS).to_string(), value);
            }
        }
        (2, Some(key)) => {
            // The same value under another key: directives next to data.
            if let Some(value) = map.get(&key).cloned() {
                map.insert(rng.pick(KEYS).to_string(), value);
            }
        }
        _ => {
            let value = scalar_or_container(rng);
            map.insert(rng.pick(KEYS).to_string(), value);
        }
    }
}

fn change_array(rng: &mut Rng, items: &mut Vec<Value>) {
    let len = items.len();
    match rng.below(4) {
        0 if len > 0 => {
            items.remove(rng.below(len));
        }
        1 if len > 0 => {
            let copy = items[rng.below(len)].clone();
            items.insert(rng.below(len + 1), copy);
        }
        2 if len > 1 => items.swap(rng.below(len), rng.below(len)),
        _ => items.insert(rng.below(len + 1), scalar_or_container(rng)),
    }
}

fn scalar_or_container(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => Value::Object(Map::new()),
        1 => Value::Array(Vec::new()),
        2 => {
            let mut map = Map::new();
            map.insert(rng.pick(KEYS).to_string(), scalar(rng));
            Value::Object(map)
        }
        _ => scalar(rng),
    }
}

fn scalar(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.below(5) as i64 - 1),
        3 => Value::from(i64::MAX - rng.below(2) as i64),
        4 => serde_json::Number::from_f64(0.5).map_or(Value::Null, Value::Number),
        _ => Value::String(rng.pick(STRINGS).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_of_json_are_json() {
        let mut rng = Rng::new(5);
        let base =
            br#"{"spec":{"containers":[{"name":"a","env":[{"name":"A"}]}]},"data":{"k":"v"}}"#;
        let mut changed = 0;
        for _ in 0..500 {
            let out = mutate(&mut rng, base, br#"[{"op":"add"}]"#, 1 << 16).unwrap();
            let _: Value = serde_json::from_slice(&out).unwrap();
            changed += usize::from(out != base.to_vec());
        }
        assert!(changed > 400, "{changed}");
        assert!(mutate(&mut rng, b"not json", b"{}", 1 << 16).is_none());
        assert!(mutate(&mut rng, base, b"{}", 4).is_none());
    }
}
