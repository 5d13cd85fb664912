"""ecs_rolling_deploy end to end against the emulator, with its image behaviours.

Each test builds a realistic service with boto3 (VPC, ALB, IP target group, log group, Fargate
service with the circuit breaker on, two tasks) and waits until it is steady, then releases
through ``ansible-playbook`` the way a user does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from .ansible_runner_helpers import BIN

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE_V1 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:1"
IMAGE_V2 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:2"
FAST = {"poll_interval": 0.3, "max_poll_interval": 1.0, "timeout": 60, "unhealthy_timeout": 5}


def wait_steady(ecs, cluster, service, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        svc = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        deployments = svc["deployments"]
        if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED" and svc["runningCount"] == svc["desiredCount"]:
            return svc
        time.sleep(0.2)
    raise AssertionError("service %s never became steady: %s" % (service, svc["deployments"]))


@pytest.fixture
def app(aws, boto3_client):
    """Cluster ``app`` with service ``users`` steady on revision 1 behind an ALB."""
    ec2, elbv2, ecs, logs = (boto3_client(n) for n in ("ec2", "elbv2", "ecs", "logs"))
    # 1000 AWS seconds per wall second: a rolling deployment with AWS's default health checks
    # and deregistration delay takes about half a second.
    aws.set_time_scale(1000)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="users", Description="users tasks", VpcId=vpc)["GroupId"]
    lb = elbv2.create_load_balancer(Name="app", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="users", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip",
                                   HealthCheckPath="/ping")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    logs.create_log_group(logGroupName="/ecs/users")
    ecs.create_cluster(clusterName="app")
    rev1 = ecs.register_task_definition(
        family="users", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{
            "name": "users", "image": IMAGE_V1, "essential": True, "memory": 512,
            "portMappings": [{"containerPort": 5000, "protocol": "tcp"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/users", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
        }])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="app", serviceName="users", taskDefinition=rev1, desiredCount=2, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [sg]}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": "users", "containerPort": 5000}],
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100})
    wait_steady(ecs, "app", "users")
    aws.clear_calls()
    return {"ecs": ecs, "rev1": rev1, "target_group": tg, "elbv2": elbv2}


def release_args(image=IMAGE_V2, **extra):
    args = dict(FAST, cluster="app", services=[{"name": "users", "images": {"users": image}}])
    args.update(extra)
    return args


def current_revision(app):
    return app["ecs"].describe_services(cluster="app", services=["users"])["services"][0]["taskDefinition"]


def test_healthy_release_completes_on_the_new_revision_with_healthy_targets(app, run_module):
    result = run_module("ecs_rolling_deploy", release_args())
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["services"][0]["status"] == "completed"
    assert current_revision(app).endswith("task-definition/users:2")
    health = app["elbv2"].describe_target_health(TargetGroupArn=app["target_group"])["TargetHealthDescriptions"]
    assert health and all(t["TargetHealth"]["State"] == "healthy" for t in health if t["TargetHealth"]["State"] != "draining")


def test_second_run_with_the_same_input_is_a_noop_without_write_calls(aws, app, run_module):
    first = run_module("ecs_rolling_deploy", release_args())
    assert not first.get("failed"), first.get("msg")
    aws.clear_calls()
    second = run_module("ecs_rolling_deploy", release_args())
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False
    assert second["services"][0]["action"] == "noop"
    assert aws.write_calls() == []


def test_check_mode_reports_the_task_definition_diff_without_write_calls(aws, app, run_module):
    result = run_module("ecs_rolling_deploy", release_args(), check=True, diff=True)
    assert result["changed"] is True
    assert aws.write_calls() == []
    after = result["diff"]["after"]["task_definition/users"]
    assert after["containers"]["users"]["image"] == IMAGE_V2
    assert current_revision(app) == app["rev1"]


def test_crash_loop_fails_fast_on_stopped_tasks_and_is_rolled_back_by_the_module(aws, app, run_module):
    app["ecs"].update_service(cluster="app", service="users", deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "maximumPercent": 200, "minimumHealthyPercent": 100})
    wait_steady(app["ecs"], "app", "users")
    aws.set_behaviour(IMAGE_V2, "crash", exit_code=3, after_seconds=5)
    aws.clear_calls()
    result = run_module("ecs_rolling_deploy", release_args(max_failed_tasks=2))
    assert result.get("failed") is True
    assert "users" in result["msg"] and "rolled back" in result["msg"], result["msg"]
    failure = result["failures"][0]
    assert failure["kind"] == "tasks_failed"
    assert any(t["exit_codes"].get("users") == 3 for t in failure["stopped_tasks"])
    assert len([c for c in aws.write_calls() if c["operation"] == "UpdateService"]) == 2
    assert current_revision(app) == app["rev1"]
    assert result["state_left"][0]["rollout_state"] == "COMPLETED"


def test_targets_that_stay_unhealthy_fail_the_release_before_ecs_stops_their_tasks(aws, app, run_module):
    # A long health-check grace period: ECS keeps the unhealthy tasks, so only the module's
    # target-health gate can notice.
    app["ecs"].update_service(cluster="app", service="users", healthCheckGracePeriodSeconds=1000000, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "maximumPercent": 200, "minimumHealthyPercent": 100})
    wait_steady(app["ecs"], "app", "users")
    aws.set_behaviour(IMAGE_V2, "unhealthy")
    result = run_module("ecs_rolling_deploy", release_args(unhealthy_timeout=1))
    assert result.get("failed") is True
    assert result["failures"][0]["kind"] == "targets_unhealthy", result["msg"]
    assert current_revision(app) == app["rev1"]


def test_circuit_breaker_rollback_is_awaited_and_reported_as_failure(aws, app, run_module):
    aws.set_behaviour(IMAGE_V2, "crash", exit_code=1, after_seconds=5)
    result = run_module("ecs_rolling_deploy", release_args(max_failed_tasks=0))
    assert result.get("failed") is True
    assert result["failures"][0]["kind"] == "rolled_back_by_ecs"
    assert result["services"][0]["status"] == "rolled_back"
    updates = [c for c in aws.write_calls() if c["operation"] == "UpdateService"]
    assert len(updates) == 1, "ECS rolls back by itself; the module must not start a second rollback"
    assert current_revision(app) == app["rev1"]
    failure = result["failures"][0]
    assert any(t["stop_code"] == "EssentialContainerExited" and t["exit_codes"].get("users") == 1
               for t in failure["stopped_tasks"]), failure
    assert failure["log_lines"], failure


def test_a_failed_release_of_a_service_that_never_completed_a_deployment_is_not_awaited_as_an_ecs_rollback(
        aws, app, run_module):
    # AWS: the circuit breaker's rollback requires a previous deployment in COMPLETED state. A
    # service whose first deployment failed has none, so ECS leaves the next failed deployment
    # PRIMARY and the module must not wait its timeout for a rollback that never starts.
    ecs = app["ecs"]
    broken = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1"
    aws.set_behaviour(broken, "crash", exit_code=1, after_seconds=5)
    aws.set_behaviour(IMAGE_V2, "crash", exit_code=1, after_seconds=5)
    first = revision_like(app, broken)
    first["family"] = "orders"
    first["containerDefinitions"][0]["name"] = "orders"
    rev = ecs.register_task_definition(**first)["taskDefinition"]["taskDefinitionArn"]
    users = ecs.describe_services(cluster="app", services=["users"])["services"][0]
    # Behind a load balancer, so that its tasks crash before they are ever healthy.
    elbv2 = app["elbv2"]
    vpc = elbv2.describe_target_groups(TargetGroupArns=[app["target_group"]])["TargetGroups"][0]["VpcId"]
    tg = elbv2.create_target_group(Name="orders", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip",
                                   HealthCheckPath="/ping")["TargetGroups"][0]["TargetGroupArn"]
    lb = elbv2.describe_load_balancers(Names=["app"])["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    ecs.create_service(
        cluster="app", serviceName="orders", taskDefinition=rev, desiredCount=2, launchType="FARGATE",
        networkConfiguration=users["networkConfiguration"],
        loadBalancers=[{"targetGroupArn": tg, "containerName": "orders", "containerPort": 5000}],
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100})
    deadline = time.monotonic() + 30
    while ecs.describe_services(cluster="app", services=["orders"])["services"][0]["deployments"][0]["rolloutState"] != "FAILED":
        assert time.monotonic() < deadline, "the first deployment of orders never failed"
        time.sleep(0.2)
    aws.clear_calls()
    started = time.monotonic()
    result = run_module("ecs_rolling_deploy", dict(FAST, cluster="app", timeout=120, max_failed_tasks=0,
                                                   services=[{"name": "orders", "images": {"orders": IMAGE_V2}}]))
    assert result.get("failed") is True
    assert result["failures"][0]["kind"] == "deployment_failed", result["msg"]
    assert "ever completed" in result["msg"], result["msg"]
    assert time.monotonic() - started < 60, "waited for a rollback ECS never starts"
    assert len([c for c in aws.write_calls() if c["operation"] == "UpdateService"]) == 1
    svc = ecs.describe_services(cluster="app", services=["orders"])["services"][0]
    assert svc["deployments"][0]["rolloutState"] == "FAILED" and svc["taskDefinition"].endswith("orders:2")


def test_migration_with_a_nonzero_exit_code_stops_the_release_before_any_update(aws, app, run_module):
    aws.set_behaviour(IMAGE_V2, "exit", exit_code=2, after_seconds=5)
    result = run_module("ecs_rolling_deploy", release_args(migration={"service": "users", "command": ["flask", "db", "upgrade"]}))
    assert result.get("failed") is True
    assert result["migration"]["exit_codes"] == {"users": 2}
    assert [c["operation"] for c in aws.write_calls() if c["operation"] == "UpdateService"] == []
    assert current_revision(app) == app["rev1"]


def test_release_under_async_and_poll_completes_and_returns_its_timeline(app, run_playbook, tmp_path):
    playbook = tmp_path / "release_async.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Release in the background
      shipyard.ecs.ecs_rolling_deploy:
        cluster: app
        services:
          - name: users
            images: {users: "%s"}
        poll_interval: 0.3
        max_poll_interval: 1.0
        timeout: 60
      async: 120
      poll: 1
      register: release
    - name: Check it
      ansible.builtin.assert:
        that:
          - release.services[0].status == 'completed'
          - release.timeline | length > 0
""" % IMAGE_V2)
    run = run_playbook(str(playbook))
    assert run.rc == 0, run.stdout[-3000:]
    assert current_revision(app).endswith("users:2")


