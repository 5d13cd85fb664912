"""EC2 capacity for ECS as AWS documents it; each refusal test fails against plain moto 5.2.5."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

RECOMMENDED = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"


def _group(boto3_client, name, protect):
    ec2 = boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": "ami-12c6146b",
                                                                            "InstanceType": "t3.small"})
    autoscaling = boto3_client("autoscaling")
    autoscaling.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=2, VPCZoneIdentifier=subnet,
                                          LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
                                          NewInstancesProtectedFromScaleIn=protect)
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
        "AutoScalingGroupARN"]


def _provider(arn, protection="ENABLED"):
    return {"autoScalingGroupArn": arn, "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            "managedTerminationProtection": protection}


def test_recommended_ecs_optimized_ami_parameter_is_json_naming_an_existing_image(aws, boto3_client):
    ssm = boto3_client("ssm")
    document = json.loads(ssm.get_parameter(Name=RECOMMENDED)["Parameter"]["Value"])
    image_id = ssm.get_parameter(Name=RECOMMENDED + "/image_id")["Parameter"]["Value"]

    assert document["image_id"] == image_id
    assert document["os"] == "Amazon Linux 2023"
    image = boto3_client("ec2").describe_images(ImageIds=[image_id])["Images"][0]
    assert image["Name"] == document["image_name"]


def test_managed_termination_protection_needs_a_group_protecting_new_instances(aws, boto3_client):
    ecs = boto3_client("ecs")
    arn = _group(boto3_client, "unprotected", protect=False)

    with pytest.raises(ClientError) as error:
        ecs.create_capacity_provider(name="cp", autoScalingGroupProvider=_provider(arn))
    assert error.value.response["Error"]["Code"] == "ClientException"
    assert "instance protection from scale in" in error.value.response["Error"]["Message"]

    ecs.create_capacity_provider(name="cp", autoScalingGroupProvider=_provider(arn, "DISABLED"))
    with pytest.raises(ClientError):
        ecs.update_capacity_provider(name="cp", autoScalingGroupProvider={"managedTerminationProtection": "ENABLED"})


def test_managed_termination_protection_on_a_protecting_group_is_accepted(aws, boto3_client):
    arn = _group(boto3_client, "protected", protect=True)

    provider = boto3_client("ecs").create_capacity_provider(name="cp", autoScalingGroupProvider=_provider(arn))
    assert provider["capacityProvider"]["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"


def test_deleting_a_provider_still_on_a_cluster_fails_and_keeps_it(aws, boto3_client):
    ecs = boto3_client("ecs")
    arn = _group(boto3_client, "group", protect=True)
    ecs.create_capacity_provider(name="cp", autoScalingGroupProvider=_provider(arn))
    ecs.create_cluster(clusterName="c", capacityProviders=["cp"])

    answer = ecs.delete_capacity_provider(capacityProvider="cp")["capacityProvider"]
    assert answer["updateStatus"] == "DELETE_FAILED"
    assert "associated with cluster: c" in answer["updateStatusReason"]
    assert ecs.describe_capacity_providers(capacityProviders=["cp"])["capacityProviders"][0]["status"] == "ACTIVE"

    ecs.put_cluster_capacity_providers(cluster="c", capacityProviders=[], defaultCapacityProviderStrategy=[])
    ecs.delete_capacity_provider(capacityProvider="cp")
    assert [p for p in ecs.describe_capacity_providers(capacityProviders=["cp"])["capacityProviders"]
            if p["status"] == "ACTIVE"] == []


def test_launch_template_tags_are_not_part_of_its_data(aws, boto3_client):
    ec2 = boto3_client("ec2")
    data = {"ImageId": "ami-12c6146b", "InstanceType": "t3.small"}
    ec2.create_launch_template(LaunchTemplateName="tagged", LaunchTemplateData=data, TagSpecifications=[
        {"ResourceType": "launch-template", "Tags": [{"Key": "Application", "Value": "app"}]}])

    version = ec2.describe_launch_template_versions(LaunchTemplateName="tagged")["LaunchTemplateVersions"][0]
    assert version["LaunchTemplateData"] == data
    template = ec2.describe_launch_templates(LaunchTemplateNames=["tagged"])["LaunchTemplates"][0]
    assert template["Tags"] == [{"Key": "Application", "Value": "app"}]
