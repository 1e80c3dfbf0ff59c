//! What the server itself fills in for particular kinds, beyond defaulting:
//! a Job's generated selector and pod labels, a new Pod's status, a
//! DaemonSet's template generation, a new local APIService's availability.

use serde_json::{Value, json};

use crate::objects::{meta_mut, meta_str};

/// The annotation in which apps/v1 DaemonSets carry upstream's internal
/// `spec.templateGeneration`.
pub const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

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

/// A DaemonSet's template generation (upstream's strategy): a new one
/// starts at 1 (or at a positive number its client gave); an update keeps
/// the stored one, which grows by one when the pod template changed.
pub fn daemon_set_template_generation(ds: &mut Value, old: Option<&Value>) {
    let read = |v: &Value| {
        v.pointer("/metadata/annotations")
            .and_then(|a| a.get(TEMPLATE_GENERATION))
            .and_then(Value::as_str)
            .and_then(|g| g.parse::<i64>().ok())
    };
    let generation = match old {
        None => read(ds).filter(|g| *g >= 1).unwrap_or(1),
        Some(old) => {
            let kept = read(old).unwrap_or(1);
            if old.pointer("/spec/template") != ds.pointer("/spec/template") {
                kept + 1
            } else {
                kept
            }
        }
    };
    let Some(meta) = meta_mut(ds) else { return };
    let slot = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if !slot.is_object() {
        *slot = Value::Object(Default::default());
    }
    if let Some(annotations) = slot.as_object_mut() {
        annotations.insert(TEMPLATE_GENERATION.into(), json!(generation.to_string()));
    }
}

/// A new APIService's status (upstream's strategy): none, except that a
/// local one (no service) is Available at once.
pub fn api_service_initial_status(api_service: &mut Value) {
    let local = api_service
        .pointer("/spec/service")
        .is_none_or(Value::is_null);
    if !local {
        return;
    }
    if let Some(o) = api_service.as_object_mut() {
        o.insert(
            "status".into(),
            json!({"conditions": [{
                "type": "Available",
                "status": "True",
                "lastTransitionTime": crate::machinery::now(),
                "reason": "Local",
                "message": "Local APIServices are always available",
            }]}),
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
    fn daemon_sets_count_template_changes() {
        let gen_of = |v: &Value| v["metadata"]["annotations"][TEMPLATE_GENERATION].clone();
        let mut ds = json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"a": 1}}}});
        daemon_set_template_generation(&mut ds, None);
        assert_eq!(gen_of(&ds), "1");
        let mut same = ds.clone();
        same["spec"]["minReadySeconds"] = json!(5);
        // A client cannot move it.
        same["metadata"]["annotations"][TEMPLATE_GENERATION] = json!("7");
        daemon_set_template_generation(&mut same, Some(&ds));
        assert_eq!(gen_of(&same), "1");
        let mut changed = same.clone();
        changed["spec"]["template"]["spec"]["a"] = json!(2);
        daemon_set_template_generation(&mut changed, Some(&same));
        assert_eq!(gen_of(&changed), "2");
        let mut given = json!({"metadata": {"annotations": {TEMPLATE_GENERATION: "4", "x": "y"}}});
        daemon_set_template_generation(&mut given, None);
        assert_eq!(gen_of(&given), "4");
        assert_eq!(given["metadata"]["annotations"]["x"], "y");
    }

    #[test]
    fn local_api_services_are_available_at_once() {
        let mut local = json!({"spec": {"group": "g", "version": "v1"}});
        api_service_initial_status(&mut local);
        let c = &local["status"]["conditions"][0];
        assert_eq!(
            (&c["type"], &c["status"], &c["reason"]),
            (&json!("Available"), &json!("True"), &json!("Local"))
        );
        let mut remote = json!({"spec": {"service": {"namespace": "n", "name": "s"}}});
        api_service_initial_status(&mut remote);
        assert!(remote.get("status").is_none());
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
