"""ecs_service_logs_info against the local emulated AWS, on the lines its tasks really wrote.

The emulator writes what a task's awslogs containers print to ``<prefix>/<container>/<task id>``
(tests/emulator/fidelity/task_logs.py). Two services share one log group with their own stream
prefixes, as services of one application often do: each must read only its own tasks' lines.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from integration.emulator.stack import CLUSTER, Stack

GROUP = "/ecs/demo/app"


def logging_service(stack, name, image):
    arn = stack.task_definition(image, family=name, name=name, logConfiguration={"logDriver": "awslogs", "options": {
        "awslogs-group": GROUP, "awslogs-region": "us-east-1", "awslogs-stream-prefix": name}})
    stack.ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=arn, desiredCount=1, launchType="FARGATE",
                             networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}})
    return arn


def wait_for_streams(logs, prefixes, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"]]
        if all(any(n.startswith(p) for n in names) for p in prefixes):
            return names
        time.sleep(0.5)
    raise AssertionError("no task wrote to %s within %ss" % (GROUP, timeout))


def test_reads_only_the_service_tasks_lines_from_where_its_task_definition_logs(aws, boto3_client, run_module):
    clients = SimpleNamespace(ecs=boto3_client("ecs"), ec2=boto3_client("ec2"), elbv2=boto3_client("elbv2"))
    stack = Stack(aws, clients).build()
    logs = boto3_client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logging_service(stack, "users", "users:1")
    logging_service(stack, "worker", "worker:1")
    wait_for_streams(logs, ["users/users/", "worker/worker/"])
    written = [e["message"] for e in logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix="users/users/")["events"]]
    aws.clear_calls()

    res = run_module("ecs_service_logs_info", {"cluster": CLUSTER, "service": "users", "limit": 2})
    check = run_module("ecs_service_logs_info", {"cluster": CLUSTER, "service": "users", "limit": 2, "since": 5}, check=True)

    assert res["_rc"] == 0, res
    assert res["changed"] is False
    assert [line["message"] for line in res["lines"]] == written[-2:]
    assert all(line["stream"].startswith("users/users/") and line["log_group"] == GROUP for line in res["lines"])
    assert res["lines"][0]["timestamp"].endswith("Z")
    assert res["sources"] == [{"container": "users", "log_group": GROUP, "stream_prefix": "users/users/", "region": "us-east-1"}]
    assert check["lines"] == res["lines"]
    assert res["api_calls"]["logs"]["write"] == 0
    assert aws.write_calls() == []


def test_an_unknown_service_fails_naming_it(aws, boto3_client, run_module):
    boto3_client("ecs").create_cluster(clusterName=CLUSTER)

    res = run_module("ecs_service_logs_info", {"cluster": CLUSTER, "service": "nope"})

    assert res["failed"] is True
    assert res["msg"] == "service='nope': no ACTIVE service of that name in cluster %s" % CLUSTER
