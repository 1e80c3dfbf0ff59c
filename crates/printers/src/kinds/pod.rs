//! Pods: READY, STATUS (upstream's reason logic), RESTARTS (with the time
//! of the last restart), AGE; wide IP, NODE, NOMINATED NODE, READINESS
//! GATES. Succeeded and failed pods carry a `Completed` row condition.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Printer, Row};
use crate::column::{Column, age, core, doc, name, text};
use crate::format::since;
use crate::value::{
    array_at, at, bool_at, created, int_at, is_deleting, name_of, opt_bool_at, str_at, time_at,
};

pub(crate) const PRINTER: Printer = Printer { columns, row };

fn columns() -> Vec<Column> {
    vec![
        name(),
        text(
            "Ready",
            "string",
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        text(
            "Status",
            "string",
            "The aggregate status of the containers in this pod.",
        ),
        text(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the \
             last container in this pod has restarted.",
        ),
        age(),
        Column::new("IP", "string", doc(&core("PodStatus"), "podIP")).wide(),
        Column::new("Node", "string", doc(&core("PodSpec"), "nodeName")).wide(),
        Column::new(
            "Nominated Node",
            "string",
            doc(&core("PodStatus"), "nominatedNodeName"),
        )
        .wide(),
        Column::new(
            "Readiness Gates",
            "string",
            doc(&core("PodSpec"), "readinessGates"),
        )
        .wide(),
    ]
}

fn condition_true(pod: &Value, kind: &str) -> bool {
    array_at(pod, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == kind)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

fn has_ready_condition(pod: &Value) -> bool {
    array_at(pod, &["status", "conditions"])
        .iter()
        .any(|c| str_at(c, &["type"]) == "Ready" && str_at(c, &["status"]) == "True")
}

/// The later of a running maximum and a container's last termination.
fn latest(current: Option<DateTime<Utc>>, status: &Value) -> Option<DateTime<Utc>> {
    let finished = time_at(status, &["lastState", "terminated", "finishedAt"]);
    match (current, finished) {
        (Some(c), Some(f)) if f > c => Some(f),
        (None, f) => f,
        (c, _) => c,
    }
}

/// `Signal:N` or `ExitCode:N` for a termination without a reason.
fn exit_reason(terminated: &Value) -> String {
    let signal = int_at(terminated, &["signal"]);
    if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int_at(terminated, &["exitCode"]))
    }
}

struct Counts {
    reason: String,
    ready: usize,
    total: usize,
    restarts: i64,
    last_restart: Option<DateTime<Utc>>,
}

