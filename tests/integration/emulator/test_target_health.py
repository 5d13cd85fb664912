"""ELBv2 targets of ECS tasks: registration, health on the clock, draining, grace period."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER, USERS_PORT


def _states(stack, target_group=None):
    return sorted(h["TargetHealth"]["State"] for h in stack.target_health(target_group))


def test_task_targets_are_the_eni_address_and_container_port(stack):
    stack.create_service(desired=2)
    stack.advance(30)

    addresses = sorted(t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in stack.tasks())
    targets = sorted((h["Target"]["Id"], h["Target"]["Port"]) for h in stack.target_health())

    assert len(addresses) == 2
    assert targets == [(address, USERS_PORT) for address in addresses]


def test_target_is_initial_until_interval_times_healthy_threshold_then_healthy(stack):
    stack.elbv2.modify_target_group(TargetGroupArn=stack.target_group, HealthCheckIntervalSeconds=10,
                                    HealthyThresholdCount=3)
    stack.create_service(desired=1)
    stack.advance(15)  # provisioning 5 s + pending 10 s: RUNNING and registered now
    [registered] = stack.target_health()

    stack.advance(29)
    still = _states(stack)
    stack.advance(1)

    assert registered["TargetHealth"] == {"State": "initial", "Reason": "Elb.RegistrationInProgress",
                                          "Description": "Target registration is in progress"}
    assert still == ["initial"]
    assert _states(stack) == ["healthy"]


def test_unhealthy_image_targets_go_unhealthy_after_interval_times_unhealthy_threshold(stack):
    stack.aws.set_behaviour("users:1", "unhealthy")
    stack.create_service(desired=1, healthCheckGracePeriodSeconds=600)
    stack.advance(15 + 60)  # default interval 30 s x unhealthy threshold 2

    [health] = stack.target_health()

    assert health["TargetHealth"]["State"] == "unhealthy"
    assert health["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"


def test_grace_period_keeps_a_task_with_unhealthy_targets_running(stack):
    stack.aws.set_behaviour("users:1", "unhealthy")
    stack.create_service(desired=1, healthCheckGracePeriodSeconds=600)
    stack.advance(300)
    during = stack.tasks()

    stack.advance(400)

    assert [t["lastStatus"] for t in during] == ["RUNNING"]
    assert during[0]["taskArn"] not in {t["taskArn"] for t in stack.tasks()}


def test_stopped_task_target_drains_for_the_deregistration_delay_then_disappears(stack):
    stack.elbv2.modify_target_group_attributes(TargetGroupArn=stack.target_group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "60"}])
    stack.create_service(desired=1)
    stack.settle()
    [task] = stack.tasks()
    address = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    target = [{"Id": address, "Port": USERS_PORT}]

    stack.ecs.update_service(cluster=CLUSTER, service="users", desiredCount=0)
    stack.advance(1)
    [draining] = stack.target_health(targets=target)
    stack.advance(60)
    [gone] = stack.target_health(targets=target)

    assert draining["TargetHealth"] == {"State": "draining", "Reason": "Target.DeregistrationInProgress",
                                        "Description": "Target deregistration is in progress"}
    assert gone["TargetHealth"]["State"] == "unused"
    assert stack.target_health() == []


def test_target_that_was_never_registered_is_unused_not_healthy(stack):
    [health] = stack.target_health(targets=[{"Id": "10.0.0.99", "Port": USERS_PORT}])

    assert health["TargetHealth"] == {"State": "unused", "Reason": "Target.NotRegistered",
                                      "Description": "Target is not registered to the target group"}


def test_address_without_a_task_behind_it_never_becomes_healthy(stack):
    stack.elbv2.register_targets(TargetGroupArn=stack.target_group, Targets=[{"Id": "10.0.0.99", "Port": USERS_PORT}])
    stack.advance(600)

    assert _states(stack) == ["unhealthy"]


def test_same_address_on_two_ports_is_two_targets(stack):
    stack.elbv2.register_targets(TargetGroupArn=stack.target_group, Targets=[
        {"Id": "10.0.0.99", "Port": 5000}, {"Id": "10.0.0.99", "Port": 5001}])

    assert sorted(h["Target"]["Port"] for h in stack.target_health()) == [5000, 5001]


def test_target_group_without_load_balancer_is_refused_by_create_service(stack):
    orphan = stack.create_target_group("orphan", USERS_PORT)

    with pytest.raises(ClientError) as error:
        stack.create_service(loadBalancers=[{"targetGroupArn": orphan, "containerName": "users",
                                             "containerPort": USERS_PORT}])

    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "does not have an associated load balancer" in error.value.response["Error"]["Message"]


def test_bridge_task_gets_a_dynamic_host_port_registered_with_its_instance(stack):
    image = stack.ec2.describe_images()["Images"][0]["ImageId"]
    instance = stack.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                       SubnetId=stack.subnets[0])["Instances"][0]["InstanceId"]
    stack.ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=json.dumps(
        {"instanceId": instance, "region": "us-east-1", "availabilityZone": "us-east-1a"}))
    group = stack.create_target_group("users-bridge", USERS_PORT, target_type="instance")
    stack.elbv2.create_listener(LoadBalancerArn=stack.load_balancer, Protocol="HTTP", Port=8080,
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    arn = stack.task_definition("users:1", family="users-bridge", network_mode="bridge", host_port=0)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="users-bridge", taskDefinition=arn, desiredCount=1,
                             launchType="EC2", loadBalancers=[{"targetGroupArn": group, "containerName": "users",
                                                               "containerPort": USERS_PORT}])
    stack.advance(30)

    [task] = stack.tasks(name="users-bridge")
    [binding] = task["containers"][0]["networkBindings"]
    [health] = stack.target_health(group)
    assert 32768 <= binding["hostPort"] <= 60999
    assert health["Target"] == {"Id": instance, "Port": binding["hostPort"]}
