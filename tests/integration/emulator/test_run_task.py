"""One-off tasks (migrations): Fargate-style sizes, a life cycle, and an exit code."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER


def _run(stack, image="users:1"):
    arn = stack.task_definition(image, family="migrate")
    network = {"awsvpcConfiguration": {"subnets": stack.subnets[:1], "securityGroups": [stack.security_group]}}
    return stack.ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE",
                              networkConfiguration=network)["tasks"][0]


def _wait_stopped(stack, arn, limit=600):
    statuses = []
    for _step in range(limit // 2):
        [task] = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"]
        if not statuses or statuses[-1] != task["lastStatus"]:
            statuses.append(task["lastStatus"])
        if task["lastStatus"] == "STOPPED":
            return task, statuses
        stack.advance(2)
    raise AssertionError("task still %s" % statuses)


def test_run_task_with_task_level_cpu_and_memory_only(stack):
    task = _run(stack)

    assert task["lastStatus"] == "PROVISIONING"
    assert (task["cpu"], task["memory"]) == ("256", "512")
    assert "memory" not in task["containers"][0]


def test_one_off_task_runs_to_stopped_with_exit_code_zero_by_default(stack):
    task, statuses = _wait_stopped(stack, _run(stack)["taskArn"])

    assert statuses[:3] == ["PROVISIONING", "PENDING", "RUNNING"]
    assert statuses[-1] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0


def test_one_off_task_exits_with_the_code_its_behaviour_says(stack):
    stack.aws.set_behaviour("migrate:*", "exit", exit_code=3, after_seconds=30)

    task, _statuses = _wait_stopped(stack, _run(stack, image="migrate:7")["taskArn"])

    assert task["containers"][0]["exitCode"] == 3


def test_awsvpc_task_without_network_configuration_is_rejected(stack):
    arn = stack.task_definition("users:1", family="migrate")

    with pytest.raises(ClientError) as error:
        stack.ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE")

    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
