"""batch/v1 Jobs through BatchV1Api: the server generates the selector."""

import pytest
from kubernetes import client


@pytest.fixture
def batch(api_client):
    return client.BatchV1Api(api_client)


def job(name):
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="main", image="busybox:1.36", command=["true"])],
                ),
            ),
        ),
    )


def test_job_gets_a_generated_selector(batch, namespace):
    created = batch.create_namespaced_job(namespace, job("once"))
    uid = created.metadata.uid
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    labels = created.spec.template.metadata.labels
    assert labels["batch.kubernetes.io/controller-uid"] == uid
    assert labels["controller-uid"] == uid
    assert labels["batch.kubernetes.io/job-name"] == "once"
    assert labels["job-name"] == "once"
    assert not created.spec.manual_selector

    assert created.spec.completions == 1
    assert created.spec.parallelism == 1
    assert created.spec.backoff_limit == 6
    assert created.spec.completion_mode == "NonIndexed"
    assert created.spec.suspend is False

    got = batch.read_namespaced_job("once", namespace)
    assert got.spec.selector.match_labels == created.spec.selector.match_labels
    batch.delete_namespaced_job("once", namespace, propagation_policy="Background")
    assert batch.list_namespaced_job(namespace).items == []


def test_job_template_restart_policy_must_not_be_always(batch, namespace):
    bad = job("bad")
    bad.spec.template.spec.restart_policy = "Always"
    with pytest.raises(client.ApiException) as err:
        batch.create_namespaced_job(namespace, bad)
    assert err.value.status == 422
