//! Every entry point is total: thousands of random and adversarial inputs
//! (random bytes, random JSON built from Kubernetes-looking keys and patch
//! directives, mutated real objects, absurd nesting) must give a result or
//! an error, never a panic or a stack overflow.
#![allow(clippy::unwrap_used)]

use ironclad_patch::{
    json_patch, merge_patch, parse_json, parse_yaml, record_update, server_side_apply,
    strategic_merge_patch,
};
use serde_json::{Map, Value, json};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

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
    ".",
    "k:{\"name\":\"c\"}",
    "v:\"a\"",
    "i:0",
    "k:[",
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
    "volumes",
    "tolerations",
    "data",
    "replicas",
    "selector",
    "matchLabels",
    "strategy",
    "rollingUpdate",
    "type",
    "status",
    "conditions",
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/env",
    "$setElementOrder/finalizers",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList",
    "$setElementOrder",
    "$deleteFromPrimitiveList/args",
    "args",
    "command",
    "nodeSelector",
    "resources",
    "limits",
    "cpu",
    "ownerReferences",
    "uid",
    "",
    "x",
];

const STRINGS: &[&str] = &[
    "replace",
    "delete",
    "merge",
    "c",
    "a",
    "b",
    "TCP",
    "FieldsV1",
    "Apply",
    "Update",
    "v1",
    "apps/v1",
    "ConfigMap",
    "Deployment",
    "Pod",
    "",
    "x",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let choice = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(9)
    };
    match choice {
        0 => Value::Null,
        1 => json!(rng.below(3) == 0),
        2 => json!(rng.below(100) as i64 - 10),
        3 => json!(*rng.pick(STRINGS)),
        4 => json!(0.5),
        5 | 6 => {
            let mut map = Map::new();
            for _ in 0..rng.below(5) {
                map.insert(rng.pick(KEYS).to_string(), random_value(rng, depth - 1));
            }
            Value::Object(map)
        }
        _ => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
    }
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        1 => {
            let v = random_value(rng, 5);
            let mut s = serde_json::to_vec(&v).unwrap();
            if !s.is_empty() {
                let i = rng.below(s.len());
                s.truncate(i.max(1));
            }
            s
        }
        2 => {
            // A JSON patch made of random operations.
            let ops: Vec<Value> = (0..rng.below(6))
                .map(|_| {
                    let path = format!("/{}/{}", rng.pick(KEYS), rng.pick(&["0", "-", "1", "a", "~1", "~"]));
                    json!({"op": rng.pick(&["add", "remove", "replace", "move", "copy", "test", "bad"]),
                           "path": if rng.below(4) == 0 { String::new() } else { path },
                           "from": format!("/{}", rng.pick(KEYS)),
                           "value": random_value(rng, 3)})
                })
                .collect();
            serde_json::to_vec(&ops).unwrap()
        }
        _ => serde_json::to_vec(&random_value(rng, 6)).unwrap(),
    }
}

