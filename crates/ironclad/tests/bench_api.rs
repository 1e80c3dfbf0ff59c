//! `ironclad bench api --quick --json` end to end (about 30 s on a debug
//! build): one JSON object with the figures VISION.md names, measured.
//! Needs `etcd` installed, as the store conformance tests do.

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

use std::process::Command;

use serde_json::Value;

#[test]
fn quick_run_prints_the_contract_figures() {
    let out = Command::new(env!("CARGO_BIN_EXE_ironclad"))
        .args(["bench", "api", "--quick", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench api failed: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON object, nothing else: {stdout}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["bench"], "api");
    assert_eq!(report["baseline"], "raw store");
    let results = report["results"].as_array().unwrap();
    let figure = |name: &str| {
        results
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no figure {name} in {stdout}"))
    };
    for name in [
        "mutating_p99_at_200ps",
        "get_p99_at_200ps",
        "idle_rss_1000_objects",
    ] {
        let f = figure(name);
        let (ours, base) = (
            f["ironclad"].as_f64().unwrap(),
            f["baseline"].as_f64().unwrap(),
        );
        assert!(ours > 0.0 && ours.is_finite(), "{name}: {f}");
        assert!(base > 0.0 && base.is_finite(), "{name}: {f}");
    }
    // Latency from the write's acknowledgement: a watcher that holds the
    // event before the writer has read its answer counts as 0, so with
    // few watchers every sample can be 0.
    let f = figure("watch_fanout_p99_1000");
    assert!(f["ironclad"].as_f64().unwrap() >= 0.0, "{f}");
    assert!(f["baseline"].as_f64().unwrap() >= 0.0, "{f}");
    assert_eq!(
        figure("watch_delivered_1000")["ironclad"],
        100.0,
        "every watcher sees every event"
    );
    assert_eq!(figure("idle_rss_1000_objects")["unit"], "MB");
    for f in results {
        let name = f["name"].as_str().unwrap();
        assert!(name.len() <= 22, "{name} overflows the table's column");
        assert!(
            f["ironclad"].as_f64().is_some(),
            "{name} was not measured: {f}"
        );
    }
}
