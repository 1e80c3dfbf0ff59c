//! What the server itself fills in for particular kinds, beyond defaulting:
//! a Job's generated selector and pod labels, a new Pod's status.

use serde_json::{Value, json};

use crate::objects::meta_str;

/// Upstream's generated Job selector (unless `spec.manualSelector`): the
/// Job selects its pods by its own uid; then defaulting runs again so the
/// Job's labels follow its template's, as upstream shows them.
pub fn job_selector(info: &ironclad_api::ResourceInfo, job: &mut Value) {
    let Some(uid) = meta_str(job, "uid").map(str::to_string) else {
        return;
    };
    ironclad_api::defaults::generate_job_selector(job, &uid);
    ironclad_api::defaults::apply(info, job);
}

/// A new Pod's status: Pending, with its QoS class (upstream's
/// PrepareForCreate).
pub fn pod_initial_status(pod: &mut Value) {
    let qos = qos_class(pod);
    if let Some(o) = pod.as_object_mut() {
        o.insert(
            "status".into(),
            json!({"phase": "Pending", "qosClass": qos}),
        );
    }
}

/// Upstream's QoS classes: BestEffort without any requests or limits,
/// Guaranteed when every container limits cpu and memory and requests
/// equal limits, Burstable otherwise.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| pod.pointer(&format!("/spec/{f}")).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(res));
            // A request left out defaults to the limit.
            let request = requests.and_then(|r| r.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_gets_a_uid_selector() {
        let info = ironclad_api::registry::lookup("batch", "v1", "jobs").unwrap();
        let mut j =
            json!({"metadata": {"name": "j", "uid": "u"}, "spec": {"template": {"spec": {}}}});
        job_selector(info, &mut j);
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u"
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
        let mut m =
            json!({"metadata": {"name": "j", "uid": "u"}, "spec": {"manualSelector": true}});
        job_selector(info, &mut m);
        assert!(m["spec"].get("selector").is_none());
    }

    #[test]
    fn pods_start_pending_with_their_qos_class() {
        let mut p = json!({"spec": {"containers": [{"name": "a"}]}});
        pod_initial_status(&mut p);
        assert_eq!(
            p["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
        let mut g = json!({"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        pod_initial_status(&mut g);
        assert_eq!(g["status"]["qosClass"], "Guaranteed");
        let mut b = json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}});
        pod_initial_status(&mut b);
        assert_eq!(b["status"]["qosClass"], "Burstable");
    }
}
