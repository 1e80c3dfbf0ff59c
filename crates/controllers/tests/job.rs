//! The Job controller against a real API server, the test acting as the
//! kubelet: parallelism never exceeded, completion, backoff and failure,
//! the active deadline, TTL after finished, suspend/resume, Indexed Jobs,
//! and pods deleted before they were counted.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ironclad_controllers::job::{COMPLETION_INDEX_ANNOTATION, JobConfig, TRACKING_FINALIZER};
use ironclad_controllers::{Config, Context};
use ironclad_testkit::{PodState, TestCluster, eventually, mark_pod};
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event as WatchEvent};
use kube::{Client, ResourceExt};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// Aborts the controller when the test ends (or on purpose, mid-test).
struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn start_controller(client: &Client, backoff_base: Duration) -> Running {
    let ctx = Context::new(client.clone(), Config::default());
    let config = JobConfig {
        backoff_base,
        ..JobConfig::default()
    };
    Running(tokio::spawn(async move {
        let _ = ironclad_controllers::job::run_with(ctx, config).await;
    }))
}

async fn setup() -> (TestCluster, Client) {
    // RUST_LOG=ironclad_controllers=debug shows the controller's syncs.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.client().expect("client");
    (cluster, client)
}

fn job(name: &str, spec: serde_json::Value) -> Job {
    let mut spec = spec;
    spec["template"] = json!({
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "work", "image": "busybox"}],
        }
    });
    serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .expect("job")
}

async fn create(client: &Client, j: &Job) -> Job {
    Api::<Job>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), j)
        .await
        .expect("create job")
}

async fn get_job(client: &Client, name: &str) -> Option<Job> {
    Api::<Job>::namespaced(client.clone(), "default")
        .get_opt(name)
        .await
        .expect("get job")
}

async fn pods_of(client: &Client, job: &str) -> Vec<Pod> {
    let lp = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
    let mut pods = Api::<Pod>::namespaced(client.clone(), "default")
        .list(&lp)
        .await
        .expect("list pods")
        .items;
    pods.sort_by_key(|p| p.creation_timestamp().map(|t| t.0));
    pods
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn is_active(p: &Pod) -> bool {
    !matches!(phase(p), "Succeeded" | "Failed") && p.metadata.deletion_timestamp.is_none()
}

fn condition<'a>(j: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    j.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

async fn wait_condition(client: &Client, name: &str, type_: &str) -> Job {
    eventually(&format!("job {name} {type_}"), WAIT, || async {
        get_job(client, name)
            .await
            .filter(|j| condition(j, type_).is_some())
    })
    .await
}

async fn event_reasons(client: &Client, job: &str) -> Vec<String> {
    Api::<Event>::namespaced(client.clone(), "default")
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(job))
        .filter_map(|e| e.reason)
        .collect()
}

/// Records, from a watch, the most pods of one Job active at once.
struct ActiveRecorder {
    max: Arc<Mutex<usize>>,
    _task: Running,
}

impl ActiveRecorder {
    fn start(client: &Client, job: &str) -> ActiveRecorder {
        let api: Api<Pod> = Api::namespaced(client.clone(), "default");
        let cfg = watcher::Config::default().labels(&format!("batch.kubernetes.io/job-name={job}"));
        let max = Arc::new(Mutex::new(0));
        let seen = max.clone();
        let task = tokio::spawn(async move {
            let mut pods: HashMap<String, Pod> = HashMap::new();
            let mut stream = watcher::watcher(api, cfg).boxed();
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(WatchEvent::Apply(p) | WatchEvent::InitApply(p)) => {
                        pods.insert(p.name_any(), p);
                    }
                    Ok(WatchEvent::Delete(p)) => {
                        pods.remove(&p.name_any());
                    }
                    _ => continue,
                }
                let active = pods.values().filter(|p| is_active(p)).count();
                let mut m = seen.lock().unwrap();
                *m = (*m).max(active);
            }
        });
        ActiveRecorder {
            max,
            _task: Running(task),
        }
    }

    fn max(&self) -> usize {
        *self.max.lock().unwrap()
    }
}

