"""ReadOnceClient: one planning run asks AWS each read once, however many planners ask it (moto in-process)."""

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, ReadOnceClient, read_once

REGION = "us-east-1"


class Counting:
    """A client factory that counts the requests boto3 really sends (botocore's before-call event)."""

    def __init__(self):
        self.sent = []

    def __call__(self, service):
        client = boto3.client(service, region_name=REGION)
        client.meta.events.register("before-call.*.*", lambda model, **_kw: self.sent.append(model.name))
        return client


@pytest.fixture
def counting():
    with mock_aws():
        yield Counting()


def test_the_same_read_is_sent_once_and_answered_again_from_the_run(counting):
    factory = read_once(counting)
    first, second = AwsApi(factory("ecs")), AwsApi(factory("ecs"))
    first.call("create_cluster", clusterName="web")
    assert first.call("describe_clusters", clusters=["web"])["clusters"][0]["clusterName"] == "web"
    assert second.call("describe_clusters", clusters=["web"])["clusters"][0]["clusterName"] == "web"
    assert counting.sent == ["CreateCluster", "DescribeClusters"]
    # Only requests sent count as calls.
    assert first.calls == {"create_cluster": 1, "describe_clusters": 1} and second.calls == {}


def test_other_parameters_or_another_service_are_other_reads(counting):
    factory = read_once(counting)
    ecs = AwsApi(factory("ecs"))
    ecs.call("describe_clusters", clusters=["a"])
    ecs.call("describe_clusters", clusters=["b"])
    ecs.call("describe_clusters", clusters=["a"])
    AwsApi(factory("ecr")).call("describe_repositories")
    assert counting.sent == ["DescribeClusters", "DescribeClusters", "DescribeRepositories"]


def test_an_answer_is_a_copy_a_caller_may_change(counting):
    ecs = AwsApi(read_once(counting)("ecs"))
    ecs.call("create_cluster", clusterName="web")
    ecs.call("describe_clusters", clusters=["web"])["clusters"].clear()
    assert ecs.call("describe_clusters", clusters=["web"])["clusters"][0]["clusterName"] == "web"


def test_a_write_forgets_every_answer(counting):
    factory = read_once(counting)
    ecs = AwsApi(factory("ecs"))
    assert ecs.call("list_clusters")["clusterArns"] == []
    ecs.call("create_cluster", clusterName="web")
    assert len(ecs.call("list_clusters")["clusterArns"]) == 1
    assert counting.sent == ["ListClusters", "CreateCluster", "ListClusters"]


def test_failed_reads_are_not_kept_and_client_attributes_pass_through(counting):
    client = read_once(counting)("iam")
    assert isinstance(client, ReadOnceClient) and client.meta.service_model.service_name == "iam"
    iam = AwsApi(client)
    for _attempt in range(2):
        with pytest.raises(Exception, match="NoSuchEntity"):
            iam.call("get_role", RoleName="missing")
    assert counting.sent == ["GetRole", "GetRole"]
    assert client.get_paginator("list_roles").paginate().build_full_result()["Roles"] == []


class Unmade:
    """Stands for a lazily made client: records whether anything of it was asked."""

    def __init__(self, service, touched):
        self.service = service
        self.touched = touched

    def __getattr__(self, name):
        self.touched.append((self.service, name))
        raise AttributeError(name)


def test_a_service_has_one_client_and_none_is_touched_before_a_call_goes_through_it():
    touched, asked = [], []

    def factory(service):
        asked.append(service)
        return Unmade(service, touched)

    make = read_once(factory)
    ecs, acm = AwsApi(make("ecs")), AwsApi(make("acm"))
    assert make("ecs") is ecs.client and make("acm") is acm.client
    assert asked == ["ecs", "acm"]
    # Wrapping and asking for the client again made nothing: an unused service's model is never loaded.
    assert touched == []


def test_the_shared_client_of_a_service_answers_every_wrapper_of_it(counting):
    make = read_once(counting)
    first, second = AwsApi(make("ecs")), AwsApi(make("ecs"))
    first.call("list_clusters")
    second.call("list_clusters")
    assert counting.sent == ["ListClusters"] and first.client is second.client
