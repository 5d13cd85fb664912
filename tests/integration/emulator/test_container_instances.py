"""EC2 container instances, task placement and network modes as the ECS Developer Guide describes
them. Every test fails on plain moto (SHIPYARD_LOCAL_AWS_PLAIN=1): moto registers no container
instance from an instance's user data, reports 4096 CPU / 7482 MiB for every instance, places
tasks without strategies or constraints and never answers RunTask with placement failures."""

from __future__ import annotations

import base64
import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER, USERS_PORT

AGENT_START = 30          # the emulator's boot + agent registration time (AWS seconds)
USER_DATA = "#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n"


def _image(stack):
    return stack.ec2.describe_images()["Images"][0]["ImageId"]


def _capacity(stack, name="capacity", instance_type="t3.small", desired=1, maximum=4, user_data=None):
    """A launch template with ECS_CLUSTER user data and an Auto Scaling group over the stack's subnets."""
    data = base64.b64encode((user_data or USER_DATA % CLUSTER).encode()).decode()
    stack.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": _image(stack), "InstanceType": instance_type, "UserData": data})
    autoscaling = stack.clients.autoscaling
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=0, MaxSize=maximum, DesiredCapacity=desired,
        VPCZoneIdentifier=",".join(stack.subnets), NewInstancesProtectedFromScaleIn=True,
        LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"})
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def _instances(stack):
    arns = stack.ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    if not arns:
        return []
    return stack.ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]


def _resource(instance, key, name):
    [value] = [r for r in instance[key] if r["name"] == name]
    return value.get("stringSetValue", value.get("integerValue"))


def _registered(stack, count=1, **capacity):
    _capacity(stack, desired=count, **capacity)
    stack.advance(AGENT_START + 1)
    instances = _instances(stack)
    assert len(instances) == count
    return instances


def _bridge_td(stack, family="web", memory=None, cpu=None, host_port=0, network_mode="bridge", containers=None):
    container = {"name": "web", "image": "web:1", "essential": True,
                 "portMappings": [{"containerPort": 8080, "hostPort": host_port}]}
    if memory is not None:
        container["memory"] = memory
    if cpu is not None:
        container["cpu"] = cpu
    return stack.ecs.register_task_definition(family=family, networkMode=network_mode,
                                              containerDefinitions=containers or [container])["taskDefinition"]["taskDefinitionArn"]


@pytest.fixture
def stack(stack, boto3_client):
    stack.clients.autoscaling = boto3_client("autoscaling")
    return stack


# registration ----------------------------------------------------------------------------------------
def test_instance_with_ecs_cluster_user_data_registers_with_its_type_resources(stack):
    _capacity(stack, instance_type="m5.large")
    stack.advance(AGENT_START - 10)
    assert _instances(stack) == []          # the agent is still starting

    stack.advance(11)
    [instance] = _instances(stack)
    assert instance["status"] == "ACTIVE" and instance["agentConnected"] is True
    assert _resource(instance, "registeredResources", "CPU") == 2048
    # "Reserving Amazon ECS Linux container instance memory": 8 GiB registers as 7985 MiB.
    assert _resource(instance, "registeredResources", "MEMORY") == 7985
    assert sorted(_resource(instance, "registeredResources", "PORTS"), key=int) == ["22", "2375", "2376", "51678", "51679"]
    attributes = {a["name"]: a.get("value") for a in instance["attributes"]}
    assert attributes["ecs.instance-type"] == "m5.large"
    assert attributes["ecs.os-type"] == "linux"
    assert attributes["ecs.availability-zone"].startswith("us-east-1")


def test_reserved_memory_setting_is_left_out_of_registered_memory(stack):
    [instance] = _registered(stack, instance_type="t3.medium", user_data=(
        "#!/bin/bash\ncat <<EOF >> /etc/ecs/ecs.config\nECS_CLUSTER=%s\nECS_RESERVED_MEMORY=256\nEOF\n" % CLUSTER))

    assert _resource(instance, "registeredResources", "MEMORY") == int(4096 * 7985 / 8192) - 256


def test_only_instances_with_ecs_cluster_user_data_register(stack):
    _capacity(stack, name="plain", user_data="#!/bin/bash\necho hello\n")
    _capacity(stack, name="ecs")
    stack.advance(AGENT_START + 1)

    [instance] = _instances(stack)
    group = stack.clients.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["ecs"])["AutoScalingGroups"][0]
    assert instance["ec2InstanceId"] == group["Instances"][0]["InstanceId"]


def test_terminated_instance_is_deregistered(stack):
    [instance] = _registered(stack)

    stack.ec2.terminate_instances(InstanceIds=[instance["ec2InstanceId"]])
    stack.advance(1)

    assert _instances(stack) == []