#[tokio::test]
async fn completions_5_parallelism_2_never_runs_more_than_2_and_completes() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_secs(10));
    let recorder = ActiveRecorder::start(&client, "five");
    create(
        &client,
        &job("five", json!({"completions": 5, "parallelism": 2})),
    )
    .await;

    // The kubelet: start pending pods, finish running ones one at a time,
    // checking at every step that no more than two are active.
    let done = eventually("job five complete", WAIT, || async {
        let pods = pods_of(&client, "five").await;
        let active = pods.iter().filter(|p| is_active(p)).count();
        assert!(active <= 2, "{active} pods active at once");
        if let Some(p) = pods.iter().find(|p| is_active(p) && phase(p) == "Running") {
            mark_pod(&client, p, PodState::Succeeded)
                .await
                .expect("mark");
        }
        for p in pods
            .iter()
            .filter(|p| is_active(p) && phase(p) != "Running")
        {
            mark_pod(&client, p, PodState::RunningReady)
                .await
                .expect("mark");
        }
        get_job(&client, "five")
            .await
            .filter(|j| condition(j, "Complete").is_some())
    })
    .await;

    assert_eq!(
        recorder.max(),
        2,
        "the watch saw the parallelism used, never exceeded"
    );
    let st = done.status.clone().unwrap();
    assert_eq!(st.succeeded, Some(5));
    assert_eq!(st.failed, None);
    assert_eq!(st.active, None);
    assert_eq!(st.ready, Some(0));
    assert_eq!(st.terminating, Some(0));
    assert!(st.start_time.is_some() && st.completion_time.is_some());
    let u = st.uncounted_terminated_pods.unwrap_or_default();
    assert!(u.succeeded.is_none() && u.failed.is_none());
    let met = condition(&done, "SuccessCriteriaMet").expect("SuccessCriteriaMet");
    assert_eq!(met.reason.as_deref(), Some("CompletionsReached"));
    let complete = condition(&done, "Complete").unwrap();
    assert_eq!(complete.reason.as_deref(), Some("CompletionsReached"));
    assert_eq!(
        complete.message.as_deref(),
        Some("Reached expected number of succeeded pods")
    );
    assert_eq!(st.completion_time, complete.last_transition_time);

    let pods = pods_of(&client, "five").await;
    assert_eq!(pods.len(), 5, "exactly five pods were created");
    for p in &pods {
        assert!(!p.finalizers().iter().any(|f| f == TRACKING_FINALIZER));
        assert_eq!(p.metadata.generate_name.as_deref(), Some("five-"));
        let owner = &p.owner_references()[0];
        assert_eq!((owner.kind.as_str(), owner.controller), ("Job", Some(true)));
        assert_eq!(owner.block_owner_deletion, Some(true));
    }
    let reasons = eventually("events", WAIT, || async {
        let r = event_reasons(&client, "five").await;
        (r.iter().any(|r| r == "Completed")).then_some(r)
    })
    .await;
    assert_eq!(
        reasons.iter().filter(|r| *r == "SuccessfulCreate").count(),
        5
    );
}

/// Waits until just after a whole second, so the second-precision
/// timestamps a kubelet writes lose little of the failure time.
async fn align_to_second() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_millis();
    if ms > 250 {
        tokio::time::sleep(Duration::from_millis(u64::from(1020 - ms))).await;
    }
}

