//! A contender process for the election's multi-process tests: joins an
//! election on etcd and "acts" every few milliseconds while it leads,
//! printing one line per event on stdout, each stamped with
//! `CLOCK_MONOTONIC` nanoseconds (one clock for every process on the
//! machine, and it keeps counting while a process is stopped):
//!
//! ```text
//! FOLLOWER <leader-id or -> <t_ns>      state changed to follower
//! LEADER <token> <t_ns>                 leadership taken (t after it was)
//! ACT <token> <t_ns>                    acted; `is_leader` held after t
//! STEPDOWN <token> <end_ns> <seen_ns>   the term ended at end (the last
//!                                       instant it could have acted),
//!                                       noticed at seen
//! EXIT <t_ns>                           resigned on SIGTERM and exiting
//! ```
//!
//! Usage: `ironclad-election-probe --endpoints URL,... --key KEY --id ID
//! [--ttl-secs N]`. Built only with the `probe` feature (on for tests).

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use ironclad_election::{ElectionConfig, Elector, LeaderState, Leadership};
use ironclad_store::Revision;
use ironclad_store_etcd::EtcdStore;
use nix::time::{ClockId, clock_gettime};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How often the leader acts.
const ACT_EVERY: Duration = Duration::from_millis(20);

/// Now on `CLOCK_MONOTONIC`, in nanoseconds.
fn mono_ns() -> Result<i128, BoxError> {
    let ts = clock_gettime(ClockId::CLOCK_MONOTONIC)?;
    Ok(i128::from(ts.tv_sec()) * 1_000_000_000 + i128::from(ts.tv_nsec()))
}

fn say(line: std::fmt::Arguments<'_>) -> Result<(), BoxError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    // Flushed per line, so lines printed before a SIGKILL are not lost.
    out.flush()?;
    Ok(())
}

struct Args {
    endpoints: Vec<String>,
    config: ElectionConfig,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut endpoints = Vec::new();
    let (mut key, mut id, mut ttl) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--endpoints" => endpoints = value.split(',').map(str::to_owned).collect(),
            "--key" => key = Some(value),
            "--id" => id = Some(value),
            "--ttl-secs" => ttl = Some(value.parse::<i64>()?),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let (Some(key), Some(id)) = (key, id) else {
        return Err("usage: --endpoints URL,... --key KEY --id ID [--ttl-secs N]".into());
    };
    let mut config = ElectionConfig::new(key, id);
    if let Some(ttl) = ttl {
        config = config.with_ttl_secs(ttl);
    }
    Ok(Args { endpoints, config })
}

/// What the probe has printed so far, to print only changes.
#[derive(Default)]
struct Printed {
    /// The token of the term it announced (`LEADER`) and has not ended.
    acting: Option<Revision>,
    /// The last `FOLLOWER` line's leader.
    following: Option<Option<String>>,
}

impl Printed {
    /// Acts if leading, and reports any change. `t` is taken before
    /// leadership is checked, so an `ACT` stamp is always inside the term.
    fn step(&mut self, leadership: &Leadership) -> Result<(), BoxError> {
        let t = mono_ns()?;
        let now = Instant::now();
        let last = leadership.last_term();
        let current = last.filter(|term| term.is_valid()).map(|term| term.token);
        if let Some(acting) = self.acting.filter(|a| current != Some(*a)) {
            // The term ended at `until`; convert it to the shared clock.
            let end = match last {
                Some(term) if term.token == acting => {
                    t - now.saturating_duration_since(term.until).as_nanos() as i128
                }
                // A newer term already began: ours ended before now.
                _ => t,
            };
            say(format_args!("STEPDOWN {acting} {end} {}", mono_ns()?))?;
            self.acting = None;
        }
        match (current, self.acting) {
            (Some(token), Some(_)) => say(format_args!("ACT {token} {t}"))?,
            (Some(token), None) => {
                say(format_args!("LEADER {token} {}", mono_ns()?))?;
                self.acting = Some(token);
                self.following = None;
            }
            (None, _) => {
                if let LeaderState::Follower { leader } = leadership.state()
                    && self.following.as_ref() != Some(&leader)
                {
                    let name = leader.as_deref().unwrap_or("-");
                    say(format_args!("FOLLOWER {name} {}", mono_ns()?))?;
                    self.following = Some(leader);
                }
            }
        }
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let store = EtcdStore::connect(&args.endpoints).await?;
    let elector = Elector::new(Arc::new(store), args.config)?;
    let leadership = elector.leadership();
    let (resign, resigned) = tokio::sync::oneshot::channel::<()>();
    let mut election = tokio::spawn(elector.run(async move {
        let _ = resigned.await;
    }));
    let mut term = signal(SignalKind::terminate())?;
    let mut state = leadership.subscribe();
    let mut tick = tokio::time::interval(ACT_EVERY);
    let mut printed = Printed::default();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            ended = &mut election => return Err(format!("election ended: {ended:?}").into()),
            _ = state.changed() => {}
            _ = tick.tick() => {}
        }
        printed.step(&leadership)?;
    }
    // Stop acting (no more steps), resign, and report the term's end.
    let _ = resign.send(());
    election.await??;
    printed.step(&leadership)?;
    say(format_args!("EXIT {}", mono_ns()?))?;
    Ok(())
}
