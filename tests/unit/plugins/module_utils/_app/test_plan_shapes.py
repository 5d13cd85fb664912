"""The environment plan's parts the service shapes add, against moto in-process: the EC2 capacity's scaling
policies, the tasks' and instances' inbound rules, no load balancer without a web service."""

import boto3
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from moto import mock_aws

from app_cases import local_env, reference_app
from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.plan import Apis, EnvironmentPlanner
from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import Problems
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.api import PlatformEc2Api, PlatformIamApi
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.spec import ARGUMENT_SPEC as PLATFORM_STACK_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.stack import PlatformStack

REGION = "us-east-1"
EC2_CAPACITY = {"instance_type": "t3.small", "max_size": 2,
                "scaling_policies": [{"name": "cpu", "metric": "cpu", "target": 60}, {"name": "net", "metric": "network_out", "target": 1e6}]}


@pytest.fixture
def client():
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


def planner(client, app=None, env=None):
    return EnvironmentPlanner(model.load(app or reference_app(), env or local_env()), Apis(client), REGION)


def group(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ec2.create_launch_template(LaunchTemplateName="tmpl", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.small"})
    client("autoscaling").create_auto_scaling_group(AutoScalingGroupName="flask-microservices-local", MinSize=0, MaxSize=2,
                                                    LaunchTemplate={"LaunchTemplateName": "tmpl"}, VPCZoneIdentifier=subnet)
    return vpc


def put_policy(client, name, metric, target, disable_scale_in=False):
    client("autoscaling").put_scaling_policy(
        AutoScalingGroupName="flask-microservices-local", PolicyName=name, PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"PredefinedMetricSpecification": {"PredefinedMetricType": metric}, "TargetValue": target,
                                     "DisableScaleIn": disable_scale_in})


def test_scaling_policies_missing_or_different_are_to_write_and_equal_ones_are_not(client):
    group(client)
    put_policy(client, "flask-microservices-local-cpu", "ASGAverageCPUUtilization", 60.0)
    put_policy(client, "flask-microservices-local-net", "ASGAverageNetworkOut", 5e5)
    env = local_env()
    env["env_ec2_capacity"] = EC2_CAPACITY
    plan = planner(client, env=env)
    assert plan._scaling_policies(model.Context(region=REGION, account_id="123456789012")) == ["flask-microservices-local-net"]
    entries = {e["name"]: e for e in plan.entries if e["resource"] == "asg_policy"}
    assert entries["flask-microservices-local-cpu"]["action"] == "unchanged"
    assert entries["flask-microservices-local-net"]["action"] == "update"
    assert entries["flask-microservices-local-net"]["changes"] == ["target: 500000.0 -> 1000000.0"]


def test_scaling_policies_of_a_group_not_created_yet_are_all_to_write(client):
    env = local_env()
    env["env_ec2_capacity"] = EC2_CAPACITY
    plan = planner(client, env=env)
    assert plan._scaling_policies(model.Context(region=REGION, account_id="123456789012")) == [
        "flask-microservices-local-cpu", "flask-microservices-local-net"]
    assert [e["changes"] for e in plan.entries] == [["ASGAverageCPUUtilization target 60.0"], ["ASGAverageNetworkOut target 1000000.0"]]


def platform(client, plan):
    """What the platform role made: platform_stack on the model's options (its ids by name); the roles aside (moto
    in-process has no AWS managed policy to attach)."""
    options = ArgumentSpecValidator(PLATFORM_STACK_SPEC).validate(plan.d.platform_stack(REGION, "123456789012")).validated_parameters
    options["roles"] = []
    return PlatformStack(PlatformEc2Api(client("ec2")), PlatformIamApi(client("iam")), options).run().data


def test_the_tasks_group_rules_are_compared_by_port_and_source_group(client):
    made = platform(client, planner(client))
    plan = planner(client)
    found = plan._platform(model.Context(region=REGION, account_id="123456789012"), Problems())
    assert found["security_groups"] == made["security_groups"]
    assert {e["name"]: e["action"] for e in plan.entries if e["resource"] == "security_group"} == {
        "flask-microservices-local-alb": "unchanged", "flask-microservices-local-tasks": "unchanged"}
    # users becomes a backend: reached from the tasks, no longer from the load balancer.
    app = reference_app()
    users = app["services"]["users"]
    for key in ("routes", "health_check"):
        del users[key]
    users["kind"] = "backend"
    plan = planner(client, app=app)
    plan._platform(model.Context(region=REGION, account_id="123456789012"), Problems())
    tasks_entry = [e for e in plan.entries if e["name"] == "flask-microservices-local-tasks"][0]
    assert tasks_entry["action"] == "update"
    assert tasks_entry["changes"] == ["ingress.tcp 5000 from flask-microservices-local-tasks: - -> tasks to users",
                                      "ingress.tcp 5000 from flask-microservices-local-alb: alb to users -> -"]


def test_without_a_web_service_no_load_balancer_group_is_planned(client):
    app = reference_app()
    app["listeners"], app["smoke_checks"] = [], []
    for svc in app["services"].values():
        svc.pop("routes", None)
        svc.pop("health_check", None)
        svc["kind"] = "backend"
    plan = planner(client, app=app)
    plan._platform(model.Context(region=REGION, account_id="123456789012"), Problems())
    groups = [e for e in plan.entries if e["resource"] == "security_group"]
    assert [e["name"] for e in groups] == ["flask-microservices-local-tasks"]
    assert groups[0]["action"] == "create"
    ingress = [c for c in groups[0]["changes"] if c.startswith("ingress")]
    assert len(ingress) == 1 and ingress[0].startswith(
        "ingress: - -> ['tcp 5000 from flask-microservices-local-tasks', 'tcp 8080 from flask-microservices-local-tasks', 'tcp 9000")
