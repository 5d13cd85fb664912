"""fabfuel's ``ecs-deploy`` against the emulator: releases, failures and one-off tasks.

ecs-deploy polls every ``--sleep-time`` (1 s) and gives up after ``--timeout`` wall seconds.
The emulator runs at 15 AWS seconds per wall second here, so ``--timeout 40`` is a 10-minute
release on AWS and each poll is 15 s of AWS time.
"""

from __future__ import annotations

from integration.emulator.stack import CLUSTER

SCALE = 15
TIMEOUT = str(600 // SCALE)


def _deploy(cli, *argv):
    cli.aws_emulator.set_time_scale(SCALE)
    return cli.ecs_deploy("deploy", CLUSTER, "users", "--timeout", TIMEOUT, "--sleep-time", "1", "--no-diff", *argv)


def _status(stack, arn):
    return stack.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"]


def test_deploy_rolls_the_new_image_out_and_deregisters_the_old_revision(cli, fast_stack):
    old = fast_stack.create_service(desired=2)["taskDefinition"]
    fast_stack.settle()

    deployed = _deploy(cli, "--image", "users", "users:2")
    service = fast_stack.service()
    [container] = fast_stack.ecs.describe_task_definition(
        taskDefinition=service["taskDefinition"])["taskDefinition"]["containerDefinitions"]

    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "Deployment successful" in deployed.stdout
    assert container["image"] == "users:2"
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert {t["containers"][0]["image"] for t in fast_stack.tasks()} == {"users:2"}
    assert _status(fast_stack, old) == "INACTIVE"


def test_deploy_of_an_image_that_cannot_be_pulled_fails_on_the_throttle_event(cli, fast_stack):
    old = fast_stack.create_service(desired=2)["taskDefinition"]
    fast_stack.settle()
    fast_stack.aws.set_behaviour("users:missing", "pull_error")

    deployed = _deploy(cli, "--image", "users", "users:missing")

    assert deployed.returncode == 1
    assert "(service users) is unable to consistently start tasks successfully." in deployed.stderr
    assert "Deployment failed" in deployed.stderr
    # The failed release leaves the previous revision registered (ecs-deploy deregisters on success only).
    assert _status(fast_stack, old) == "ACTIVE"


def test_deploy_with_rollback_returns_to_the_previous_revision_after_a_failed_start(cli, fast_stack):
    old = fast_stack.create_service(desired=1)["taskDefinition"]
    fast_stack.settle()
    fast_stack.aws.set_behaviour("users:missing", "pull_error")

    deployed = _deploy(cli, "--image", "users", "users:missing", "--rollback")
    service = fast_stack.service()

    assert deployed.returncode == 1
    assert "Rolling back to task definition: users:1" in deployed.stdout
    assert service["taskDefinition"] == old
    assert _status(fast_stack, old) == "ACTIVE"


def test_crash_loop_the_circuit_breaker_rolls_back_ends_on_the_previous_revision(cli, fast_stack):
    old = fast_stack.create_service(desired=2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}})["taskDefinition"]
    fast_stack.settle()
    fast_stack.aws.set_behaviour("users:crash", "crash", exit_code=1, after_seconds=5)

    deployed = _deploy(cli, "--image", "users", "users:crash")
    service = fast_stack.service()
    history = fast_stack.ecs.list_service_deployments(cluster=CLUSTER, service="users")["serviceDeployments"]

    # ecs-deploy 1.17 judges the PRIMARY deployment only. ECS starts the rollback deployment
    # (the new PRIMARY) as it marks the failed one FAILED (the emulator in the same step; on AWS
    # a poll may fall between the two and see FAILED), so ecs-deploy reports the rollback's
    # completion as its own success, then deregisters the revision the service is back on.
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert service["taskDefinition"] == old
    assert history[0]["status"] == "ROLLBACK_SUCCESSFUL"
    assert _status(fast_stack, old) == "INACTIVE"
    assert service["runningCount"] == 2


def test_one_off_task_started_by_ecs_run_exits_with_its_code(cli, fast_stack):
    fast_stack.aws.set_behaviour("migrate:7", "exit", exit_code=7, after_seconds=5)
    fast_stack.task_definition("migrate:7", family="migrate")

    ran = cli.ecs_deploy("run", CLUSTER, "migrate", "--launchtype", "FARGATE", "--subnet", fast_stack.subnets[0],
                         "--securitygroup", fast_stack.security_group, "--no-diff")
    [arn] = fast_stack.ecs.list_tasks(cluster=CLUSTER, family="migrate")["taskArns"]
    waited = cli.wait("ecs", "tasks-stopped", "--cluster", CLUSTER, "--tasks", arn)
    [task] = fast_stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"]

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert waited.returncode == 0, waited.stderr
    assert task["startedBy"] == "ECS Deploy"
    assert task["containers"][0]["exitCode"] == 7
