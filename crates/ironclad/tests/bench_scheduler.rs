//! `ironclad bench scheduler --quick --json` end to end: one JSON object
//! with the figure VISION.md names (`pods_per_second_1000_nodes`) and the
//! others, all measured and positive.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod bench_report;

use bench_report::Report;

#[test]
fn quick_run_prints_the_contract_figures() {
    let report = Report::run("scheduler", "round-robin binder");
    report.positive(&[
        "pods_per_second_1000_nodes",
        "schedule_p50",
        "schedule_p99",
        "cpu_per_pod",
        "creates_per_second",
        "bound_per_s_kubelet",
        "running_per_second",
    ]);
    assert_eq!(
        report.figure("pods_per_second_1000_nodes")["unit"],
        "pods/s"
    );
}
