"""moto defects fixed the way AWS behaves; each test fails against plain moto 5.2.5."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from integration.emulator.stack import CLUSTER


def _code(error):
    return error.value.response["Error"]["Code"]


def test_cluster_without_capacity_providers_lists_them_empty(clients):
    cluster = clients.ecs.create_cluster(clusterName="bare")["cluster"]

    assert cluster["capacityProviders"] == []
    assert cluster["defaultCapacityProviderStrategy"] == []


def test_container_with_only_memory_reservation_is_accepted(clients):
    definition = clients.ecs.register_task_definition(family="soft", requiresCompatibilities=["EC2"], containerDefinitions=[
        {"name": "app", "image": "app:1", "memoryReservation": 128}])["taskDefinition"]

    assert definition["containerDefinitions"][0]["memoryReservation"] == 128


def test_describe_capacity_providers_without_names_lists_them(clients):
    answer = clients.ecs.describe_capacity_providers()

    assert isinstance(answer["capacityProviders"], list)


def test_second_service_with_the_same_name_is_refused(stack):
    stack.create_service()

    with pytest.raises(ClientError) as error:
        stack.create_service(image="users:2")

    assert _code(error) == "InvalidParameterException"
    assert error.value.response["Error"]["Message"] == "Creation of service was not idempotent."
    assert stack.service()["taskDefinition"].endswith("users:1")


def test_same_load_balancer_again_returns_the_existing_one(stack):
    again = stack.elbv2.create_load_balancer(Name="app", Subnets=stack.subnets, SecurityGroups=[stack.security_group])

    assert again["LoadBalancers"][0]["LoadBalancerArn"] == stack.load_balancer
    assert len(stack.elbv2.describe_load_balancers()["LoadBalancers"]) == 1


def test_same_load_balancer_name_with_other_settings_is_a_duplicate(stack):
    with pytest.raises(ClientError) as error:
        stack.elbv2.create_load_balancer(Name="app", Subnets=stack.subnets, SecurityGroups=[stack.security_group],
                                         Scheme="internal")

    assert _code(error) == "DuplicateLoadBalancerName"


def test_second_listener_on_a_used_port_is_a_duplicate(stack):
    with pytest.raises(ClientError) as error:
        stack.elbv2.create_listener(LoadBalancerArn=stack.load_balancer, Protocol="HTTP", Port=80,
                                    DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.target_group}])

    assert _code(error) == "DuplicateListener"


def _rules(stack):
    listener = stack.elbv2.describe_listeners(LoadBalancerArn=stack.load_balancer)["Listeners"][0]["ListenerArn"]
    arns = []
    for priority, path in ((20, "/users*"), (10, "/auth/*")):
        arns.append(stack.elbv2.create_rule(ListenerArn=listener, Priority=priority, Conditions=[
            {"Field": "path-pattern", "Values": [path]}], Actions=[
            {"Type": "forward", "TargetGroupArn": stack.target_group}])["Rules"][0]["RuleArn"])
    return listener, arns


def test_two_rules_swap_priorities_in_one_call(stack):
    listener, (users, auth) = _rules(stack)

    stack.elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": users, "Priority": 10},
                                                    {"RuleArn": auth, "Priority": 20}])

    rules = {r["RuleArn"]: r["Priority"] for r in stack.elbv2.describe_rules(ListenerArn=listener)["Rules"]}
    assert (rules[users], rules[auth]) == ("10", "20")


def test_rules_are_described_by_priority_with_the_default_last(stack):
    listener, _arns = _rules(stack)

    priorities = [r["Priority"] for r in stack.elbv2.describe_rules(ListenerArn=listener)["Rules"]]

    assert priorities == ["10", "20", "default"]


MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
               "digest": "sha256:" + "b" * 64},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654,
                "digest": "sha256:" + "c" * 64}]}, indent=3)


def test_image_digest_is_the_sha256_of_the_manifest_bytes(clients):
    clients.ecr.create_repository(repositoryName="users")

    image = clients.ecr.put_image(repositoryName="users", imageManifest=MANIFEST, imageTag="1")["image"]

    assert image["imageId"]["imageDigest"] == "sha256:" + hashlib.sha256(MANIFEST.encode()).hexdigest()


def test_immutable_repository_refuses_to_move_a_tag(clients):
    clients.ecr.create_repository(repositoryName="users", imageTagMutability="IMMUTABLE")
    clients.ecr.put_image(repositoryName="users", imageManifest=MANIFEST, imageTag="1")

    with pytest.raises(ClientError) as error:
        clients.ecr.put_image(repositoryName="users", imageManifest=MANIFEST.replace("c" * 64, "d" * 64), imageTag="1")

    assert _code(error) == "ImageTagAlreadyExistsException"
    assert error.value.response["Error"]["Message"] == (
        "The image tag '1' already exists in the 'users' repository and cannot be overwritten because the "
        "repository is immutable.")


def test_service_lists_tasks_by_service_name(stack):
    stack.create_service(load_balanced=False, desired=2)
    stack.advance(1)

    assert len(stack.ecs.list_tasks(cluster=CLUSTER, serviceName="users")["taskArns"]) == 2
    assert stack.ecs.list_tasks(cluster=CLUSTER, serviceName="other")["taskArns"] == []


def test_path_condition_is_described_in_both_forms(stack):
    listener = stack.elbv2.describe_listeners(LoadBalancerArn=stack.load_balancer)["Listeners"][0]["ListenerArn"]
    stack.elbv2.create_rule(ListenerArn=listener, Priority=5, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/ping"]}}], Actions=[
        {"Type": "forward", "TargetGroupArn": stack.target_group}])

    [condition] = stack.elbv2.describe_rules(ListenerArn=listener)["Rules"][0]["Conditions"]

    assert condition["Values"] == condition["PathPatternConfig"]["Values"] == ["/ping"]


def test_awsvpc_configuration_without_security_groups_is_accepted(stack):
    arn = stack.task_definition("users:1", family="migrate")

    [task] = stack.ecs.run_task(cluster=CLUSTER, taskDefinition=arn, launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": stack.subnets[:1]}})["tasks"]

    assert task["lastStatus"] == "PROVISIONING"


def test_filter_log_events_reads_only_the_streams_with_the_name_prefix(clients):
    group = "/ecs/fidelity"
    now = int(time.time() * 1000)
    clients.logs.create_log_group(logGroupName=group)
    for stream in ("users/users/task-1", "users/worker/task-1", "client/client/task-2"):
        clients.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        clients.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now, "message": "from " + stream}])

    events = clients.logs.filter_log_events(logGroupName=group, logStreamNamePrefix="users/users/")["events"]
    none = clients.logs.filter_log_events(logGroupName=group, logStreamNamePrefix="swagger/")["events"]
    with pytest.raises(ClientError) as both:
        clients.logs.filter_log_events(logGroupName=group, logStreamNamePrefix="users/", logStreamNames=["users/users/task-1"])

    assert [e["message"] for e in events] == ["from users/users/task-1"]
    assert none == []
    assert _code(both) == "InvalidParameterException"


def test_a_rule_description_update_answers_return_true_as_amazon_aws_ec2_security_group_reads_it(clients):
    vpc = clients.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    group = clients.ec2.create_security_group(GroupName="described", Description="d", VpcId=vpc)["GroupId"]

    def rule(description):
        return [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                 "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": description}]}]

    clients.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rule("old"))
    clients.ec2.authorize_security_group_egress(GroupId=group, IpPermissions=rule("old"))
    ingress = clients.ec2.update_security_group_rule_descriptions_ingress(GroupId=group, IpPermissions=rule("new"))
    egress = clients.ec2.update_security_group_rule_descriptions_egress(GroupId=group, IpPermissions=rule("new"))
    [described] = clients.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]

    assert (ingress["Return"], egress["Return"]) == (True, True)
    assert described["IpPermissions"][0]["IpRanges"][0]["Description"] == "new"


def test_a_target_group_names_the_load_balancers_that_forward_to_it_after_rules_and_listeners_move(stack):
    """AWS: LoadBalancerArns are the load balancers whose listener or rule forwards to the group now."""
    elbv2 = stack.elbv2
    old = stack.create_target_group("old", 80)
    new = stack.create_target_group("new", 80)
    spare = stack.create_target_group("spare", 80)
    listener = elbv2.create_listener(LoadBalancerArn=stack.load_balancer, Protocol="HTTP", Port=8081,
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": spare}])["Listeners"][0]
    rule = elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=5, Actions=[
        {"Type": "forward", "TargetGroupArn": old}], Conditions=[{"Field": "path-pattern", "Values": ["/x"]}])["Rules"][0]

    def balancers():
        groups = elbv2.describe_target_groups(TargetGroupArns=[old, new, spare])["TargetGroups"]
        return {g["TargetGroupArn"]: g["LoadBalancerArns"] for g in groups}

    elbv2.modify_rule(RuleArn=rule["RuleArn"], Actions=[{"Type": "forward", "TargetGroupArn": new}])
    assert balancers() == {old: [], new: [stack.load_balancer], spare: [stack.load_balancer]}
    elbv2.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=[{"Type": "forward", "TargetGroupArn": old}])
    assert balancers() == {old: [stack.load_balancer], new: [stack.load_balancer], spare: []}
    elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
    assert balancers() == {old: [], new: [], spare: []}


def test_a_rule_from_another_group_takes_its_new_description(clients):
    vpc = clients.ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = clients.ec2.create_security_group(GroupName="target", Description="t", VpcId=vpc)["GroupId"]
    source = clients.ec2.create_security_group(GroupName="source", Description="s", VpcId=vpc)["GroupId"]

    def rule(description):
        return [{"IpProtocol": "tcp", "FromPort": 32768, "ToPort": 65535,
                 "UserIdGroupPairs": [{"GroupId": source, "Description": description}]}]

    clients.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rule("alb to client, users"))
    clients.ec2.update_security_group_rule_descriptions_ingress(GroupId=group, IpPermissions=rule("alb to client"))
    [described] = clients.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]

    assert described["IpPermissions"][0]["UserIdGroupPairs"][0]["Description"] == "alb to client"
