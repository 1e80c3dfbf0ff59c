//! `metadata.managedFields`: which manager owns which fields, recorded on
//! every write. Creates, updates and non-apply patches go through
//! [`record_update`] (operation `Update`: the writer takes the fields it
//! changed, others lose them); server-side apply through
//! [`crate::apply::server_side_apply`]. Upstream's fieldmanager
//! (apimachinery/pkg/util/managedfields) is the model.

use serde_json::{Map, Value, json};

use crate::fieldpath::{FieldSet, PathElement};
use crate::json::MAX_DEPTH;
use crate::ty::{Kind, Ty};
use crate::typed::compare;

/// The operation of apply entries.
pub const APPLY: &str = "Apply";
/// The operation of every other write's entries.
pub const UPDATE: &str = "Update";
/// How many `Update` entries an object keeps; older ones merge into one
/// entry per API version named [`ANCIENT_CHANGES`].
pub const MAX_UPDATE_MANAGERS: usize = 10;
/// The manager name of merged old `Update` entries.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

/// One decoded managedFields entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub subresource: String,
    pub time: Option<String>,
    pub set: FieldSet,
}

impl Entry {
    /// Whether two entries are the same manager: same name, operation and
    /// subresource, and for `Update` the same API version (an applier keeps
    /// one entry whatever version it applies with).
    pub fn same_manager(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == APPLY || self.api_version == other.api_version)
    }

    /// The entry's JSON.
    fn encode(&self) -> Value {
        let mut out = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                out.insert(k.into(), json!(v));
            }
        };
        put("manager", &self.manager);
        put("operation", &self.operation);
        put("apiVersion", &self.api_version);
        put("time", self.time.as_deref().unwrap_or_default());
        put("fieldsType", "FieldsV1");
        put("subresource", &self.subresource);
        out.insert("fieldsV1".into(), self.set.to_fields_v1());
        Value::Object(out)
    }
}

/// Decodes `metadata.managedFields` (absent or null is none).
pub(crate) fn decode(value: Option<&Value>) -> Result<Vec<Entry>, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("metadata.managedFields is not a list".into()),
    };
    let mut out: Vec<Entry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Object(obj) = item else {
            return Err(format!("managed fields entry {i} is not an object"));
        };
        let text = |k: &str| -> Result<String, String> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("managed fields entry {i}: {k} is not a string")),
            }
        };
        match text("fieldsType")?.as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => {
                return Err(format!(
                    "invalid fieldsType {other:?} in managed fields entry {i}"
                ));
            }
        }
        let set = match obj.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(v) => {
                FieldSet::from_fields_v1(v).map_err(|e| format!("error decoding set: {e}"))?
            }
        };
        let time = Some(text("time")?).filter(|t| !t.is_empty());
        let entry = Entry {
            manager: text("manager")?,
            operation: text("operation")?,
            api_version: text("apiVersion")?,
            subresource: text("subresource")?,
            time,
            set,
        };
        // Duplicate managers merge, as upstream's map of managers does.
        match out.iter_mut().find(|e| e.same_manager(&entry)) {
            Some(existing) => *existing = entry,
            None => out.push(entry),
        }
    }
    Ok(out)
}

