"""Several containers per task: dependsOn / links start order, essential and non-essential exits,
and what RegisterTaskDefinition refuses (ECS Developer Guide, "Container dependency"; API Reference
``ContainerDependency``, ``ContainerDefinition``). Each test fails on plain moto, which starts no
container and accepts every one of these task definitions."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER

PULLED = 15   # provisioning 5 s + pull 10 s


def _service(stack, containers, name="app"):
    td = stack.ecs.register_task_definition(family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                            cpu="256", memory="512", containerDefinitions=containers)
    stack.ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=td["taskDefinition"]["taskDefinitionArn"],
                             desiredCount=1, launchType="FARGATE",
                             networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}})


def _task(stack, name="app", desired="RUNNING"):
    [task] = stack.tasks(name=name, desired_status=desired)
    return task


def _statuses(task):
    return {c["name"]: c["lastStatus"] for c in task["containers"]}


def _logged(stack, group, stream_prefix):
    streams = stack.clients.logs.describe_log_streams(logGroupName=group)["logStreams"]
    return sorted(s["logStreamName"].split("/")[1] for s in streams if s["logStreamName"].startswith(stream_prefix))


def _logs(group):
    options = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app",
               "awslogs-create-group": "true"}
    return {"logDriver": "awslogs", "options": options}


def test_container_waits_pending_until_its_dependency_is_healthy(stack):
    _service(stack, [
        {"name": "db", "image": "db:1", "essential": True, "logConfiguration": _logs("/app"),
         "healthCheck": {"command": ["CMD", "true"], "interval": 20}},
        {"name": "web", "image": "web:1", "essential": True, "logConfiguration": _logs("/app"),
         "dependsOn": [{"containerName": "db", "condition": "HEALTHY"}]}])
    stack.advance(PULLED + 1)

    task = _task(stack)
    assert task["lastStatus"] == "PENDING"
    assert _statuses(task) == {"db": "RUNNING", "web": "PENDING"}
    assert _logged(stack, "/app", "app/") == ["db"]

    stack.advance(20)
    task = _task(stack)
    assert task["lastStatus"] == "RUNNING"
    assert _statuses(task) == {"db": "RUNNING", "web": "RUNNING"}
    assert _logged(stack, "/app", "app/") == ["db", "web"]


def test_init_container_that_succeeds_lets_the_app_start_and_the_task_keep_running(stack):
    stack.aws.set_behaviour("migrate:1", "exit", exit_code=0, after_seconds=8)
    _service(stack, [
        {"name": "migrate", "image": "migrate:1", "essential": False},
        {"name": "web", "image": "web:1", "essential": True,
         "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]}])
    stack.advance(PULLED + 1)
    assert _statuses(_task(stack)) == {"migrate": "RUNNING", "web": "PENDING"}

    stack.advance(10)
    task = _task(stack)
    assert task["lastStatus"] == "RUNNING"
    assert _statuses(task) == {"migrate": "STOPPED", "web": "RUNNING"}
    assert [c.get("exitCode") for c in task["containers"] if c["name"] == "migrate"] == [0]


def test_init_container_that_fails_stops_the_task_before_the_app_starts(stack):
    stack.aws.set_behaviour("migrate:2", "exit", exit_code=3, after_seconds=5)
    _service(stack, [
        {"name": "migrate", "image": "migrate:2", "essential": False},
        {"name": "web", "image": "web:1", "essential": True,
         "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]}])
    stack.advance(PULLED + 10)

    [task] = list(stack.tasks(name="app", desired_status="STOPPED"))
    assert task["stopCode"] == "TaskFailedToStart"
    assert "dependency SUCCESS of container migrate" in task["stoppedReason"]
    assert [c.get("exitCode") for c in task["containers"] if c["name"] == "migrate"] == [3]
    assert "exitCode" not in [c for c in task["containers"] if c["name"] == "web"][0]


def test_non_essential_container_exiting_leaves_the_task_running(stack):
    stack.aws.set_behaviour("agent:1", "crash", exit_code=2, after_seconds=10)
    _service(stack, [{"name": "web", "image": "web:1", "essential": True},
                     {"name": "agent", "image": "agent:1", "essential": False}])
    stack.advance(PULLED + 15)

    task = _task(stack)
    assert task["lastStatus"] == "RUNNING"
    assert _statuses(task) == {"web": "RUNNING", "agent": "STOPPED"}
    assert [c.get("exitCode") for c in task["containers"] if c["name"] == "agent"] == [2]


def test_essential_sidecar_exiting_stops_the_task(stack):
    stack.aws.set_behaviour("agent:2", "crash", exit_code=2, after_seconds=10)
    _service(stack, [{"name": "web", "image": "web:1", "essential": True},
                     {"name": "agent", "image": "agent:2", "essential": True}])
    stack.advance(PULLED + 15)

    stopped = stack.tasks(name="app", desired_status="STOPPED")
    assert stopped and stopped[0]["stopCode"] == "EssentialContainerExited"


def test_linked_containers_of_a_bridge_task_run_on_a_container_instance(stack):
    image = stack.ec2.describe_images()["Images"][0]["ImageId"]
    stack.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=stack.subnets[0],
                            UserData="#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n" % CLUSTER)
    td = stack.ecs.register_task_definition(family="pingpong", networkMode="bridge", containerDefinitions=[
        {"name": "john", "image": "john:1", "memory": 64, "links": ["paul:paul", "george"],
         "portMappings": [{"containerPort": 8080, "hostPort": 0}]},
        {"name": "paul", "image": "paul:1", "memory": 64, "essential": False},
        {"name": "george", "image": "george:1", "memory": 64, "essential": False}])["taskDefinition"]
    stack.advance(31)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="pingpong", taskDefinition=td["taskDefinitionArn"],
                             desiredCount=1, launchType="EC2")
    stack.advance(PULLED + 1)

    task = _task(stack, name="pingpong")
    assert task["lastStatus"] == "RUNNING"
    assert _statuses(task) == {"john": "RUNNING", "paul": "RUNNING", "george": "RUNNING"}


# RegisterTaskDefinition refusals ------------------------------------------------------------------------
def _refused(stack, message, network_mode="bridge", **container):
    definition = dict({"name": "web", "image": "web:1", "memory": 64}, **container)
    with pytest.raises(ClientError) as error:
        stack.ecs.register_task_definition(family="bad", networkMode=network_mode, containerDefinitions=[
            definition, {"name": "side", "image": "side:1", "memory": 64, "essential": False}])
    assert error.value.response["Error"]["Code"] == "ClientException"
    assert message in error.value.response["Error"]["Message"]


def test_links_are_refused_in_awsvpc_mode(stack):
    _refused(stack, "Links are not supported when networkMode=awsvpc.", network_mode="awsvpc", links=["side"])


def test_dependency_on_an_unknown_container_is_refused(stack):
    _refused(stack, "Cannot depend on container + 'db' because it does not exist",
             dependsOn=[{"containerName": "db", "condition": "START"}])


def test_link_to_an_unknown_container_is_refused(stack):
    _refused(stack, "'db'", links=["db:database"])


def test_success_dependency_on_an_essential_container_is_refused(stack):
    with pytest.raises(ClientError) as error:
        stack.ecs.register_task_definition(family="bad", containerDefinitions=[
            {"name": "web", "image": "web:1", "memory": 64, "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}]},
            {"name": "init", "image": "init:1", "memory": 64}])
    assert "cannot be an essential container" in error.value.response["Error"]["Message"]


def test_task_definition_without_an_essential_container_is_refused(stack):
    with pytest.raises(ClientError) as error:
        stack.ecs.register_task_definition(family="bad", containerDefinitions=[
            {"name": "web", "image": "web:1", "memory": 64, "essential": False}])
    assert error.value.response["Error"]["Code"] == "ClientException"
    assert "essential container" in error.value.response["Error"]["Message"]
