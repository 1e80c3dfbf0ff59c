//! Two servers on one etcd: one leads the controller-manager and the
//! scheduler; `kill -9` it and the other takes both over. Prints the
//! measured failover time (the target, 3 s, is a property of the Lease
//! timings: 2 s lease + 250 ms retry; the deadline here only catches a
//! failover that does not happen).

#![allow(clippy::unwrap_used)] // test code: a failure panics with its error

mod support;

use std::time::{Duration, Instant};

use ironclad_store_etcd::EtcdCluster;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use support::Proc;

fn etcd_available() -> bool {
    std::process::Command::new("etcd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_leading_server_hands_the_control_loops_over() {
    if !etcd_available() {
        eprintln!("skipped: etcd is not installed (scripts/setup.sh installs it)");
        return;
    }
    let etcd = EtcdCluster::start(1).await.unwrap();
    let url = etcd.client_urls().join(",");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let mut a = Proc::start("server", d1.path(), &["--etcd-servers", &url]);
    a.expect("ready");
    a.saw("controller-manager: leading");
    a.saw("scheduler: leading");
    // The second server joins the first's cluster with its join token.
    let token = std::fs::read_to_string(d1.path().join("token")).unwrap();
    let mut b = Proc::start(
        "server",
        d2.path(),
        &["--etcd-servers", &url, "--token", token.trim()],
    );
    b.expect("ready");
    // B must have read the Lease once before A dies, as a real standby
    // has; its first campaign attempt happens right after start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !b.seen.iter().any(|l| l.contains(": leading")),
        "the standby leads while the leader lives: {:#?}",
        b.seen
    );

    let killed = Instant::now();
    a.kill9();
    b.saw("controller-manager: leading");
    let controllers = killed.elapsed();
    b.saw("scheduler: leading");
    let scheduler = killed.elapsed();
    println!(
        "failover after kill -9: controller-manager {} ms, scheduler {} ms",
        controllers.as_millis(),
        scheduler.as_millis()
    );
    assert!(
        controllers < Duration::from_secs(10) && scheduler < Duration::from_secs(10),
        "failover took {controllers:?} / {scheduler:?}"
    );

    // The new leader acts: a new namespace gets its default ServiceAccount
    // from the serviceaccount controller, which runs only where elected.
    // Both servers share one CA: A's admin certificate works on B.
    assert_eq!(
        std::fs::read(d1.path().join("pki/ca.crt")).unwrap(),
        std::fs::read(d2.path().join("pki/ca.crt")).unwrap()
    );
    let port = b.port();
    let a_port = a.port();
    let a_admin = std::fs::read_to_string(a.kubeconfig())
        .unwrap()
        .replace(&format!("127.0.0.1:{a_port}"), &format!("127.0.0.1:{port}"));
    let config =
        kube::Config::try_from(kube::config::Kubeconfig::from_yaml(&a_admin).unwrap()).unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: kube::Api<Namespace> = kube::Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "after-failover"}}))
            .unwrap();
    namespaces.create(&Default::default(), &ns).await.unwrap();
    let accounts: kube::Api<ServiceAccount> = kube::Api::namespaced(client, "after-failover");
    let deadline = Instant::now() + Duration::from_secs(10);
    while accounts.get_opt("default").await.unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "no default ServiceAccount after failover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
