use super::*;

fn id(kind: &str, ns: Option<&str>, name: &str, uid: &str) -> ObjectRef {
    let api_version = if kind == "Pod" { "v1" } else { "apps/v1" };
    ObjectRef {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: ns.map(str::to_string),
        name: name.into(),
        uid: uid.into(),
    }
}

fn reference(owner: &ObjectRef, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: owner.api_version.clone(),
        kind: owner.kind.clone(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(block),
    }
}

fn obs(identity: ObjectRef, owners: Vec<OwnerReference>, state: State) -> Observed {
    Observed {
        identity,
        owners,
        state,
    }
}

const RS: usize = 0;
const PODS: usize = 1;

#[test]
fn an_unseen_owner_is_virtual_until_verified_absent() {
    let mut g = Graph::default();
    let rs = id("ReplicaSet", Some("a"), "rs", "u-rs");
    let pod = id("Pod", Some("a"), "p", "u-p");
    let ch = g.observe(
        PODS,
        obs(pod.clone(), vec![reference(&rs, true)], State::default()),
    );
    assert_eq!(ch.work, [Work::Delete("u-rs".into())]);
    let owner = g.node("u-rs").unwrap();
    assert!(!owner.observed);
    assert_eq!(owner.identity, rs);
    assert_eq!(g.blocking_dependents("u-rs").len(), 1);

    let ch = g.virtual_delete(&rs);
    assert_eq!(ch.work, [Work::Delete("u-p".into())]);
    assert!(g.node("u-rs").is_none());
    assert!(g.is_absent(&rs));
}

#[test]
fn an_owner_seen_later_is_just_observed() {
    let mut g = Graph::default();
    let rs = id("ReplicaSet", Some("a"), "rs", "u-rs");
    let pod = id("Pod", Some("a"), "p", "u-p");
    g.observe(PODS, obs(pod, vec![reference(&rs, true)], State::default()));
    let ch = g.observe(RS, obs(rs.clone(), vec![], State::default()));
    assert!(ch.work.is_empty(), "{:?}", ch.work);
    assert!(g.node("u-rs").unwrap().observed);
    assert_eq!(g.dependents("u-rs").len(), 1);
}

#[test]
fn foreground_and_orphan_deletion_start_on_the_transition_only() {
    let mut g = Graph::default();
    let rs = id("ReplicaSet", Some("a"), "rs", "u-rs");
    g.observe(RS, obs(rs.clone(), vec![], State::default()));
    g.observe(
        PODS,
        obs(
            id("Pod", Some("a"), "p1", "u-p1"),
            vec![reference(&rs, true)],
            State::default(),
        ),
    );
    g.observe(
        PODS,
        obs(
            id("Pod", Some("a"), "p2", "u-p2"),
            vec![reference(&rs, false)],
            State::default(),
        ),
    );
    assert_eq!(g.blocking_dependents("u-rs").len(), 1);

    let fg = State {
        being_deleted: true,
        foreground: true,
        orphan: false,
    };
    let ch = g.observe(RS, obs(rs.clone(), vec![], fg));
    let mut work = ch.work.clone();
    work.sort_by_key(|w| format!("{w:?}"));
    assert_eq!(
        work,
        [
            Work::Delete("u-p1".into()),
            Work::Delete("u-p2".into()),
            Work::Delete("u-rs".into())
        ]
    );
    assert!(g.observe(RS, obs(rs.clone(), vec![], fg)).work.is_empty());

    // A blocking dependent going lets the owner be looked at again.
    let ch = g.observe_deleted("u-p1");
    assert_eq!(ch.work, [Work::Delete("u-rs".into())]);
    assert!(g.blocking_dependents("u-rs").is_empty());

    let orphan = State {
        being_deleted: true,
        foreground: false,
        orphan: true,
    };
    let ch = g.observe(RS, obs(rs, vec![], orphan));
    assert_eq!(ch.work, [Work::Orphan("u-rs".into())]);
}

#[test]
fn dropping_a_blocking_reference_unblocks_the_owner() {
    let mut g = Graph::default();
    let rs = id("ReplicaSet", Some("a"), "rs", "u-rs");
    let pod = id("Pod", Some("a"), "p", "u-p");
    g.observe(RS, obs(rs.clone(), vec![], State::default()));
    g.observe(
        PODS,
        obs(pod.clone(), vec![reference(&rs, true)], State::default()),
    );
    let ch = g.observe(
        PODS,
        obs(pod.clone(), vec![reference(&rs, false)], State::default()),
    );
    assert_eq!(ch.work, [Work::Delete("u-rs".into())]);
    let ch = g.observe(PODS, obs(pod, vec![], State::default()));
    assert!(ch.work.is_empty());
    assert!(g.dependents("u-rs").is_empty());
}

#[test]
fn an_owner_in_another_namespace_is_reported_and_checked() {
    let mut g = Graph::default();
    let rs = id("ReplicaSet", Some("a"), "rs", "u-rs");
    g.observe(RS, obs(rs.clone(), vec![], State::default()));
    let pod = id("Pod", Some("b"), "p", "u-p");
    let ch = g.observe(
        PODS,
        obs(pod.clone(), vec![reference(&rs, true)], State::default()),
    );
    assert_eq!(ch.work, [Work::Delete("u-p".into())]);
    assert_eq!(ch.invalid.len(), 1);
    assert_eq!(ch.invalid[0].dependent, pod);
    assert_eq!(ch.invalid[0].owner.namespace.as_deref(), Some("b"));
}

#[test]
fn a_virtual_owner_named_two_ways_keeps_the_other_way() {
    let mut g = Graph::default();
    let right = id("ReplicaSet", Some("a"), "rs", "u-rs");
    let mut wrong = right.clone();
    wrong.name = "other".into();
    g.observe(
        PODS,
        obs(
            id("Pod", Some("a"), "p1", "u-p1"),
            vec![reference(&right, true)],
            State::default(),
        ),
    );
    g.observe(
        PODS,
        obs(
            id("Pod", Some("a"), "p2", "u-p2"),
            vec![reference(&wrong, true)],
            State::default(),
        ),
    );
    let ch = g.virtual_delete(&right);
    assert_eq!(ch.work, [Work::Delete("u-p1".into())]);
    assert_eq!(ch.later, [Work::Delete("u-rs".into())]);
    assert_eq!(g.node("u-rs").unwrap().identity, wrong);
}

#[test]
fn a_relist_removes_what_it_no_longer_sees() {
    let mut g = Graph::default();
    let rs = id("ReplicaSet", Some("a"), "rs", "u-rs");
    g.observe(RS, obs(rs.clone(), vec![], State::default()));
    g.observe(
        PODS,
        obs(
            id("Pod", Some("a"), "p", "u-p"),
            vec![reference(&rs, true)],
            State::default(),
        ),
    );
    let ch = g.relisted(RS, &HashSet::new());
    assert_eq!(ch.work, [Work::Delete("u-p".into())]);
    assert!(g.node("u-rs").is_none());
    assert!(g.node("u-p").is_some());
}
