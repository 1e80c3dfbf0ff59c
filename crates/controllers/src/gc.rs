//! The garbage collector (upstream's garbagecollector controller): a
//! graph of owners and dependents built from the ownerReferences of every
//! object of every resource the API server can list, watch and delete
//! (events aside), kept by metadata-only watches.
//!
//! - An object all of whose owners are gone (checked by a live GET of each
//!   owner, uid included) is deleted, in the background (or as its own
//!   `orphan`/`foregroundDeletion` finalizer asks).
//! - An owner deleted with `propagationPolicy=Foreground` carries the
//!   `foregroundDeletion` finalizer: its dependents that block owner
//!   deletion are deleted in the foreground, and once they are gone the
//!   finalizer is removed, which lets the API server delete the owner.
//! - An owner deleted with `propagationPolicy=Orphan` carries the `orphan`
//!   finalizer: its reference is removed from every dependent, then the
//!   finalizer.
//!
//! `graph` is the pure graph, `collect` what is done for one item,
//! `queue` the work queue; this file runs the watches and the workers.

pub mod collect;
pub mod graph;
pub mod queue;
pub mod resources;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, SelectAll};
use futures::{Stream, StreamExt};
use kube::api::{Api, DynamicObject, PartialObjectMeta};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

use crate::{Context, Result};
use collect::{Collector, Outcome};
use graph::{Changes, Observed, Work};
use queue::Queue;
use resources::{Resource, Resources};

/// How many items are worked on at once (upstream runs 20 delete workers;
/// this process shares its cores with the API server).
const WORKERS: usize = 8;
/// How long workers wait for every watch to list before starting anyway.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// How often discovery is asked whether the served resources changed.
const REDISCOVERY: Duration = Duration::from_secs(30);

type WatchEvents =
    std::pin::Pin<Box<dyn Stream<Item = (usize, watcher::Result<Event<Meta>>)> + Send>>;
type Meta = PartialObjectMeta<DynamicObject>;

/// Runs the garbage collector until aborted.
pub async fn run(ctx: Context) -> Result<()> {
    loop {
        let resources = Resources::discover(&ctx.client).await?;
        collect_over(&ctx, resources).await?;
        tracing::info!("garbage collector: the served resources changed; starting over");
    }
}

/// The set of resources a watch list is made of.
fn names(resources: &Resources) -> Vec<String> {
    resources
        .collectable()
        .map(|r| format!("{}/{}", r.api.api_version, r.api.plural))
        .collect()
}

