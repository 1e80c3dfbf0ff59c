//! `metadata.managedFields`: which manager owns which fields, recorded on
//! every write. Creates, updates and non-apply patches go through
//! [`record_update`] (operation `Update`: the writer takes the fields it
//! changed, others lose them); server-side apply through
//! [`crate::apply::server_side_apply`]. Upstream's fieldmanager
//! (apimachinery/pkg/util/managedfields) is the model.

mod entries;

use serde_json::{Map, Value};

use crate::fieldpath::{FieldSet, PathElement};
use crate::json::MAX_DEPTH;
use crate::ty::{Kind, Ty};
use crate::typed::compare;

pub(crate) use entries::{Entry, cap_update_managers, decode, store, take_managed_fields};

/// The operation of apply entries.
pub const APPLY: &str = "Apply";
/// The operation of every other write's entries.
pub const UPDATE: &str = "Update";
/// How many `Update` entries an object keeps; older ones merge into one
/// entry per API version named [`ANCIENT_CHANGES`].
pub const MAX_UPDATE_MANAGERS: usize = 10;
/// The manager name of merged old `Update` entries.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

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
    use serde_json::json;

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