/// Encodes entries in upstream's order (operation, time, manager, API
/// version, subresource); `None` when there are none.
pub(crate) fn encode(mut entries: Vec<Entry>) -> Option<Value> {
    entries.retain(|e| !e.set.is_empty());
    if entries.is_empty() {
        return None;
    }
    entries.sort_by(|a, b| {
        (
            &a.operation,
            a.time.as_deref().unwrap_or(""),
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                b.time.as_deref().unwrap_or(""),
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    Some(Value::Array(entries.iter().map(Entry::encode).collect()))
}

/// Writes encoded entries into `obj.metadata.managedFields` (removing the
/// field when there are none).
pub(crate) fn store(obj: &mut Value, entries: Vec<Entry>) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    match encode(entries) {
        Some(v) => {
            meta.insert("managedFields".into(), v);
        }
        None => {
            meta.remove("managedFields");
        }
    }
}

/// Removes `metadata.managedFields` from an object, returning it.
pub(crate) fn take_managed_fields(obj: &mut Value) -> Option<Value> {
    obj.get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove("managedFields"))
}

/// The fields upstream never tracks: identity and server-set metadata.
pub(crate) fn strip_untracked(set: &mut FieldSet) {
    let f = |s: &str| PathElement::Field(s.to_string());
    set.remove(&[f("apiVersion")]);
    set.remove(&[f("kind")]);
    set.remove(&[f("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.remove(&[f("metadata"), f(name)]);
    }
}

/// Keeps at most [`MAX_UPDATE_MANAGERS`] `Update` entries by merging the
/// oldest into one [`ANCIENT_CHANGES`] entry per API version (the first
/// old entry of a version becomes the bucket the next ones merge into).
pub(crate) fn cap_update_managers(entries: &mut Vec<Entry>) {
    let mut updaters: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].operation != APPLY)
        .collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    updaters.sort_by(|&a, &b| {
        let (a, b) = (&entries[a], &entries[b]);
        (a.time.as_deref().unwrap_or(""), &a.manager)
            .cmp(&(b.time.as_deref().unwrap_or(""), &b.manager))
    });
    let mut length = updaters.len();
    let mut first_of_version: Vec<(String, usize)> = Vec::new();
    let mut buckets: Vec<Entry> = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    for &i in &updaters {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let version = entries[i].api_version.clone();
        let Some(&(_, first)) = first_of_version.iter().find(|(v, _)| *v == version) else {
            first_of_version.push((version, i));
            continue;
        };
        let bucket = match buckets.iter().position(|b| b.api_version == version) {
            Some(b) => b,
            None => {
                let mut bucket = Entry {
                    manager: ANCIENT_CHANGES.into(),
                    operation: UPDATE.into(),
                    api_version: version,
                    subresource: String::new(),
                    time: None,
                    set: FieldSet::new(),
                };
                // An existing bucket keeps collecting; otherwise the first
                // old entry of the version becomes it.
                let existing = (0..entries.len())
                    .find(|&j| !removed.contains(&j) && entries[j].same_manager(&bucket));
                let source = existing.unwrap_or(first);
                bucket.set = entries[source].set.clone();
                bucket.time = entries[source].time.clone();
                removed.push(source);
                buckets.push(bucket);
                buckets.len() - 1
            }
        };
        if removed.contains(&i) {
            continue;
        }
        let e = &entries[i];
        buckets[bucket].set = buckets[bucket].set.union(&e.set);
        buckets[bucket].time = e.time.clone();
        removed.push(i);
        length -= 1;
    }
    removed.sort_unstable();
    removed.dedup();
    for i in removed.into_iter().rev() {
        entries.remove(i);
    }
    entries.extend(buckets);
}

/// The definition name of an object's kind, from its `apiVersion` and
/// `kind` (`io.k8s.api.apps.v1.Deployment`).
pub(crate) fn type_of(obj: &Value) -> Option<&'static str> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    ironclad_api::schema::type_name(group, version, kind)
}

/// What an object looked like before its creation, for comparing: an empty
/// object whose metadata and top-level structs (spec, status) exist, as a
/// freshly allocated upstream object's do.
pub(crate) fn empty_like(obj: &Value, ty: Ty) -> Value {
    let mut out = Map::new();
    if let Value::Object(map) = obj {
        for k in map.keys() {
            let top_struct = (k == "spec" || k == "status")
                && ty.field(k).is_some_and(|t| t.kind() == Kind::Struct);
            if k == "metadata" || top_struct {
                out.insert(k.clone(), Value::Object(Map::new()));
            }
        }
    }
    Value::Object(out)
}

/// Whether a client's managedFields ask to clear them: an empty list, or a
/// list of one empty entry.
fn is_reset(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Array(items)) => match items.as_slice() {
            [] => true,
            [Value::Object(only)] => only.is_empty(),
            _ => false,
        },
        _ => false,
    }
}

