"""Behaviours where the emulator once differed from AWS's documentation (issue 16).

Each test fails on plain moto 5.2.5 (``SHIPYARD_LOCAL_AWS_PLAIN=1``) and on the emulator before
the fix; the AWS page each one follows is named in tests/emulator/README.md.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER

ACCOUNT_ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def _error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def _network(stack, subnets=None):
    return {"awsvpcConfiguration": {"subnets": subnets or stack.subnets[:1], "securityGroups": [stack.security_group]}}


# 1. INACTIVE task definitions ---------------------------------------------------------------------
@pytest.fixture
def deregistered(stack):
    """A service on its second revision whose first revision was deregistered 15 minutes ago."""
    first = stack.create_service()["taskDefinition"]
    stack.settle()
    stack.release("users:2")
    stack.settle()
    stack.ecs.deregister_task_definition(taskDefinition=first)
    stack.advance(900)
    return first


def test_update_service_to_an_inactive_revision_is_refused(stack, deregistered):
    with pytest.raises(ClientError) as error:
        stack.ecs.update_service(cluster=CLUSTER, service="users", taskDefinition=deregistered)

    assert _error(error) == ("ClientException", "TaskDefinition is inactive")
    assert stack.service()["taskDefinition"] != deregistered


def test_run_task_with_an_inactive_revision_is_refused(stack, deregistered):
    with pytest.raises(ClientError) as error:
        stack.ecs.run_task(cluster=CLUSTER, taskDefinition=deregistered, launchType="FARGATE",
                           networkConfiguration=_network(stack))

    assert _error(error) == ("ClientException", "TaskDefinition is inactive")


def test_create_service_with_an_inactive_revision_is_refused(stack, deregistered):
    with pytest.raises(ClientError) as error:
        stack.create_service(name="users-copy", taskDefinition=deregistered)

    assert _error(error) == ("ClientException", "TaskDefinition is inactive")


def test_service_running_a_deregistered_revision_keeps_scaling(stack):
    arn = stack.create_service(desired=1)["taskDefinition"]
    stack.settle()
    stack.ecs.deregister_task_definition(taskDefinition=arn)

    stack.ecs.update_service(cluster=CLUSTER, service="users", desiredCount=2)
    stack.advance(60)

    assert stack.service()["runningCount"] == 2


# 2. Service throttle logic ------------------------------------------------------------------------
def test_tasks_that_never_start_are_relaunched_with_growing_delays(stack):
    stack.aws.set_behaviour("users:bad", "pull_error")
    stack.create_service(image="users:bad", desired=1, load_balanced=False)

    stack.advance(3600)
    stopped = stack.tasks("STOPPED")

    # Without back-off a relaunch every ~15 s makes 240 failed tasks in an hour.
    assert 5 <= len(stopped) <= 12
    assert all(task["stopCode"] == "TaskFailedToStart" for task in stopped)


def test_throttled_service_reports_it_cannot_consistently_start_tasks(stack):
    stack.aws.set_behaviour("users:bad", "pull_error")
    stack.create_service(image="users:bad", desired=1, load_balanced=False)

    stack.advance(600)

    assert "(service users) is unable to consistently start tasks successfully." in stack.events()


def test_delay_between_attempts_grows_to_27_minutes_at_most(stack):
    stack.aws.set_behaviour("users:bad", "pull_error")
    stack.create_service(image="users:bad", desired=1, load_balanced=False)
    stack.advance(5 * 3600)
    before = len(stack.tasks("STOPPED"))

    stack.advance(3600)
    launched = len(stack.tasks("STOPPED")) - before

    # One attempt every 27 minutes: two or three in an hour, never none.
    assert 2 <= launched <= 3


def test_new_task_definition_ends_the_throttle_at_once(stack):
    stack.aws.set_behaviour("users:bad", "pull_error")
    stack.create_service(image="users:bad", desired=1, load_balanced=False)
    stack.advance(3600)

    stack.release("users:good")
    stack.advance(20)

    [task] = stack.tasks()
    assert task["lastStatus"] == "RUNNING"
    assert task["containers"][0]["image"] == "users:good"


def test_tasks_that_crash_after_running_are_not_throttled(stack):
    stack.aws.set_behaviour("users:crash", "crash", after_seconds=5)
    stack.create_service(image="users:crash", desired=1, load_balanced=False)

    stack.advance(600)

    # 15 s to start + 5 s running + 5 s stopping: about 24 tasks in 10 minutes.
    assert len(stack.tasks("STOPPED")) >= 15
    assert "(service users) is unable to consistently start tasks successfully." not in stack.events()


# 3. A reused address does not inherit a stopped task's target health ------------------------------
def test_new_task_on_a_reused_address_is_health_checked_afresh(stack):
    small = stack.ec2.create_subnet(VpcId=stack.vpc, CidrBlock="10.0.9.0/28", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    stack.elbv2.modify_target_group_attributes(TargetGroupArn=stack.target_group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "10"}])
    stack.create_service(desired=2, networkConfiguration=_network(stack, [small]))
    stack.settle()
    addresses = set()
    # 11 usable addresses in a /28: eight releases of 2 tasks must reuse some.
    for round_number in range(8):
        for task in stack.tasks():
            addresses.add(task["attachments"][0]["details"][-1]["value"])
        stack.ecs.update_service(cluster=CLUSTER, service="users", forceNewDeployment=True)
        stack.settle()
        assert stack.deployments()[0]["rolloutState"] == "COMPLETED", round_number

    reasons = {task.get("stoppedReason") for task in stack.tasks("STOPPED")}
    assert not any("failed ELB health checks" in (reason or "") for reason in reasons)
    assert all(deployment["failedTasks"] == 0 for deployment in stack.deployments())


# 4. A service deployment keeps the configuration it ran with --------------------------------------
def test_past_service_deployment_reports_its_own_circuit_breaker_setting(stack):
    stack.create_service(deploymentConfiguration={"deploymentCircuitBreaker": {"enable": False, "rollback": False}})
    stack.settle()
    stack.ecs.update_service(cluster=CLUSTER, service="users", taskDefinition=stack.task_definition("users:2"),
                             deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    stack.settle()

    listed = stack.ecs.list_service_deployments(cluster=CLUSTER, service="users")["serviceDeployments"]
    described = stack.ecs.describe_service_deployments(
        serviceDeploymentArns=[d["serviceDeploymentArn"] for d in listed])["serviceDeployments"]
    by_revision = {d["serviceDeploymentArn"]: d["deploymentConfiguration"]["deploymentCircuitBreaker"] for d in described}
    newest, oldest = listed[0]["serviceDeploymentArn"], listed[-1]["serviceDeploymentArn"]

    assert by_revision[oldest] == {"enable": False, "rollback": False}
    assert by_revision[newest] == {"enable": True, "rollback": True}


# 5. startedBy is left out when nobody set it ------------------------------------------------------
def test_run_task_without_started_by_leaves_it_out(stack):
    arn = stack.task_definition("users:1", family="migrate")

    task = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE",
                              networkConfiguration=_network(stack))["tasks"][0]
    [described] = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"]

    assert "startedBy" not in task
    assert "startedBy" not in described


def test_run_task_with_started_by_reports_it(stack):
    arn = stack.task_definition("users:1", family="migrate")

    task = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE", startedBy="release-42",
                              networkConfiguration=_network(stack))["tasks"][0]

    assert task["startedBy"] == "release-42"


# 6. Initial health checking ------------------------------------------------------------------------
def test_target_past_registration_reports_initial_health_checking(stack):
    stack.create_service(desired=1)
    stack.advance(15)  # RUNNING and registered
    [registering] = stack.target_health()
    stack.advance(60)  # default: 5 checks 30 s apart decide after 150 s

    [checking] = stack.target_health()

    assert registering["TargetHealth"]["Reason"] == "Elb.RegistrationInProgress"
    assert checking["TargetHealth"] == {"State": "initial", "Reason": "Elb.InitialHealthChecking",
                                        "Description": "Initial health checks in progress"}


def test_target_health_is_decided_from_registration(stack):
    stack.create_service(desired=1)
    stack.advance(15 + 149)
    [before] = stack.target_health()
    stack.advance(1)

    [after] = stack.target_health()

    assert before["TargetHealth"]["State"] == "initial"
    assert after["TargetHealth"]["State"] == "healthy"


# 7. ECR image size -------------------------------------------------------------------------------
def _manifest(layer_sizes, config_size=1469):
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_size,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size,
                    "digest": "sha256:%064x" % index} for index, size in enumerate(layer_sizes)],
    })


def test_image_size_is_the_sum_of_its_layers(clients):
    clients.ecr.create_repository(repositoryName="users")
    clients.ecr.put_image(repositoryName="users", imageTag="1", imageManifest=_manifest([3_000_000, 27_000_000, 512]))

    [image] = clients.ecr.describe_images(repositoryName="users")["imageDetails"]

    assert image["imageSizeInBytes"] == 30_000_512


# 8. Never-pushed ECR images, registry faults, stopped task fields ----------------------------------
def test_image_missing_from_its_ecr_repository_cannot_be_pulled(stack):
    stack.clients.ecr.create_repository(repositoryName="users")
    image = "%s/users:never-pushed" % ACCOUNT_ECR
    stack.create_service(image=image, desired=1, load_balanced=False)
    stack.advance(30)

    [task] = stack.tasks("STOPPED")

    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert image in task["stoppedReason"]
    assert task["containers"][0]["reason"] == task["stoppedReason"]


def test_container_of_a_pushed_ecr_image_reports_its_digest(stack):
    ecr = stack.clients.ecr
    ecr.create_repository(repositoryName="users")
    manifest = _manifest([1000, 2000])
    ecr.put_image(repositoryName="users", imageTag="1", imageManifest=manifest)
    stack.create_service(image="%s/users:1" % ACCOUNT_ECR, desired=1, load_balanced=False)
    stack.advance(30)

    [task] = stack.tasks()

    assert task["containers"][0]["imageDigest"] == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()


def test_stopped_fargate_one_off_task_keeps_platform_version_runtime_id_and_image_digest(stack):
    arn = stack.task_definition("users@sha256:" + "a" * 64, family="migrate")
    task = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE",
                              networkConfiguration=_network(stack))["tasks"][0]
    stack.advance(60)

    [stopped] = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"]
    container = stopped["containers"][0]

    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["platformVersion"] == "1.4.0"
    assert container["imageDigest"] == "sha256:" + "a" * 64
    assert container["runtimeId"].startswith(stopped["taskArn"].split("/")[-1] + "-")


def test_registry_calls_are_subject_to_fault_injection(clients, aws):
    clients.ecr.create_repository(repositoryName="users")
    auth = clients.ecr.get_authorization_token()["authorizationData"][0]
    aws.inject_fault("ecr", "BatchGetImage", throttle_rate=1.0, seed=1)
    request = urllib.request.Request(auth["proxyEndpoint"] + "/v2/users/manifests/1",
                                     headers={"Authorization": "Basic " + auth["authorizationToken"]})

    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)

    assert error.value.code == 429
    assert json.loads(error.value.read())["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert aws.calls()[-1]["operation"] == "BatchGetImage"
