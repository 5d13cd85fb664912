"""The AWS CLI v1's waiters against services and tasks on EC2 capacity: container instances that an
Auto Scaling group's instances register, managed scaling, bridge mode with dynamic host ports."""

from __future__ import annotations

import base64

from integration.emulator.stack import CLUSTER


def _capacity(stack, boto3_client, desired, maximum=3):
    data = base64.b64encode(("#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n" % CLUSTER).encode()).decode()
    image = stack.ec2.describe_images()["Images"][0]["ImageId"]
    stack.ec2.create_launch_template(LaunchTemplateName="ecs", LaunchTemplateData={
        "ImageId": image, "InstanceType": "t3.small", "UserData": data})
    autoscaling = boto3_client("autoscaling")
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="ecs", MinSize=0, MaxSize=maximum,
                                          DesiredCapacity=desired, VPCZoneIdentifier=",".join(stack.subnets),
                                          NewInstancesProtectedFromScaleIn=True,
                                          LaunchTemplate={"LaunchTemplateName": "ecs", "Version": "$Latest"})
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["ecs"])["AutoScalingGroups"][0]


def _bridge_definition(stack, image="web:1"):
    return stack.ecs.register_task_definition(family="web", networkMode="bridge", containerDefinitions=[
        {"name": "web", "image": image, "memory": 768, "portMappings": [{"containerPort": 8080, "hostPort": 0}]}]
    )["taskDefinition"]["taskDefinitionArn"]


def test_services_stable_once_managed_scaling_has_launched_instances_for_a_bridge_service(cli, fast_stack, boto3_client):
    group = _capacity(fast_stack, boto3_client, desired=0)
    fast_stack.ecs.create_capacity_provider(name="ec2", autoScalingGroupProvider={
        "autoScalingGroupArn": group["AutoScalingGroupARN"], "managedTerminationProtection": "ENABLED",
        "managedScaling": {"status": "ENABLED", "targetCapacity": 100}})
    fast_stack.ecs.put_cluster_capacity_providers(cluster=CLUSTER, capacityProviders=["ec2"],
                                                  defaultCapacityProviderStrategy=[{"capacityProvider": "ec2"}])
    target_group = fast_stack.create_target_group("web", 8080, target_type="instance", HealthCheckIntervalSeconds=5,
                                                  HealthyThresholdCount=2)
    fast_stack.elbv2.create_listener(LoadBalancerArn=fast_stack.load_balancer, Protocol="HTTP", Port=8080,
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    fast_stack.ecs.create_service(cluster=CLUSTER, serviceName="web", taskDefinition=_bridge_definition(fast_stack),
                                  desiredCount=3, loadBalancers=[{"targetGroupArn": target_group,
                                                                  "containerName": "web", "containerPort": 8080}])

    waited = cli.wait("ecs", "services-stable", "--cluster", CLUSTER, "--services", "web")
    assert waited.returncode == 0, waited.stderr
    [service] = cli.aws_json("ecs", "describe-services", "--cluster", CLUSTER, "--services", "web")["services"]
    assert (service["runningCount"], service["pendingCount"]) == (3, 0)
    arns = cli.aws_json("ecs", "list-container-instances", "--cluster", CLUSTER)["containerInstanceArns"]
    instances = cli.aws_json("ecs", "describe-container-instances", "--cluster", CLUSTER, "--container-instances",
                             *arns)["containerInstances"]
    # A t3.small registers 1996 MiB: two 768 MiB tasks fit on one, so three tasks need two instances.
    assert sorted(i["runningTasksCount"] for i in instances) == [1, 2]
    targets = cli.aws_json("elbv2", "describe-target-health", "--target-group-arn", target_group)
    ids = {i["ec2InstanceId"] for i in instances}
    assert {t["Target"]["Id"] for t in targets["TargetHealthDescriptions"]} == ids
    assert {t["TargetHealth"]["State"] for t in targets["TargetHealthDescriptions"]} == {"healthy"}
    # A task placed through a capacity provider still has a launch type (EC2 for an Auto Scaling group's).
    task_arns = cli.aws_json("ecs", "list-tasks", "--cluster", CLUSTER, "--service-name", "web")["taskArns"]
    tasks = cli.aws_json("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *task_arns)["tasks"]
    assert {(t["launchType"], t["capacityProviderName"]) for t in tasks} == {("EC2", "ec2")}


def test_tasks_running_for_a_task_placed_on_a_container_instance(cli, fast_stack, boto3_client):
    _capacity(fast_stack, boto3_client, desired=1)
    fast_stack.advance(31)
    fast_stack.aws.set_behaviour("worker:1", "exit", exit_code=0, after_seconds=600)
    answer = cli.aws_json("ecs", "run-task", "--cluster", CLUSTER, "--launch-type", "EC2", "--task-definition",
                          _bridge_definition(fast_stack, image="worker:1"))
    [task] = answer["tasks"]

    waited = cli.wait("ecs", "tasks-running", "--cluster", CLUSTER, "--tasks", task["taskArn"])
    assert waited.returncode == 0, waited.stderr
    [described] = cli.aws_json("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", task["taskArn"])["tasks"]
    assert described["lastStatus"] == "RUNNING"
    assert described["containerInstanceArn"] == task["containerInstanceArn"]
    assert 32768 <= described["containers"][0]["networkBindings"][0]["hostPort"] <= 60999