/// Collects over one set of resources; returns when discovery finds
/// another (resources added or removed), so that the caller starts over
/// with watches of the new set (upstream resyncs its monitors likewise).
async fn collect_over(ctx: &Context, resources: Resources) -> Result<()> {
    let watching = names(&resources);
    let watched: Vec<Resource> = resources.collectable().cloned().collect();
    tracing::info!(resources = watched.len(), "garbage collector: watching");
    let collector = Collector::new(ctx.client.clone(), resources);
    let mut events: SelectAll<WatchEvents> =
        futures::stream::select_all(watched.iter().enumerate().map(|(i, r)| watch(ctx, i, r)));
    let mut listing: Vec<Option<HashSet<String>>> = vec![None; watched.len()];
    let mut synced = vec![false; watched.len()];
    let mut queue: Queue<Work> = Queue::default();
    let mut running = FuturesUnordered::new();
    let mut rediscover = tokio::time::interval(REDISCOVERY);
    rediscover.tick().await;
    let sync_deadline = tokio::time::Instant::now() + SYNC_TIMEOUT;
    let mut started = false;
    loop {
        // Workers start once every watch has listed, so that the graph
        // knows every dependent (upstream waits for its monitors to sync);
        // a watch that cannot list does not hold the others up forever.
        if !started {
            let all = synced.iter().all(|s| *s);
            if !all && tokio::time::Instant::now() >= sync_deadline {
                let lagging: Vec<&str> = watched
                    .iter()
                    .zip(&synced)
                    .filter(|(_, s)| !**s)
                    .map(|(r, _)| r.api.plural.as_str())
                    .collect();
                tracing::warn!(
                    ?lagging,
                    "garbage collector: starting before every watch has listed"
                );
            }
            started = all || tokio::time::Instant::now() >= sync_deadline;
        }
        if started {
            while running.len() < WORKERS
                && let Some(work) = queue.pop()
            {
                let c = collector.clone();
                running.push(async move {
                    let outcome = c.process(&work).await;
                    (work, outcome)
                });
            }
        }
        let due = if started {
            queue.next_due()
        } else {
            Some(
                queue
                    .next_due()
                    .map_or(sync_deadline, |d| d.min(sync_deadline)),
            )
        };
        tokio::select! {
            ev = events.next() => {
                let Some((i, ev)) = ev else {
                    return Err(crate::Error::Invalid("every watch ended".into()));
                };
                let Some(r) = watched.get(i) else { continue };
                let changes = match ev {
                    Ok(ev) => observe(&collector, i, r, ev, &mut listing, &mut synced),
                    Err(e) => {
                        tracing::warn!(resource = %r.api.plural, error = %e, "garbage collector: watch failed; retrying");
                        Changes::default()
                    }
                };
                apply(&collector, &mut queue, changes).await;
            }
            Some((work, outcome)) = running.next(), if !running.is_empty() => {
                queue.done(&work);
                match outcome {
                    Ok(Outcome::Done) => queue.forget(&work),
                    Ok(Outcome::Enqueue(more)) => {
                        queue.forget(&work);
                        more.into_iter().for_each(|w| queue.add(w));
                    }
                    Ok(Outcome::Poll) => queue.add_rate_limited(work),
                    Ok(Outcome::Absent(identity)) => {
                        queue.forget(&work);
                        let changes = collector.graph().virtual_delete(&identity);
                        apply(&collector, &mut queue, changes).await;
                    }
                    Err(e) => {
                        tracing::debug!(?work, error = %e, "garbage collector: retrying");
                        queue.add_rate_limited(work);
                    }
                }
            }
            _ = sleep_until(due), if due.is_some() => queue.promote(),
            _ = rediscover.tick() => match Resources::discover(&ctx.client).await {
                Ok(now) if names(&now) != watching => return Ok(()),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "garbage collector: discovery failed"),
            },
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// A metadata-only watch of every object of `r`, tagged `i`.
fn watch(ctx: &Context, i: usize, r: &Resource) -> WatchEvents {
    let api: Api<Meta> = Api::all_with(ctx.client.clone(), &r.api);
    watcher::watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .map(move |e| (i, e))
        .boxed()
}

/// Feeds one watch event to the graph.
fn observe(
    collector: &Arc<Collector>,
    i: usize,
    r: &Resource,
    ev: Event<Meta>,
    listing: &mut [Option<HashSet<String>>],
    synced: &mut [bool],
) -> Changes {
    let observed = |m: &Meta| Observed::from_meta(&r.api.api_version, &r.api.kind, &m.metadata);
    match ev {
        Event::Init => {
            listing[i] = Some(HashSet::new());
            Changes::default()
        }
        Event::InitApply(m) => {
            let Some(o) = observed(&m) else {
                return Changes::default();
            };
            if let Some(seen) = listing[i].as_mut() {
                seen.insert(o.identity.uid.clone());
            }
            collector.graph().observe(i, o)
        }
        Event::InitDone => {
            synced[i] = true;
            let seen = listing[i].take().unwrap_or_default();
            collector.graph().relisted(i, &seen)
        }
        Event::Apply(m) => match observed(&m) {
            Some(o) => collector.graph().observe(i, o),
            None => Changes::default(),
        },
        Event::Delete(m) => match m.metadata.uid.as_deref() {
            Some(uid) => collector.graph().observe_deleted(uid),
            None => Changes::default(),
        },
    }
}

/// Queues what a change of the graph asks for and reports invalid
/// references.
async fn apply(collector: &Arc<Collector>, queue: &mut Queue<Work>, changes: Changes) {
    for w in changes.work {
        queue.add(w);
    }
    for w in changes.later {
        queue.add_rate_limited(w);
    }
    for invalid in &changes.invalid {
        collector.report_invalid(invalid).await;
    }
}