# placement and resources -----------------------------------------------------------------------------
def test_task_reserves_memory_and_cpu_until_it_stops(stack):
    [instance] = _registered(stack, instance_type="t3.small")   # 2048 CPU, 1996 MiB
    td = _bridge_td(stack, memory=512, cpu=256)

    [task] = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2")["tasks"]
    [instance] = _instances(stack)
    assert task["containerInstanceArn"] == instance["containerInstanceArn"]
    assert _resource(instance, "remainingResources", "MEMORY") == 1996 - 512
    assert _resource(instance, "remainingResources", "CPU") == 2048 - 256
    assert instance["pendingTasksCount"] == 1

    stack.advance(16)              # provisioning 5 s, pending 10 s
    assert _instances(stack)[0]["runningTasksCount"] == 1
    stack.ecs.stop_task(cluster=CLUSTER, task=task["taskArn"])
    stack.advance(10)
    [instance] = _instances(stack)
    assert _resource(instance, "remainingResources", "MEMORY") == 1996
    assert instance["runningTasksCount"] == 0


def test_memory_reservation_is_what_a_container_reserves(stack):
    _registered(stack, instance_type="t3.small")
    td = _bridge_td(stack, containers=[{"name": "web", "image": "web:1", "memory": 1024, "memoryReservation": 128},
                                       {"name": "side", "image": "side:1", "essential": False, "memory": 64}])

    stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2")
    assert _resource(_instances(stack)[0], "remainingResources", "MEMORY") == 1996 - 128 - 64


def test_run_task_without_room_fails_with_resource_memory(stack):
    [instance] = _registered(stack, instance_type="t3.small")
    td = _bridge_td(stack, memory=1500)
    stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2")

    answer = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2")
    assert answer["tasks"] == []
    assert answer["failures"] == [{"arn": instance["containerInstanceArn"], "reason": "RESOURCE:MEMORY"}]


def test_run_task_without_cpu_fails_with_resource_cpu(stack):
    [instance] = _registered(stack, instance_type="t3.small")

    answer = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=_bridge_td(stack, memory=128, cpu=4096), launchType="EC2")
    assert answer["failures"] == [{"arn": instance["containerInstanceArn"], "reason": "RESOURCE:CPU"}]


def test_run_task_on_a_cluster_without_instances_is_refused(stack):
    with pytest.raises(ClientError) as error:
        stack.ecs.run_task(cluster=CLUSTER, taskDefinition=_bridge_td(stack, memory=128), launchType="EC2")
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "No Container Instances were found in your cluster" in error.value.response["Error"]["Message"]


def test_service_that_does_not_fit_reports_the_closest_instance_lacks_memory(stack):
    [instance] = _registered(stack, instance_type="t3.small")
    td = _bridge_td(stack, memory=1500)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=td, desiredCount=2, launchType="EC2")
    stack.advance(20)

    assert len(stack.tasks(name="web")) == 1
    instance_id = instance["containerInstanceArn"].split("/")[-1]
    assert ("(service web) was unable to place a task because no container instance met all of its requirements. "
            "The closest matching (container-instance %s) has insufficient memory available. For more information, "
            "see the Troubleshooting section of the Amazon ECS Developer Guide." % instance_id) in stack.events("web")


def test_host_mode_tasks_with_the_same_port_never_share_an_instance(stack):
    instances = _registered(stack, count=2)
    td = _bridge_td(stack, memory=128, network_mode="host", host_port=8080)

    answer = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2", count=3)
    placed = [t["containerInstanceArn"] for t in answer["tasks"]]
    assert sorted(placed) == sorted(i["containerInstanceArn"] for i in instances)
    assert {f["reason"] for f in answer["failures"]} == {"RESOURCE:PORTS"}
    for task in stack.ecs.describe_tasks(cluster=CLUSTER, tasks=[t["taskArn"] for t in answer["tasks"]])["tasks"]:
        assert task["containers"][0]["networkBindings"][0]["hostPort"] == 8080


def test_static_host_port_in_use_is_reported_by_the_service(stack):
    _registered(stack)
    td = _bridge_td(stack, memory=128, host_port=8080)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=td, desiredCount=2, launchType="EC2")
    stack.advance(20)

    assert any("is already using a port required by your task" in e for e in stack.events("web"))


def test_bridge_tasks_on_one_instance_get_distinct_dynamic_ports_and_instance_targets(stack):
    [instance] = _registered(stack)
    group = stack.create_target_group("web", 8080, target_type="instance")
    stack.elbv2.create_listener(LoadBalancerArn=stack.load_balancer, Protocol="HTTP", Port=8080,
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=_bridge_td(stack, memory=128),
                             desiredCount=3, launchType="EC2",
                             loadBalancers=[{"targetGroupArn": group, "containerName": "web", "containerPort": 8080}])
    stack.advance(20)

    ports = [t["containers"][0]["networkBindings"][0]["hostPort"] for t in stack.tasks(name="web")]
    assert len(set(ports)) == 3 and all(32768 <= p <= 60999 for p in ports)
    targets = sorted((h["Target"]["Id"], h["Target"]["Port"]) for h in stack.target_health(group))
    assert targets == sorted((instance["ec2InstanceId"], p) for p in ports)
    stack.advance(200)
    assert {h["TargetHealth"]["State"] for h in stack.target_health(group)} == {"healthy"}
    remaining = _resource(_instances(stack)[0], "remainingResources", "PORTS")
    assert {str(p) for p in ports} <= set(remaining)


