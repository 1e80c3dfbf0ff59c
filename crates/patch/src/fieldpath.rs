//! Field paths and sets of them, as structured-merge-diff models the fields
//! a manager owns, and their `FieldsV1` wire form (`f:<name>`,
//! `k:<key fields as JSON>`, `v:<value as JSON>`, `i:<index>`, and `.` for
//! a node that is itself in the set and also has children).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::json::canonical;

/// One step of a path into an object.
///
/// The derived order (fields, then keys, values, indexes) is the order
/// upstream sorts path elements in, so encoded sets list them alike.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// A field of a struct or a key of a map.
    Field(String),
    /// An element of a list-map, by its key fields, as a canonical JSON
    /// object (sorted keys).
    Key(String),
    /// An element of a set, as canonical JSON.
    Value(String),
    /// An element of a list by position (lists whose elements have no
    /// identity).
    Index(u64),
}

impl PathElement {
    /// The `FieldsV1` key of this element.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(json) => format!("k:{json}"),
            PathElement::Value(json) => format!("v:{json}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a `FieldsV1` key (`f:name`, `k:{...}`, `v:...`, `i:3`).
    pub fn from_fields_v1_key(key: &str) -> Result<PathElement, String> {
        let Some((kind, rest)) = key.split_once(':') else {
            return Err(format!("invalid path element {key:?}: missing type prefix"));
        };
        match kind {
            "f" => Ok(PathElement::Field(rest.to_string())),
            "k" => match serde_json::from_str::<Value>(rest) {
                Ok(v @ Value::Object(_)) => Ok(PathElement::Key(canonical(&v))),
                _ => Err(format!(
                    "invalid path element {key:?}: key is not a JSON object"
                )),
            },
            "v" => serde_json::from_str::<Value>(rest)
                .map(|v| PathElement::Value(canonical(&v)))
                .map_err(|e| format!("invalid path element {key:?}: {e}")),
            "i" => rest
                .parse::<u64>()
                .map(PathElement::Index)
                .map_err(|_| format!("invalid path element {key:?}: bad index")),
            _ => Err(format!("invalid path element {key:?}: unknown type prefix")),
        }
    }
}

impl fmt::Display for PathElement {
    /// Upstream's rendering: `.name`, `[name="c",port=80]`, `[="x"]`, `[3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(json) => match serde_json::from_str::<Value>(json) {
                Ok(Value::Object(fields)) => {
                    let parts: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{k}={}", canonical(v)))
                        .collect();
                    write!(f, "[{}]", parts.join(","))
                }
                _ => write!(f, "[{json}]"),
            },
            PathElement::Value(json) => write!(f, "[={json}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Renders a path as upstream prints it in conflicts (`.spec.containers[name="c"].image`).
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// A set of paths, stored as a trie: `members` are paths ending here,
/// `children` continue further.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no path is in the set.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds a path (the empty path, the object itself, is never tracked).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((last, prefix)) = path.split_last() else {
            return;
        };
        let mut node = self;
        for pe in prefix {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.members.insert(last.clone());
    }

    /// Removes exactly one path (its descendants stay).
    pub fn remove(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.remove(last);
            }
            [first, rest @ ..] => {
                if let Some(child) = self.children.get_mut(first) {
                    child.remove(rest);
                    if child.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Whether the path is in the set.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether `pe` (one step below this node) is a member.
    pub(crate) fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The paths below `pe`, relative to it.
    pub(crate) fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    pub(crate) fn insert_member(&mut self, pe: PathElement) {
        self.members.insert(pe);
    }

    pub(crate) fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    pub(crate) fn set_child(&mut self, pe: PathElement, child: FieldSet) {
        if child.is_empty() {
            self.children.remove(&pe);
        } else {
            self.children.insert(pe, child);
        }
    }

    pub(crate) fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// Every path in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// The paths of this set that are not in `other` (exact paths: a member
    /// of `other` does not remove this set's paths below it).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, child) in &self.children {
            let rest = match other.children.get(pe) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            out.set_child(pe.clone(), rest);
        }
        out
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (pe, child) in &self.children {
            if let Some(theirs) = other.children.get(pe) {
                out.set_child(pe.clone(), child.intersection(theirs));
            }
        }
        out
    }