#[tokio::test]
async fn a_failing_job_backs_off_exponentially_and_fails_after_backoff_limit() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_secs(1));
    create(&client, &job("flaky", json!({"backoffLimit": 2}))).await;

    // Fail every pod as soon as it appears; note when each appeared and
    // when the previous one failed.
    let mut failed_at: Vec<Instant> = Vec::new();
    let mut gaps: Vec<Duration> = Vec::new();
    for n in 0..3 {
        let pod = eventually(&format!("pod {n}"), WAIT, || async {
            let pods = pods_of(&client, "flaky").await;
            let active: Vec<Pod> = pods.into_iter().filter(is_active).collect();
            assert!(active.len() <= 1);
            active.into_iter().next()
        })
        .await;
        if let Some(t) = failed_at.last() {
            gaps.push(t.elapsed());
        }
        align_to_second().await;
        mark_pod(&client, &pod, PodState::Failed)
            .await
            .expect("mark");
        failed_at.push(Instant::now());
    }
    let failed = wait_condition(&client, "flaky", "Failed").await;
    assert!(
        gaps[0] >= Duration::from_millis(600),
        "first backoff ~1 s, was {gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(1600),
        "second backoff ~2 s, was {gaps:?}"
    );
    assert!(
        gaps[1] > gaps[0] + Duration::from_millis(500),
        "backoff grows: {gaps:?}"
    );

    let st = failed.status.clone().unwrap();
    assert_eq!(st.failed, Some(3));
    assert_eq!(st.active, None);
    assert!(st.completion_time.is_none());
    let c = condition(&failed, "Failed").unwrap();
    assert_eq!(c.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(
        c.message.as_deref(),
        Some("Job has reached the specified backoff limit")
    );
    let target = condition(&failed, "FailureTarget").expect("FailureTarget");
    assert_eq!(target.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(
        pods_of(&client, "flaky").await.len(),
        3,
        "no pod after the last failure"
    );
    eventually("BackoffLimitExceeded event", WAIT, || async {
        let r = event_reasons(&client, "flaky").await;
        r.iter().any(|r| r == "BackoffLimitExceeded").then_some(())
    })
    .await;
}

#[tokio::test]
async fn active_deadline_fails_the_job_and_stops_its_pods() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_secs(10));
    create(
        &client,
        &job(
            "slow",
            json!({"parallelism": 2, "completions": 4, "activeDeadlineSeconds": 1}),
        ),
    )
    .await;
    let pods = eventually("two pods", WAIT, || async {
        let pods = pods_of(&client, "slow").await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    for p in &pods {
        mark_pod(&client, p, PodState::RunningReady)
            .await
            .expect("mark");
    }
    let failed = wait_condition(&client, "slow", "Failed").await;
    let c = condition(&failed, "Failed").unwrap();
    assert_eq!(c.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(
        c.message.as_deref(),
        Some("Job was active longer than specified deadline")
    );
    let st = failed.status.unwrap();
    assert_eq!(st.failed, Some(2), "the stopped pods count as failed");
    assert_eq!((st.active, st.terminating), (None, Some(0)));
    eventually("pods gone", WAIT, || async {
        pods_of(&client, "slow").await.is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn ttl_after_finished_deletes_the_job() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_secs(10));
    // The TTL counts from the Complete condition's whole-second
    // timestamp: 2 s leaves the finished Job visible for at least 1 s.
    create(
        &client,
        &job("brief", json!({"ttlSecondsAfterFinished": 2})),
    )
    .await;
    let pod = eventually("pod", WAIT, || async {
        pods_of(&client, "brief").await.into_iter().next()
    })
    .await;
    mark_pod(&client, &pod, PodState::Succeeded)
        .await
        .expect("mark");
    wait_condition(&client, "brief", "Complete").await;
    let finished = Instant::now();
    // Deleted with propagation Foreground: gone, or held by the
    // foregroundDeletion finalizer until its pods are.
    eventually("job deleted", WAIT, || async {
        match get_job(&client, "brief").await {
            None => Some(()),
            Some(j) => j.metadata.deletion_timestamp.map(|_| ()),
        }
    })
    .await;
    assert!(
        finished.elapsed() >= Duration::from_millis(500),
        "deleted only after its TTL"
    );
}

#[tokio::test]
async fn suspend_deletes_pods_without_counting_them_and_resume_restarts() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_secs(10));
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    create(
        &client,
        &job(
            "nap",
            json!({"parallelism": 2, "completions": 4, "suspend": true}),
        ),
    )
    .await;
    let j = wait_condition(&client, "nap", "Suspended").await;
    assert!(j.status.as_ref().unwrap().start_time.is_none());
    assert!(pods_of(&client, "nap").await.is_empty());

    let suspend = |on: bool| json!({"spec": {"suspend": on}});
    jobs.patch(
        "nap",
        &PatchParams::default(),
        &Patch::Merge(suspend(false)),
    )
    .await
    .expect("resume");
    let pods = eventually("two pods after resume", WAIT, || async {
        let pods = pods_of(&client, "nap").await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    let j = eventually("resumed", WAIT, || async {
        get_job(&client, "nap").await.filter(|j| {
            j.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c.type_ == "Suspended" && c.status == "False")
                })
        })
    })
    .await;
    assert!(j.status.as_ref().unwrap().start_time.is_some());
    for p in &pods {
        mark_pod(&client, p, PodState::RunningReady)
            .await
            .expect("mark");
    }

    jobs.patch("nap", &PatchParams::default(), &Patch::Merge(suspend(true)))
        .await
        .expect("suspend");
    eventually("pods deleted on suspend", WAIT, || async {
        pods_of(&client, "nap").await.is_empty().then_some(())
    })
    .await;
    let j = wait_condition(&client, "nap", "Suspended").await;
    let st = j.status.unwrap();
    assert_eq!((st.failed, st.succeeded, st.active), (None, None, None));
    let reasons = event_reasons(&client, "nap").await;
    assert!(reasons.iter().any(|r| r == "Suspended") && reasons.iter().any(|r| r == "Resumed"));
}