ASYNC_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Release in the background, polled
      shipyard.ecs.ecs_rolling_deploy:
        cluster: app
        services:
          - name: users
            images: {users: "%s"}
      async: 600
      poll: 5
      register: release
    - name: Check it
      ansible.builtin.assert:
        that:
          - release.services[0].status == 'completed'
          - release.progress | length > 0
"""
PROGRESS_LINE = re.compile(r"^\[\+\d+s\] users release: ")


def test_a_release_under_async_and_poll_prints_its_progress_while_it_waits(aws, app, ansible, tmp_path):
    # AWX job templates and CI run long tasks with async/poll: the wait must not be silent there.
    # About 40 s of wall time at 5x (AWS's default health checks, old targets draining 60 s).
    app["elbv2"].modify_target_group_attributes(TargetGroupArn=app["target_group"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "60"}])
    aws.set_time_scale(5)
    playbook = tmp_path / "release_async_progress.yml"
    playbook.write_text(ASYNC_PLAYBOOK % IMAGE_V2)
    env = ansible.env({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"})
    start = time.monotonic()
    proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), str(playbook), "-i", "localhost,", "-c", "local",
                             "-e", "ansible_python_interpreter=%s" % sys.executable], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [(time.monotonic() - start, line.rstrip("\n")) for line in proc.stdout]
    text = "\n".join(line for _at, line in lines)
    assert proc.wait(timeout=120) == 0, text[-4000:]
    assert current_revision(app).endswith("users:2")
    started = next(t for t, line in lines if line.startswith("TASK [Release in the background, polled]"))
    ended = next(t for t, line in lines if line.startswith("TASK [Check it]"))
    times = [started] + [t for t, line in lines if PROGRESS_LINE.match(line)] + [ended]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print(text)
    print("progress gaps %s" % ["%.1f" % g for g in gaps])
    # Printed while the job ran, not all at once at its end: at least every 15 s of wall time.
    assert len(gaps) >= 4 and max(gaps) <= 15.0, gaps
    assert re.search(r"\[\+\d+s\] users release: rollout IN_PROGRESS, tasks \d/2, targets \d/\d healthy", text), text
    assert re.search(r"users release: .* - done", text), text


def test_rollback_playbook_returns_the_service_to_a_given_revision(app, run_playbook):
    rev2 = app["ecs"].register_task_definition(**revision_like(app, IMAGE_V2))["taskDefinition"]["taskDefinitionArn"]
    app["ecs"].update_service(cluster="app", service="users", taskDefinition=rev2)
    wait_steady(app["ecs"], "app", "users")
    run = run_playbook(os.path.join(REPO, "playbooks", "rollback.yml"),
                       extra_vars={"rollback_service": "users", "rollback_cluster": "app",
                                   "rollback_task_definition": "users:1", "rollback_poll_interval": 0.3})
    assert run.rc == 0, run.stdout[-3000:]
    assert run.task("Put the service back on its previous good revision")["services"][0]["status"] == "completed"
    assert current_revision(app) == app["rev1"]


def revision_like(app, image):
    td = app["ecs"].describe_task_definition(taskDefinition=app["rev1"])["taskDefinition"]
    keep = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory", "containerDefinitions")
    kwargs = {k: td[k] for k in keep}
    kwargs["containerDefinitions"][0]["image"] = image
    return kwargs


# services[].definition: the service created by ecs_stack, released from the same task definition dict.

DEFINITION = {
    "family": "users",
    "network_mode": "awsvpc",
    "requires_compatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "containers": [{
        "name": "users",
        "image": IMAGE_V1,
        "memory_reservation": 256,
        "port_mappings": [{"container_port": 5000}],
        "environment": {"APP_SETTINGS": "project.config.ProductionConfig", "WORKERS": 2},
        "secrets": {"DATABASE_URL": "/users/database-url"},
        "awslogs": {"group": "/ecs/users", "stream_prefix": "users"},
        "health_check": {"command": "curl -f http://localhost:5000/ping || exit 1"},
    }],
}


def with_app_settings(value):
    td = {**DEFINITION, "containers": [dict(DEFINITION["containers"][0])]}
    td["containers"][0]["environment"] = dict(td["containers"][0]["environment"], APP_SETTINGS=value)
    return td


@pytest.fixture
def stack(aws, boto3_client, run_module):
    """Cluster ``app`` with service ``users`` created by ecs_stack from DEFINITION, steady, its first revision verified."""
    ec2, elbv2, ecs, logs, ssm = (boto3_client(n) for n in ("ec2", "elbv2", "ecs", "logs", "ssm"))
    aws.set_time_scale(1000)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="users", Description="users tasks", VpcId=vpc)["GroupId"]
    lb = elbv2.create_load_balancer(Name="app", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="users", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip",
                                   HealthCheckPath="/ping")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    logs.create_log_group(logGroupName="/ecs/users")
    ssm.put_parameter(Name="/users/database-url", Value="postgres://users", Type="SecureString")
    created = run_module("ecs_stack", {
        "cluster": {"name": "app"},
        "services": [{
            "name": "users", "task_definition": DEFINITION, "desired_count": 2, "launch_type": "FARGATE",
            "network_configuration": {"subnets": subnets, "security_groups": [sg]},
            "load_balancers": [{"target_group": tg, "container_name": "users", "container_port": 5000}],
        }],
    })
    assert not created.get("failed"), created.get("msg")
    wait_steady(ecs, "app", "users")
    aws.clear_calls()
    # The first release of a service's first revision registers nothing and only marks it verified.
    first = run_module("ecs_rolling_deploy", dict(FAST, cluster="app", services=[{"name": "users", "definition": DEFINITION}]))
    assert not first.get("failed"), first.get("msg")
    assert [c["operation"] for c in aws.write_calls()] == ["TagResource"]
    aws.clear_calls()
    return {"ecs": ecs, "rev1": current_revision({"ecs": ecs})}


def definition_args(td):
    return dict(FAST, cluster="app", services=[{"name": "users", "definition": td}])


def running_environment(app):
    revision = current_revision(app)
    container = app["ecs"].describe_task_definition(taskDefinition=revision)["taskDefinition"]["containerDefinitions"][0]
    return {e["name"]: e["value"] for e in container["environment"]}


def test_the_definition_ecs_stack_created_the_service_with_is_a_noop_without_write_calls(aws, stack, run_module):
    result = run_module("ecs_rolling_deploy", definition_args(DEFINITION))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["services"][0]["action"] == "noop"
    assert aws.write_calls() == []


def test_a_changed_environment_variable_is_released_in_one_new_revision_then_a_noop(aws, stack, run_module):
    staging = with_app_settings("project.config.StagingConfig")
    result = run_module("ecs_rolling_deploy", definition_args(staging))
    assert not result.get("failed"), result.get("msg")
    svc = result["services"][0]
    assert result["changed"] is True
    assert (svc["status"], svc["registered"]) == ("completed", True)
    assert svc["changed_fields"] == ["containers.users.environment.APP_SETTINGS"]
    assert not result.get("warnings"), "the emulator stored the revision differently from the definition"
    assert [c["operation"] for c in aws.write_calls()].count("RegisterTaskDefinition") == 1
    assert current_revision(stack).endswith("task-definition/users:2")
    assert running_environment(stack)["APP_SETTINGS"] == "project.config.StagingConfig"

    aws.clear_calls()
    again = run_module("ecs_rolling_deploy", definition_args(staging))
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False
    assert aws.write_calls() == []


def test_check_diff_shows_the_changed_variable_and_writes_nothing(aws, stack, run_module):
    result = run_module("ecs_rolling_deploy", definition_args(with_app_settings("project.config.StagingConfig")),
                        check=True, diff=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert aws.write_calls() == []
    before = result["diff"]["before"]["task_definition/users"]["containers"]["users"]["environment"]
    after = result["diff"]["after"]["task_definition/users"]["containers"]["users"]["environment"]
    assert (before["APP_SETTINGS"], after["APP_SETTINGS"]) == ("project.config.ProductionConfig", "project.config.StagingConfig")
    assert [(a["action"], a["kind"]) for a in result["plan"]] == [("register", "task_definition"), ("update", "service")]
    assert result["services"][0]["task_definition_changes"] == [{
        "path": "containers.users.environment.APP_SETTINGS",
        "before": "project.config.ProductionConfig", "after": "project.config.StagingConfig"}]
    assert current_revision(stack) == stack["rev1"]
