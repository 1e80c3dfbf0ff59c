//! Graceful deletion (upstream's `rest.BeforeDelete` with the pod
//! strategy's `CheckGracefulDelete`): a pod bound to a node gets a
//! deletionTimestamp its grace period ahead and stays until the node has
//! stopped it; a pod no node runs goes at once. Other kinds are not
//! graceful: they go at once unless a finalizer holds them, and then they
//! are only marked (`markAsDeleting`).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ironclad_api::ResourceInfo;
use serde_json::{Value, json};

use super::DeleteOptions;

/// What deleting does to the object's deletion marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grace {
    /// Not a graceful kind, or a graceful deletion that already ran out.
    NotGraceful,
    /// Marked (or re-marked with a shorter period) to go in this many
    /// seconds.
    Graceful(i64),
    /// A graceful deletion is already under way and this request does not
    /// shorten it: nothing changes (not even the finalizers).
    Pending,
}

fn stamp(at: DateTime<Utc>) -> Value {
    json!(at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn meta(obj: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    obj.get_mut("metadata").and_then(Value::as_object_mut)
}

/// Increments `metadata.generation` for kinds that have one, as upstream
/// does when an object's deletion starts.
fn bump_generation(obj: &mut Value) {
    if let Some(m) = meta(obj)
        && let Some(g) = m.get("generation").and_then(Value::as_i64)
        && g > 0
    {
        m.insert("generation".into(), json!(g + 1));
    }
}

/// Applies a delete's grace period to `obj` (upstream's `BeforeDelete`).
pub(crate) fn before_delete(info: &ResourceInfo, obj: &mut Value, opts: &DeleteOptions) -> Grace {
    if info.kind != "Pod" {
        return Grace::NotGraceful;
    }
    // Negative periods count as one second.
    let requested = opts.grace_period_seconds.map(|g| if g < 0 { 1 } else { g });
    let deleting_since = obj
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(at) = deleting_since {
        let current = obj
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .map(|g| if g < 0 { 1 } else { g });
        let current = match current {
            None | Some(0) => return Grace::NotGraceful,
            Some(c) => c,
        };
        let Some(period) = requested else {
            return Grace::Pending;
        };
        if period >= current {
            return Grace::Pending;
        }
        let Ok(at) = DateTime::parse_from_rfc3339(&at) else {
            return Grace::Pending;
        };
        let at = at.with_timezone(&Utc) - Duration::seconds(current) + Duration::seconds(period);
        if let Some(m) = meta(obj) {
            m.insert("deletionTimestamp".into(), stamp(at));
            m.insert("deletionGracePeriodSeconds".into(), json!(period));
        }
        return Grace::Graceful(period);
    }
    let mut period = requested.unwrap_or_else(|| {
        obj.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30)
            .max(0)
    });
    let bound = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        obj.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    );
    if !bound || finished {
        period = 0;
    }
    if let Some(m) = meta(obj) {
        m.insert(
            "deletionTimestamp".into(),
            stamp(Utc::now() + Duration::seconds(period)),
        );
        m.insert("deletionGracePeriodSeconds".into(), json!(period));
    }
    bump_generation(obj);
    Grace::Graceful(period)
}

/// Marks an object that finalizers hold as being deleted now (upstream's
/// `markAsDeleting`): an earlier mark that is not in the future stays.
pub(crate) fn mark_as_deleting(obj: &mut Value) {
    let now = Utc::now();
    let existing = obj
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .map(|s| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)));
    if existing.is_none() {
        bump_generation(obj);
    }
    let keep = matches!(existing, Some(Ok(t)) if t <= now);
    if let Some(m) = meta(obj) {
        if !keep {
            m.insert("deletionTimestamp".into(), stamp(now));
        }
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironclad_api::registry::lookup;

    fn pod(node: &str) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"nodeName": node, "terminationGracePeriodSeconds": 30}})
    }

    #[test]
    fn pods_on_a_node_wait_for_it_others_go_at_once() {
        let pods = lookup("", "v1", "pods").unwrap();
        let mut bound = pod("n1");
        assert_eq!(
            before_delete(pods, &mut bound, &DeleteOptions::default()),
            Grace::Graceful(30)
        );
        assert_eq!(bound["metadata"]["deletionGracePeriodSeconds"], 30);
        let mut unbound = pod("");
        assert_eq!(
            before_delete(pods, &mut unbound, &DeleteOptions::default()),
            Grace::Graceful(0)
        );
        // A second delete: only a shorter period changes anything.
        assert_eq!(
            before_delete(pods, &mut bound, &DeleteOptions::default()),
            Grace::Pending
        );
        let force = DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        assert_eq!(before_delete(pods, &mut bound, &force), Grace::Graceful(0));
        assert_eq!(bound["metadata"]["deletionGracePeriodSeconds"], 0);
        assert_eq!(before_delete(pods, &mut bound, &force), Grace::NotGraceful);
    }

    #[test]
    fn marking_keeps_an_earlier_mark_and_bumps_generation_once() {
        let mut obj = json!({"metadata": {"generation": 2}});
        mark_as_deleting(&mut obj);
        let first = obj["metadata"]["deletionTimestamp"].clone();
        assert_eq!(obj["metadata"]["generation"], 3);
        mark_as_deleting(&mut obj);
        assert_eq!(obj["metadata"]["deletionTimestamp"], first);
        assert_eq!(obj["metadata"]["generation"], 3);
        let cms = lookup("", "v1", "configmaps").unwrap();
        assert_eq!(
            before_delete(cms, &mut obj, &DeleteOptions::default()),
            Grace::NotGraceful
        );
    }
}
