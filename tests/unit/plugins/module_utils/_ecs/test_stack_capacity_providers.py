"""ecs_stack and Auto Scaling group capacity providers: scale-in protection of the group, removal."""

import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import Waiter
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AutoScalingApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack

from .test_stack import REGION, Apis, client

CLUSTER = "flask-microservices-prod-cluster"


@pytest.fixture(name="aws")
def aws_fixture():
    with mock_aws():
        ec2 = client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
        yield client("ecs")


def _group(name="ecs-asg"):
    ec2 = client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    if not ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": [name]}])["LaunchTemplates"]:
        ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": "ami-12c6146b",
                                                                                "InstanceType": "t3.small"})
    client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=0, MaxSize=2, VPCZoneIdentifier=subnet,
        LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"})
    return client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def _cluster(arn, protection="ENABLED"):
    return {"name": CLUSTER, "capacity_providers": ["FARGATE", "FARGATE_SPOT"],
            "autoscaling_group_providers": [{"name": "ec2-cp", "auto_scaling_group_arn": arn,
                                             "managed_scaling": {"status": "ENABLED", "target_capacity": 90},
                                             "managed_termination_protection": protection}],
            "default_capacity_provider_strategy": [{"capacity_provider": "ec2-cp", "weight": 1}]}


def run(p, check=False):
    apis = Apis()
    asg = AutoScalingApi(client("autoscaling"))
    stack = EcsStack(p, apis.ecs, apis.aas, apis.tgs, apis.ns, region=REGION, check_mode=check,
                     waiter=Waiter(timeout=5, interval=0.01), auto_scaling=asg)
    result = stack.run()
    writes = apis.writes()
    writes.update(asg.write_calls)
    return result, writes


def params(cluster, **extra):
    out = {"cluster": cluster, "services": [], "state": "present"}
    out.update(extra)
    return out


def test_managed_termination_protection_protects_the_groups_new_instances_first(aws):
    group = _group()
    assert not group["NewInstancesProtectedFromScaleIn"]
    check, writes = run(params(_cluster(group["AutoScalingGroupARN"])), check=True)
    assert writes == {}
    kinds = [(a.verb, a.kind) for a in check.plan.actions]
    assert kinds[:2] == [("update", "auto_scaling_group"), ("create", "capacity_provider")]
    run(params(_cluster(group["AutoScalingGroupARN"])))
    described = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["ecs-asg"])["AutoScalingGroups"][0]
    assert described["NewInstancesProtectedFromScaleIn"] is True
    provider = client("ecs").describe_capacity_providers(capacityProviders=["ec2-cp"])["capacityProviders"][0]
    assert provider["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
    again, writes = run(params(_cluster(group["AutoScalingGroupARN"])))
    assert not again.changed and writes == {}


def test_without_managed_termination_protection_the_group_is_left_alone(aws):
    group = _group()
    result, writes = run(params(_cluster(group["AutoScalingGroupARN"], protection="DISABLED")))
    assert "update_auto_scaling_group" not in writes
    assert "auto_scaling_group" not in [a.kind for a in result.plan.actions]


def test_a_missing_group_fails_before_any_write(aws):
    arn = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/nope"
    with pytest.raises(ValidationError, match=r"cluster.autoscaling_group_providers\[0\].auto_scaling_group_arn"):
        run(params(_cluster(arn)))


def test_present_needs_the_group_arn(aws):
    cluster = _cluster(None)
    with pytest.raises(ValidationError, match="required with state=present"):
        run(params(cluster))


def test_absent_takes_the_provider_off_the_cluster_then_deletes_it(aws):
    group = _group()
    run(params(_cluster(group["AutoScalingGroupARN"])))
    absent = params({"name": CLUSTER, "autoscaling_group_providers": [{"name": "ec2-cp"}]}, state="absent")
    check, writes = run(absent, check=True)
    assert writes == {}
    kinds = [(a.verb, a.kind) for a in check.plan.actions]
    assert kinds == [("update", "cluster_capacity_providers"), ("delete", "capacity_provider")]
    run(absent)
    described = client("ecs").describe_clusters(clusters=[CLUSTER])["clusters"][0]
    assert sorted(described["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    assert described["defaultCapacityProviderStrategy"] == []
    assert [p["name"] for p in client("ecs").describe_capacity_providers(capacityProviders=["ec2-cp"])["capacityProviders"]
            if p["name"] == "ec2-cp" and p["status"] == "ACTIVE"] == []
    again, writes = run(absent)
    assert not again.changed and writes == {}


def test_absent_with_the_cluster_deletes_the_cluster_then_the_provider(aws):
    group = _group()
    run(params(_cluster(group["AutoScalingGroupARN"])))
    absent = params({"name": CLUSTER, "autoscaling_group_providers": [{"name": "ec2-cp"}]}, state="absent",
                    delete_cluster=True)
    result, _writes = run(absent)
    assert [(a.verb, a.kind) for a in result.plan.actions] == [("delete", "cluster"), ("delete", "capacity_provider")]