    /// Every path, members of a node before its children's, in order.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect(&mut prefix, &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for pe in &self.members {
            let mut path = prefix.clone();
            path.push(pe.clone());
            out.push(path);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The `FieldsV1` JSON of the set.
    pub fn to_fields_v1(&self) -> Value {
        let mut out = Map::new();
        let elements: BTreeSet<&PathElement> =
            self.members.iter().chain(self.children.keys()).collect();
        for pe in elements {
            let mut node = match self.children.get(pe) {
                Some(child) if !child.is_empty() => match child.to_fields_v1() {
                    Value::Object(map) => map,
                    _ => Map::new(),
                },
                _ => Map::new(),
            };
            if !node.is_empty() && self.members.contains(pe) {
                node.insert(".".into(), Value::Object(Map::new()));
            }
            out.insert(pe.to_fields_v1_key(), Value::Object(node));
        }
        Value::Object(out)
    }

    /// Parses `FieldsV1` JSON.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = value else {
            return Err("fieldsV1 is not a JSON object".into());
        };
        let mut out = FieldSet::new();
        for (key, child) in map {
            if key == "." {
                continue;
            }
            let pe = PathElement::from_fields_v1_key(key)?;
            let Value::Object(inner) = child else {
                return Err(format!("fieldsV1 entry {key:?} is not a JSON object"));
            };
            if inner.is_empty() || inner.contains_key(".") {
                out.members.insert(pe.clone());
            }
            if inner.keys().any(|k| k != ".") {
                out.set_child(pe, FieldSet::from_fields_v1(child)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::Field(name.into())
    }

    #[test]
    fn fields_v1_round_trip() {
        let v = json!({
            "f:data": {".": {}, "f:owner": {}},
            "f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}}}},
            "f:metadata": {"f:finalizers": {"v:\"a\"": {}}},
            "f:args": {"i:0": {}}
        });
        let set = FieldSet::from_fields_v1(&v).unwrap();
        assert!(set.has(&[f("data")]));
        assert!(set.has(&[f("data"), f("owner")]));
        assert!(!set.has(&[f("spec")]));
        let key = PathElement::Key(r#"{"name":"c"}"#.into());
        assert!(set.has(&[f("spec"), f("containers"), key.clone()]));
        assert!(set.has(&[f("spec"), f("containers"), key, f("image")]));
        assert_eq!(set.to_fields_v1(), v);
    }

    #[test]
    fn set_algebra() {
        let mut a = FieldSet::new();
        a.insert(&[f("data"), f("a")]);
        a.insert(&[f("data"), f("b")]);
        let mut b = FieldSet::new();
        b.insert(&[f("data"), f("b")]);
        b.insert(&[f("spec")]);
        let d = a.difference(&b);
        assert_eq!(d.paths(), vec![vec![f("data"), f("a")]]);
        let i = a.intersection(&b);
        assert_eq!(i.paths(), vec![vec![f("data"), f("b")]]);
        assert_eq!(a.union(&b).paths().len(), 3);
        assert!(a.difference(&a).is_empty());
    }

    #[test]
    fn paths_render_like_upstream() {
        let p = vec![
            f("spec"),
            f("ports"),
            PathElement::Key(r#"{"port":80,"protocol":"TCP"}"#.into()),
            f("name"),
        ];
        assert_eq!(
            path_string(&p),
            r#".spec.ports[port=80,protocol="TCP"].name"#
        );
        assert_eq!(
            path_string(&[f("a"), PathElement::Value("\"x\"".into())]),
            r#".a[="x"]"#
        );
    }

    #[test]
    fn bad_fields_v1_is_an_error() {
        assert!(FieldSet::from_fields_v1(&json!({"x": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"k:[1]": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!([])).is_err());
    }
}