fn count(pod: &Value) -> Counts {
    let phase = str_at(pod, &["status", "phase"]);
    let status_reason = str_at(pod, &["status", "reason"]);
    let mut reason = if status_reason.is_empty() {
        phase
    } else {
        status_reason
    }
    .to_string();
    for c in array_at(pod, &["status", "conditions"]) {
        if str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated" {
            reason = "SchedulingGated".to_string();
        }
    }
    let init_specs = array_at(pod, &["spec", "initContainers"]);
    // Sidecars: init containers that keep running beside the main ones.
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| str_at(c, &["name"]) == name && str_at(c, &["restartPolicy"]) == "Always")
    };
    let sidecars = init_specs
        .iter()
        .filter(|c| str_at(c, &["restartPolicy"]) == "Always")
        .count();
    let mut counts = Counts {
        reason: String::new(),
        ready: 0,
        total: array_at(pod, &["spec", "containers"]).len() + sidecars,
        restarts: 0,
        last_restart: None,
    };
    let mut sidecar_restarts = 0;
    let mut sidecar_last_restart = None;

    let mut initializing = false;
    for (i, c) in array_at(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let restart_count = int_at(c, &["restartCount"]);
        counts.restarts += restart_count;
        counts.last_restart = latest(counts.last_restart, c);
        let is_sidecar = restartable(str_at(c, &["name"]));
        if is_sidecar {
            sidecar_restarts += restart_count;
            sidecar_last_restart = latest(sidecar_last_restart, c);
        }
        let terminated = at(c, &["state", "terminated"]);
        let waiting_reason = str_at(c, &["state", "waiting", "reason"]);
        match terminated {
            Some(t) if int_at(t, &["exitCode"]) == 0 => continue,
            _ if is_sidecar && opt_bool_at(c, &["started"]) == Some(true) => {
                if bool_at(c, &["ready"]) {
                    counts.ready += 1;
                }
                continue;
            }
            Some(t) => {
                let r = str_at(t, &["reason"]);
                reason = if r.is_empty() {
                    format!("Init:{}", exit_reason(t))
                } else {
                    format!("Init:{r}")
                };
            }
            None if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" => {
                reason = format!("Init:{waiting_reason}");
            }
            None => reason = format!("Init:{i}/{}", init_specs.len()),
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        counts.restarts = sidecar_restarts;
        counts.last_restart = sidecar_last_restart;
        let mut has_running = false;
        for c in array_at(pod, &["status", "containerStatuses"]).iter().rev() {
            counts.restarts += int_at(c, &["restartCount"]);
            counts.last_restart = latest(counts.last_restart, c);
            let waiting_reason = str_at(c, &["state", "waiting", "reason"]);
            let terminated = at(c, &["state", "terminated"]);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                let r = str_at(t, &["reason"]);
                reason = if r.is_empty() {
                    exit_reason(t)
                } else {
                    r.to_string()
                };
            } else if bool_at(c, &["ready"]) && at(c, &["state", "running"]).is_some() {
                has_running = true;
                counts.ready += 1;
            }
        }
        // A completed container beside a running one is not a finished pod.
        if reason == "Completed" && has_running {
            reason = if has_ready_condition(pod) {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    if is_deleting(pod) && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if is_deleting(pod) && !matches!(phase, "Failed" | "Succeeded") {
        reason = "Terminating".to_string();
    }
    counts.reason = reason;
    counts
}

fn readiness_gates(pod: &Value) -> String {
    let gates = array_at(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let conditions = array_at(pod, &["status", "conditions"]);
    let passing = gates
        .iter()
        .filter(|g| {
            let kind = str_at(g, &["conditionType"]);
            conditions
                .iter()
                .find(|c| str_at(c, &["type"]) == kind)
                .is_some_and(|c| str_at(c, &["status"]) == "True")
        })
        .count();
    format!("{passing}/{}", gates.len())
}

fn or_none(s: &str) -> String {
    if s.is_empty() { "<none>" } else { s }.to_string()
}

fn row(pod: &Value, now: DateTime<Utc>) -> Row {
    let c = count(pod);
    let restarts = match c.last_restart {
        Some(t) if c.restarts != 0 => format!("{} ({} ago)", c.restarts, since(Some(t), now)),
        _ => c.restarts.to_string(),
    };
    let pod_ip = array_at(pod, &["status", "podIPs"])
        .first()
        .map(|ip| str_at(ip, &["ip"]))
        .unwrap_or_else(|| str_at(pod, &["status", "podIP"]));
    let conditions = match str_at(pod, &["status", "phase"]) {
        "Succeeded" => vec![json!({
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        })],
        "Failed" => vec![json!({
            "type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed.",
        })],
        _ => Vec::new(),
    };
    Row {
        cells: vec![
            json!(name_of(pod)),
            json!(format!("{}/{}", c.ready, c.total)),
            json!(c.reason),
            json!(restarts),
            json!(since(created(pod), now)),
            json!(or_none(pod_ip)),
            json!(or_none(str_at(pod, &["spec", "nodeName"]))),
            json!(or_none(str_at(pod, &["status", "nominatedNodeName"]))),
            json!(readiness_gates(pod)),
        ],
        conditions,
    }
}

#[cfg(test)]
mod tests;
