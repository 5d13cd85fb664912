"""ecs_stack against the local emulated AWS on the reference app's three services.

Module runs go through ansible-playbook, the way a user runs them.  State a test starts from
(a stack that already exists) is built with the same runner in-process, which is faster than a
playbook and is not what the test is about.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import yaml

from .ansible_runner_helpers import BIN

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AppAutoscalingApi, EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack

CLUSTER = "flask-microservices-prod-cluster"
ACCOUNT_ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
# The seed's services: name, container, port, health check path.
SEED = (("client", "client-prod", 9000), ("users", "users-service-prod", 5000), ("swagger", "swagger-prod", 8080))
ENVIRONMENT = {
    "client": {"NODE_ENV": "production", "REACT_APP_USERS_SERVICE_URL": "http://flask-microservices-prod-alb"},
    "users": {"APP_SETTINGS": "project.config.ProductionConfig"},
    "swagger": {"API_URL": "https://raw.githubusercontent.com/realpython/flask-microservices-swagger/master/swagger-prod.json"},
}


def seed_service(name, container, port):
    """One of the seed's services: bridge networking on EC2, dynamic host port, awslogs."""
    svc = {
        "name": "flask-microservices-prod-%s" % name,
        "desired_count": 1,
        "task_definition": {
            "family": "flask-microservices-%s-prod-td" % name,
            "containers": [{
                "name": container,
                "image": "%s/flask-microservices-%s:production" % (ACCOUNT_ECR, name),
                "essential": True,
                "memory_reservation": 300,
                "cpu": 300,
                "port_mappings": [{"container_port": port, "host_port": 0, "protocol": "tcp"}],
                "environment": ENVIRONMENT[name],
                "awslogs": {"group": "flask-microservices-production", "region": "us-east-1", "stream_prefix": name},
            }],
        },
        "launch_type": "EC2",
        "load_balancers": [{"target_group": "%s-prod-tg" % name, "container_name": container, "container_port": port}],
    }
    if name == "users":
        svc["task_definition"]["containers"][0]["secrets"] = {
            "DATABASE_URL": "/flask-microservices/production/database-url",
            "SECRET_KEY": SECRETS["SECRET_KEY"],
        }
        svc["health_check_grace_period"] = 30
        svc["deployment_configuration"] = {"minimum_healthy_percent": 50, "maximum_percent": 200,
                                           "circuit_breaker": {"enable": True, "rollback": True}}
        # The seed's scaling: 50 % CPU, 1..10 tasks, 30 s cooldowns.
        svc["autoscaling"] = {"min_capacity": 1, "max_capacity": 10, "policies": [
            {"name": "cpu50", "metric": "cpu", "target": 50, "scale_in_cooldown": 30, "scale_out_cooldown": 30}]}
    return svc


def seed_args(**overrides):
    args = {
        "cluster": {"name": CLUSTER, "container_insights": "enabled", "tags": {"app": "flask-microservices"}},
        "services": [seed_service(*s) for s in SEED],
    }
    args.update(overrides)
    return args


# The users service's secrets; ecs_stack refuses to create a service whose secrets do not exist.
SECRETS = {}


