//! The elector: acquire, renew, observe, take over, release.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

use crate::Error;

/// Timing and identity of one election.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// Namespace of the Lease (upstream: `kube-system`).
    pub namespace: String,
    /// Name of the Lease (e.g. `kube-controller-manager`).
    pub name: String,
    /// This candidate's identity, unique in the cluster.
    pub identity: String,
    /// How long an unchanged Lease is honoured by the others.
    pub lease_duration: Duration,
    /// How long the holder keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// How often every candidate tries.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// A Lease `kube-system/<name>` with timings that make a standby take
    /// over within 3 s of the holder's death (upstream's defaults are
    /// 15 s / 10 s / 2 s; a Lease write every 250 ms is cheap here).
    pub fn new(name: &str, identity: &str) -> LeaseConfig {
        LeaseConfig {
            namespace: "kube-system".into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(2),
            renew_deadline: Duration::from_millis(1500),
            retry_period: Duration::from_millis(250),
        }
    }

    /// Refuses timings that cannot be safe (two leaders at once) or cannot
    /// be written to a Lease.
    pub fn validate(&self) -> Result<(), Error> {
        if self.identity.is_empty() || self.name.is_empty() {
            return Err(Error::Config("name and identity must not be empty".into()));
        }
        if self.lease_duration < Duration::from_secs(1) || self.lease_duration.subsec_nanos() != 0 {
            return Err(Error::Config(
                "lease_duration must be a whole number of seconds (Lease.spec.leaseDurationSeconds)"
                    .into(),
            ));
        }
        if self.renew_deadline >= self.lease_duration {
            return Err(Error::Config(
                "renew_deadline must be shorter than lease_duration, or two leaders could act at once"
                    .into(),
            ));
        }
        if self.retry_period >= self.renew_deadline {
            return Err(Error::Config(
                "retry_period must be shorter than renew_deadline".into(),
            ));
        }
        Ok(())
    }

    fn duration_secs(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// The Lease as this candidate last saw it changing.
struct Observed {
    resource_version: String,
    at: Instant,
}

/// One candidate in an election.
pub struct LeaseElector {
    api: Api<Lease>,
    config: LeaseConfig,
    leading: watch::Sender<bool>,
}

enum Attempt {
    Leading,
    Following,
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

impl LeaseElector {
    /// A candidate; fails on a configuration that cannot be safe.
    pub fn new(client: Client, config: LeaseConfig) -> Result<LeaseElector, Error> {
        config.validate()?;
        Ok(LeaseElector {
            api: Api::namespaced(client, &config.namespace),
            config,
            leading: watch::Sender::new(false),
        })
    }

    /// Whether this candidate leads, now and as it changes.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// This candidate's identity.
    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    fn err(&self, e: kube::Error) -> Error {
        Error::Api(format!("{}/{}", self.config.namespace, self.config.name), e)
    }

    fn set_leading(&self, leading: bool) {
        self.leading.send_if_modified(|l| {
            let changed = *l != leading;
            *l = leading;
            changed
        });
        if leading {
            tracing::debug!(lease = %self.config.name, identity = %self.config.identity, "leading");
        }
    }

    /// Campaigns until `shutdown` resolves, then releases the Lease if it
    /// holds it. Leadership is published on [`LeaseElector::subscribe`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut observed: Option<Observed> = None;
        // When the last successful renewal was *sent*: the others count
        // the lease's life from after it was written.
        let mut renewed: Option<Instant> = None;
        loop {
            let started = Instant::now();
            // A holder must learn within its renew deadline whether it
            // still holds; a follower just retries.
            let budget = match renewed {
                Some(at) => self
                    .config
                    .renew_deadline
                    .saturating_sub(at.elapsed())
                    .max(Duration::from_millis(1)),
                None => self.config.renew_deadline,
            };
            let attempt = tokio::select! {
                a = tokio::time::timeout(budget, self.attempt(&mut observed)) => a,
                _ = &mut shutdown => break,
            };
            match attempt {
                Ok(Ok(Attempt::Leading)) => {
                    renewed = Some(started);
                    self.set_leading(true);
                }
                Ok(Ok(Attempt::Following)) => {
                    renewed = None;
                    self.set_leading(false);
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "lease attempt failed"),
                Err(_) => tracing::debug!(lease = %self.config.name, "lease attempt timed out"),
            }
            if let Some(at) = renewed
                && at.elapsed() >= self.config.renew_deadline
            {
                tracing::warn!(lease = %self.config.name, "could not renew the lease in time: stepping down");
                renewed = None;
                self.set_leading(false);
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.retry_period) => {}
                _ = &mut shutdown => break,
            }
        }
        let was_leading = *self.leading.borrow();
        self.set_leading(false);
        if was_leading && let Err(e) = self.release().await {
            tracing::warn!(error = %e, "could not release the lease");
        }
    }

    /// One try: create, renew, or take over the Lease.
    async fn attempt(&self, observed: &mut Option<Observed>) -> Result<Attempt, Error> {
        let c = &self.config;
        let Some(lease) = self.api.get_opt(&c.name).await.map_err(|e| self.err(e))? else {
            let t = now();
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(c.name.clone()),
                    namespace: Some(c.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(c.identity.clone()),
                    lease_duration_seconds: Some(c.duration_secs()),
                    acquire_time: Some(t.clone()),
                    renew_time: Some(t),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Leading),
                Err(e) if is_conflict(&e) => Ok(Attempt::Following),
                Err(e) => Err(self.err(e)),
            };
        };
        let rv = lease.metadata.resource_version.clone().unwrap_or_default();
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let mut next = lease;
        let mut new_spec = spec.clone();
        if holder == c.identity {
            new_spec.renew_time = Some(now());
            new_spec.lease_duration_seconds = Some(c.duration_secs());
        } else {
            if observed.as_ref().is_none_or(|o| o.resource_version != rv) {
                *observed = Some(Observed {
                    resource_version: rv,
                    at: Instant::now(),
                });
            }
            let honoured = Duration::from_secs(
                spec.lease_duration_seconds
                    .and_then(|s| u64::try_from(s).ok())
                    .unwrap_or(c.lease_duration.as_secs()),
            );
            let since = observed.as_ref().map_or(Duration::ZERO, |o| o.at.elapsed());
            if !holder.is_empty() && since < honoured {
                return Ok(Attempt::Following);
            }
            let t = now();
            new_spec.holder_identity = Some(c.identity.clone());
            new_spec.lease_duration_seconds = Some(c.duration_secs());
            new_spec.acquire_time = Some(t.clone());
            new_spec.renew_time = Some(t);
            new_spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            tracing::info!(lease = %c.name, from = %holder, to = %c.identity, "taking over the lease");
        }
        next.spec = Some(new_spec);
        match self
            .api
            .replace(&c.name, &PostParams::default(), &next)
            .await
        {
            Ok(_) => Ok(Attempt::Leading),
            // Someone else wrote it first: we are not the holder (a holder's
            // renewal conflicts only if another took it over).
            Err(e) if is_conflict(&e) => Ok(Attempt::Following),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Hands the Lease back so a standby takes it at its next try.
    async fn release(&self) -> Result<(), Error> {
        let c = &self.config;
        let Some(mut lease) = self.api.get_opt(&c.name).await.map_err(|e| self.err(e))? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(c.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(now());
        match self
            .api
            .replace(&c.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }
}
