//! The CronJob controller against a real API server, with a fake clock the
//! test moves (a schedule every minute cannot be waited for): Jobs named by
//! their minute, status.active/lastScheduleTime/lastSuccessfulTime, the
//! concurrency policies, the starting deadline, suspend, history limits
//! and time zones. The test plays the Job controller by writing Job status.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use ironclad_controllers::cronjob::{CronJobConfig, SCHEDULED_TIMESTAMP_ANNOTATION, job_name};
use ironclad_controllers::job::FakeClock;
use ironclad_controllers::{Config, Context};
use ironclad_testkit::{TestCluster, eventually};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Fixture {
    _cluster: TestCluster,
    client: Client,
    clock: Arc<FakeClock>,
    _ctl: Running,
}

async fn setup() -> Fixture {
    let cluster = TestCluster::start().await.expect("cluster");
    let client = cluster.client().expect("client");
    let clock = FakeClock::new(Timestamp::now());
    let ctx = Context::new(client.clone(), Config::default());
    let config = CronJobConfig {
        clock: clock.clone(),
        ..CronJobConfig::default()
    };
    let ctl = Running(tokio::spawn(async move {
        let _ = ironclad_controllers::cronjob::run_with(ctx, config).await;
    }));
    Fixture {
        _cluster: cluster,
        client,
        clock,
        _ctl: ctl,
    }
}

fn cronjob(name: &str, schedule: &str, extra: serde_json::Value) -> CronJob {
    let mut spec = json!({
        "schedule": schedule,
        "jobTemplate": {
            "metadata": {"labels": {"app": name}},
            "spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox"}],
            }}},
        },
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

impl Fixture {
    async fn create(&self, cj: &CronJob) -> CronJob {
        Api::<CronJob>::namespaced(self.client.clone(), "default")
            .create(&PostParams::default(), cj)
            .await
            .expect("create cronjob")
    }

    async fn cronjob(&self, name: &str) -> CronJob {
        Api::<CronJob>::namespaced(self.client.clone(), "default")
            .get(name)
            .await
            .expect("get cronjob")
    }

    async fn jobs(&self) -> Vec<Job> {
        let mut jobs = Api::<Job>::namespaced(self.client.clone(), "default")
            .list(&ListParams::default())
            .await
            .expect("list jobs")
            .items;
        jobs.sort_by_key(|j| j.name_any());
        jobs
    }

    async fn job_names(&self) -> Vec<String> {
        self.jobs().await.iter().map(|j| j.name_any()).collect()
    }

    /// Moves the clock to `at` and waits until the Jobs are `want`.
    async fn at(&self, at: Timestamp, want: &[String]) {
        self.clock.set(at);
        eventually(&format!("jobs {want:?}"), WAIT, || async {
            let names = self.job_names().await;
            (names == want).then_some(())
        })
        .await;
    }

    /// Plays the Job controller: the Job ends with `type_` at `at`.
    async fn finish(&self, job: &str, type_: &str, at: Timestamp) {
        let mut status = json!({
            "startTime": at.to_string(),
            "conditions": [{"type": type_, "status": "True", "lastTransitionTime": at.to_string()}],
        });
        if type_ == "Complete" {
            status["completionTime"] = json!(at.to_string());
        }
        Api::<Job>::namespaced(self.client.clone(), "default")
            .patch_status(
                job,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
            .expect("finish job");
    }

    async fn event_reasons(&self, name: &str) -> Vec<String> {
        Api::<Event>::namespaced(self.client.clone(), "default")
            .list(&ListParams::default())
            .await
            .expect("events")
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .filter_map(|e| e.reason)
            .collect()
    }

    async fn wait_event(&self, name: &str, reason: &str) {
        eventually(&format!("event {reason}"), WAIT, || async {
            self.event_reasons(name)
                .await
                .iter()
                .any(|r| r == reason)
                .then_some(())
        })
        .await;
    }
}

/// The `n`th whole minute after the CronJob's creation.
fn minute_after(cj: &CronJob, n: i64) -> Timestamp {
    let created = cj.creation_timestamp().unwrap().0.as_second();
    Timestamp::from_second((created.div_euclid(60) + n) * 60).unwrap()
}

fn plus(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(secs)).unwrap()
}