/// Records a create, update or non-apply patch by `manager` in `new`'s
/// `metadata.managedFields` (operation `Update`): the manager takes every
/// field it changed or added (a create: every field it set), other managers
/// lose those fields and any field it removed. Consecutive updates by one
/// manager (same operation, API version and subresource) share an entry,
/// whose time moves to `now` (RFC 3339) only when something changed.
///
/// Managed fields a client sends along are used instead of the stored ones
/// (on the main resource), which lets clients edit them; `[]` or `[{}]`
/// clears them. Never fails: an object it cannot make sense of is left with
/// whatever managed fields it can determine.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) {
    if !new.get("metadata").is_some_and(Value::is_object) {
        return;
    }
    let mut old_obj = old.cloned().unwrap_or(Value::Null);
    if crate::json::depth(new) > MAX_DEPTH || crate::json::depth(&old_obj) > MAX_DEPTH {
        take_managed_fields(new);
        return;
    }
    let old_managed = take_managed_fields(&mut old_obj);
    let new_managed = take_managed_fields(new);
    let decode_old = || decode(old_managed.as_ref()).unwrap_or_default();
    let mut entries = if subresource.is_some() {
        decode_old()
    } else if is_reset(new_managed.as_ref()) {
        Vec::new()
    } else {
        match decode(new_managed.as_ref()) {
            Ok(entries) if !entries.is_empty() => entries,
            _ => decode_old(),
        }
    };

    let ty = type_of(new)
        .map(Ty::root_or_untyped)
        .unwrap_or_else(Ty::untyped);
    if !old_obj.is_object() {
        old_obj = empty_like(new, ty);
    }
    let diff = compare(&old_obj, new, ty);
    let mut changed = diff.modified.union(&diff.added);
    strip_untracked(&mut changed);

    let me = Entry {
        manager: manager.to_string(),
        operation: UPDATE.into(),
        api_version: new
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        subresource: subresource.unwrap_or_default().to_string(),
        time: Some(now.to_string()),
        set: changed.clone(),
    };
    // Every manager, this one's earlier entry included, loses what was
    // removed and what this write took over.
    for e in entries.iter_mut() {
        e.set = e.set.difference(&diff.removed).difference(&changed);
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| e.same_manager(&me)) {
            Some(existing) => {
                existing.set = existing.set.union(&changed);
                existing.time = me.time.clone();
            }
            None => entries.push(me),
        }
    }
    entries.retain(|e| !e.set.is_empty());
    cap_update_managers(&mut entries);
    store(new, entries);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldpath::path_string;

    fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
        obj["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == manager)
            .unwrap_or_else(|| panic!("no entry for {manager}: {obj}"))
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d", "uid": "u"}, "data": data})
    }

    #[test]
    fn create_records_every_set_field() {
        let mut obj = cm(json!({"a": "1"}));
        obj["metadata"]["labels"] = json!({"x": "y"});
        record_update(
            None,
            &mut obj,
            "kubectl-create",
            None,
            "2024-01-01T00:00:00Z",
        );
        let e = entry(&obj, "kubectl-create");
        assert_eq!(e["operation"], "Update");
        assert_eq!(e["apiVersion"], "v1");
        assert_eq!(e["fieldsType"], "FieldsV1");
        assert_eq!(e["time"], "2024-01-01T00:00:00Z");
        assert_eq!(
            e["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {".": {}, "f:x": {}}}})
        );
    }

    #[test]
    fn updates_move_ownership_and_merge_entries() {
        let mut v1 = cm(json!({"a": "1", "b": "1"}));
        record_update(None, &mut v1, "creator", None, "2024-01-01T00:00:00Z");
        let mut v2 = v1.clone();
        v2["data"]["a"] = json!("2");
        record_update(Some(&v1), &mut v2, "editor", None, "2024-01-02T00:00:00Z");
        let fields = |o: &Value, m: &str| {
            FieldSet::from_fields_v1(&entry(o, m)["fieldsV1"])
                .unwrap()
                .paths()
                .iter()
                .map(|p| path_string(p))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&v2, "editor"), vec![".data.a"]);
        assert_eq!(fields(&v2, "creator"), vec![".data", ".data.b"]);
        // A second update by the same manager extends its one entry.
        let mut v3 = v2.clone();
        v3["data"]["c"] = json!("3");
        record_update(Some(&v2), &mut v3, "editor", None, "2024-01-03T00:00:00Z");
        assert_eq!(fields(&v3, "editor"), vec![".data.a", ".data.c"]);
        assert_eq!(v3["metadata"]["managedFields"].as_array().unwrap().len(), 2);
        assert_eq!(entry(&v3, "editor")["time"], "2024-01-03T00:00:00Z");
        // A no-op update changes nothing, not even the time.
        let mut v4 = v3.clone();
        record_update(Some(&v3), &mut v4, "editor", None, "2024-01-04T00:00:00Z");
        assert_eq!(v4, v3);
    }

    #[test]
    fn clients_can_clear_managed_fields() {
        let mut v1 = cm(json!({"a": "1"}));
        record_update(None, &mut v1, "creator", None, "t1");
        let mut v2 = v1.clone();
        v2["metadata"]["managedFields"] = json!([{}]);
        record_update(Some(&v1), &mut v2, "editor", None, "t2");
        assert!(v2["metadata"].get("managedFields").is_none());
        // Omitting them keeps the stored ones.
        let mut v3 = v1.clone();
        v3["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        record_update(Some(&v1), &mut v3, "editor", None, "t3");
        assert_eq!(
            v3["metadata"]["managedFields"],
            v1["metadata"]["managedFields"]
        );
    }

    #[test]
    fn status_updates_are_their_own_entry() {
        let mut v1 = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}});
        record_update(None, &mut v1, "kubectl", None, "t1");
        let mut v2 = v1.clone();
        v2["status"] = json!({"replicas": 1});
        record_update(Some(&v1), &mut v2, "controller", Some("status"), "t2");
        let e = entry(&v2, "controller");
        assert_eq!(e["subresource"], "status");
        assert_eq!(
            e["fieldsV1"],
            json!({"f:status": {".": {}, "f:replicas": {}}})
        );
    }

    #[test]
    fn update_managers_are_capped() {
        let mut obj = cm(json!({}));
        record_update(None, &mut obj, "m0", None, "2024-01-01T00:00:00Z");
        for i in 1..=12 {
            let old = obj.clone();
            obj["data"][format!("k{i}")] = json!("v");
            record_update(
                Some(&old),
                &mut obj,
                &format!("m{i}"),
                None,
                &format!("2024-01-01T00:00:{i:02}Z"),
            );
        }
        let entries = obj["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), MAX_UPDATE_MANAGERS);
        assert!(entries.iter().any(|e| e["manager"] == ANCIENT_CHANGES));
    }
}
