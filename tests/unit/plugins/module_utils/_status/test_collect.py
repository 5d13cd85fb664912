"""ecs_status_info's reader on scripted ECS, ELBv2 and ECR answers shaped like AWS's.

The clients answer as AWS documents: DescribeServices takes at most 10 services, DescribeTasks
at most 100 tasks, ListTasks pages with nextToken, DescribeTargetGroups answers by ARN and
DescribeImages fails the whole call with ImageNotFoundException when one digest is unknown.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List

import pytest
from botocore.exceptions import ClientError

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._status.collect import StatusReader

NOW = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32
TG_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/prod-%s/0123456789abcdef"
TD_ARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/app-prod-%s:%d"


def ago(**delta: float) -> datetime.datetime:
    return NOW - datetime.timedelta(**delta)


def not_found(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "not found"}}, operation)


class FakeEcs:
    def __init__(self, services: List[Dict[str, Any]], stopped: List[Dict[str, Any]], cluster_exists: bool = True):
        self.services = {s["serviceName"]: s for s in services}
        self.stopped = stopped
        self.cluster_exists = cluster_exists
        self.calls: List[Any] = []

    def _cluster(self, operation):
        if not self.cluster_exists:
            raise not_found("ClusterNotFoundException", operation)

    def list_services(self, cluster, **kwargs):
        self._cluster("ListServices")
        return {"serviceArns": ["arn:aws:ecs:eu-west-1:123456789012:service/%s/%s" % (cluster, n) for n in self.services]}

    def describe_services(self, cluster, services, include=None):
        self._cluster("DescribeServices")
        assert len(services) <= 10, "DescribeServices takes at most 10 services"
        self.calls.append(("describe_services", len(services)))
        names = [s.rsplit("/", 1)[-1] for s in services]
        return {"services": [self.services[n] for n in names if n in self.services],
                "failures": [{"arn": n, "reason": "MISSING"} for n in names if n not in self.services]}

    def describe_task_definition(self, taskDefinition, include=None):
        self.calls.append(("describe_task_definition", taskDefinition))
        family_revision = taskDefinition.rsplit("/", 1)[-1]
        family = family_revision.split(":")[0]
        name = family.rsplit("-", 1)[-1]
        return {"taskDefinition": {"taskDefinitionArn": taskDefinition, "containerDefinitions": [
            {"name": name, "image": "%s/shop/%s@%s" % (ECR, name, DIGEST)}]}}

    def list_tasks(self, cluster, desiredStatus=None, nextToken=None):
        self.calls.append(("list_tasks", desiredStatus))
        assert desiredStatus == "STOPPED"
        start = int(nextToken or 0)
        arns = [t["taskArn"] for t in self.stopped][start:start + 100]
        page: Dict[str, Any] = {"taskArns": arns}
        if start + 100 < len(self.stopped):
            page["nextToken"] = str(start + 100)
        return page

    def describe_tasks(self, cluster, tasks):
        assert len(tasks) <= 100, "DescribeTasks takes at most 100 tasks"
        self.calls.append(("describe_tasks", len(tasks)))
        wanted = set(tasks)
        return {"tasks": [t for t in self.stopped if t["taskArn"] in wanted], "failures": []}


class FakeElbv2:
    def __init__(self, health: Dict[str, List[str]]):
        self.health = health
        self.calls: List[Any] = []

    def describe_target_groups(self, TargetGroupArns):
        self.calls.append(("describe_target_groups", len(TargetGroupArns)))
        return {"TargetGroups": [{"TargetGroupArn": arn, "TargetGroupName": arn.split("/")[1]}
                                 for arn in TargetGroupArns if arn in self.health]}

    def describe_target_health(self, TargetGroupArn):
        self.calls.append(("describe_target_health", TargetGroupArn))
        return {"TargetHealthDescriptions": [{"Target": {"Id": "10.0.0.%d" % i}, "TargetHealth": {"State": state}}
                                             for i, state in enumerate(self.health[TargetGroupArn])]}

    def describe_load_balancers(self, Names):
        return {"LoadBalancers": [{"LoadBalancerName": Names[0], "DNSName": "app-1.elb.amazonaws.com",
                                   "State": {"Code": "active"}}]}


class FakeEcr:
    def __init__(self, tags: Dict[str, List[str]]):
        self.tags = tags
        self.calls: List[Any] = []

    def describe_images(self, repositoryName, imageIds):
        self.calls.append(("describe_images", repositoryName, len(imageIds)))
        if repositoryName not in self.tags:
            raise not_found("RepositoryNotFoundException", "DescribeImages")
        return {"imageDetails": [{"imageDigest": i["imageDigest"], "imageTags": self.tags[repositoryName]}
                                 for i in imageIds]}


def service(name: str, running: int = 2, desired: int = 2, revision: int = 3, **extra: Any) -> Dict[str, Any]:
    out = {
        "serviceName": name, "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/app-prod/" + name,
        "status": "ACTIVE", "runningCount": running, "pendingCount": 0, "desiredCount": desired,
        "taskDefinition": TD_ARN % (name, revision),
        "loadBalancers": [{"targetGroupArn": TG_ARN % name, "containerName": name, "containerPort": 5000}],
        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": TD_ARN % (name, revision),
                         "rolloutState": "COMPLETED", "createdAt": ago(minutes=90)}],
        "events": [{"createdAt": ago(seconds=30 * i), "message": "(service %s) event %d" % (name, i)} for i in range(5)],
    }
    out.update(extra)
    return out


def stopped_task(index: int, service_name: str = "users", minutes_ago: float = 10, code: str = "EssentialContainerExited",
                 reason: str = "Essential container in task exited") -> Dict[str, Any]:
    return {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/app-prod/%032x" % index,
            "group": "service:" + service_name, "stopCode": code, "stoppedReason": reason,
            "stoppedAt": ago(minutes=minutes_ago), "containers": [{"name": service_name, "exitCode": 3}]}


def reader(ecs: FakeEcs, elbv2: FakeElbv2, ecr: FakeEcr) -> StatusReader:
    retry = RetryPolicy(max_attempts=1, sleep=lambda _: None)
    return StatusReader(EcsApi(ecs, retry), Elbv2Api(elbv2, retry), EcrApi(ecr, retry), region="eu-west-1",
                        clock=NOW.timestamp)


def healthy(*names: str) -> Dict[str, List[str]]:
    return {TG_ARN % n: ["healthy", "healthy"] for n in names}


def test_services_are_described_ten_per_call_and_each_revision_once():
    names = ["svc%02d" % i for i in range(23)]
    ecs = FakeEcs([service(n) for n in names], [])
    status = reader(ecs, FakeElbv2(healthy(*names)), FakeEcr({})).read("app-prod", names)
    assert [c[1] for c in ecs.calls if c[0] == "describe_services"] == [10, 10, 3]
    assert len([c for c in ecs.calls if c[0] == "describe_task_definition"]) == 23
    assert [s["name"] for s in status["services"]] == names


def test_stopped_tasks_are_listed_once_for_the_cluster_and_described_a_hundred_per_call():
    stopped = [stopped_task(i) for i in range(250)]
    ecs = FakeEcs([service("users")], stopped)
    status = reader(ecs, FakeElbv2(healthy("users")), FakeEcr({})).read("app-prod", ["users"])
    assert [c for c in ecs.calls if c[0] == "list_tasks"] == [("list_tasks", "STOPPED")] * 3
    assert [c[1] for c in ecs.calls if c[0] == "describe_tasks"] == [100, 100, 50]
    assert status["services"][0]["failed_tasks"] == 250


def test_only_failures_of_the_window_count_per_service():
    stopped = [
        stopped_task(1, minutes_ago=5),
        stopped_task(2, minutes_ago=59, code="TaskFailedToStart", reason="CannotPullContainerError: not found"),
        stopped_task(3, minutes_ago=30, code="ServiceSchedulerInitiated", reason="Task failed ELB health checks in (target-group x)"),
        stopped_task(4, minutes_ago=61),
        stopped_task(5, minutes_ago=5, code="ServiceSchedulerInitiated", reason="Scaling activity initiated by (deployment ecs-svc/2)"),
        stopped_task(6, minutes_ago=5, code="UserInitiated", reason="stopped by a person"),
        stopped_task(7, service_name="client", minutes_ago=1),
    ]
    ecs = FakeEcs([service("users"), service("client")], stopped)
    status = reader(ecs, FakeElbv2(healthy("users", "client")), FakeEcr({})).read("app-prod", ["users", "client"])
    assert {s["name"]: s["failed_tasks"] for s in status["services"]} == {"users": 3, "client": 1}


def test_target_health_is_read_once_per_target_group_and_counted_by_state():
    elbv2 = FakeElbv2({TG_ARN % "users": ["healthy", "unhealthy", "initial"], TG_ARN % "client": []})
    shared = service("api", loadBalancers=[{"targetGroupArn": TG_ARN % "users"}])
    status = reader(FakeEcs([service("users"), service("client"), shared], []), elbv2, FakeEcr({})).read(
        "app-prod", ["users", "client", "api"])
    assert [c for c in elbv2.calls if c[0] == "describe_target_groups"] == [("describe_target_groups", 2)]
    assert sorted(c[1] for c in elbv2.calls if c[0] == "describe_target_health") == sorted([TG_ARN % "users", TG_ARN % "client"])
    users = status["services"][0]["target_groups"]
    assert users == [{"name": "prod-users", "arn": TG_ARN % "users", "healthy": 1, "total": 3,
                      "states": {"healthy": 1, "unhealthy": 1, "initial": 1}}]
    assert status["services"][1]["target_groups"][0]["total"] == 0


def test_images_pinned_by_digest_show_their_ecr_tag_read_once_per_repository():
    ecr = FakeEcr({"shop/users": ["1.4.2"]})
    status = reader(FakeEcs([service("users"), service("client")], []), FakeElbv2(healthy("users", "client")), ecr).read(
        "app-prod", ["users", "client"])
    images = {s["name"]: s["images"][0]["short"] for s in status["services"]}
    assert images == {"users": "shop/users:1.4.2@sha256:abababababab", "client": "shop/client@sha256:abababababab"}
    assert sorted(ecr.calls) == [("describe_images", "shop/client", 1), ("describe_images", "shop/users", 1)]


def test_deployment_age_rollout_and_newest_events():
    rolling = service("users", running=1, desired=2, deployments=[
        {"id": "ecs-svc/2", "status": "PRIMARY", "taskDefinition": TD_ARN % ("users", 4), "rolloutState": "IN_PROGRESS",
         "createdAt": ago(minutes=3)},
        {"id": "ecs-svc/1", "status": "ACTIVE", "taskDefinition": TD_ARN % ("users", 3), "rolloutState": "COMPLETED",
         "createdAt": ago(days=2)}])
    status = reader(FakeEcs([rolling], []), FakeElbv2(healthy("users")), FakeEcr({})).read("app-prod", ["users"], events=2)
    users = status["services"][0]
    assert users["revision"] == "app-prod-users:4"
    assert users["deployment"]["age_seconds"] == 180 and users["deployment"]["rollout_state"] == "IN_PROGRESS"
    assert users["deployment_count"] == 2 and (users["running"], users["desired"]) == (1, 2)
    assert [e["message"] for e in users["events"]] == ["(service users) event 0", "(service users) event 1"]
    assert [e["age_seconds"] for e in users["events"]] == [0, 30]


def test_every_service_of_the_cluster_when_none_are_named_and_missing_names_are_reported():
    ecs = FakeEcs([service("users"), service("client")], [])
    every = reader(ecs, FakeElbv2(healthy("users", "client")), FakeEcr({})).read("app-prod", [])
    assert sorted(s["name"] for s in every["services"]) == ["client", "users"]
    some = reader(ecs, FakeElbv2(healthy("users")), FakeEcr({})).read("app-prod", ["users", "worker"])
    assert [s["name"] for s in some["services"]] == ["users"] and some["missing_services"] == ["worker"]


def test_a_cluster_that_does_not_exist_is_nothing_deployed_not_an_error():
    status = reader(FakeEcs([], [], cluster_exists=False), FakeElbv2({}), FakeEcr({})).read("app-prod", ["users"])
    assert status["cluster_found"] is False and status["services"] == []


def test_module_result_has_the_text_the_document_and_no_write_call():
    result = reader(FakeEcs([service("users")], [stopped_task(1)]), FakeElbv2(healthy("users")), FakeEcr({})).run_params(
        {"cluster": "app-prod", "services": ["users"], "load_balancer": "app-prod", "failed_tasks_since": 60, "events": 3})
    data = result.to_module_result()
    assert data["changed"] is False
    assert data["status"]["load_balancer"] == {"name": "app-prod", "state": "active", "dns_name": "app-1.elb.amazonaws.com"}
    assert "SERVICE" in data["text"] and "FAILED 1H" in data["text"]
    assert all(calls["write"] == 0 for calls in data["api_calls"].values())
    assert data["api_calls"]["ecs"]["read"] == 4


@pytest.mark.parametrize("params, option", [
    ({"cluster": ""}, "cluster"),
    ({"failed_tasks_since": 0}, "failed_tasks_since"),
    ({"events": 101}, "events"),
    ({"services": ["users", ""]}, "services[1]"),
])
def test_bad_options_are_refused_naming_the_option_before_any_call(params, option):
    ecs = FakeEcs([service("users")], [])
    full = dict({"cluster": "app-prod", "services": [], "failed_tasks_since": 60, "events": 3}, **params)
    with pytest.raises(ValidationError) as err:
        reader(ecs, FakeElbv2({}), FakeEcr({})).run_params(full)
    assert err.value.option == option
    assert ecs.calls == []
