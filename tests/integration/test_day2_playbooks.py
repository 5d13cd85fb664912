"""The day-2 playbooks (run_task, logs, scale, teardown) against the local emulated AWS.

Deploying takes a minute or more here, so the playbooks that need a deployed environment share
one deploy inside one test (pytest-xdist may spread the tests of a file over workers, and every
other test resets the emulator: a deployment cannot outlive its test). Refusals and logs need no
deployment and are tested on their own.
"""

import importlib.util
import os
import time

import pytest

from integration.ansible_runner_helpers import REPO

PLAYBOOKS = os.path.join(REPO, "playbooks")
DEPLOY = os.path.join(PLAYBOOKS, "deploy.yml")
RUN_TASK = os.path.join(PLAYBOOKS, "run_task.yml")
LOGS = os.path.join(PLAYBOOKS, "logs.yml")
SCALE = os.path.join(PLAYBOOKS, "scale.yml")
TEARDOWN = os.path.join(PLAYBOOKS, "teardown.yml")
NAME = "flask-microservices-local"
SERVICES = ["client", "users", "swagger"]


def seed_secrets(aws):
    """Create the app's secrets, as an operator does before the first deploy (tools/seed_local_secrets.py)."""
    spec = importlib.util.spec_from_file_location("seed_local_secrets", os.path.join(REPO, "tools", "seed_local_secrets.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.seed(aws.endpoint)


def ok(run):
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run


def failed_task(run):
    """The task that failed the play (a failed run has exactly one)."""
    failures = [t for t in run.tasks() if t.get("failed")]
    assert run.rc != 0 and failures, "expected a failure:\n" + run.stdout[-4000:] + run.stderr[-4000:]
    return failures[-1]


def test_teardown_without_the_confirmation_fails_before_any_aws_call(aws, run_playbook):
    for extra_vars in (None, {"confirm_teardown": "flask-microservices-production"}):
        aws.clear_calls()
        failure = failed_task(run_playbook(TEARDOWN, extra_vars=extra_vars))
        assert failure["name"] == "Check the confirmation"
        assert "-e confirm_teardown=%s" % NAME in failure["msg"]
        assert aws.calls() == []


def test_run_task_without_a_command_fails_before_any_aws_call(aws, run_playbook):
    failure = failed_task(run_playbook(RUN_TASK, extra_vars={"service": "users"}))
    assert failure["name"] == "Check the extra vars"
    assert "command=" in failure["msg"]
    assert aws.calls() == []


def service_logging_to(boto3_client, service, group):
    """A service whose task definition logs with awslogs to ``group`` (stream prefix: the service), with no task."""
    ecs = boto3_client("ecs")
    ecs.create_cluster(clusterName=NAME)
    arn = ecs.register_task_definition(family="%s-%s" % (NAME, service), requiresCompatibilities=["EC2"], containerDefinitions=[{
        "name": service, "image": "repo/%s:1" % service, "memory": 128, "essential": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": service}}}])["taskDefinition"]
    ecs.create_service(cluster=NAME, serviceName=service, taskDefinition=arn["taskDefinitionArn"], desiredCount=0,
                       launchType="EC2")
    boto3_client("logs").create_log_group(logGroupName=group)


def test_logs_shows_the_most_recent_lines_of_the_service_across_its_task_streams(aws, run_playbook, boto3_client):
    logs = boto3_client("logs")
    group = "/ecs/%s/users" % NAME
    service_logging_to(boto3_client, "users", group)
    now = int(time.time() * 1000)
    # Two tasks' streams whose lines interleave in time; an hour-old line only the old stream has.
    for offset, task in ((0, "task-a"), (500, "task-b")):
        stream = "users/users/" + task
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = [{"timestamp": now - 3600 * 1000 - offset, "message": "%s stale" % task}] if task == "task-a" else []
        events += [{"timestamp": now - 60000 + i * 1000 + offset, "message": "%s line %d" % (task, i)} for i in range(5)]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    aws.clear_calls()

    shown = ok(run_playbook(LOGS, extra_vars={"service": "users", "lines": 3})).task("Show the log lines")["msg"]
    assert [line.split(" ", 2)[2] for line in shown] == ["task-b line 3", "task-a line 4", "task-b line 4"]
    assert shown[0].split(" ")[1] == "users/users/task-b"

    recent = ok(run_playbook(LOGS, extra_vars={"service": "users", "lines": 20, "since": 30})).task("Show the log lines")["msg"]
    assert len(recent) == 10 and not any("stale" in line for line in recent)
    assert aws.write_calls() == []


def test_logs_of_an_environment_not_deployed_fails_naming_the_cluster(aws, run_playbook):
    failure = failed_task(run_playbook(LOGS, extra_vars={"service": "users"}))
    assert failure["name"] == "Read the recent log lines"
    assert failure["msg"] == "cluster=%r: no cluster of that name (is the environment deployed?)" % NAME


def test_logs_of_a_service_without_lines_says_so(aws, run_playbook, boto3_client):
    service_logging_to(boto3_client, "client", "/ecs/%s/client" % NAME)
    shown = ok(run_playbook(LOGS, extra_vars={"service": "client"})).task("Show the log lines")["msg"]
    assert shown == ["no log lines in /ecs/%s/client" % NAME]


@pytest.mark.slow
def test_day2_on_a_deployed_environment_run_task_scale_and_teardown(aws, run_playbook, boto3_client):
    secrets = seed_secrets(aws)
    ok(run_playbook(DEPLOY))
    ecs = boto3_client("ecs")
    users = ecs.describe_services(cluster=NAME, services=["users"])["services"][0]
    image = ecs.describe_task_definition(taskDefinition=users["taskDefinition"])["taskDefinition"]["containerDefinitions"][0]["image"]

    # run_task: the command runs in the service's current revision, on its network; exit 0 passes.
    seed = ok(run_playbook(RUN_TASK, extra_vars={"service": "users", "command": "python manage.py seed_db", "timeout": 120}))
    arn = seed.task("Run the command in the service's current revision")["task"]["task_arn"]
    task = ecs.describe_tasks(cluster=NAME, tasks=[arn])["tasks"][0]
    assert task["taskDefinitionArn"] == users["taskDefinition"]
    assert task["overrides"]["containerOverrides"][0]["command"] == ["python", "manage.py", "seed_db"]
    eni_subnets = [d["value"] for a in task["attachments"] for d in a["details"] if d["name"] == "subnetId"]
    assert eni_subnets and set(eni_subnets) <= set(users["networkConfiguration"]["awsvpcConfiguration"]["subnets"])
    assert "container users exit code 0" in seed.task("Show the outcome")["msg"]
    revisions = ecs.list_task_definitions(familyPrefix="%s-users" % NAME)["taskDefinitionArns"]
    assert revisions == [users["taskDefinition"]], "run_task must not register a revision"

    # ... and a non-zero exit code fails the play, naming it.
    aws.set_behaviour(image, "exit", exit_code=3)
    try:
        failure = failed_task(run_playbook(RUN_TASK, extra_vars={"service": "users", "command": ["python", "manage.py", "recreate_db"]}))
    finally:
        aws.reset_behaviours()
    assert failure["name"] == "Run the command in the service's current revision"
    assert "users exited with 3" in failure["msg"]
    assert failure["task"]["exit_codes"] == {"users": 3} and failure["task"]["stopped_reason"]

    # ... a task that does not stop in time fails the play, saying it is left running ...
    default_scale = aws.time()["default_scale"]
    aws.set_time_scale(0)
    try:
        failure = failed_task(run_playbook(RUN_TASK, extra_vars={"service": "users", "command": "sleep 600", "timeout": 1}))
    finally:
        aws.set_time_scale(default_scale)
    assert failure["name"] == "Run the command in the service's current revision"
    assert "did not stop within 1s and is left running" in failure["msg"]

    # ... and check mode starts nothing.
    aws.clear_calls()
    check = ok(run_playbook(RUN_TASK, check=True, extra_vars={"service": "users", "command": "python manage.py seed_db"}))
    assert check.task("Run the command in the service's current revision")["task"]["status"] == "would run"
    assert aws.write_calls() == []

    # scale: check mode writes nothing; the count is applied; the same count again is a no-op.
    aws.clear_calls()
    ok(run_playbook(SCALE, check=True, extra_vars={"service": "users", "count": 2}))
    assert aws.write_calls() == []
    assert ok(run_playbook(SCALE, extra_vars={"service": "users", "count": 2})).changed_tasks() == ["Set the desired count"]
    assert ecs.describe_services(cluster=NAME, services=["users"])["services"][0]["desiredCount"] == 2
    aws.clear_calls()
    assert ok(run_playbook(SCALE, extra_vars={"service": "users", "count": 2})).changed_tasks() == []
    assert aws.write_calls() == []

    # teardown: check mode writes nothing; then everything is gone; a second teardown is a no-op.
    confirm = {"confirm_teardown": NAME, "teardown_repositories": True}
    aws.clear_calls()
    assert ok(run_playbook(TEARDOWN, check=True, extra_vars=confirm)).changed > 0
    assert aws.write_calls() == []
    ok(run_playbook(TEARDOWN, extra_vars=confirm))
    assert_environment_is_gone(boto3_client)
    aws.clear_calls()
    assert sorted(p["Name"] for p in boto3_client("ssm").get_parameters(Names=secrets)["Parameters"]) == secrets, \
        "the secrets belong to whoever created them, not to the environment"
    again = ok(run_playbook(TEARDOWN, extra_vars=confirm))
    assert again.changed == 0, again.changed_tasks()
    assert aws.write_calls() == []


def assert_environment_is_gone(boto3_client):
    ecs = boto3_client("ecs")
    clusters = ecs.describe_clusters(clusters=[NAME])["clusters"]
    assert [c["status"] for c in clusters] in ([], ["INACTIVE"])
    assert boto3_client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert boto3_client("elbv2").describe_target_groups()["TargetGroups"] == []
    assert boto3_client("ecr").describe_repositories()["repositories"] == []
    assert boto3_client("logs").describe_log_groups(logGroupNamePrefix="/ecs/" + NAME)["logGroups"] == []
    assert boto3_client("cloudwatch").describe_alarms(AlarmNamePrefix=NAME)["MetricAlarms"] == []
    assert [t for t in boto3_client("sns").list_topics()["Topics"] if t["TopicArn"].endswith(":%s-alarms" % NAME)] == []
    roles = [r["RoleName"] for r in boto3_client("iam").list_roles()["Roles"]]
    assert [r for r in roles if r.startswith(NAME)] == []
    scalable = boto3_client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert scalable == []
    ec2 = boto3_client("ec2")
    groups = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert [g for g in groups if g.startswith(NAME)] == []
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"] == []
    assert ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.20.0.0/24", "10.20.1.0/24"]}])["Subnets"] == []
