//! A Job's pod failure policy (upstream's `matchPodFailurePolicy`): the
//! first rule matching a failed pod's exit codes or conditions decides
//! whether the failure fails the Job, is ignored, or counts against the
//! backoff limit.

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::ResourceExt;

/// What the policy makes of one failed pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Set when a FailJob rule matched: why the Job fails.
    pub fail_job: Option<String>,
    /// Whether the failure counts against `backoffLimit`.
    pub counts: bool,
}

/// Applies `policy` (none: the failure counts) to a failed pod.
pub(crate) fn judge(policy: Option<&PodFailurePolicy>, pod: &Pod) -> Verdict {
    let counts = Verdict {
        fail_job: None,
        counts: true,
    };
    let Some(policy) = policy else {
        return counts;
    };
    let status = pod.status.clone().unwrap_or_default();
    let ns = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    for (i, rule) in policy.rules.iter().enumerate() {
        let matched: Option<String> = if let Some(req) = &rule.on_exit_codes {
            let found = matching_container(status.container_statuses.iter().flatten(), req)
                .or_else(|| {
                    matching_container(status.init_container_statuses.iter().flatten(), req)
                });
            found.map(|c| {
                let code = c
                    .state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map_or(0, |t| t.exit_code);
                format!(
                    "Container {} for pod {ns}/{name} failed with exit code {code} matching {} rule at index {i}",
                    c.name, rule.action
                )
            })
        } else if let Some(patterns) = &rule.on_pod_conditions {
            status.conditions.iter().flatten().find_map(|c| {
                patterns
                    .iter()
                    .any(|p| p.type_ == c.type_ && p.status == c.status)
                    .then(|| {
                        format!(
                            "Pod {ns}/{name} has condition {} matching {} rule at index {i}",
                            c.type_, rule.action
                        )
                    })
            })
        } else {
            None
        };
        let Some(message) = matched else {
            continue;
        };
        match rule.action.as_str() {
            "Ignore" => {
                return Verdict {
                    fail_job: None,
                    counts: false,
                };
            }
            "Count" => return counts,
            "FailJob" => {
                return Verdict {
                    fail_job: Some(message),
                    counts: true,
                };
            }
            // FailIndex needs backoffLimitPerIndex, which this controller
            // does not implement: the rule is passed over.
            _ => {}
        }
    }
    counts
}

fn matching_container<'a>(
    statuses: impl Iterator<Item = &'a ContainerStatus>,
    req: &PodFailurePolicyOnExitCodesRequirement,
) -> Option<&'a ContainerStatus> {
    statuses
        .filter(|c| req.container_name.as_deref().is_none_or(|n| n == c.name))
        .find(|c| {
            let Some(t) = c.state.as_ref().and_then(|s| s.terminated.as_ref()) else {
                return false;
            };
            let listed = req.values.contains(&t.exit_code);
            t.exit_code != 0
                && match req.operator.as_str() {
                    "In" => listed,
                    "NotIn" => !listed,
                    _ => false,
                }
        })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::batch::v1::{
        PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule,
    };
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateTerminated, PodCondition, PodStatus,
    };

    use super::*;

    fn failed(exit: i32, condition: Option<&str>) -> Pod {
        Pod {
            metadata: kube::api::ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            status: Some(PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "main".into(),
                    state: Some(ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: exit,
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                conditions: condition.map(|c| {
                    vec![PodCondition {
                        type_: c.into(),
                        status: "True".into(),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn policy() -> PodFailurePolicy {
        PodFailurePolicy {
            rules: vec![
                PodFailurePolicyRule {
                    action: "FailJob".into(),
                    on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                        container_name: Some("main".into()),
                        operator: "In".into(),
                        values: vec![42],
                    }),
                    on_pod_conditions: None,
                },
                PodFailurePolicyRule {
                    action: "Ignore".into(),
                    on_exit_codes: None,
                    on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                        type_: "DisruptionTarget".into(),
                        status: "True".into(),
                    }]),
                },
            ],
        }
    }

    #[test]
    fn rules_decide_in_order() {
        let p = policy();
        let v = judge(Some(&p), &failed(42, None));
        assert_eq!(
            v.fail_job.as_deref(),
            Some(
                "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0"
            )
        );
        let v = judge(Some(&p), &failed(1, Some("DisruptionTarget")));
        assert_eq!(
            v,
            Verdict {
                fail_job: None,
                counts: false
            }
        );
        assert_eq!(
            judge(Some(&p), &failed(1, None)),
            Verdict {
                fail_job: None,
                counts: true
            }
        );
        assert!(judge(None, &failed(42, None)).counts);
    }
}
