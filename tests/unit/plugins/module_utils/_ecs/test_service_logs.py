"""ecs_service_logs_info's reader on scripted ECS and CloudWatch Logs answers.

The Logs client below answers FilterLogEvents as AWS documents it: inclusive time bounds, only
the streams starting with ``logStreamNamePrefix``, events in timestamp order, pages that may be
empty and still carry a ``nextToken``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from botocore.exceptions import ClientError

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, LogsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service_logs import (
    ServiceLogsReader,
    iso_timestamp,
    log_sources,
    windows,
)

NOW_MS = 1_700_000_000_000
MINUTE = 60 * 1000
GROUP = "/ecs/app-prod/users"


def container(name: str, group: Optional[str] = GROUP, prefix: Optional[str] = "users", driver: str = "awslogs",
              region: Optional[str] = None) -> Dict[str, Any]:
    options = {k: v for k, v in (("awslogs-group", group), ("awslogs-stream-prefix", prefix), ("awslogs-region", region)) if v}
    return {"name": name, "image": "repo/%s:1" % name, "logConfiguration": {"logDriver": driver, "options": options}}


class FakeEcs:
    def __init__(self) -> None:
        self.task_definitions: Dict[str, Dict[str, Any]] = {}
        self.services: Dict[str, Dict[str, Any]] = {}

    def register(self, family: str, revision: int, containers: List[Dict[str, Any]]) -> str:
        arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/%s:%d" % (family, revision)
        self.task_definitions[arn] = {"taskDefinitionArn": arn, "family": family, "revision": revision,
                                      "containerDefinitions": containers}
        return arn

    def describe_services(self, cluster: str, services: List[str], include=None) -> Dict[str, Any]:
        found = [self.services[s] for s in services if s in self.services]
        return {"services": found, "failures": [{"arn": s, "reason": "MISSING"} for s in services if s not in self.services]}

    def describe_task_definition(self, taskDefinition: str, include=None) -> Dict[str, Any]:
        return {"taskDefinition": self.task_definitions[taskDefinition], "tags": []}


class FakeLogs:
    def __init__(self, page_size: int = 3) -> None:
        self.streams: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
        self.page_size = page_size
        self.requests: List[Dict[str, Any]] = []

    def put(self, group: str, stream: str, ts: int, message: str) -> None:
        self.streams.setdefault(group, {}).setdefault(stream, []).append({"timestamp": ts, "message": message})

    def filter_log_events(self, logGroupName: str, logStreamNamePrefix: str = "", startTime: Optional[int] = None,
                          endTime: Optional[int] = None, nextToken: Optional[str] = None) -> Dict[str, Any]:
        self.requests.append({"group": logGroupName, "prefix": logStreamNamePrefix, "start": startTime, "end": endTime,
                              "token": nextToken})
        if logGroupName not in self.streams:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}},
                              "FilterLogEvents")
        events = sorted(({"timestamp": e["timestamp"], "message": e["message"], "logStreamName": name,
                          "eventId": "%s-%d" % (name, i)}
                         for name, stream in self.streams[logGroupName].items() if name.startswith(logStreamNamePrefix)
                         for i, e in enumerate(stream)
                         if (startTime is None or e["timestamp"] >= startTime) and (endTime is None or e["timestamp"] <= endTime)),
                        key=lambda e: e["timestamp"])
        start = int(nextToken or 0)
        if start == 0 and nextToken is None and events:
            # AWS may answer a first page without events that still has more to read.
            return {"events": [], "nextToken": "0"}
        page = events[start:start + self.page_size]
        out: Dict[str, Any] = {"events": page}
        if start + self.page_size < len(events):
            out["nextToken"] = str(start + self.page_size)
        return out


@pytest.fixture
def ecs():
    fake = FakeEcs()
    fake.services["users"] = {"serviceName": "users", "status": "ACTIVE", "taskDefinition": fake.register("users", 4, [
        container("users"), container("envoy", driver="json-file")]), "deployments": []}
    fake.services["users"]["deployments"] = [{"status": "PRIMARY", "taskDefinition": fake.services["users"]["taskDefinition"]}]
    return fake


@pytest.fixture
def logs():
    return FakeLogs()


def reader(ecs, logs, regions=None):
    retry = RetryPolicy(sleep=lambda s: None, rand=lambda: 0.5)
    apis = {}

    def logs_for_region(region):
        (regions if regions is not None else []).append(region)
        return apis.setdefault(region, LogsApi(logs, retry))

    return ServiceLogsReader(EcsApi(ecs, retry), logs_for_region, clock=lambda: NOW_MS / 1000.0)


def messages(result):
    return [line["message"] for line in result.data["lines"]]


def test_the_newest_lines_of_every_task_stream_come_oldest_first_with_timestamp_and_stream(ecs, logs):
    for i in range(6):
        logs.put(GROUP, "users/users/task-a", NOW_MS - 10 * MINUTE + i * 1000, "a%d" % i)
        logs.put(GROUP, "users/users/task-b", NOW_MS - 10 * MINUTE + i * 1000 + 500, "b%d" % i)

    result = reader(ecs, logs).read("prod", "users", limit=4)

    assert messages(result) == ["a4", "b4", "a5", "b5"]
    first = result.data["lines"][0]
    assert (first["stream"], first["log_group"], first["timestamp"]) == (
        "users/users/task-a", GROUP, iso_timestamp(NOW_MS - 10 * MINUTE + 4000))
    assert result.changed is False


def test_only_the_streams_of_the_service_containers_are_read_not_other_writers_of_the_group(ecs, logs):
    logs.put(GROUP, "users/users/task-a", NOW_MS - MINUTE, "mine")
    logs.put(GROUP, "users-worker/worker/task-c", NOW_MS - MINUTE, "another service")

    result = reader(ecs, logs).read("prod", "users", limit=10)

    assert messages(result) == ["mine"]
    assert {r["prefix"] for r in logs.requests} == {"users/users/"}
    assert result.data["sources"] == [{"container": "users", "log_group": GROUP, "stream_prefix": "users/users/", "region": None}]


def test_every_page_is_read_including_an_empty_first_page_with_a_token(ecs, logs):
    for i in range(8):
        logs.put(GROUP, "users/users/task-a", NOW_MS - MINUTE + i, "line %d" % i)

    result = reader(ecs, logs).read("prod", "users", limit=8)

    assert messages(result) == ["line %d" % i for i in range(8)]
    assert [r["token"] for r in logs.requests] == [None, "0", "3", "6"]


def test_the_look_back_widens_only_until_enough_lines_were_found(ecs, logs):
    logs.put(GROUP, "users/users/task-a", NOW_MS - 3 * 24 * 60 * MINUTE, "three days ago")
    logs.put(GROUP, "users/users/task-a", NOW_MS - 30 * MINUTE, "half an hour ago")
    logs.put(GROUP, "users/users/task-a", NOW_MS - MINUTE, "a minute ago")

    two = reader(ecs, logs).read("prod", "users", limit=2)
    windows_read = {(r["start"], r["end"]) for r in logs.requests}
    logs.requests.clear()
    three = reader(ecs, logs).read("prod", "users", limit=3)

    assert messages(two) == ["half an hour ago", "a minute ago"]
    assert windows_read == {(NOW_MS - 5 * MINUTE, None), (NOW_MS - 60 * MINUTE, NOW_MS - 5 * MINUTE - 1)}
    assert messages(three) == ["three days ago", "half an hour ago", "a minute ago"]


def test_since_bounds_the_lines_and_the_look_back(ecs, logs):
    logs.put(GROUP, "users/users/task-a", NOW_MS - 20 * MINUTE, "too old")
    logs.put(GROUP, "users/users/task-a", NOW_MS - 9 * MINUTE, "recent")

    result = reader(ecs, logs).read("prod", "users", limit=50, since_minutes=10)

    assert messages(result) == ["recent"]
    assert min(r["start"] for r in logs.requests) == NOW_MS - 10 * MINUTE


def test_a_rollout_under_way_reads_the_log_destinations_of_both_revisions(ecs, logs):
    new = ecs.register("users", 5, [container("users", group="/ecs/app-prod/users-v2")])
    svc = ecs.services["users"]
    svc["deployments"] = [{"status": "PRIMARY", "taskDefinition": new}, {"status": "ACTIVE", "taskDefinition": svc["taskDefinition"]}]
    svc["taskDefinition"] = new
    logs.put(GROUP, "users/users/old", NOW_MS - 2 * MINUTE, "old task")
    logs.put("/ecs/app-prod/users-v2", "users/users/new", NOW_MS - MINUTE, "new task")

    result = reader(ecs, logs).read("prod", "users", limit=10)

    assert messages(result) == ["old task", "new task"]
    assert len(result.data["task_definitions"]) == 2


def test_containers_without_awslogs_or_stream_prefix_are_skipped_with_a_warning():
    td = {"family": "users", "revision": 1, "containerDefinitions": [
        container("users"), container("envoy", driver="json-file"), container("cron", prefix=None)]}

    sources, warnings = log_sources([{"taskDefinition": td}])

    assert [s.container for s in sources] == ["users"]
    assert any("envoy of users:1 does not log to CloudWatch Logs" in w for w in warnings)
    assert any("cron of users:1" in w and "without awslogs-stream-prefix" in w for w in warnings)


def test_a_log_group_that_does_not_exist_gives_no_lines_and_a_warning(ecs, logs):
    result = reader(ecs, logs).read("prod", "users", limit=5)

    assert result.data["lines"] == []
    assert any("log group %s does not exist" % GROUP in w for w in result.warnings)
    assert len(logs.requests) == 1, "a missing group is not asked again for older windows"


def test_a_log_group_in_another_region_is_read_there(ecs, logs):
    ecs.services["users"]["taskDefinition"] = ecs.register("users", 6, [container("users", region="eu-west-1")])
    ecs.services["users"]["deployments"] = []
    regions = []

    reader(ecs, logs, regions).read("prod", "users", limit=5)

    assert regions == ["eu-west-1"]


def test_no_write_call_and_reads_are_counted_as_reads(ecs, logs):
    logs.put(GROUP, "users/users/task-a", NOW_MS - MINUTE, "x")

    calls = reader(ecs, logs).read("prod", "users", limit=5).data["api_calls"]

    assert calls["logs"]["write"] == 0 and calls["logs"]["read"] >= 1
    assert calls["ecs"] == {"read": 2, "write": 0}


@pytest.mark.parametrize("params, option", [
    ({"cluster": "prod", "service": "users", "limit": 0}, "limit"),
    ({"cluster": "prod", "service": "users", "limit": 10001}, "limit"),
    ({"cluster": "prod", "service": "users", "limit": 5, "since": 0}, "since"),
    ({"cluster": "prod", "service": "orders", "limit": 5}, "service"),
    ({"cluster": "prod", "service": "users", "limit": 5, "container": "worker"}, "container"),
])
def test_bad_input_fails_naming_the_option(ecs, logs, params, option):
    with pytest.raises(ValidationError) as excinfo:
        reader(ecs, logs).run_params(params)
    assert excinfo.value.option == option
    assert logs.requests == []


def test_windows_are_disjoint_newest_first_and_stop_at_since():
    assert windows(NOW_MS, None)[:2] == [(NOW_MS - 5 * MINUTE, None), (NOW_MS - 60 * MINUTE, NOW_MS - 5 * MINUTE - 1)]
    assert windows(NOW_MS, None)[-1] == (None, NOW_MS - 30 * 24 * 60 * MINUTE - 1)
    assert windows(NOW_MS, NOW_MS - 30 * MINUTE) == [(NOW_MS - 5 * MINUTE, None), (NOW_MS - 30 * MINUTE, NOW_MS - 5 * MINUTE - 1)]


def test_a_cluster_that_does_not_exist_fails_naming_the_cluster(ecs, logs):
    def missing(**_):
        raise ClientError({"Error": {"Code": "ClusterNotFoundException", "Message": "Cluster not found."}}, "DescribeServices")
    ecs.describe_services = missing

    with pytest.raises(ValidationError) as excinfo:
        reader(ecs, logs).read("prod", "users", limit=5)

    assert excinfo.value.option == "cluster"
