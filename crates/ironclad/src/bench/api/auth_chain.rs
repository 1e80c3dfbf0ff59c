//! What the security chain costs a request: the same open-loop load —
//! ConfigMap creates, gets and updates at the bench's rate — on two
//! in-process API servers that differ only in authentication and
//! authorization (see [`super::inprocess`]), in one run.
//!
//! On the secured server the client is not an administrator: a user with a
//! client certificate, allowed by a RoleBinding in the load's namespace to
//! a ClusterRole shaped like upstream's `edit` (explicit rules: the
//! aggregated `edit` gets its rules from a controller that does not run
//! here). So every request has its certificate chain verified, its RBAC
//! decision looked up, and no `system:masters` short cut. Both servers get
//! the same certificate in the same TLS handshake, so the handshake is not
//! part of the difference.
//!
//! Each phase alternates between the servers in blocks of half a second —
//! off, on, on, off, off, on, on, off, ... — so that a drift of the
//! machine's speed during the run (other processes, the disk) falls on
//! both sides alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use ironclad_apiserver::tls::Peer;
use ironclad_auth::Attributes;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::json;

use super::http::{Api, collection};
use super::inprocess::{InProcessServer, Pki};
use super::load::{LOAD_NS, Pace, Stats, open_loop};
use crate::bench::percentile;

/// The user the secured server sees.
pub const USER: &str = "ironclad-bench-user";
/// The ClusterRole bound to it.
const ROLE: &str = "ironclad-bench-edit";
/// How long the RBAC index may take to learn the binding.
const RBAC_DEADLINE: Duration = Duration::from_secs(30);
/// How long each verb is sent, unmeasured, to each side before the first
/// phase.
const WARM_UP: Duration = Duration::from_millis(250);
/// Length of one block of requests on one side: sides alternate every
/// block, so that the machine's drift (other processes, the disk) falls on
/// both sides alike.
const BLOCK: Duration = Duration::from_millis(500);
/// Calls of each step timed in-process for the breakdown.
const STEP_CALLS: usize = 2000;

/// Creates, gets and updates on one server.
#[derive(Debug, Clone, Default)]
pub struct Side {
    /// POST of new ConfigMaps.
    pub create: Stats,
    /// GET of one of them.
    pub get: Stats,
    /// PUT of one of them.
    pub update: Stats,
}

impl Side {
    /// Creates and updates together.
    pub fn mutating(&self) -> Stats {
        Stats::merged(&[&self.create, &self.update])
    }
}

/// The per-request steps of the chain, timed in-process on the secured
/// server (no HTTP): microseconds per call.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    /// Authentication of the client certificate (x509 chain verification
    /// to the CA, the user from the subject): median.
    pub authn_p50: f64,
    /// Its 99th percentile.
    pub authn_p99: f64,
    /// The authorizer chain's decision (Node, then RBAC): median.
    pub authz_p50: f64,
    /// Its 99th percentile.
    pub authz_p99: f64,
}

/// Both sides of the comparison.
#[derive(Debug, Clone)]
pub struct AuthChain {
    /// `Config.auth = None`: every request served as `system:masters`.
    pub off: Side,
    /// Node,RBAC and a non-admin client certificate.
    pub on: Side,
    /// The chain's steps alone.
    pub steps: Steps,
}

