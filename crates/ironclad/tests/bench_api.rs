//! `ironclad bench api --quick --json` end to end (about 30 s on a debug
//! build): one JSON object with the figures VISION.md names, measured.
//! Needs `etcd` installed, as the store conformance tests do.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod bench_report;

use bench_report::Report;

#[test]
fn quick_run_prints_the_contract_figures() {
    let report = Report::run("api", "raw store");
    report.positive(&[
        "mutating_p99_at_200ps",
        "get_p99_at_200ps",
        "idle_rss_1000_objects",
    ]);
    // Latency from the write's acknowledgement: a watcher that holds the
    // event before the writer has read its answer counts as 0, so with
    // few watchers every sample can be 0.
    let f = report.figure("watch_fanout_p99_1000");
    assert!(f["ironclad"].as_f64().unwrap() >= 0.0, "{f}");
    assert!(f["baseline"].as_f64().unwrap() >= 0.0, "{f}");
    assert_eq!(
        report.figure("watch_delivered_1000")["ironclad"],
        100.0,
        "every watcher sees every event"
    );
    assert_eq!(report.figure("idle_rss_1000_objects")["unit"], "MB");
    // The security chain: latency with it on (ironclad) and off (baseline),
    // and the p99 difference against the 1 ms budget.
    report.positive(&[
        "auth_mutating_p50",
        "auth_mutating_p99",
        "auth_get_p50",
        "auth_get_p99",
    ]);
    for (overhead, p99) in [
        ("auth_mut_p99_overhead", "auth_mutating_p99"),
        ("auth_get_p99_overhead", "auth_get_p99"),
    ] {
        let (f, p) = (report.figure(overhead), report.figure(p99));
        let value = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
        let diff = value(p, "ironclad") - value(p, "baseline");
        assert!((value(f, "ironclad") - diff).abs() < 1e-9, "{f} vs {p}");
        assert_eq!(f["baseline"], 1.0, "the budget: {f}");
        assert_eq!(f["unit"], "ms");
    }
    for f in report.results() {
        let name = f["name"].as_str().unwrap();
        assert!(name.len() <= 22, "{name} overflows the table's column");
        assert!(
            f["ironclad"].as_f64().is_some(),
            "{name} was not measured: {f}"
        );
    }
}