fn active_names(cj: &CronJob) -> Vec<String> {
    cj.status
        .as_ref()
        .and_then(|s| s.active.as_ref())
        .map(|a| a.iter().filter_map(|r| r.name.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_minute_makes_one_job_per_minute_named_by_the_minute() {
    let f = setup().await;
    let cj = f.create(&cronjob("tick", "* * * * *", json!({}))).await;
    let (m1, m2) = (minute_after(&cj, 1), minute_after(&cj, 2));
    let (j1, j2) = (job_name("tick", m1), job_name("tick", m2));
    assert_eq!(j1, format!("tick-{}", m1.as_second() / 60));

    f.at(plus(m1, 1), std::slice::from_ref(&j1)).await;
    let job = &f.jobs().await[0];
    let owner = &job.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("CronJob", "tick")
    );
    assert_eq!(owner.controller, Some(true));
    assert_eq!(job.labels()["app"], "tick");
    assert_eq!(
        job.annotations()[SCHEDULED_TIMESTAMP_ANNOTATION],
        m1.to_string()
    );
    let status = eventually("active and lastScheduleTime", WAIT, || async {
        let c = f.cronjob("tick").await;
        (active_names(&c) == [j1.clone()]).then(|| c.status.unwrap())
    })
    .await;
    assert_eq!(status.last_schedule_time.unwrap().0, m1);

    // Concurrency Allow: the next minute runs beside the first.
    f.at(plus(m2, 1), &[j1.clone(), j2.clone()]).await;
    f.finish(&j1, "Complete", plus(m2, 10)).await;
    let c = eventually("j1 left active, lastSuccessfulTime", WAIT, || async {
        let c = f.cronjob("tick").await;
        let done = c
            .status
            .as_ref()
            .and_then(|s| s.last_successful_time.as_ref())
            .is_some();
        (active_names(&c) == [j2.clone()] && done).then_some(c)
    })
    .await;
    let st = c.status.unwrap();
    assert_eq!(st.last_successful_time.unwrap().0, plus(m2, 10));
    assert_eq!(st.last_schedule_time.unwrap().0, m2);
    f.wait_event("tick", "SawCompletedJob").await;
    assert!(
        f.event_reasons("tick")
            .await
            .iter()
            .any(|r| r == "SuccessfulCreate")
    );
}

#[tokio::test]
async fn forbid_skips_while_a_run_is_active_and_starts_late_after() {
    let f = setup().await;
    let cj = f
        .create(&cronjob(
            "solo",
            "* * * * *",
            json!({"concurrencyPolicy": "Forbid"}),
        ))
        .await;
    let (m1, m2) = (minute_after(&cj, 1), minute_after(&cj, 2));
    let j1 = job_name("solo", m1);
    f.at(plus(m1, 1), std::slice::from_ref(&j1)).await;
    eventually("j1 active", WAIT, || async {
        (active_names(&f.cronjob("solo").await) == [j1.clone()]).then_some(())
    })
    .await;
    f.clock.set(plus(m2, 1));
    f.wait_event("solo", "JobAlreadyActive").await;
    assert_eq!(f.job_names().await, std::slice::from_ref(&j1));
    // The run ends before the next minute: the skipped start happens late
    // (no starting deadline), named for the minute it was due.
    f.finish(&j1, "Complete", plus(m2, 20)).await;
    f.at(plus(m2, 30), &[j1.clone(), job_name("solo", m2)])
        .await;
}

#[tokio::test]
async fn replace_deletes_the_running_job_for_the_new_one() {
    let f = setup().await;
    let cj = f
        .create(&cronjob(
            "swap",
            "* * * * *",
            json!({"concurrencyPolicy": "Replace"}),
        ))
        .await;
    let (m1, m2) = (minute_after(&cj, 1), minute_after(&cj, 2));
    let (j1, j2) = (job_name("swap", m1), job_name("swap", m2));
    f.at(plus(m1, 1), std::slice::from_ref(&j1)).await;
    eventually("j1 active", WAIT, || async {
        (active_names(&f.cronjob("swap").await) == [j1.clone()]).then_some(())
    })
    .await;
    f.at(plus(m2, 1), std::slice::from_ref(&j2)).await;
    eventually("only j2 active", WAIT, || async {
        (active_names(&f.cronjob("swap").await) == [j2.clone()]).then_some(())
    })
    .await;
    f.wait_event("swap", "SuccessfulDelete").await;
}

#[tokio::test]
async fn a_start_later_than_the_starting_deadline_is_skipped() {
    let f = setup().await;
    let cj = f
        .create(&cronjob(
            "late",
            "* * * * *",
            json!({"startingDeadlineSeconds": 10}),
        ))
        .await;
    let sibling = f.create(&cronjob("lenient", "* * * * *", json!({}))).await;
    let m1 = minute_after(&cj, 1).max(minute_after(&sibling, 1));
    let m2 = plus(m1, 60);
    // 30 s late: the sibling without a deadline still starts its run, the
    // one with a 10 s deadline lets it go.
    f.at(plus(m1, 30), &[job_name("lenient", m1)]).await;
    eventually("the sibling's status", WAIT, || async {
        (!active_names(&f.cronjob("lenient").await).is_empty()).then_some(())
    })
    .await;
    assert!(
        f.cronjob("late")
            .await
            .status
            .and_then(|s| s.last_schedule_time)
            .is_none()
    );
    // On time for the next one.
    let want = [
        job_name("late", m2),
        job_name("lenient", m1),
        job_name("lenient", m2),
    ];
    f.at(plus(m2, 5), &want).await;
}

#[tokio::test]
async fn suspended_cronjobs_start_nothing_until_resumed() {
    let f = setup().await;
    let cj = f
        .create(&cronjob("paused", "* * * * *", json!({"suspend": true})))
        .await;
    // A sibling on the same schedule shows when the controller has acted
    // at the new time.
    let sibling = f.create(&cronjob("awake", "* * * * *", json!({}))).await;
    let m1 = minute_after(&cj, 1).max(minute_after(&sibling, 1));
    f.at(plus(m1, 5), &[job_name("awake", m1)]).await;
    eventually("the sibling's status", WAIT, || async {
        (!active_names(&f.cronjob("awake").await).is_empty()).then_some(())
    })
    .await;
    assert!(
        f.cronjob("paused")
            .await
            .status
            .and_then(|s| s.last_schedule_time)
            .is_none()
    );
    Api::<CronJob>::namespaced(f.client.clone(), "default")
        .patch(
            "paused",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": false}})),
        )
        .await
        .unwrap();
    // Resumed, it starts the run it missed (no starting deadline).
    f.at(
        plus(m1, 15),
        &[job_name("awake", m1), job_name("paused", m1)],
    )
    .await;
}

#[tokio::test]
async fn finished_jobs_beyond_the_history_limits_are_deleted() {
    let f = setup().await;
    let limits = json!({"successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1});
    let cj = f.create(&cronjob("hist", "* * * * *", limits)).await;
    let m: Vec<Timestamp> = (1..=4).map(|n| minute_after(&cj, n)).collect();
    let names: Vec<String> = m.iter().map(|t| job_name("hist", *t)).collect();
    f.at(plus(m[0], 1), &names[..1]).await;
    f.finish(&names[0], "Complete", plus(m[0], 5)).await;
    f.at(plus(m[1], 1), &names[..2]).await;
    f.finish(&names[1], "Complete", plus(m[1], 5)).await;
    // Two successful: the older goes.
    f.at(plus(m[1], 10), &names[1..2]).await;
    f.at(plus(m[2], 1), &names[1..3]).await;
    f.finish(&names[2], "Failed", plus(m[2], 5)).await;
    f.at(plus(m[3], 1), &names[1..4]).await;
    f.finish(&names[3], "Failed", plus(m[3], 5)).await;
    // Two failed: the older goes; the successful one stays.
    f.at(plus(m[3], 10), &[names[1].clone(), names[3].clone()])
        .await;
}

#[tokio::test]
async fn time_zone_schedules_run_at_local_wall_time() {
    let f = setup().await;
    let cj = f
        .create(&cronjob(
            "nyc",
            "0 9 * * *",
            json!({"timeZone": "America/New_York"}),
        ))
        .await;
    // The first 09:00 in New York after the CronJob was created.
    let created = cj.creation_timestamp().unwrap().0;
    let zone = k8s_openapi::jiff::tz::TimeZone::get("America/New_York").unwrap();
    let local = created.to_zoned(zone.clone());
    let mut nine = local.date().at(9, 0, 0, 0).to_zoned(zone).unwrap();
    if nine.timestamp() <= created {
        nine = nine.tomorrow().unwrap();
    }
    let due = nine.timestamp();
    f.at(plus(due, 1), &[job_name("nyc", due)]).await;
    let job = &f.jobs().await[0];
    let stamp = &job.annotations()[SCHEDULED_TIMESTAMP_ANNOTATION];
    assert!(
        stamp.ends_with("T09:00:00-04:00") || stamp.ends_with("T09:00:00-05:00"),
        "{stamp}"
    );
}

#[tokio::test]
async fn with_the_job_controller_a_scheduled_run_completes() {
    let f = setup().await;
    let ctx = Context::new(f.client.clone(), Config::default());
    let _jobs = Running(tokio::spawn(async move {
        let _ = ironclad_controllers::job::run(ctx).await;
    }));
    let cj = f.create(&cronjob("e2e", "* * * * *", json!({}))).await;
    let m1 = minute_after(&cj, 1);
    let j1 = job_name("e2e", m1);
    f.at(plus(m1, 1), std::slice::from_ref(&j1)).await;
    // The kubelet: the Job's pod succeeds.
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(f.client.clone(), "default");
    let lp = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={j1}"));
    let pod = eventually("the job's pod", WAIT, || async {
        pods.list(&lp).await.unwrap().items.into_iter().next()
    })
    .await;
    ironclad_testkit::mark_pod(&f.client, &pod, ironclad_testkit::PodState::Succeeded)
        .await
        .unwrap();
    let st = eventually("lastSuccessfulTime", WAIT, || async {
        let c = f.cronjob("e2e").await;
        c.status
            .filter(|s| s.last_successful_time.is_some() && s.active.is_none())
    })
    .await;
    assert_eq!(st.last_schedule_time.unwrap().0, m1);
}