#[tokio::test]
async fn indexed_job_gives_each_pod_an_index_and_completes_all_indexes() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_millis(200));
    create(
        &client,
        &job(
            "idx",
            json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"}),
        ),
    )
    .await;
    let pods = eventually("three pods", WAIT, || async {
        let pods = pods_of(&client, "idx").await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    let mut seen: Vec<String> = pods
        .iter()
        .map(|p| p.annotations()[COMPLETION_INDEX_ANNOTATION].clone())
        .collect();
    seen.sort();
    assert_eq!(seen, ["0", "1", "2"]);
    for p in &pods {
        let ix = &p.annotations()[COMPLETION_INDEX_ANNOTATION];
        assert_eq!(&p.labels()[COMPLETION_INDEX_ANNOTATION], ix);
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some(format!("idx-{ix}").as_str()));
        assert!(p.name_any().starts_with(&format!("idx-{ix}-")));
        let env = spec.containers[0].env.as_ref().unwrap();
        assert!(env.iter().any(|e| e.name == "JOB_COMPLETION_INDEX"));
    }
    // Index 1 fails once and is recreated with the same index.
    let one = pods
        .iter()
        .find(|p| p.annotations()[COMPLETION_INDEX_ANNOTATION] == "1")
        .unwrap();
    mark_pod(&client, one, PodState::Failed)
        .await
        .expect("mark");
    let again = eventually("index 1 again", WAIT, || async {
        pods_of(&client, "idx")
            .await
            .into_iter()
            .find(|p| is_active(p) && p.annotations()[COMPLETION_INDEX_ANNOTATION] == "1")
    })
    .await;
    assert_ne!(again.name_any(), one.name_any());
    for p in pods.iter().filter(|p| p.name_any() != one.name_any()) {
        mark_pod(&client, p, PodState::Succeeded)
            .await
            .expect("mark");
    }
    let partial = eventually("indexes 0 and 2 done", WAIT, || async {
        get_job(&client, "idx").await.filter(|j| {
            j.status
                .as_ref()
                .and_then(|s| s.completed_indexes.as_deref())
                == Some("0,2")
        })
    })
    .await;
    assert!(condition(&partial, "Complete").is_none());
    mark_pod(&client, &again, PodState::Succeeded)
        .await
        .expect("mark");
    let done = wait_condition(&client, "idx", "Complete").await;
    let st = done.status.unwrap();
    assert_eq!(st.completed_indexes.as_deref(), Some("0-2"));
    assert_eq!((st.succeeded, st.failed), (Some(3), Some(1)));
}

