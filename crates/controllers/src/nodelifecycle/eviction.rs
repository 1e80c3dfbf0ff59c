//! Taint-based eviction (upstream's taint eviction controller, once the
//! "taint manager"): a pod on a node with NoExecute taints is deleted at
//! once when it does not tolerate one of them, after the shortest
//! `tolerationSeconds` of the tolerations it uses otherwise, and never
//! when those tolerate forever. The not-ready/unreachable tolerations
//! every pod gets by default (300 s, as upstream's DefaultTolerationSeconds
//! admission adds them) stand for the configured pod eviction timeout.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tokio::time::Instant;

use super::Lifecycle;
use super::taints::{self, NO_EXECUTE, NOT_READY, UNREACHABLE};
use crate::pods;

/// The tolerationSeconds of the default not-ready/unreachable tolerations.
const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// A pod, by namespace and name.
pub type PodKey = (String, String);

/// Upstream's `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// Whether this is the toleration defaulting gives every pod.
fn is_default(t: &Toleration) -> bool {
    matches!(t.key.as_deref(), Some(NOT_READY | UNREACHABLE))
        && t.operator.as_deref() == Some("Exists")
        && t.effect.as_deref() == Some(NO_EXECUTE)
        && t.value.as_deref().unwrap_or("").is_empty()
        && t.toleration_seconds == Some(DEFAULT_TOLERATION_SECONDS)
}

/// How long a pod with `tolerations` may stay on a node with the
/// NoExecute `taints`: `Some(ZERO)` evict now, `Some(d)` after `d`, `None`
/// never. `default_timeout` replaces the default tolerations' 300 s.
pub fn time_to_evict(
    taints: &[Taint],
    tolerations: &[Toleration],
    default_timeout: Duration,
) -> Option<Duration> {
    let mut min: Option<Duration> = None;
    for taint in taints.iter().filter(|t| t.effect == NO_EXECUTE) {
        let used: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if used.is_empty() {
            return Some(Duration::ZERO);
        }
        for t in used {
            let d = match t.toleration_seconds {
                None => continue,
                Some(_) if is_default(t) => default_timeout,
                Some(s) => Duration::from_secs(s.max(0) as u64),
            };
            min = Some(min.map_or(d, |m| m.min(d)));
        }
    }
    min
}

/// Evictions scheduled, by pod.
#[derive(Default)]
pub struct Schedule {
    pods: HashMap<PodKey, Scheduled>,
}

struct Scheduled {
    fire: Instant,
}

impl Schedule {
    /// Brings the schedule in line with `wanted` (every pod on a node with
    /// NoExecute taints and how long it may stay). A pod already scheduled
    /// keeps its time, as upstream; pods no longer wanted are cancelled and
    /// returned.
    pub fn plan(
        &mut self,
        wanted: &HashMap<PodKey, Option<Duration>>,
        now: Instant,
    ) -> Vec<PodKey> {
        let mut cancelled = Vec::new();
        self.pods.retain(|k, _| {
            let keep = matches!(wanted.get(k), Some(Some(_)));
            if !keep {
                cancelled.push(k.clone());
            }
            keep
        });
        for (k, d) in wanted {
            let Some(d) = d else {
                continue;
            };
            let fire = now + *d;
            match self.pods.get_mut(k) {
                // Not tolerated at all now: at once, whatever was planned.
                Some(s) if d.is_zero() => s.fire = s.fire.min(fire),
                Some(_) => {}
                None => {
                    self.pods.insert(k.clone(), Scheduled { fire });
                }
            }
        }
        cancelled
    }

