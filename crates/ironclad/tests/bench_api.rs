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
    for f in report.results() {
        let name = f["name"].as_str().unwrap();
        assert!(name.len() <= 22, "{name} overflows the table's column");
        assert!(
            f["ironclad"].as_f64().is_some(),
            "{name} was not measured: {f}"
        );
    }
}
