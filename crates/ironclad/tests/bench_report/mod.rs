//! Running `ironclad bench <name> --quick --json` and reading its report:
//! one JSON object, nothing else on stdout.

#![allow(dead_code)]

use std::process::Command;

use serde_json::Value;

/// A bench's report.
pub struct Report {
    /// The whole object.
    pub json: Value,
    stdout: String,
}

impl Report {
    /// Runs `ironclad bench <bench> --quick --json`; checks it succeeded,
    /// printed one JSON object and names `bench` and `baseline`.
    pub fn run(bench: &str, baseline: &str) -> Report {
        let out = Command::new(env!("CARGO_BIN_EXE_ironclad"))
            .args(["bench", bench, "--quick", "--json"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "bench {bench} failed: {stderr}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout.lines().count(),
            1,
            "one JSON object, nothing else: {stdout}"
        );
        let json: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["bench"], bench);
        assert_eq!(json["baseline"], baseline);
        Report { json, stdout }
    }

    /// Every figure.
    pub fn results(&self) -> &Vec<Value> {
        self.json["results"].as_array().unwrap()
    }

    /// One figure, by name.
    pub fn figure(&self, name: &str) -> &Value {
        self.results()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no figure {name} in {}", self.stdout))
    }

    /// Checks that each named figure and its baseline were measured and
    /// are positive.
    pub fn positive(&self, names: &[&str]) {
        for name in names {
            let f = self.figure(name);
            let (ours, base) = (
                f["ironclad"].as_f64().unwrap(),
                f["baseline"].as_f64().unwrap(),
            );
            assert!(ours > 0.0 && ours.is_finite(), "{name}: {f}");
            assert!(base > 0.0 && base.is_finite(), "{name}: {f}");
        }
    }
}