/// Starts both servers, grants the user its role on the secured one, and
/// runs the load on both.
pub async fn measure(pace: Pace, durable: bool, say: &impl Fn(&str)) -> anyhow::Result<AuthChain> {
    let pki = Pki::generate()?;
    let admin = pki.client("ironclad-bench-admin", &[ironclad_auth::user::MASTERS])?;
    let user = pki.client(USER, &[])?;
    let off = InProcessServer::start(&pki, false, durable).await?;
    let on = InProcessServer::start(&pki, true, durable).await?;

    let user_off = Api::new(&off.credentials(&pki, &user))?;
    user_off.create_namespace(LOAD_NS).await?;
    grant(&Api::new(&on.credentials(&pki, &admin))?).await?;
    let user_on = Api::new(&on.credentials(&pki, &user))?;
    wait_allowed(&user_on).await?;

    for api in [&user_off, &user_on] {
        warm_up(api, pace.rate).await?;
    }

    let name = |i: usize| format!("cm-{i:06}");
    let create = ab(pace, "create", &user_off, &user_on, |api, i| async move {
        api.create_configmap(LOAD_NS, &name(i), i).await.map(drop)
    })
    .await?;
    report(say, "create", &create);
    // Each side created ConfigMaps 0 .. created.
    let created = per_side(pace);
    let get_phase = ab(pace, "get", &user_off, &user_on, |api, i| {
        get(
            api,
            format!("{}/{}", collection(LOAD_NS), name(i % created)),
        )
    })
    .await?;
    report(say, "get", &get_phase);
    let update = ab(pace, "update", &user_off, &user_on, |api, i| async move {
        api.update_configmap(LOAD_NS, &name(i % created), created + i)
            .await
    })
    .await?;
    report(say, "update", &update);

    let steps = steps(&on, &user).await?;
    say(&format!(
        "    in-process, per request: client certificate authentication p50 {:.1} µs, \
         p99 {:.1} µs; authorization (Node,RBAC) p50 {:.1} µs, p99 {:.1} µs",
        steps.authn_p50, steps.authn_p99, steps.authz_p50, steps.authz_p99
    ));
    Ok(AuthChain {
        off: Side {
            create: create.0,
            get: get_phase.0,
            update: update.0,
        },
        on: Side {
            create: create.1,
            get: get_phase.1,
            update: update.1,
        },
        steps,
    })
}

/// Unmeasured creates, gets and updates on one side, at the load's rate:
/// the connections opened, the first writes' costs paid (the store's files
/// growing, the caches' first objects).
async fn warm_up(api: &Api, rate: u32) -> anyhow::Result<()> {
    let pace = Pace {
        rate,
        duration: WARM_UP,
    };
    let name = |i: usize| format!("warm-{i:06}");
    open_loop(pace, "warm-up create", |i| {
        let api = api.clone();
        async move { api.create_configmap(LOAD_NS, &name(i), i).await.map(drop) }
    })
    .await?;
    open_loop(pace, "warm-up get", |i| {
        get(api.clone(), format!("{}/{}", collection(LOAD_NS), name(i)))
    })
    .await?;
    open_loop(pace, "warm-up update", |i| {
        let api = api.clone();
        async move { api.update_configmap(LOAD_NS, &name(i), i + 1).await }
    })
    .await?;
    Ok(())
}

/// A GET that must answer 200.
async fn get(api: Api, path: String) -> anyhow::Result<()> {
    api.call(Method::GET, &path, None, StatusCode::OK)
        .await
        .map(drop)
}

/// One progress line per verb: both sides.
fn report(say: &impl Fn(&str), verb: &str, (off, on): &(Stats, Stats)) {
    say(&format!(
        "    {verb}: auth off p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         auth on p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        off.p50(),
        off.p99(),
        off.latencies.last().copied().unwrap_or(f64::NAN),
        on.p50(),
        on.p99(),
        on.latencies.last().copied().unwrap_or(f64::NAN),
    ));
}

/// Runs `op(server, i)` at `pace.rate` for `pace.duration` on each server,
/// in blocks of [`BLOCK`] alternating off, on, on, off, ... (each side's
/// `k`-th block continues its numbering at `k * per_block(pace)`);
/// returns the latencies of each side, merged.
async fn ab<T, F, Fut>(
    pace: Pace,
    what: &str,
    off: &T,
    on: &T,
    op: F,
) -> anyhow::Result<(Stats, Stats)>
where
    T: Clone,
    F: Fn(T, usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let block = Pace {
        rate: pace.rate,
        duration: BLOCK,
    };
    let n = block.requests();
    let mut offs = Vec::new();
    let mut ons = Vec::new();
    for cycle in 0..cycles(pace) {
        for (second, secured) in [(false, false), (false, true), (true, true), (true, false)] {
            let api = if secured { on } else { off };
            let label = format!("{what} (auth {})", if secured { "on" } else { "off" });
            let first = (2 * cycle + usize::from(second)) * n;
            let s = open_loop(block, &label, |i| op(api.clone(), first + i)).await?;
            if secured {
                ons.push(s);
            } else {
                offs.push(s);
            }
        }
    }
    let merge = |all: &[Stats]| Stats::merged(&all.iter().collect::<Vec<_>>());
    Ok((merge(&offs), merge(&ons)))
}

