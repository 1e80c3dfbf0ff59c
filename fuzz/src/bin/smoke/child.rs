//! One target's smoke run, in the child process: the seeds (and a local
//! libFuzzer corpus, if there is one) first, then mutations until the time
//! is up. The input about to run is always on disk, so that an abort or a
//! hang, which no handler here can catch, still leaves it behind.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ironclad_fuzz::target;

use ironclad_fuzz::mutate::Mutator;

use super::{Options, artifacts, fuzz_dir, run_caught};

/// How many accepted inputs are kept as further mutation bases.
const POOL: usize = 512;

pub(super) fn run(options: &Options) -> ExitCode {
    let name = options.targets[0].as_str();
    let Some(run) = target(name) else {
        return ExitCode::from(2);
    };
    let seeds = match load_inputs(name) {
        Ok(seeds) if !seeds.is_empty() => seeds,
        Ok(_) => {
            eprintln!(
                "smoke: {name}: no seeds in {}",
                fuzz_dir().join("seeds").join(name).display()
            );
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("smoke: {name}: cannot read the seeds: {err}");
            return ExitCode::FAILURE;
        }
    };
    let dir = artifacts(name);
    let last = match LastInput::create(&dir) {
        Ok(last) => last,
        Err(err) => {
            eprintln!("smoke: {name}: cannot write to {}: {err}", dir.display());
            return ExitCode::FAILURE;
        }
    };

    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let mut mutator = Mutator::for_target(name, options.seed, options.max_len);
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut executed: u64 = 0;
    let mut seeds_accepted = 0;
    let mut accepted: u64 = 0;

    // The seeds themselves, then mutants, checking the clock between inputs.
    let mut index = 0;
    loop {
        let is_seed = index < seeds.len();
        let input = if is_seed {
            index += 1;
            seeds[index - 1].clone()
        } else {
            if Instant::now() >= deadline {
                break;
            }
            let rng = mutator.rng();
            let base = if !pool.is_empty() && rng.below(10) < 3 {
                rng.below(pool.len()) + seeds.len()
            } else {
                rng.below(seeds.len())
            };
            let other = rng.below(seeds.len() + pool.len());
            let pick = |i: usize| {
                if i < seeds.len() {
                    &seeds[i]
                } else {
                    &pool[i - seeds.len()]
                }
            };
            let (base, other) = (pick(base).clone(), pick(other).clone());
            mutator.mutate(&base, &other)
        };
        if let Err(err) = last.record(&input) {
            eprintln!("smoke: {name}: cannot record the input: {err}");
            return ExitCode::FAILURE;
        }
        executed += 1;
        match run_caught(run, &input) {
            Ok(true) => {
                accepted += 1;
                if is_seed {
                    seeds_accepted += 1;
                }
                if pool.len() < POOL {
                    pool.push(input);
                } else {
                    let slot = mutator.rng().below(POOL * 4);
                    if slot < POOL {
                        pool[slot] = input;
                    }
                }
            }
            Ok(false) => {}
            Err(()) => {
                let saved = save_crash(&dir, &input);
                eprintln!(
                    "smoke: {name}: input #{executed} panicked; {} bytes: {}\nsaved as {}",
                    input.len(),
                    escape(&input),
                    saved.map_or_else(|e| format!("(not saved: {e})"), |p| p.display().to_string()),
                );
                last.remove();
                return ExitCode::FAILURE;
            }
        }
    }
    last.remove();
    println!(
        "smoke: {name}: {executed} inputs in {:.1} s ({} seeds, {seeds_accepted} accepted; {accepted} accepted in all), no failure",
        started.elapsed().as_secs_f64(),
        seeds.len(),
    );
    ExitCode::SUCCESS
}

/// The seed corpus of `name`, then its local libFuzzer corpus if any, each
/// directory in file-name order so runs are reproducible.
fn load_inputs(name: &str) -> io::Result<Vec<Vec<u8>>> {
    let mut inputs = read_dir_sorted(&fuzz_dir().join("seeds").join(name))?;
    let corpus = fuzz_dir().join("corpus").join(name);
    if corpus.is_dir() {
        inputs.extend(read_dir_sorted(&corpus)?);
    }
    Ok(inputs)
}

fn read_dir_sorted(dir: &Path) -> io::Result<Vec<Vec<u8>>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    paths.retain(|p| p.is_file());
    paths.sort();
    paths.iter().map(fs::read).collect()
}

/// `artifacts/<target>/smoke-last-input`, rewritten before every input.
struct LastInput {
    file: File,
    path: PathBuf,
}

impl LastInput {
    fn create(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join("smoke-last-input");
        Ok(LastInput {
            file: File::create(&path)?,
            path,
        })
    }

    /// Two system calls and no reopening: this runs for every input.
    fn record(&self, input: &[u8]) -> io::Result<()> {
        self.file.set_len(input.len() as u64)?;
        self.file.write_all_at(input, 0)
    }

    /// The run ended normally: there is nothing to leave behind, and an
    /// empty artifacts directory is not left either.
    fn remove(&self) {
        let _ = fs::remove_file(&self.path);
        if let Some(dir) = self.path.parent() {
            let _ = fs::remove_dir(dir);
            if let Some(parent) = dir.parent() {
                let _ = fs::remove_dir(parent);
            }
        }
    }
}

/// Writes a panicking input as `crash-<hash>`, as libFuzzer names them.
fn save_crash(dir: &Path, input: &[u8]) -> io::Result<PathBuf> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let path = dir.join(format!("crash-{hash:016x}"));
    fs::write(&path, input)?;
    Ok(path)
}

/// The input as a Rust byte string literal, shortened when long.
fn escape(input: &[u8]) -> String {
    const SHOWN: usize = 2048;
    let mut out = String::from("b\"");
    for byte in input.iter().take(SHOWN) {
        out.extend(std::ascii::escape_default(*byte).map(char::from));
    }
    out.push('"');
    if input.len() > SHOWN {
        out.push_str(&format!(" ... ({} more bytes)", input.len() - SHOWN));
    }
    out
}