    /// Takes the evictions due at `now`.
    pub fn due(&mut self, now: Instant) -> Vec<PodKey> {
        let due: Vec<PodKey> = self
            .pods
            .iter()
            .filter(|(_, s)| s.fire <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &due {
            self.pods.remove(k);
        }
        due
    }

    /// Schedules `pod` again at `at` (after a failed eviction).
    pub fn retry(&mut self, pod: PodKey, at: Instant) {
        self.pods.insert(pod, Scheduled { fire: at });
    }

    /// When the next eviction is due.
    pub fn next(&self) -> Option<Instant> {
        self.pods.values().map(|s| s.fire).min()
    }
}

// === impl Lifecycle: the eviction pass ===

impl Lifecycle {
    /// The taint eviction controller's pass: schedules, cancels and runs
    /// evictions of pods on nodes with NoExecute taints.
    pub(super) async fn eviction_pass(&mut self, now: Instant) {
        let tainted: HashMap<String, Vec<k8s_openapi::api::core::v1::Taint>> = self
            .nodes
            .state()
            .iter()
            .map(|n| {
                let t: Vec<_> = taints::of(n)
                    .iter()
                    .filter(|t| t.effect == NO_EXECUTE)
                    .cloned()
                    .collect();
                (n.name_any(), t)
            })
            .filter(|(_, t)| !t.is_empty())
            .collect();
        let mut wanted = HashMap::new();
        let all = self.pods.state();
        for pod in &all {
            let Some(t) = tainted.get(pods::node_name(pod)) else {
                continue;
            };
            if pods::is_terminating(pod) {
                continue;
            }
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.clone())
                .unwrap_or_default();
            let key = (pod.namespace().unwrap_or_default(), pod.name_any());
            let d = time_to_evict(t, &tolerations, self.config.pod_eviction_timeout);
            wanted.insert(key, d);
        }
        for (ns, name) in self.evictions.plan(&wanted, now) {
            let live = self.pods.get(&ObjectRef::new(&name).within(&ns));
            if let Some(p) = live.filter(|p| !pods::is_terminating(p)) {
                self.pod_event(
                    &p,
                    "TaintManagerEviction",
                    format!("Cancelling deletion of Pod {ns}/{name}"),
                )
                .await;
            }
        }
        for (ns, name) in self.evictions.due(now) {
            let Some(pod) = self.pods.get(&ObjectRef::new(&name).within(&ns)) else {
                continue;
            };
            if !self.evict(&pod).await {
                self.evictions
                    .retry((ns, name), Instant::now() + Duration::from_secs(1));
            }
        }
    }

    /// Upstream's `addConditionAndDeletePod`; returns whether it worked.
    async fn evict(&self, pod: &Pod) -> bool {
        let ns = pod.namespace().unwrap_or_default();
        let name = pod.name_any();
        self.pod_event(
            pod,
            "TaintManagerEviction",
            format!("Marking for deletion Pod {ns}/{name}"),
        )
        .await;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let patch = json!({"status": {"conditions": [{
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": Time(Timestamp::now()),
        }]}});
        let marked = api
            .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch))
            .await;
        if let Err(e) = marked {
            return matches!(e, kube::Error::Api(s) if s.code == 404);
        }
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => true,
            Err(kube::Error::Api(e)) if e.code == 404 => true,
            Err(e) => {
                tracing::debug!(pod = %name, error = %e, "cannot evict pod; retrying");
                false
            }
        }
    }

    async fn pod_event(&self, pod: &Pod, reason: &str, note: String) {
        let ev = Event {
            type_: EventType::Normal,
            reason: reason.into(),
            note: Some(note),
            action: "Evict".into(),
            secondary: None,
        };
        let _ = self.evict_recorder.publish(&ev, &pod.object_ref(&())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: NO_EXECUTE.into(),
            ..Default::default()
        }
    }

    fn tol(key: &str, seconds: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some(NO_EXECUTE.into()),
            toleration_seconds: seconds,
            value: None,
        }
    }

    #[test]
    fn toleration_seconds_decide() {
        let t = Duration::from_secs(7);
        let unreachable = [taint(UNREACHABLE)];
        assert_eq!(time_to_evict(&unreachable, &[], t), Some(Duration::ZERO));
        // The defaulted toleration: the configured timeout.
        assert_eq!(
            time_to_evict(&unreachable, &[tol(UNREACHABLE, Some(300))], t),
            Some(t)
        );
        assert_eq!(
            time_to_evict(&unreachable, &[tol(UNREACHABLE, Some(60))], t),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            time_to_evict(&unreachable, &[tol(UNREACHABLE, None)], t),
            None
        );
        let everything = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert_eq!(time_to_evict(&unreachable, &[everything], t), None);
        let other = [taint(UNREACHABLE), taint("example.com/broken")];
        assert_eq!(
            time_to_evict(&other, &[tol(UNREACHABLE, None)], t),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn schedule_keeps_times_and_cancels() {
        let now = Instant::now();
        let mut s = Schedule::default();
        let pod = ("ns".to_string(), "p".to_string());
        let wanted = HashMap::from([(pod.clone(), Some(Duration::from_secs(5)))]);
        assert!(s.plan(&wanted, now).is_empty());
        s.plan(&wanted, now + Duration::from_secs(3));
        assert!(s.due(now + Duration::from_secs(4)).is_empty());
        assert_eq!(s.due(now + Duration::from_secs(5)), vec![pod.clone()]);
        s.plan(&wanted, now);
        assert_eq!(s.plan(&HashMap::new(), now), vec![pod]);
        assert!(s.next().is_none());
    }
}