/// How many off-on-on-off cycles of [`BLOCK`]s make `pace.duration` on
/// each side (at least one).
fn cycles(pace: Pace) -> usize {
    ((pace.duration.as_secs_f64() / (2.0 * BLOCK.as_secs_f64())).round() as usize).max(1)
}

/// Requests each side gets in a phase.
pub fn per_side(pace: Pace) -> usize {
    2 * cycles(pace)
        * Pace {
            rate: pace.rate,
            duration: BLOCK,
        }
        .requests()
}

/// Creates, on the secured server as an administrator, the load's
/// namespace, a ClusterRole with the shape of upstream's `edit` (explicit
/// rules, ConfigMaps in the middle of them) and a RoleBinding of it to
/// [`USER`] in the namespace.
async fn grant(admin: &Api) -> anyhow::Result<()> {
    admin.create_namespace(LOAD_NS).await?;
    let all = ["create", "delete", "deletecollection", "patch", "update"];
    let read = ["get", "list", "watch"];
    let write_and_read: Vec<&str> = all.iter().chain(read.iter()).copied().collect();
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| json!({"apiGroups": groups, "resources": resources, "verbs": verbs});
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE},
        "rules": [
            rule(&[""], &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], &read),
            rule(&[""], &["serviceaccounts"], &["impersonate"]),
            rule(&[""], &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], &all),
            rule(&[""], &["pods/eviction"], &["create"]),
            rule(&[""], &["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], &write_and_read),
            rule(&["apps"], &["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"], &write_and_read),
            rule(&["autoscaling"], &["horizontalpodautoscalers"], &write_and_read),
            rule(&["batch"], &["cronjobs", "jobs"], &write_and_read),
            rule(&["networking.k8s.io"], &["ingresses", "networkpolicies"], &write_and_read),
            rule(&["policy"], &["poddisruptionbudgets"], &write_and_read),
            rule(&["coordination.k8s.io"], &["leases"], &write_and_read),
        ],
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": ROLE, "namespace": LOAD_NS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
    });
    let rbac = "/apis/rbac.authorization.k8s.io/v1";
    for (path, body) in [
        (format!("{rbac}/clusterroles"), role),
        (format!("{rbac}/namespaces/{LOAD_NS}/rolebindings"), binding),
    ] {
        admin
            .call(
                Method::POST,
                &path,
                Some(Bytes::from(body.to_string())),
                StatusCode::CREATED,
            )
            .await?;
    }
    Ok(())
}