@pytest.fixture
def target_groups(aws, boto3_client):
    """The seed's load balancer and target groups (alb_routes owns them; here boto3 makes them),
    and the secrets the users service references."""
    boto3_client("ssm").put_parameter(Name="/flask-microservices/production/database-url", Value="x", Type="SecureString")
    SECRETS["SECRET_KEY"] = boto3_client("secretsmanager").create_secret(Name="users-secret-key", SecretString="x")["ARN"]
    ec2 = boto3_client("ec2")
    elbv2 = boto3_client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.%d.0/24" % i, AvailabilityZone="us-east-1" + az)[
        "Subnet"]["SubnetId"] for i, az in enumerate("ab", start=1)]
    lb = elbv2.create_load_balancer(Name="flask-microservices-prod-alb", Subnets=subnets)["LoadBalancers"][0]
    arns = {name: elbv2.create_target_group(Name="%s-prod-tg" % name, Protocol="HTTP", Port=port, VpcId=vpc)[
        "TargetGroups"][0]["TargetGroupArn"] for name, _container, port in SEED}
    http = elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": arns["client"]}])["Listeners"][0]
    elbv2.create_rule(ListenerArn=http["ListenerArn"], Priority=1, Actions=[
        {"Type": "forward", "TargetGroupArn": arns["users"]}], Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/users*", "/auth/*", "/ping"]}}])
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": arns["swagger"]}])
    aws.clear_calls()
    return arns


@pytest.fixture
def existing_stack(aws, target_groups, boto3_client):
    """Build the stack in-process (the starting state of a test), then forget the calls it made."""

    def build(args):
        stack = EcsStack(dict(args, state="present"), EcsApi(boto3_client("ecs")),
                         AppAutoscalingApi(boto3_client("application-autoscaling")),
                         Elbv2Api(boto3_client("elbv2")), NamespaceReader(boto3_client("servicediscovery")),
                         region="us-east-1")
        stack.run()
        aws.clear_calls()

    return build


def describe(boto3_client, name):
    return boto3_client("ecs").describe_services(cluster=CLUSTER, services=["flask-microservices-prod-" + name])[
        "services"][0]


def test_first_run_creates_the_seed_stack_and_second_run_only_describes(aws, target_groups, run_module, boto3_client):
    first = run_module("ecs_stack", seed_args())
    assert not first.get("failed"), first.get("msg")
    assert first["changed"]
    users = describe(boto3_client, "users")
    assert users["status"] == "ACTIVE"
    assert users["loadBalancers"] == [{"targetGroupArn": target_groups["users"], "containerName": "users-service-prod",
                                       "containerPort": 5000}]
    # The log group is cloudwatch_stack's, not ecs_stack's.
    assert boto3_client("logs").describe_log_groups(logGroupNamePrefix="flask-microservices-production")["logGroups"] == []

    aws.clear_calls()
    second = run_module("ecs_stack", seed_args())
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False
    assert second["plan"] == []
    assert aws.write_calls() == []
    assert second["drift"] == {}


def test_check_mode_reports_the_plan_with_diff_and_writes_nothing(aws, target_groups, run_module):
    res = run_module("ecs_stack", seed_args(), check=True, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    assert sorted(a["name"] for a in res["plan"] if a["kind"] == "service") == sorted(
        "flask-microservices-prod-%s" % s[0] for s in SEED)
    assert "service/flask-microservices-prod-users" in res["diff"]["after"]
    assert aws.write_calls() == []


def test_count_deployment_configuration_and_autoscaling_change_in_place(aws, existing_stack, run_module, boto3_client):
    existing_stack(seed_args())
    args = seed_args()
    args["services"][0]["desired_count"] = 2
    args["services"][2]["deployment_configuration"] = {"minimum_healthy_percent": 50, "maximum_percent": 200,
                                                       "circuit_breaker": {"enable": True, "rollback": True}}
    users_scaling = args["services"][1]["autoscaling"]
    users_scaling["max_capacity"] = 20
    users_scaling["policies"][0]["target"] = 60

    res = run_module("ecs_stack", args)
    assert not res.get("failed"), res.get("msg")
    assert sorted((a["action"], a["kind"], a["name"]) for a in res["plan"]) == [
        ("update", "scalable_target", "flask-microservices-prod-users"),
        ("update", "scaling_policy", "flask-microservices-prod-users/cpu50"),
        ("update", "service", "flask-microservices-prod-client"),
        ("update", "service", "flask-microservices-prod-swagger"),
    ]
    assert describe(boto3_client, "client")["desiredCount"] == 2
    swagger = describe(boto3_client, "swagger")["deploymentConfiguration"]
    assert swagger["minimumHealthyPercent"] == 50
    assert swagger["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    target = boto3_client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert [(t["ResourceId"], t["MaxCapacity"]) for t in target] == [
        ("service/%s/flask-microservices-prod-users" % CLUSTER, 20)]
    # Two service updates and no new task definition revision.
    ecs_writes = sorted(c["operation"] for c in aws.write_calls() if c["service"] == "ecs")
    assert ecs_writes == ["UpdateService", "UpdateService"]

    aws.clear_calls()
    again = run_module("ecs_stack", args)
    assert again["changed"] is False, again["plan"]
    assert aws.write_calls() == []


def test_a_rolling_service_moves_to_blue_green_in_place_then_no_op(aws, existing_stack, run_module, boto3_client):
    """UpdateService takes strategy, lifecycle hooks and the load balancer's advancedConfiguration together."""
    existing_stack(seed_args())
    elbv2 = boto3_client("elbv2")
    swagger_tg = elbv2.describe_target_groups(Names=["swagger-prod-tg"])["TargetGroups"][0]
    alt = elbv2.create_target_group(Name="swagger-prod-tg-alt", Protocol="HTTP", Port=8080,
                                    VpcId=swagger_tg["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.describe_listeners(LoadBalancerArn=swagger_tg["LoadBalancerArns"][0])["Listeners"]
    listener = [li for li in listener if li["Port"] == 8080][0]
    rule = elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=10, Actions=[{
        "Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": swagger_tg["TargetGroupArn"], "Weight": 100}, {"TargetGroupArn": alt, "Weight": 0}]}}],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}])["Rules"][0]["RuleArn"]
    role = "arn:aws:iam::123456789012:role/flask-microservices-ecs-infrastructure"
    aws.clear_calls()
    args = seed_args()
    swagger = args["services"][2]
    swagger["deployment_configuration"] = {"strategy": "BLUE_GREEN", "bake_time_in_minutes": 5, "lifecycle_hooks": [
        {"target_type": "PAUSE", "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"], "timeout_in_minutes": 30,
         "timeout_action": "ROLLBACK"}]}
    swagger["load_balancers"][0]["advanced_configuration"] = {
        "alternate_target_group": "swagger-prod-tg-alt", "production_listener_rule": rule, "role_arn": role}

    res = run_module("ecs_stack", args, check=True, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert [(a["action"], a["name"]) for a in res["plan"]] == [("update", "flask-microservices-prod-swagger")]
    assert aws.write_calls() == []

    res = run_module("ecs_stack", args)
    assert not res.get("failed"), res.get("msg")
    described = describe(boto3_client, "swagger")
    assert described["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert described["deploymentConfiguration"]["bakeTimeInMinutes"] == 5
    assert described["loadBalancers"][0]["advancedConfiguration"] == {
        "alternateTargetGroupArn": alt, "productionListenerRule": rule, "roleArn": role}
    assert sorted(c["operation"] for c in aws.write_calls() if c["service"] == "ecs") == ["UpdateService"]

    aws.clear_calls()
    again = run_module("ecs_stack", args)
    assert again["changed"] is False, again["plan"]
    assert aws.write_calls() == []


def test_changed_definition_is_reported_as_drift_and_the_revision_is_kept(aws, existing_stack, run_module, boto3_client):
    existing_stack(seed_args())
    running = describe(boto3_client, "users")["taskDefinition"]
    args = seed_args()
    container = args["services"][1]["task_definition"]["containers"][0]
    container["image"] = "%s/flask-microservices-users:1.1" % ACCOUNT_ECR

    res = run_module("ecs_stack", args)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is False
    assert list(res["drift"]) == ["flask-microservices-prod-users"]
    assert res["drift"]["flask-microservices-prod-users"] == {"task_definition": running, "differences": [{
        "path": "containerDefinitions[0].image",
        "before": "%s/flask-microservices-users:production" % ACCOUNT_ECR,
        "after": "%s/flask-microservices-users:1.1" % ACCOUNT_ECR}]}
    assert describe(boto3_client, "users")["taskDefinition"] == running
    assert aws.write_calls() == []


def test_invalid_option_fails_naming_it_before_any_write(aws, target_groups, run_module):
    args = seed_args()
    args["services"][1]["load_balancers"][0]["container_port"] = 5001
    res = run_module("ecs_stack", args)
    assert res.get("failed")
    assert "services[1].load_balancers[0].container_port=5001" in res["msg"]
    assert aws.write_calls() == []


def test_absent_scales_to_zero_deletes_and_waits_until_inactive(aws, existing_stack, run_module, boto3_client):
    existing_stack(seed_args())

    res = run_module("ecs_stack", {"cluster": {"name": CLUSTER}, "state": "absent",
                                   "services": [{"name": "flask-microservices-prod-users"}]})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    assert res["services"]["flask-microservices-prod-users"]["status"] == "INACTIVE"
    assert describe(boto3_client, "users")["status"] == "INACTIVE"
    assert describe(boto3_client, "swagger")["status"] == "ACTIVE"
    writes = [c["operation"] for c in aws.write_calls()]
    assert writes == ["DeregisterScalableTarget", "UpdateService", "DeleteService"]


# Service discovery: seed 001's backend service, no load balancer, found through Cloud Map.
# Not "*.local": the emulator's access key is "local", and Ansible masks that value in results.
NAMESPACE = "ecsdemo-staging.internal"


@pytest.fixture
def network(aws, boto3_client):
    ec2 = boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    aws.clear_calls()
    return {"vpc": vpc, "subnet": subnet}


def discovery_args(network, ttl=60, **cluster):
    args = {
        "cluster": dict({"name": "ecsdemo-staging", "service_discovery_namespace": {"name": NAMESPACE, "vpc": network["vpc"]}},
                        **cluster),
        "services": [{
            "name": "ecsdemo-nodejs",
            "desired_count": 1,
            "launch_type": "FARGATE",
            "network_configuration": {"subnets": [network["subnet"]]},
            "task_definition": {
                "family": "ecsdemo-nodejs", "network_mode": "awsvpc", "cpu": "256", "memory": "512",
                "requires_compatibilities": ["FARGATE"],
                "containers": [{"name": "ecsdemo-nodejs", "image": "%s/ecsdemo-nodejs:1" % ACCOUNT_ECR,
                                "memory_reservation": 128, "port_mappings": [{"container_port": 3000}]}],
            },
            "service_discovery": {"ttl": ttl},
        }],
    }
    return args


def cloud_map_writes(aws):
    return sorted(c["operation"] for c in aws.write_calls() if c["service"] == "servicediscovery")


def test_service_discovery_is_created_then_left_alone_and_check_mode_writes_nothing(aws, network, run_module, boto3_client):
    check = run_module("ecs_stack", discovery_args(network), check=True, diff=True)
    assert not check.get("failed"), check.get("msg")
    assert [(a["action"], a["kind"]) for a in check["plan"]][:3] == [
        ("create", "cluster"), ("create", "service_discovery_namespace"), ("create", "service_discovery_service")]
    assert check["diff"]["after"]["service_discovery_namespace/" + NAMESPACE]["id"] == "(known after apply)"
    assert check["services"]["ecsdemo-nodejs"]["registry_arn"] == "(known after apply)"
    assert aws.write_calls() == []

    first = run_module("ecs_stack", discovery_args(network))
    assert not first.get("failed"), first.get("msg")
    assert cloud_map_writes(aws) == ["CreatePrivateDnsNamespace", "CreateService"]
    sd = boto3_client("servicediscovery")
    [service] = sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [first["service_discovery_namespace"]["id"]],
                                           "Condition": "EQ"}])["Services"]
    assert service["Name"] == "ecsdemo-nodejs"
    described = boto3_client("ecs").describe_services(cluster="ecsdemo-staging", services=["ecsdemo-nodejs"])["services"][0]
    assert described["serviceRegistries"] == [{"registryArn": service["Arn"]}]
    assert first["services"]["ecsdemo-nodejs"]["discovery_name"] == "ecsdemo-nodejs." + NAMESPACE
    assert first["services"]["ecsdemo-nodejs"]["registry_arn"] == service["Arn"]

    aws.clear_calls()
    second = run_module("ecs_stack", discovery_args(network))
    assert second["changed"] is False, second["plan"]
    assert aws.write_calls() == []


def test_ttl_drift_is_an_update_shown_in_the_diff(aws, network, run_module):
    assert not run_module("ecs_stack", discovery_args(network)).get("failed")
    aws.clear_calls()
    res = run_module("ecs_stack", discovery_args(network, ttl=15), diff=True)
    assert not res.get("failed"), res.get("msg")
    assert [(a["action"], a["kind"], a["name"]) for a in res["plan"]] == [
        ("update", "service_discovery_service", "ecsdemo-nodejs")]
    assert res["diff"]["before"]["service_discovery_service/ecsdemo-nodejs"] == {"ttl": 60}
    assert res["diff"]["after"]["service_discovery_service/ecsdemo-nodejs"] == {"ttl": 15}
    assert cloud_map_writes(aws) == ["UpdateService"]
    aws.clear_calls()
    assert run_module("ecs_stack", discovery_args(network, ttl=15))["changed"] is False
    assert aws.write_calls() == []


def test_teardown_deletes_the_service_its_cloud_map_service_and_the_namespace_once(aws, network, run_module, boto3_client):
    assert not run_module("ecs_stack", discovery_args(network)).get("failed")
    teardown = {"cluster": {"name": "ecsdemo-staging", "service_discovery_namespace": {"name": NAMESPACE}},
                "services": [{"name": "ecsdemo-nodejs"}], "state": "absent", "delete_cluster": True}
    aws.clear_calls()
    res = run_module("ecs_stack", teardown)
    assert not res.get("failed"), res.get("msg")
    writes = [(c["service"], c["operation"]) for c in aws.write_calls()]
    assert writes == [("ecs", "UpdateService"), ("ecs", "DeleteService"), ("servicediscovery", "DeleteService"),
                      ("ecs", "DeleteCluster"), ("servicediscovery", "DeleteNamespace")]
    assert [n for n in boto3_client("servicediscovery").list_namespaces()["Namespaces"] if n["Name"] == NAMESPACE] == []
    aws.clear_calls()
    again = run_module("ecs_stack", teardown)
    assert again["changed"] is False, again["plan"]
    assert aws.write_calls() == []


DELETION = re.compile(r"^\[\+\d+s\] ecsdemo-nodejs deletion: ")


def running_fargate_service(network, boto3_client):
    """A Fargate service behind a target group (ip), its task running."""
    elbv2 = boto3_client("elbv2")
    other = boto3_client("ec2").create_subnet(VpcId=network["vpc"], CidrBlock="10.40.2.0/24",
                                              AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    lb = elbv2.create_load_balancer(Name="ecsdemo-alb", Subnets=[network["subnet"], other])["LoadBalancers"][0]
    group = elbv2.create_target_group(Name="ecsdemo-tg", Protocol="HTTP", Port=3000, VpcId=network["vpc"],
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    args = discovery_args(network)
    service = args["services"][0]
    del service["service_discovery"]
    args["cluster"].pop("service_discovery_namespace")
    service["load_balancers"] = [{"target_group": "ecsdemo-tg", "container_name": "ecsdemo-nodejs", "container_port": 3000}]
    EcsStack(dict(args, state="present"), EcsApi(boto3_client("ecs")), AppAutoscalingApi(boto3_client("application-autoscaling")),
             Elbv2Api(boto3_client("elbv2")), NamespaceReader(boto3_client("servicediscovery")), region="us-east-1").run()
    ecs = boto3_client("ecs")
    deadline = time.monotonic() + 60
    while ecs.describe_services(cluster="ecsdemo-staging", services=["ecsdemo-nodejs"])["services"][0]["runningCount"] < 1:
        assert time.monotonic() < deadline, "the service's task never ran"
        time.sleep(0.5)


def teardown_output(aws, ansible, tmp_path, scale):
    """ecs_stack state=absent at default verbosity with the default callback (the way a person runs it),
    at ``scale`` AWS seconds per wall second; each output line with its wall time."""
    playbook = tmp_path / "teardown.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "Delete the service", "shipyard.ecs.ecs_stack": {
            "cluster": {"name": "ecsdemo-staging"}, "state": "absent", "services": [{"name": "ecsdemo-nodejs"}]}}]}]))
    env = ansible.env({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"})
    default_scale = aws.time()["default_scale"]
    aws.set_time_scale(scale)
    try:
        start = time.monotonic()
        proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), str(playbook), "-i", "localhost,", "-c", "local",
                                 "-e", "ansible_python_interpreter=%s" % sys.executable], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = [(time.monotonic() - start, line.rstrip("\n")) for line in proc.stdout]
        rc = proc.wait(timeout=300)
    finally:
        aws.set_time_scale(default_scale)
    text = "\n".join(line for _at, line in lines)
    print(text)
    assert rc == 0, text[-4000:]
    return lines, text


def test_teardown_prints_each_service_s_deletion_at_default_verbosity(aws, network, ansible, boto3_client, tmp_path):
    running_fargate_service(network, boto3_client)
    lines, text = teardown_output(aws, ansible, tmp_path, aws.time()["default_scale"])
    progress = [line for _t, line in lines if DELETION.match(line)]
    assert progress and re.match(r"\[\+\d+s\] ecsdemo-nodejs deletion: INACTIVE, tasks 0/0 - done \| \(service ecsdemo-nodejs\) ",
                                 progress[-1]), text


# AWS keeps a deleted service DRAINING until its tasks have stopped (and drained their targets),
# which is what this test watches (the emulator does the same: tests/integration/emulator/).
def test_a_slowed_teardown_prints_each_service_s_progress_at_least_every_15_seconds(
        aws, network, ansible, boto3_client, tmp_path):
    running_fargate_service(network, boto3_client)
    # The target group's deregistration delay (300 s) keeps the service DRAINING: about 30 s of wall time at 10x.
    lines, text = teardown_output(aws, ansible, tmp_path, 10)
    started = next(t for t, line in lines if line.startswith("TASK [Delete the service]"))
    finished = next(t for t, line in lines if line.startswith("changed: [localhost]"))
    progress = [(t, line) for t, line in lines if DELETION.match(line)]
    assert finished - started > 20, "the deletion was not slowed: %.0fs" % (finished - started)
    # The state, the tasks and the newest ECS event, from the first look on.
    assert re.match(r"\[\+\d+s\] ecsdemo-nodejs deletion: DRAINING, tasks \d/0 \| \(service ecsdemo-nodejs\) ",
                    progress[0][1]), text
    assert progress[-1][1].split(": ", 1)[1].startswith("INACTIVE, tasks 0/0 - done"), text
    times = [started] + [t for t, _line in progress] + [finished]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= 15.0, gaps