#[tokio::test]
async fn pods_deleted_before_they_were_counted_are_still_counted() {
    let (_cluster, client) = setup().await;
    let ctl = start_controller(&client, Duration::from_millis(100));
    create(
        &client,
        &job("lost", json!({"completions": 2, "parallelism": 2})),
    )
    .await;
    let pods = eventually("two pods", WAIT, || async {
        let pods = pods_of(&client, "lost").await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    // The controller goes away; meanwhile one pod succeeds, one fails,
    // and both are deleted. The tracking finalizer keeps them.
    drop(ctl);
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    mark_pod(&client, &pods[0], PodState::Succeeded)
        .await
        .expect("mark");
    mark_pod(&client, &pods[1], PodState::Failed)
        .await
        .expect("mark");
    for p in &pods {
        api.delete(&p.name_any(), &DeleteParams::default())
            .await
            .expect("delete");
        let held = api.get(&p.name_any()).await.expect("held by the finalizer");
        assert!(held.metadata.deletion_timestamp.is_some());
    }

    // A new controller (a new leader) counts them and lets them go.
    let _ctl = start_controller(&client, Duration::from_millis(100));
    let counted = eventually("both counted", WAIT, || async {
        get_job(&client, "lost").await.filter(|j| {
            let st = j.status.clone().unwrap_or_default();
            st.succeeded == Some(1) && st.failed == Some(1)
        })
    })
    .await;
    assert!(condition(&counted, "Complete").is_none());
    for p in &pods {
        eventually("deleted pod gone", WAIT, || async {
            api.get_opt(&p.name_any())
                .await
                .expect("get")
                .is_none()
                .then_some(())
        })
        .await;
    }
    // The missing completion gets a new pod; it finishes the Job.
    let last = eventually("a replacement", WAIT, || async {
        pods_of(&client, "lost").await.into_iter().find(is_active)
    })
    .await;
    mark_pod(&client, &last, PodState::Succeeded)
        .await
        .expect("mark");
    let done = wait_condition(&client, "lost", "Complete").await;
    let st = done.status.unwrap();
    assert_eq!((st.succeeded, st.failed), (Some(2), Some(1)));
}

#[tokio::test]
async fn orphan_pods_matching_the_selector_are_adopted_and_counted() {
    let (_cluster, client) = setup().await;
    let j = create(&client, &job("adopt", json!({"completions": 1}))).await;
    let labels: BTreeMap<String, String> = j
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap();
    let orphan: Pod = serde_json::from_value(json!({
        "metadata": {"name": "stray", "labels": labels},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
    }))
    .unwrap();
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let orphan = api
        .create(&PostParams::default(), &orphan)
        .await
        .expect("orphan");
    mark_pod(&client, &orphan, PodState::Succeeded)
        .await
        .expect("mark");

    let _ctl = start_controller(&client, Duration::from_secs(10));
    let done = wait_condition(&client, "adopt", "Complete").await;
    assert_eq!(done.status.unwrap().succeeded, Some(1));
    let pods = pods_of(&client, "adopt").await;
    assert_eq!(pods.len(), 1, "the adopted pod did the work");
    let owners = pods[0].owner_references();
    assert_eq!(owners.len(), 1);
    assert_eq!(
        (owners[0].uid.as_str(), owners[0].controller),
        (j.uid().unwrap().as_str(), Some(true))
    );
    assert!(!pods[0].finalizers().iter().any(|f| f == TRACKING_FINALIZER));
}

#[tokio::test]
async fn a_deleted_jobs_pods_lose_the_tracking_finalizer() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_secs(10));
    create(
        &client,
        &job("gone", json!({"parallelism": 2, "completions": 2})),
    )
    .await;
    let pods = eventually("two tracked pods", WAIT, || async {
        let pods = pods_of(&client, "gone").await;
        let tracked = pods
            .iter()
            .filter(|p| p.finalizers().iter().any(|f| f == TRACKING_FINALIZER))
            .count();
        (tracked == 2).then_some(pods)
    })
    .await;
    Api::<Job>::namespaced(client.clone(), "default")
        .delete("gone", &DeleteParams::background())
        .await
        .expect("delete job");
    // No garbage collector runs here: the pods stay, but nothing holds
    // them any more.
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    for p in &pods {
        eventually("finalizer removed", WAIT, || async {
            let p = api.get(&p.name_any()).await.expect("pod");
            (!p.finalizers().iter().any(|f| f == TRACKING_FINALIZER)).then_some(())
        })
        .await;
    }
}

/// The kubelet reports the pod's container exited with `code`.
async fn fail_with_exit_code(client: &Client, pod: &Pod, code: i32) {
    let containers: Vec<serde_json::Value> = pod
        .spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "image": c.image, "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "reason": "Error"}},
            })
        })
        .collect();
    let body = json!({"status": {"phase": "Failed", "containerStatuses": containers}});
    Api::<Pod>::namespaced(client.clone(), "default")
        .patch_status(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(body),
        )
        .await
        .expect("fail pod");
}

#[tokio::test]
async fn the_pod_failure_policy_ignores_or_fails_the_job_by_exit_code() {
    let (_cluster, client) = setup().await;
    let _ctl = start_controller(&client, Duration::from_millis(100));
    let policy = json!({"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "work", "operator": "In", "values": [42]}},
        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [1]}},
    ]});
    create(
        &client,
        &job(
            "policy",
            json!({"backoffLimit": 0, "podFailurePolicy": policy}),
        ),
    )
    .await;
    let first = eventually("first pod", WAIT, || async {
        pods_of(&client, "policy").await.into_iter().find(is_active)
    })
    .await;
    // Exit code 1 is ignored: not counted (backoffLimit 0 is not
    // exceeded) and the pod is replaced.
    fail_with_exit_code(&client, &first, 1).await;
    let second = eventually("a replacement", WAIT, || async {
        pods_of(&client, "policy")
            .await
            .into_iter()
            .find(|p| is_active(p) && p.name_any() != first.name_any())
    })
    .await;
    let j = get_job(&client, "policy").await.unwrap();
    assert!(condition(&j, "Failed").is_none());
    assert_eq!(j.status.unwrap().failed, None);
    // Exit code 42 fails the Job at once.
    fail_with_exit_code(&client, &second, 42).await;
    let failed = wait_condition(&client, "policy", "Failed").await;
    let c = condition(&failed, "Failed").unwrap();
    assert_eq!(c.reason.as_deref(), Some("PodFailurePolicy"));
    assert_eq!(
        c.message.clone().unwrap(),
        format!(
            "Container work for pod default/{} failed with exit code 42 matching FailJob rule at index 0",
            second.name_any()
        )
    );
    assert_eq!(failed.status.unwrap().failed, Some(1));
}
