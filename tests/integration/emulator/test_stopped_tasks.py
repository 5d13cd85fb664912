"""Stopped tasks carry AWS's stop codes, reasons, exit codes and who started them."""

from __future__ import annotations

from integration.emulator.stack import CLUSTER


def _first_stopped(stack, limit=300, step=5):
    for _step in range(int(limit / step)):
        stopped = [t for t in stack.tasks("STOPPED") if t["lastStatus"] == "STOPPED"]
        if stopped:
            return stopped[0]
        stack.advance(step)
    raise AssertionError("no task stopped within %ss of AWS time" % limit)


def test_crashed_task_reports_essential_container_exited_with_its_exit_code(stack):
    stack.aws.set_behaviour("users:1", "crash", exit_code=137, after_seconds=20)
    stack.create_service(load_balanced=False, desired=1)

    task = _first_stopped(stack)

    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    [container] = task["containers"]
    assert (container["lastStatus"], container["exitCode"]) == ("STOPPED", 137)


def test_image_pull_error_stops_the_task_before_it_runs(stack):
    stack.aws.set_behaviour("users:1", "pull_error")
    stack.create_service(load_balanced=False, desired=1)

    task = _first_stopped(stack)

    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert "users:1" in task["stoppedReason"]
    assert task["containers"][0]["reason"] == task["stoppedReason"]
    assert "startedAt" not in task


def test_task_failing_elb_health_checks_is_stopped_by_the_scheduler(stack):
    stack.aws.set_behaviour("users:1", "unhealthy")
    stack.create_service(desired=1)

    task = _first_stopped(stack, limit=600)

    assert task["stopCode"] == "ServiceSchedulerInitiated"
    assert task["stoppedReason"] == "Task failed ELB health checks in (target-group %s)" % stack.target_group


def test_service_task_is_started_by_its_deployment_in_the_service_group(stack):
    stack.create_service(load_balanced=False, desired=1)
    stack.advance(1)

    [task] = stack.tasks()

    assert task["startedBy"] == stack.deployments()[0]["id"]
    assert task["group"] == "service:users"


def test_user_stopped_task_reports_user_initiated_and_the_reason(stack):
    stack.create_service(load_balanced=False, desired=1)
    stack.advance(30)
    [task] = stack.tasks()

    stack.ecs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason="debugging")
    stack.advance(30)

    [stopped] = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == ("STOPPED", "UserInitiated", "debugging")


def test_list_tasks_without_desired_status_lists_running_tasks_only(stack):
    stack.aws.set_behaviour("users:1", "crash", exit_code=1, after_seconds=5)
    stack.create_service(load_balanced=False, desired=1)
    _first_stopped(stack)

    listed = set(stack.ecs.list_tasks(cluster=CLUSTER)["taskArns"])

    assert listed == set(stack.ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"])
    assert not listed & set(stack.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"])


def test_stopped_tasks_stay_describable_for_an_hour(stack):
    stack.aws.set_behaviour("users:1", "crash", exit_code=1, after_seconds=5)
    stack.create_service(load_balanced=False, desired=1)
    task = _first_stopped(stack)

    stack.advance(3600)

    [again] = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"]
    assert again["lastStatus"] == "STOPPED"


def test_describing_an_unknown_task_reports_it_missing(stack):
    arn = "arn:aws:ecs:us-east-1:123456789012:task/demo/0123456789abcdef0123456789abcdef"

    answer = stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])

    assert answer["tasks"] == []
    assert answer["failures"] == [{"arn": arn, "reason": "MISSING"}]


def _with_logs(stack, group="/ecs/app", create_group=False):
    options = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "users"}
    if create_group:
        options["awslogs-create-group"] = "true"
    return stack.task_definition("users:1", logConfiguration={"logDriver": "awslogs", "options": options})


def test_crashed_task_leaves_its_last_lines_in_its_awslogs_stream(stack):
    stack.clients.logs.create_log_group(logGroupName="/ecs/app")
    stack.aws.set_behaviour("users:1", "crash", exit_code=3, after_seconds=20)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users", taskDefinition=_with_logs(stack), desiredCount=1,
                             launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                                 "subnets": stack.subnets, "securityGroups": [stack.security_group]}})
    task = _first_stopped(stack)
    stream = "users/users/%s" % task["taskArn"].split("/")[-1]

    events = stack.clients.logs.get_log_events(logGroupName="/ecs/app", logStreamName=stream)["events"]

    assert events[-1]["message"] == "RuntimeError: fatal error, exiting with code 3"


def test_missing_log_group_fails_the_task_at_start(stack):
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users", taskDefinition=_with_logs(stack), desiredCount=1,
                             launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                                 "subnets": stack.subnets, "securityGroups": [stack.security_group]}})

    task = _first_stopped(stack)

    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: failed to validate logger args")


HEALTH_CHECK = {"command": ["CMD-SHELL", "curl -f http://localhost:5000/ping || exit 1"], "interval": 10,
                "retries": 3, "startPeriod": 30}


def test_container_health_check_makes_the_task_healthy(stack):
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users", desiredCount=1, launchType="FARGATE",
                             taskDefinition=stack.task_definition("users:1", healthCheck=HEALTH_CHECK),
                             networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}})
    stack.advance(15)
    [starting] = stack.tasks()
    stack.advance(10)

    [task] = stack.tasks()
    assert (starting["lastStatus"], starting["healthStatus"]) == ("RUNNING", "UNKNOWN")
    assert task["healthStatus"] == task["containers"][0]["healthStatus"] == "HEALTHY"


def test_task_failing_container_health_checks_is_replaced(stack):
    stack.aws.set_behaviour("users:1", "unhealthy")
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users", desiredCount=1, launchType="FARGATE",
                             taskDefinition=stack.task_definition("users:1", healthCheck=HEALTH_CHECK),
                             networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}})

    task = _first_stopped(stack)

    assert task["stopCode"] == "ServiceSchedulerInitiated"
    assert task["stoppedReason"] == "Task failed container health checks"
    assert task["healthStatus"] == "UNHEALTHY"
