//! Decoding, encoding and capping `metadata.managedFields` entries.

use serde_json::{Map, Value, json};

use super::{ANCIENT_CHANGES, APPLY, MAX_UPDATE_MANAGERS, UPDATE};
use crate::fieldpath::FieldSet;

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
