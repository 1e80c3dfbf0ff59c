//! What the server itself fills in for particular kinds, beyond defaulting:
//! a Job's generated selector and pod labels.

use serde_json::{Value, json};

use crate::objects::meta_str;

/// Upstream's generated Job selector: unless `spec.manualSelector` is true,
/// the Job selects its pods by its own uid, and the template carries the
/// uid and job-name labels.
pub fn job_selector(job: &mut Value) {
    if job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let (Some(uid), Some(name)) = (
        meta_str(job, "uid").map(str::to_string),
        meta_str(job, "name").map(str::to_string),
    ) else {
        return;
    };
    let Some(spec) = job.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    spec.insert(
        "selector".into(),
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
    );
    let template = spec.entry("template").or_insert_with(|| json!({}));
    let Some(t) = template.as_object_mut() else {
        return;
    };
    let meta = t.entry("metadata").or_insert_with(|| json!({}));
    let Some(m) = meta.as_object_mut() else {
        return;
    };
    let labels = m.entry("labels").or_insert_with(|| json!({}));
    if let Some(l) = labels.as_object_mut() {
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("job-name", &name),
        ] {
            l.insert(k.into(), json!(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_gets_a_uid_selector() {
        let mut j =
            json!({"metadata": {"name": "j", "uid": "u"}, "spec": {"template": {"spec": {}}}});
        job_selector(&mut j);
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u"
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
        let mut m =
            json!({"metadata": {"name": "j", "uid": "u"}, "spec": {"manualSelector": true}});
        job_selector(&mut m);
        assert!(m["spec"].get("selector").is_none());
    }
}
