//! `ironclad bench scheduler --quick --json` end to end: one JSON object
//! with the figure VISION.md names (`pods_per_second_1000_nodes`) and the
//! others, all measured and positive.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::process::Command;

use serde_json::Value;

#[test]
fn quick_run_prints_the_contract_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_ironclad"))
        .args(["bench", "scheduler", "--quick", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench scheduler failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON object, nothing else: {stdout}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["bench"], "scheduler");
    assert_eq!(report["baseline"], "round-robin binder");
    let results = report["results"].as_array().unwrap();
    let figure = |name: &str| {
        results
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no figure {name} in {stdout}"))
    };
    for name in [
        "pods_per_second_1000_nodes",
        "schedule_p50",
        "schedule_p99",
        "cpu_per_pod",
        "creates_per_second",
        "bound_per_s_kubelet",
        "running_per_second",
    ] {
        let f = figure(name);
        let (ours, base) = (
            f["ironclad"].as_f64().unwrap(),
            f["baseline"].as_f64().unwrap(),
        );
        assert!(ours > 0.0 && ours.is_finite(), "{name}: {f}");
        assert!(base > 0.0 && base.is_finite(), "{name}: {f}");
    }
    assert_eq!(figure("pods_per_second_1000_nodes")["unit"], "pods/s");
}
