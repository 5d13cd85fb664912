"""Readiness predicates on hand-written observations."""

from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.readiness import (
    DONE,
    FAILED,
    WAITING,
    Observation,
    Policy,
    Track,
    judge,
    last_completed_revision,
)

TG = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/users/1"
REV1 = "arn:aws:ecs:us-east-1:1:task-definition/users:1"
REV2 = "arn:aws:ecs:us-east-1:1:task-definition/users:2"


def service(*deployments):
    return {"serviceName": "users", "status": "ACTIVE", "desiredCount": 1, "runningCount": 1,
            "loadBalancers": [{"targetGroupArn": TG, "containerName": "users", "containerPort": 5000}],
            "deployments": list(deployments)}


def deployment(dep_id, rev, status="PRIMARY", rollout="COMPLETED", running=1):
    return {"id": dep_id, "taskDefinition": rev, "status": status, "rolloutState": rollout, "runningCount": running,
            "desiredCount": 1, "pendingCount": 0}


def task(dep_id, ip):
    return {"taskArn": "arn:aws:ecs:us-east-1:1:task/app/%s" % ip, "startedBy": dep_id, "desiredStatus": "RUNNING",
            "attachments": [{"type": "ElasticNetworkInterface", "details": [{"name": "privateIPv4Address", "value": ip}]}]}


def target(ip, state):
    return {"Target": {"Id": ip, "Port": 5000}, "TargetHealth": {"State": state}}


def test_completed_deployment_with_healthy_targets_is_done():
    obs = Observation(service(deployment("d2", REV2)), [task("d2", "10.0.0.5")], [], {TG: [target("10.0.0.5", "healthy")]})
    assert judge(Track("app", "users", REV2, "d2"), obs, Policy()).status == DONE


def test_completed_deployment_with_an_initial_target_is_still_waiting():
    obs = Observation(service(deployment("d2", REV2)), [task("d2", "10.0.0.5")], [], {TG: [target("10.0.0.5", "initial")]})
    assert judge(Track("app", "users", REV2, "d2"), obs, Policy()).status == WAITING


def test_a_draining_registration_of_a_reused_ip_does_not_hide_the_new_tasks_health():
    targets = {TG: [target("10.0.0.5", "draining"), target("10.0.0.5", "healthy")]}
    obs = Observation(service(deployment("d2", REV2)), [task("d2", "10.0.0.5")], [], targets)
    assert judge(Track("app", "users", REV2, "d2"), obs, Policy()).status == DONE


def test_a_steady_service_whose_primary_is_not_our_deployment_is_never_success():
    svc = service(deployment("d3", REV1), deployment("d2", REV2, status="ACTIVE", rollout="FAILED", running=0))
    verdict = judge(Track("app", "users", REV2, "d2"), Observation(svc, [], [], {TG: []}), Policy())
    assert verdict.status == FAILED and verdict.kind == "rolled_back_by_ecs"


def test_a_target_unhealthy_for_less_than_the_timeout_is_tolerated_then_fails():
    track = Track("app", "users", REV2, "d2")
    svc = service(deployment("d2", REV2, rollout="IN_PROGRESS"))
    unhealthy = {TG: [target("10.0.0.5", "unhealthy")]}
    policy = Policy(unhealthy_timeout=30)
    assert judge(track, Observation(svc, [task("d2", "10.0.0.5")], [], unhealthy, at=100.0), policy).status == WAITING
    assert judge(track, Observation(svc, [task("d2", "10.0.0.5")], [], unhealthy, at=131.0), policy).kind == "targets_unhealthy"


def test_last_completed_revision_is_the_completed_deployment_not_revision_minus_one():
    svc = service(deployment("d9", "users:9", rollout="IN_PROGRESS"), deployment("d5", "users:5", status="ACTIVE"))
    assert last_completed_revision(svc) == "users:5"


def test_a_deployment_gone_after_ecs_completed_its_rollback_is_reported_as_ecs_rollback():
    svc = service(deployment("d3", REV1))
    svc["events"] = [{"message": "(service users) (deployment d2) deployment failed: tasks failed to start."}]
    verdict = judge(Track("app", "users", REV2, "d2"), Observation(svc, [], [], {TG: []}), Policy())
    assert verdict.kind == "rolled_back_by_ecs"


def test_a_failed_deployment_replaced_on_a_service_that_never_completed_one_was_not_rolled_back_by_ecs():
    # ECS rolls back only to a deployment that COMPLETED: without one, a new PRIMARY is someone else's.
    svc = service(deployment("d3", REV1, rollout="IN_PROGRESS"), deployment("d2", REV2, status="ACTIVE", rollout="FAILED"))
    track = Track("app", "users", REV2, "d2", completed_before=False)
    assert judge(track, Observation(svc, [], [], {TG: []}), Policy()).kind == "replaced"
    track.completed_before = True
    assert judge(track, Observation(svc, [], [], {TG: []}), Policy()).kind == "rolled_back_by_ecs"


def test_a_deployment_gone_without_ecs_failing_it_was_replaced():
    verdict = judge(Track("app", "users", REV2, "d2"), Observation(service(deployment("d3", REV1)), [], [], {TG: []}), Policy())
    assert verdict.kind == "replaced"


def stopped(dep_id, code, reason):
    return {"taskArn": "arn:aws:ecs:us-east-1:1:task/app/x", "startedBy": dep_id, "lastStatus": "STOPPED",
            "stopCode": code, "stoppedReason": reason}


def test_tasks_stopped_by_scale_in_or_a_user_do_not_count_as_failed_tasks():
    svc = service(deployment("d2", REV2, rollout="IN_PROGRESS"))
    gone = [stopped("d2", "ServiceSchedulerInitiated", "Scaling activity initiated by (deployment d2)"),
            stopped("d2", "UserInitiated", "Task stopped by user")]
    verdict = judge(Track("app", "users", REV2, "d2"), Observation(svc, [], gone, {TG: []}), Policy(max_failed_tasks=1))
    assert verdict.status == WAITING


def test_tasks_stopped_for_failing_health_checks_count_as_failed_tasks():
    svc = service(deployment("d2", REV2, rollout="IN_PROGRESS"))
    gone = [stopped("d2", "ServiceSchedulerInitiated", "Task failed ELB health checks in (target-group users)")]
    verdict = judge(Track("app", "users", REV2, "d2"), Observation(svc, [], gone, {TG: []}), Policy(max_failed_tasks=1))
    assert verdict.kind == "tasks_failed"
