"""ECS deployments progress over time the way AWS documents (rolling update controller)."""

from __future__ import annotations

import re

from integration.emulator.stack import CLUSTER


def test_create_service_keeps_deployment_configuration_and_grace_period(stack):
    service = stack.create_service(
        healthCheckGracePeriodSeconds=60,
        deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50,
                                 "deploymentCircuitBreaker": {"enable": True, "rollback": True}})

    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["deploymentConfiguration"] == {
        "maximumPercent": 150, "minimumHealthyPercent": 50,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}}


def test_new_service_has_one_primary_deployment_in_progress(stack):
    stack.create_service()

    [deployment] = stack.deployments()
    assert deployment["status"] == "PRIMARY"
    assert deployment["rolloutState"] == "IN_PROGRESS"
    assert re.fullmatch(r"ecs-svc/\d{19}", deployment["id"])
    assert deployment["rolloutStateReason"] == "ECS deployment %s in progress." % deployment["id"]


def test_service_tasks_go_provisioning_then_pending_then_running(stack):
    stack.create_service(load_balanced=False, desired=1)
    seen = []
    for _step in range(8):
        for task in stack.tasks():
            if not seen or seen[-1] != task["lastStatus"]:
                seen.append(task["lastStatus"])
        stack.advance(3)

    assert seen == ["PROVISIONING", "PENDING", "RUNNING"]


def test_running_and_pending_counts_follow_the_tasks(stack):
    stack.create_service(load_balanced=False, desired=2)
    stack.advance(1)
    starting = stack.service()
    stack.advance(60)
    running = stack.service()

    assert (starting["pendingCount"], starting["runningCount"]) == (2, 0)
    assert (starting["deployments"][0]["pendingCount"], starting["deployments"][0]["runningCount"]) == (2, 0)
    assert (running["pendingCount"], running["runningCount"]) == (0, 2)


def test_first_deployment_completes_once_targets_are_healthy(stack):
    stack.create_service()
    stack.advance(60)
    assert stack.deployments()[0]["rolloutState"] == "IN_PROGRESS"

    service = stack.settle()

    [deployment] = service["deployments"]
    assert deployment["rolloutState"] == "COMPLETED"
    assert deployment["rolloutStateReason"] == "ECS deployment %s completed." % deployment["id"]
    assert service["runningCount"] == 2


def test_update_with_new_revision_makes_new_primary_and_previous_active(stack):
    stack.create_service()
    stack.settle()
    first = stack.deployments()[0]

    revision = stack.release("users:2")

    primary, active = stack.deployments()
    assert (primary["status"], primary["taskDefinition"], primary["rolloutState"]) == ("PRIMARY", revision, "IN_PROGRESS")
    assert (active["status"], active["id"], active["taskDefinition"]) == ("ACTIVE", first["id"], first["taskDefinition"])
    assert stack.service()["taskDefinition"] == revision


def test_force_new_deployment_makes_new_primary_with_same_revision(stack):
    stack.create_service()
    stack.settle()
    first = stack.deployments()[0]

    stack.ecs.update_service(cluster=CLUSTER, service="users", forceNewDeployment=True)

    primary, active = stack.deployments()
    assert primary["id"] != first["id"]
    assert primary["taskDefinition"] == first["taskDefinition"]
    assert active["status"] == "ACTIVE"


def test_desired_count_change_keeps_the_deployment(stack):
    stack.create_service()
    stack.settle()
    first = stack.deployments()[0]

    stack.ecs.update_service(cluster=CLUSTER, service="users", desiredCount=3)

    [deployment] = stack.deployments()
    assert deployment["id"] == first["id"]
    assert deployment["desiredCount"] == 3


def test_healthy_release_completes_with_old_tasks_drained(stack):
    stack.create_service()
    stack.settle()
    old_tasks = {t["taskArn"] for t in stack.tasks()}

    revision = stack.release("users:2")
    service = stack.settle()

    [deployment] = service["deployments"]
    assert (deployment["taskDefinition"], deployment["rolloutState"]) == (revision, "COMPLETED")
    running = stack.tasks()
    assert {t["taskDefinitionArn"] for t in running} == {revision}
    assert len(running) == 2
    stopped = {t["taskArn"]: t for t in stack.tasks("STOPPED")}
    assert old_tasks <= set(stopped)
    assert all(stopped[arn]["stopCode"] == "ServiceSchedulerInitiated" for arn in old_tasks)


def test_rollout_stays_within_maximum_percent_and_minimum_healthy_percent(stack):
    stack.create_service(desired=4, deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50})
    stack.settle()
    stack.release("users:2")
    live_counts, healthy_counts = [], []
    for _step in range(200):
        tasks = stack.tasks()
        live_counts.append(len(tasks))
        healthy = [h for h in stack.target_health() if h["TargetHealth"]["State"] == "healthy"]
        healthy_counts.append(len(healthy))
        if stack.deployments()[0]["rolloutState"] == "COMPLETED" and len(stack.deployments()) == 1:
            break
        stack.advance(10)

    assert stack.deployments()[0]["rolloutState"] == "COMPLETED"
    assert max(live_counts) <= 6  # 150% of 4
    assert min(healthy_counts) >= 2  # 50% of 4


def test_events_are_newest_first_in_aws_wording(stack):
    stack.create_service()
    service = stack.settle()
    deployment_id = service["deployments"][0]["id"]

    events = [e["message"] for e in service["events"]]
    times = [e["createdAt"] for e in service["events"]]

    assert times == sorted(times, reverse=True)
    assert events[0] == "(service users) has reached a steady state."
    assert events[1] == "(service users) (deployment %s) deployment completed." % deployment_id
    assert re.fullmatch(r"\(service users\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.", events[-1])
    assert "(service users) registered 2 targets in (target-group %s)" % stack.target_group in events


def test_services_stable_waiter_passes_after_rollout(stack):
    stack.create_service()
    stack.settle()

    stack.ecs.get_waiter("services_stable").wait(cluster=CLUSTER, services=["users"],
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def test_ec2_service_without_container_instances_reports_unable_to_place(stack):
    arn = stack.task_definition("users:1", family="users-ec2", network_mode="bridge")
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users-ec2", taskDefinition=arn, desiredCount=1,
                             launchType="EC2")
    stack.advance(5)

    events = stack.events("users-ec2")
    assert events[0].startswith("(service users-ec2) was unable to place a task because no container instance "
                                "met all of its requirements.")
    assert stack.service("users-ec2")["pendingCount"] == 0
