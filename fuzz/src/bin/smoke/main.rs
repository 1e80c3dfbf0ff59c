//! The stable smoke runner: every fuzz target fed its seed corpus and then
//! seeded pseudo-random mutations of it for a fixed time, each target in a
//! child process of its own so that an abort (a stack overflow) or a hang is
//! pinned on one target and one input. CI runs it as `make fuzz-smoke`;
//! see `fuzz/README.md`.
//!
//! ```text
//! smoke [--seconds N] [--seed S] [--max-len N] [--hang-seconds N] [TARGET...]
//! smoke --replay TARGET FILE...
//! ```
#![forbid(unsafe_code)]

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use ironclad_fuzz::{TARGETS, Target, target};

mod child;

/// What the command line asked for.
struct Options {
    seconds: f64,
    seed: u64,
    max_len: usize,
    hang_seconds: f64,
    targets: Vec<String>,
    mode: Mode,
}

enum Mode {
    /// Run each target in a child process.
    Parent,
    /// Run one target in this process (what the parent spawns).
    Child,
    /// Run one target on given files, without catching anything.
    Replay(Vec<PathBuf>),
}

const USAGE: &str =
    "usage: smoke [--seconds N] [--seed S] [--max-len N] [--hang-seconds N] [TARGET...]
       smoke --replay TARGET FILE...
Defaults: --seconds $FUZZ_SMOKE_SECONDS or 15 per target, --seed $FUZZ_SMOKE_SEED or 1,
--max-len 65536 bytes, --hang-seconds 20 (one input running longer is reported as a hang).";

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1).collect()) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("smoke: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match &options.mode {
        Mode::Parent => run_all(&options),
        Mode::Child => child::run(&options),
        Mode::Replay(files) => replay(&options.targets[0], files),
    }
}

fn parse_args(args: Vec<String>) -> Result<Options, String> {
    let env_number = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut options = Options {
        seconds: env_number("FUZZ_SMOKE_SECONDS")
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("FUZZ_SMOKE_SECONDS={v} is not a number"))
            })
            .transpose()?
            .unwrap_or(15.0),
        seed: env_number("FUZZ_SMOKE_SEED")
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("FUZZ_SMOKE_SEED={v} is not a number"))
            })
            .transpose()?
            .unwrap_or(1),
        max_len: 1 << 16,
        hang_seconds: 20.0,
        targets: Vec::new(),
        mode: Mode::Parent,
    };
    let mut files = Vec::new();
    let mut replay = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |flag: &str, v: String| -> Result<f64, String> {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| format!("{flag} {v}: not a number of seconds"))
        };
        match arg.as_str() {
            "--seconds" => options.seconds = number("--seconds", value("--seconds")?)?,
            "--hang-seconds" => {
                options.hang_seconds = number("--hang-seconds", value("--hang-seconds")?)?
            }
            "--seed" => {
                let v = value("--seed")?;
                options.seed = v.parse().map_err(|_| format!("--seed {v}: not a number"))?;
            }
            "--max-len" => {
                let v = value("--max-len")?;
                options.max_len = v
                    .parse()
                    .map_err(|_| format!("--max-len {v}: not a number"))?;
            }
            "--child" => options.mode = Mode::Child,
            "--replay" => replay = true,
            // The empty error: print the usage and succeed.
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if replay && !options.targets.is_empty() => files.push(PathBuf::from(arg)),
            _ => options.targets.push(arg),
        }
    }
    for name in &options.targets {
        if target(name).is_none() {
            let names: Vec<_> = TARGETS.iter().map(|(n, _)| *n).collect();
            return Err(format!("no target {name}; targets: {}", names.join(" ")));
        }
    }
    if replay {
        if options.targets.len() != 1 || files.is_empty() {
            return Err("--replay takes one target and at least one file".into());
        }
        options.mode = Mode::Replay(files);
    } else if matches!(options.mode, Mode::Child) && options.targets.len() != 1 {
        return Err("--child takes one target".into());
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    }
    Ok(options)
}

/// Runs every selected target in a child process, one after the other,
/// killing one that outlives its budget by more than the hang limit.
fn run_all(options: &Options) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => {
            eprintln!("smoke: cannot find my own executable: {err}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let mut failed = Vec::new();
    for name in &options.targets {
        let mut command = Command::new(&exe);
        command
            .arg("--child")
            .arg(name)
            .args(["--seconds", &options.seconds.to_string()])
            .args(["--seed", &options.seed.to_string()])
            .args(["--max-len", &options.max_len.to_string()]);
        if std::env::var_os("RUST_BACKTRACE").is_none() {
            command.env("RUST_BACKTRACE", "1");
        }
        let limit = Duration::from_secs_f64(options.seconds + options.hang_seconds + 10.0);
        match supervise(command, limit) {
            Ok(Outcome::Passed) => {}
            Ok(Outcome::Failed(how)) => {
                // A panic was saved as crash-*; an abort or a hang left the
                // input it was running as smoke-last-input.
                let last = artifacts(name).join("smoke-last-input");
                let input = if last.is_file() {
                    last
                } else {
                    artifacts(name)
                };
                eprintln!(
                    "smoke: {name} FAILED ({how}); the input is in {}",
                    input.display()
                );
                failed.push(name.as_str());
            }
            Err(err) => {
                eprintln!("smoke: cannot run {name}: {err}");
                failed.push(name.as_str());
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if failed.is_empty() {
        println!(
            "smoke: {} targets passed in {elapsed:.0} s (seed {})",
            options.targets.len(),
            options.seed
        );
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "smoke: {} of {} targets failed: {} (reproduce with `smoke --replay <target> <file>` or `cargo +nightly fuzz run <target> <file>`)",
            failed.len(),
            options.targets.len(),
            failed.join(" ")
        );
        ExitCode::FAILURE
    }
}

enum Outcome {
    Passed,
    Failed(String),
}

fn supervise(mut command: Command, limit: Duration) -> std::io::Result<Outcome> {
    let mut child = command.spawn()?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(if status.success() {
                Outcome::Passed
            } else {
                Outcome::Failed(status.to_string())
            });
        }
        if started.elapsed() > limit {
            child.kill()?;
            child.wait()?;
            return Ok(Outcome::Failed(format!(
                "hung: killed after {:.0} s",
                limit.as_secs_f64()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `name` on each file, letting a panic take the process down with
/// its backtrace.
fn replay(name: &str, files: &[PathBuf]) -> ExitCode {
    let Some(run) = target(name) else {
        return ExitCode::from(2);
    };
    for file in files {
        match std::fs::read(file) {
            Ok(data) => {
                let accepted = run(&data);
                println!(
                    "{}: {}",
                    file.display(),
                    if accepted { "accepted" } else { "rejected" }
                );
            }
            Err(err) => {
                eprintln!("smoke: {}: {err}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The fuzz crate's directory, where seeds, corpora and artifacts live.
fn fuzz_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where a target's failing inputs are written (cargo-fuzz's layout, so
/// `cargo fuzz run <target> <file>` reproduces them too).
fn artifacts(name: &str) -> PathBuf {
    fuzz_dir().join("artifacts").join(name)
}

/// Runs one input, catching a panic (already reported by the panic hook,
/// with its backtrace).
fn run_caught(run: Target, data: &[u8]) -> Result<bool, ()> {
    panic::catch_unwind(AssertUnwindSafe(|| run(data))).map_err(|_| ())
}
