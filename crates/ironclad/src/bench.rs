//! `ironclad bench`: benchmarks users run on their own machines. Each
//! measures ironclad and a baseline in the same run and prints them side
//! by side, or as one JSON object with `--json` (the figure names are a
//! contract: see VISION.md).

mod api;
mod scheduler;
mod store;

use clap::{Args, Subcommand};
use serde::Serialize;

/// `ironclad bench ...`
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchKind,
}

#[derive(Subcommand, Debug)]
enum BenchKind {
    /// The embedded store against a single-member etcd with the same fsync durability.
    Store(store::StoreBenchArgs),
    /// The API server at a fixed request rate, on the embedded store and on etcd, against the raw store.
    Api(api::ApiBenchArgs),
    /// Pods scheduled per second onto hollow nodes, against a round-robin binder.
    Scheduler(scheduler::SchedulerBenchArgs),
}

/// Runs the chosen benchmark.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchKind::Store(a) => store::run(a).await,
        BenchKind::Api(a) => api::run(a).await,
        BenchKind::Scheduler(a) => scheduler::run(a).await,
    }
}

/// Which direction is better for a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// One measured figure, for ironclad and for the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub unit: &'static str,
    pub ironclad: f64,
    pub baseline: f64,
    #[serde(skip)]
    pub better: Better,
}

/// A benchmark's results.
#[derive(Debug, Serialize)]
pub struct Report {
    pub bench: &'static str,
    pub baseline: String,
    pub results: Vec<Figure>,
}

impl Report {
    /// Prints the table, or the JSON object.
    pub fn print(&self, json: bool) -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string(self)?);
            return Ok(());
        }
        println!(
            "\n{:<22} {:>8} {:>14} {:>14} {:>10}",
            "figure", "unit", "ironclad", &self.baseline, "ironclad is"
        );
        for f in &self.results {
            let ratio = match f.better {
                Better::Higher if f.baseline > 0.0 => f.ironclad / f.baseline,
                Better::Lower if f.ironclad > 0.0 => f.baseline / f.ironclad,
                _ => f64::NAN,
            };
            println!(
                "{:<22} {:>8} {:>14.2} {:>14.2} {:>9.2}x",
                f.name, f.unit, f.ironclad, f.baseline, ratio
            );
        }
        println!("(\"ironclad is\" > 1 means ironclad is better on that figure)");
        Ok(())
    }
}

/// Resident memory of a process in MiB, from /proc.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The p-th percentile (0–100) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