fn samples() -> Vec<(Value, &'static str)> {
    vec![
        (
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "finalizers": ["a"]},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                            "template": {"spec": {"containers": [{"name": "c", "image": "i", "args": ["x"],
                                "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]}]}}}}),
            "io.k8s.api.apps.v1.Deployment",
        ),
        (
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}),
            "io.k8s.api.core.v1.ConfigMap",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c"}], "tolerations": [{"key": "k"}]}}),
            "io.k8s.api.core.v1.Pod",
        ),
        (
            json!({"anything": [1, {"b": null}]}),
            "example.com.v1.Unknown",
        ),
    ]
}

/// Randomly replaces a subtree of `v` with random garbage.
fn mutate(rng: &mut Rng, v: &mut Value) {
    match v {
        Value::Object(map) if !map.is_empty() && rng.below(3) != 0 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = rng.pick(&keys).clone();
            if let Some(child) = map.get_mut(&k) {
                mutate(rng, child);
            }
        }
        Value::Array(items) if !items.is_empty() && rng.below(3) != 0 => {
            let i = rng.below(items.len());
            mutate(rng, &mut items[i]);
        }
        _ => *v = random_value(rng, 3),
    }
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let samples = samples();
    for round in 0..4000 {
        let (base, ty) = rng.pick(&samples).clone();
        let mut doc = base.clone();
        if round % 2 == 0 {
            mutate(&mut rng, &mut doc);
        }
        let bytes = random_bytes(&mut rng);
        let _ = json_patch(&doc, &bytes);
        let _ = merge_patch(&doc, &bytes);
        let _ = parse_json(&bytes);
        let _ = parse_yaml(&bytes);

        let mut patch = base.clone();
        mutate(&mut rng, &mut patch);
        let garbage = random_value(&mut rng, 6);
        for p in [&patch, &garbage] {
            let _ = strategic_merge_patch(&doc, p, ty);
            let live = if rng.below(2) == 0 { Some(&doc) } else { None };
            let force = rng.below(2) == 0;
            if let Ok(applied) = server_side_apply(live, p, "m", force, ty, "2024-01-01T00:00:00Z")
            {
                let _ =
                    server_side_apply(Some(&applied), &doc, "n", force, ty, "2024-01-01T00:00:01Z");
            }
            let mut new = p.clone();
            record_update(Some(&doc), &mut new, "u", None, "2024-01-01T00:00:02Z");
            let mut created = p.clone();
            record_update(
                None,
                &mut created,
                "u",
                Some("status"),
                "2024-01-01T00:00:03Z",
            );
        }
    }
}

#[test]
fn garbage_managed_fields_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let mut live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        live["metadata"]["managedFields"] = match rng.below(3) {
            0 => random_value(&mut rng, 5),
            1 => json!([{"manager": "x", "operation": "Apply", "fieldsType": "FieldsV1",
                         "fieldsV1": random_value(&mut rng, 5)}]),
            _ => json!([random_value(&mut rng, 4)]),
        };
        let applied = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "2"}});
        let _ = server_side_apply(
            Some(&live),
            &applied,
            "m",
            rng.below(2) == 0,
            "io.k8s.api.core.v1.ConfigMap",
            "t",
        );
        let mut new = live.clone();
        new["data"]["b"] = json!("x");
        record_update(Some(&live), &mut new, "u", None, "t");
    }
}

fn nested(depth: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..depth {
        // Built by hand: `json!` would round-trip through serde, recursively.
        v = if i % 2 == 0 {
            let mut m = Map::new();
            m.insert("spec".into(), v);
            Value::Object(m)
        } else {
            Value::Array(vec![v])
        };
    }
    v
}

#[test]
fn absurd_nesting_is_an_error_not_a_crash() {
    // Deeper than the limit, but shallow enough for the test itself to
    // build and drop on a test thread's stack.
    let deep = nested(600);
    let doc = json!({"metadata": {"name": "x"}});
    assert!(strategic_merge_patch(&doc, &deep, "io.k8s.api.apps.v1.Deployment").is_err());
    assert!(strategic_merge_patch(&deep, &doc, "io.k8s.api.apps.v1.Deployment").is_err());
    assert!(
        server_side_apply(
            None,
            &deep,
            "m",
            false,
            "io.k8s.api.apps.v1.Deployment",
            "t"
        )
        .is_err()
    );
    assert!(server_side_apply(Some(&deep), &doc, "m", false, "example.v1.X", "t").is_err());
    assert!(json_patch(&deep, b"[]").is_err());
    assert!(merge_patch(&deep, b"{}").is_err());
    let mut new = nested(600);
    record_update(Some(&doc), &mut new, "u", None, "t");

    let deep_json = "[".repeat(100_000);
    assert!(parse_json(deep_json.as_bytes()).is_err());
    assert!(parse_yaml(deep_json.as_bytes()).is_err());
    assert!(json_patch(&doc, deep_json.as_bytes()).is_err());
    assert!(merge_patch(&doc, deep_json.as_bytes()).is_err());

    // JSON patches building depth one operation at a time stop at the limit.
    let mut ops = Vec::new();
    let mut path = String::new();
    for _ in 0..400 {
        path.push_str("/a");
        ops.push(json!({"op": "add", "path": path, "value": {}}));
    }
    assert!(json_patch(&json!({}), &serde_json::to_vec(&ops).unwrap()).is_err());
    // YAML alias bombs are refused or bounded.
    let bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let _ = parse_yaml(bomb);
}