def test_awsvpc_tasks_on_instances_get_an_eni_each_and_ip_targets(stack):
    _registered(stack)
    td = stack.ecs.register_task_definition(family="api", networkMode="awsvpc", containerDefinitions=[
        {"name": "users", "image": "users:1", "memory": 128, "portMappings": [{"containerPort": USERS_PORT}]}]
    )["taskDefinition"]["taskDefinitionArn"]
    stack.ecs.create_service(cluster=CLUSTER, serviceName="api", taskDefinition=td, desiredCount=2, launchType="EC2",
                             networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets,
                                                                           "securityGroups": [stack.security_group]}},
                             loadBalancers=[{"targetGroupArn": stack.target_group, "containerName": "users",
                                             "containerPort": USERS_PORT}])
    stack.advance(20)

    tasks = stack.tasks(name="api")
    addresses = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in tasks}
    assert len(addresses) == 2 and all(t["containerInstanceArn"] for t in tasks)
    assert {h["Target"]["Id"] for h in stack.target_health()} == addresses


# strategies and constraints ----------------------------------------------------------------------------
def test_service_tasks_spread_over_instances_by_default(stack):
    _registered(stack, count=2)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=_bridge_td(stack, memory=128),
                             desiredCount=4, launchType="EC2")
    stack.advance(20)

    assert sorted(i["runningTasksCount"] for i in _instances(stack)) == [2, 2]


def test_binpack_memory_fills_one_instance_first(stack):
    _registered(stack, count=2)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=_bridge_td(stack, memory=128),
                             desiredCount=3, launchType="EC2",
                             placementStrategy=[{"type": "binpack", "field": "memory"}])
    stack.advance(20)

    assert sorted(i["runningTasksCount"] for i in _instances(stack)) == [0, 3]


def test_distinct_instance_leaves_tasks_unplaced_beyond_the_instance_count(stack):
    _registered(stack, count=2)
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=_bridge_td(stack, memory=128),
                             desiredCount=3, launchType="EC2", placementConstraints=[{"type": "distinctInstance"}],
                             placementStrategy=[{"type": "binpack", "field": "memory"}])
    stack.advance(20)

    assert sorted(i["runningTasksCount"] for i in _instances(stack)) == [1, 1]
    assert any("was unable to place a task" in e for e in stack.events("web"))


def test_member_of_instance_type_places_only_on_matching_instances(stack):
    _registered(stack, count=1, name="small", instance_type="t3.small")
    _capacity(stack, name="large", instance_type="m5.large", desired=1)
    stack.advance(AGENT_START + 1)
    td = _bridge_td(stack, memory=128)

    answer = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2", count=3, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type == m5.large"}])
    arns = {t["containerInstanceArn"] for t in answer["tasks"]}
    [large] = [i for i in _instances(stack) if {"name": "ecs.instance-type", "value": "m5.large"} in i["attributes"]]
    assert arns == {large["containerInstanceArn"]}

    answer = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=td, launchType="EC2", placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ c5.*"}])
    assert answer["tasks"] == [] and {f["reason"] for f in answer["failures"]} == {"MemberOf"}


# capacity providers --------------------------------------------------------------------------------------
def test_managed_scaling_launches_instances_for_tasks_waiting_in_provisioning(stack):
    group = _capacity(stack, desired=0, maximum=3)
    stack.ecs.create_capacity_provider(name="ec2", autoScalingGroupProvider={
        "autoScalingGroupArn": group["AutoScalingGroupARN"], "managedTerminationProtection": "ENABLED",
        "managedScaling": {"status": "ENABLED", "targetCapacity": 100}})
    stack.ecs.put_cluster_capacity_providers(cluster=CLUSTER, capacityProviders=["ec2"],
                                             defaultCapacityProviderStrategy=[{"capacityProvider": "ec2", "weight": 1}])
    stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=_bridge_td(stack, memory=1500),
                             desiredCount=2)
    stack.advance(5)

    tasks = stack.tasks(name="web")
    assert [t["lastStatus"] for t in tasks] == ["PROVISIONING", "PROVISIONING"]
    assert all("containerInstanceArn" not in t for t in tasks)
    desired = stack.clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=["capacity"])["AutoScalingGroups"][0]["DesiredCapacity"]
    assert desired == 2            # a t3.small takes one of these tasks

    stack.advance(AGENT_START + 30)
    tasks = stack.tasks(name="web")
    assert [t["lastStatus"] for t in tasks] == ["RUNNING", "RUNNING"]
    assert {t["capacityProviderName"] for t in tasks} == {"ec2"}
    assert len({t["containerInstanceArn"] for t in tasks}) == 2
