"""Deployment circuit breaker: failed tasks per deployment, AWS's threshold, rollback."""

from __future__ import annotations

from emulator.fidelity.ecs_sim import circuit_breaker_threshold

BREAKER_WITH_ROLLBACK = {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                         "maximumPercent": 200, "minimumHealthyPercent": 100}


def test_threshold_is_half_the_desired_count_between_3_and_200():
    assert [circuit_breaker_threshold(n) for n in (1, 2, 6, 7, 100, 399, 400, 1000)] == [3, 3, 3, 4, 50, 200, 200, 200]


def test_crash_looping_release_fails_and_rolls_back_to_previous_revision(stack):
    stack.create_service(image="users:1", deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    completed = stack.settle()["deployments"][0]
    stack.aws.set_behaviour("users:2", "crash", exit_code=1, after_seconds=10)

    stack.release("users:2")
    failed_id = stack.deployments()[0]["id"]
    service = stack.settle()

    [rollback] = service["deployments"]
    assert rollback["id"] not in (failed_id, completed["id"])
    assert rollback["taskDefinition"] == completed["taskDefinition"]
    assert rollback["rolloutState"] == "COMPLETED"
    assert service["taskDefinition"] == completed["taskDefinition"]
    events = [e["message"] for e in service["events"]]
    assert "(service users) (deployment %s) deployment failed: tasks failed to start." % failed_id in events
    assert "(service users) rolling back to deployment %s." % completed["id"] in events


def test_failed_deployment_stays_listed_as_failed_while_its_tasks_stop(stack):
    stack.create_service(image="users:1", deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    stack.settle()
    stack.aws.set_behaviour("users:2", "pull_error")
    stack.release("users:2")
    failed_id = stack.deployments()[0]["id"]
    for _step in range(100):
        failed = [d for d in stack.deployments() if d["id"] == failed_id]
        if not failed or failed[0]["rolloutState"] == "FAILED":
            break
        stack.advance(1)

    assert failed, "the failed deployment left the list before it was seen FAILED"
    assert (failed[0]["status"], failed[0]["rolloutState"]) == ("ACTIVE", "FAILED")
    assert failed[0]["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert failed[0]["failedTasks"] >= 3


def test_rollback_deployment_names_the_deployment_it_returns_to(stack):
    stack.create_service(image="users:1", deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    completed = stack.settle()["deployments"][0]
    stack.aws.set_behaviour("users:2", "pull_error")

    stack.release("users:2")
    for _step in range(100):
        primary = stack.deployments()[0]
        if primary["taskDefinition"] == completed["taskDefinition"]:
            break
        stack.advance(5)

    assert primary["rolloutStateReason"] == (
        "ECS deployment circuit breaker: rolling back to deploymentId %s." % completed["id"])


def test_breaker_without_rollback_fails_the_deployment_and_launches_no_more_tasks(stack):
    stack.create_service(image="users:1", deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    stack.settle()
    stack.aws.set_behaviour("users:2", "pull_error")
    revision = stack.release("users:2")
    for _step in range(100):
        if stack.deployments()[0]["rolloutState"] == "FAILED":
            break
        stack.advance(5)
    failed = stack.deployments()[0]["failedTasks"]

    stack.advance(600)

    primary = stack.deployments()[0]
    assert (primary["taskDefinition"], primary["rolloutState"], primary["status"]) == (revision, "FAILED", "PRIMARY")
    assert primary["failedTasks"] == failed
    assert primary["pendingCount"] == primary["runningCount"] == 0


def test_without_breaker_a_crash_loop_keeps_the_deployment_in_progress(stack):
    stack.create_service(image="users:1")
    stack.settle()
    stack.aws.set_behaviour("users:2", "crash", exit_code=2, after_seconds=5)
    stack.release("users:2")

    stack.advance(600)

    primary, active = stack.deployments()
    assert primary["rolloutState"] == "IN_PROGRESS"
    assert primary["failedTasks"] > 3
    assert active["runningCount"] == 2


def test_failed_tasks_are_counted_per_deployment(stack):
    stack.create_service(image="users:1", deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    stack.settle()
    stack.aws.set_behaviour("users:2", "crash", exit_code=1, after_seconds=5)
    stack.release("users:2")
    stack.advance(30)

    primary, active = stack.deployments()
    assert primary["failedTasks"] >= 1
    assert active["failedTasks"] == 0


def _service_deployments(stack):
    arns = [d["serviceDeploymentArn"] for d in stack.ecs.list_service_deployments(
        cluster="demo", service="users")["serviceDeployments"]]
    return stack.ecs.describe_service_deployments(serviceDeploymentArns=arns)["serviceDeployments"]


def test_service_deployments_record_the_rollback_of_a_failed_release(stack):
    stack.create_service(image="users:1", deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    stack.settle()
    stack.aws.set_behaviour("users:2", "crash", exit_code=1, after_seconds=10)
    stack.release("users:2")
    stack.settle()

    failed, first = _service_deployments(stack)

    assert first["status"] == "SUCCESSFUL"
    assert failed["status"] == "ROLLBACK_SUCCESSFUL"
    assert failed["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert failed["deploymentCircuitBreaker"]["failureCount"] >= failed["deploymentCircuitBreaker"]["threshold"] == 3
    assert failed["rollback"]["serviceRevisionArn"] != failed["targetServiceRevision"]["arn"]
    assert failed["sourceServiceRevisions"][0]["arn"] == first["targetServiceRevision"]["arn"]


def test_list_service_deployments_filters_by_status(stack):
    stack.create_service(image="users:1")
    stack.settle()
    stack.release("users:2")

    listed = stack.ecs.list_service_deployments(cluster="demo", service="users", status=["IN_PROGRESS"])

    [in_progress] = listed["serviceDeployments"]
    assert in_progress["status"] == "IN_PROGRESS"
    assert in_progress["serviceArn"].endswith(":service/demo/users")