/// Waits until the RBAC index has learnt the binding: the user may list
/// the namespace's ConfigMaps (403 until then).
async fn wait_allowed(user: &Api) -> anyhow::Result<()> {
    let deadline = Instant::now() + RBAC_DEADLINE;
    loop {
        match get(user.clone(), collection(LOAD_NS)).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(e.context(format!(
                    "{USER} is still not allowed to list ConfigMaps {RBAC_DEADLINE:?} after its RoleBinding"
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Times the secured server's authenticator on the user's certificate
/// and its authorizers on an update of a ConfigMap by that user, each
/// [`STEP_CALLS`] times, with no HTTP around them.
async fn steps(server: &InProcessServer, user: &ironclad_pki::Issued) -> anyhow::Result<Steps> {
    let state = server.api().state();
    let auth = state
        .auth
        .as_ref()
        .context("the secured server has no authenticator")?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(user.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .context("the user's certificate")?;
    let peer = Peer {
        addr: ([127, 0, 0, 1], 1).into(),
        certificates: Arc::new(chain),
    };
    let headers = HeaderMap::new();
    let mut authn = Vec::with_capacity(STEP_CALLS);
    let mut who = None;
    for _ in 0..STEP_CALLS {
        let t = Instant::now();
        let u = auth
            .authn
            .authenticate(state.store.as_ref(), Some(&peer), &headers)
            .await
            .map_err(|e| anyhow::anyhow!("authenticate the user: {}", e.message))?;
        authn.push(t.elapsed().as_secs_f64() * 1e6);
        who = Some(u);
    }
    let who = who.context("no authentication was timed")?;
    anyhow::ensure!(who.name == USER, "authenticated as {:?}", who.name);
    let attrs = Attributes::resource(who, "update", "", "configmaps", LOAD_NS, "cm-000000");
    let mut authz = Vec::with_capacity(STEP_CALLS);
    for _ in 0..STEP_CALLS {
        let t = Instant::now();
        let decision = auth.authz.authorize(&attrs);
        authz.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(decision.is_allowed(), "{USER} may not update: {decision:?}");
    }
    authn.sort_by(f64::total_cmp);
    authz.sort_by(f64::total_cmp);
    Ok(Steps {
        authn_p50: percentile(&authn, 50.0),
        authn_p99: percentile(&authn, 99.0),
        authz_p50: percentile(&authz, 50.0),
        authz_p99: percentile(&authz, 99.0),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn the_phase_is_cut_into_whole_cycles_of_blocks() {
        let pace = |ms| Pace {
            rate: 200,
            duration: Duration::from_millis(ms),
        };
        assert_eq!((cycles(pace(1000)), per_side(pace(1000))), (1, 200));
        assert_eq!((cycles(pace(8000)), per_side(pace(8000))), (8, 1600));
        // Shorter than a cycle: still one, so that both sides are measured.
        assert_eq!((cycles(pace(100)), per_side(pace(100))), (1, 200));
    }

    #[tokio::test]
    async fn the_sides_alternate_off_on_on_off_and_each_numbers_its_own_requests() {
        let pace = Pace {
            rate: 400,
            duration: Duration::from_millis(2000),
        };
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (off, on) = (false, true);
        let (o, n) = ab(pace, "record", &off, &on, |secured, i| {
            let calls = calls.clone();
            async move {
                calls.lock().unwrap().push((secured, i));
                Ok(())
            }
        })
        .await
        .unwrap();
        let per_block = 200;
        assert_eq!(o.latencies.len(), 4 * per_block);
        assert_eq!(n.latencies.len(), 4 * per_block);
        let calls = calls.lock().unwrap();
        let sides: Vec<bool> = calls.chunks(per_block).map(|c| c[0].0).collect();
        assert_eq!(
            sides,
            [false, true, true, false, false, true, true, false],
            "blocks alternate off, on, on, off"
        );
        for side in [false, true] {
            let mut seen: Vec<usize> = calls
                .iter()
                .filter(|(s, _)| *s == side)
                .map(|(_, i)| *i)
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..4 * per_block).collect::<Vec<_>>());
        }
    }

    #[tokio::test]
    async fn only_the_binding_lets_the_user_in_on_the_secured_server() {
        let pki = Pki::generate().unwrap();
        let admin = pki
            .client("admin", &[ironclad_auth::user::MASTERS])
            .unwrap();
        let user = pki.client(USER, &[]).unwrap();
        let off = InProcessServer::start(&pki, false, false).await.unwrap();
        let on = InProcessServer::start(&pki, true, false).await.unwrap();
        let user_off = Api::new(&off.credentials(&pki, &user)).unwrap();
        let user_on = Api::new(&on.credentials(&pki, &user)).unwrap();

        // Authentication off: the user may do anything.
        get(user_off.clone(), collection("default")).await.unwrap();
        // On: nothing until the binding, then ConfigMaps of its namespace
        // only.
        let e = get(user_on.clone(), collection("default"))
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("403"), "{e:#}");
        grant(&Api::new(&on.credentials(&pki, &admin)).unwrap())
            .await
            .unwrap();
        wait_allowed(&user_on).await.unwrap();
        let e = get(user_on.clone(), collection("default"))
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("403"), "{e:#}");

        let steps = steps(&on, &user).await.unwrap();
        assert!(steps.authn_p50 > 0.0 && steps.authn_p99 >= steps.authn_p50);
        assert!(steps.authz_p50 > 0.0 && steps.authz_p99 >= steps.authz_p50);
    }
}
