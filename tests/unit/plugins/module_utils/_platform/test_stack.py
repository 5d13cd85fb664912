"""platform_stack against moto in-process: a new account, the no-op, drift corrected, bad input refused before any write."""

import copy

import boto3
import pytest
from botocore.exceptions import ClientError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from emulator.fidelity import fixes
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.api import PlatformApiError, PlatformEc2Api, PlatformIamApi
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.spec import ARGUMENT_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.stack import UNKNOWN, PlatformStack

REGION = "us-east-1"
SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/prod/DB"
# A customer managed policy standing for AWS's AmazonECSTaskExecutionRolePolicy (moto in-process does not load AWS's).
EXECUTION_POLICY = "arn:aws:iam::123456789012:policy/execution"
SECRETS_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [SECRET]}]}
OPTIONS = {
    "name": "shop-prod",
    "tags": {"Application": "shop", "Environment": "prod"},
    "network": {"create": True, "cidr": "10.20.0.0/16",
                "public_subnets": [{"cidr": "10.20.1.0/24", "az": "us-east-1a"}, {"cidr": "10.20.2.0/24", "az": "us-east-1b"}]},
    "security_groups": [
        {"name": "shop-prod-alb", "description": "shop-prod load balancer",
         "rules": [{"from_port": 80, "to_port": 80, "cidr_ip": "0.0.0.0/0", "rule_desc": "listeners"}]},
        {"name": "shop-prod-tasks", "description": "shop-prod tasks",
         "rules": [{"from_port": 8080, "to_port": 8080, "group_name": "shop-prod-alb", "rule_desc": "alb to storefront"},
                   {"from_port": 9000, "to_port": 9000, "group_name": "shop-prod-tasks", "rule_desc": "tasks to catalog"}]},
    ],
    "roles": [
        {"name": "shop-prod-task-execution", "description": "pull images, write logs", "trust_service": "ecs-tasks.amazonaws.com",
         "managed_policies": [EXECUTION_POLICY],
         "inline_policies": {"read-secrets": SECRETS_POLICY}},
        {"name": "shop-prod-task", "description": "the containers' calls", "trust_service": "ecs-tasks.amazonaws.com"},
    ],
}


def validated(options):
    result = ArgumentSpecValidator(ARGUMENT_SPEC).validate(copy.deepcopy(options))
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


@pytest.fixture
def aws():
    # moto as the emulator runs it: where moto differs from AWS (a group rule's description update), as AWS does.
    fixes.install()
    with mock_aws():
        clients = {service: boto3.client(service, region_name=REGION) for service in ("ec2", "iam")}
        clients["iam"].create_policy(PolicyName="execution", PolicyDocument=(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}'))
        yield clients


def run(aws, options=None, check_mode=False):
    ec2, iam = PlatformEc2Api(aws["ec2"]), PlatformIamApi(aws["iam"])
    result = PlatformStack(ec2, iam, validated(options or OPTIONS), check_mode=check_mode).run()
    writes = dict(ec2.write_calls, **iam.write_calls)
    return result, writes


def kinds(result):
    return sorted((a.verb, a.kind, a.name) for a in result.plan.actions)


def test_new_account_check_mode_plans_everything_and_writes_nothing(aws):
    result, writes = run(aws, check_mode=True)
    assert writes == {}
    assert kinds(result) == sorted([
        ("create", "vpc", "shop-prod"), ("create", "internet_gateway", "shop-prod"),
        ("create", "subnet", "shop-prod-public-us-east-1a"), ("create", "subnet", "shop-prod-public-us-east-1b"),
        ("create", "route_table", "shop-prod-public"), ("create", "security_group", "shop-prod-alb"),
        ("create", "security_group", "shop-prod-tasks"), ("create", "iam_role", "shop-prod-task-execution"),
        ("create", "iam_role", "shop-prod-task")])
    assert result.data["vpc_id"] == "" and result.data["security_groups"] == {} and result.data["subnet_ids"] == []
    assert [r["id"] for r in result.data["resources"] if r["kind"] == "subnet"] == [
        UNKNOWN + ": subnet in us-east-1a", UNKNOWN + ": subnet in us-east-1b"]
    tasks = next(a for a in result.plan.actions if a.name == "shop-prod-tasks")
    assert tasks.after["ingress"] == ["tcp 8080 from shop-prod-alb", "tcp 9000 from shop-prod-tasks"]


def test_create_then_noop_then_check_agrees(aws):
    first, writes = run(aws)
    assert first.changed and writes
    vpc_id = first.data["vpc_id"]
    assert vpc_id.startswith("vpc-") and len(first.data["subnet_ids"]) == 2
    second, writes = run(aws)
    assert not second.changed and writes == {}, second.plan.to_list()
    assert second.data["vpc_id"] == vpc_id and second.data["security_groups"] == first.data["security_groups"]
    assert second.data["roles"] == first.data["roles"]
    assert sum(c["read"] for c in second.data["api_calls"].values()) == 12, second.data["api_calls"]
    # What was made is what was asked.
    ec2 = aws["ec2"]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]}
    tasks = groups["shop-prod-tasks"]["IpPermissions"]
    assert sorted((p["FromPort"], p["UserIdGroupPairs"][0]["GroupId"]) for p in tasks) == [
        (8080, groups["shop-prod-alb"]["GroupId"]), (9000, groups["shop-prod-tasks"]["GroupId"])]
    attributes = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert attributes["EnableDnsHostnames"]["Value"] is True
    table = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["shop-prod-public"]}])["RouteTables"][0]
    assert sorted(a["SubnetId"] for a in table["Associations"]) == sorted(first.data["subnet_ids"])
    assert aws["iam"].get_role_policy(RoleName="shop-prod-task-execution", PolicyName="read-secrets")["PolicyDocument"] == SECRETS_POLICY


def test_drift_is_planned_in_check_mode_and_corrected(aws):
    first = run(aws)[0]
    ec2, iam = aws["ec2"], aws["iam"]
    groups = first.data["security_groups"]
    # Out of band: a rule opened to the world, a tag removed, a route deleted, the secrets policy widened,
    # a managed policy attached, the trust policy changed.
    ec2.authorize_security_group_ingress(GroupId=groups["shop-prod-tasks"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.delete_tags(Resources=[first.data["vpc_id"]], Tags=[{"Key": "Environment"}])
    table = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["shop-prod-public"]}])["RouteTables"][0]
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    iam.put_role_policy(RoleName="shop-prod-task-execution", PolicyName="read-secrets", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}]}'))
    iam.attach_role_policy(RoleName="shop-prod-task", PolicyArn=EXECUTION_POLICY)
    iam.update_assume_role_policy(RoleName="shop-prod-task", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, '
        '"Action": "sts:AssumeRole"}]}'))
    planned, writes = run(aws, check_mode=True)
    assert writes == {}
    assert kinds(planned) == [("update", "iam_role", "shop-prod-task"), ("update", "iam_role", "shop-prod-task-execution"),
                              ("update", "route_table", "shop-prod-public"), ("update", "security_group", "shop-prod-tasks"),
                              ("update", "vpc", "shop-prod")]
    paths = {a.name: [c["path"] for c in a.changes] for a in planned.plan.actions}
    assert paths["shop-prod-tasks"] == ["ingress.tcp 22 from 0.0.0.0/0"]
    assert paths["shop-prod"] == ["tags.Environment"]
    assert paths["shop-prod-task"] == ["trust", "managed_policies." + EXECUTION_POLICY]
    assert paths["shop-prod-task-execution"] == ["inline_policies.read-secrets"]
    assert planned.plan.diff()["after"]["security_group/shop-prod-tasks"] == {"ingress.tcp 22 from 0.0.0.0/0": None}
    fixed, writes = run(aws)
    assert fixed.changed and kinds(fixed) == kinds(planned)
    again, writes = run(aws)
    assert not again.changed and writes == {}, again.plan.to_list()


def test_a_policy_given_as_null_is_deleted_and_others_left_alone(aws):
    run(aws)
    aws["iam"].put_role_policy(RoleName="shop-prod-task-execution", PolicyName="theirs", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'))
    options = copy.deepcopy(OPTIONS)
    options["roles"][0]["inline_policies"] = {"read-secrets": None}
    result = run(aws, options)[0]
    assert [(a.name, [c["path"] for c in a.changes]) for a in result.plan.actions] == [
        ("shop-prod-task-execution", ["inline_policies.read-secrets"])]
    assert aws["iam"].list_role_policies(RoleName="shop-prod-task-execution")["PolicyNames"] == ["theirs"]


def test_a_rule_moved_to_another_port_is_added_before_the_old_one_goes(aws):
    first = run(aws)[0]
    options = copy.deepcopy(OPTIONS)
    options["security_groups"][1]["rules"][0].update(from_port=8081, to_port=8081)
    options["security_groups"][1]["rules"][1]["rule_desc"] = "tasks to catalog and search"
    result, writes = run(aws, options)
    assert writes == {"authorize_security_group_ingress": 1, "update_security_group_rule_descriptions_ingress": 1,
                      "revoke_security_group_ingress": 1}
    change = {c["path"]: (c["before"], c["after"]) for c in result.plan.actions[0].changes}
    assert change == {"ingress.tcp 8081 from shop-prod-alb": (None, "alb to storefront"),
                      "ingress.tcp 8080 from shop-prod-alb": ("alb to storefront", None),
                      "ingress.tcp 9000 from shop-prod-tasks": ("tasks to catalog", "tasks to catalog and search")}
    assert not run(aws, options)[0].changed


@pytest.mark.parametrize("change, option, reason", [
    (lambda o: o["network"].update(public_subnets=[{"cidr": "10.20.1.0/24", "az": "us-east-1a"}]),
     "network.public_subnets", "two Availability Zones"),
    (lambda o: o["security_groups"][1]["rules"][0].update(group_name="shop-prod-lb"),
     "security_groups[1].rules[0].group_name", "not one of the groups given"),
    (lambda o: o["security_groups"][0]["rules"][0].update(from_port=90, to_port=80),
     "security_groups[0].rules[0]", "from_port <= to_port"),
    (lambda o: o["roles"].append(dict(o["roles"][1])), "roles", "given twice"),
    (lambda o: o["roles"][0]["inline_policies"].update(extra="s3:*"), "roles[0].inline_policies.extra", "policy document"),
])
def test_bad_input_is_refused_before_any_call(aws, change, option, reason):
    options = copy.deepcopy(OPTIONS)
    change(options)
    ec2, iam = PlatformEc2Api(aws["ec2"]), PlatformIamApi(aws["iam"])
    with pytest.raises(ValidationError) as raised:
        PlatformStack(ec2, iam, validated(options)).run()
    assert raised.value.option == option and reason in raised.value.reason
    assert not ec2.calls and not iam.calls


def test_a_subnet_in_another_zone_is_refused_before_any_write(aws):
    run(aws)
    options = copy.deepcopy(OPTIONS)
    options["network"]["public_subnets"][1]["az"] = "us-east-1c"
    options["security_groups"][0]["rules"][0]["from_port"] = 81
    options["security_groups"][0]["rules"][0]["to_port"] = 81
    with pytest.raises(ValidationError) as raised:
        run(aws, options)
    assert raised.value.option == "network.public_subnets[1].az" and "is in us-east-1b" in raised.value.reason
    assert not run(aws)[0].changed


def test_an_existing_vpc_is_found_not_managed(aws):
    created = run(aws)[0]
    options = copy.deepcopy(OPTIONS)
    options["name"] = "shop-stage"
    options["network"] = {"create": False, "vpc_tags": {"Name": "shop-prod"}, "subnet_ids": created.data["subnet_ids"]}
    options["security_groups"] = [dict(g, name=g["name"].replace("prod", "stage")) for g in OPTIONS["security_groups"]]
    options["security_groups"][1]["rules"] = [{"from_port": 80, "to_port": 80, "group_name": "shop-stage-alb"}]
    options["roles"] = []
    result, writes = run(aws, options)
    assert result.data["vpc_id"] == created.data["vpc_id"] and result.data["subnet_ids"] == sorted(created.data["subnet_ids"])
    assert kinds(result) == [("create", "security_group", "shop-stage-alb"), ("create", "security_group", "shop-stage-tasks")]
    assert set(writes) == {"create_security_group", "authorize_security_group_ingress"}
    options["network"]["subnet_ids"] = ["subnet-12345678"]
    with pytest.raises(ValidationError) as raised:
        run(aws, options)
    assert raised.value.option == "network.subnet_ids" and "not subnets of" in raised.value.reason


class EventuallyConsistentIam:
    """get_role answers NoSuchEntity until call number ``readable_from`` (IAM right after CreateRole)."""

    def __init__(self, readable_from):
        self.asked = 0
        self.readable_from = readable_from

    def get_role(self, **kwargs):
        self.asked += 1
        if self.asked < self.readable_from:
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not yet"}}, "GetRole")
        return {"Role": {"RoleName": kwargs["RoleName"], "Arn": "arn:aws:iam::123456789012:role/" + kwargs["RoleName"]}}


def test_a_new_role_is_waited_for_until_it_reads_back():
    slept = []
    iam = PlatformIamApi(EventuallyConsistentIam(readable_from=3))
    iam.wait_until_readable("shop-prod-task", sleep=slept.append)
    assert slept == [1.0, 1.0] and iam.calls["get_role"] == 3
    never = PlatformIamApi(EventuallyConsistentIam(readable_from=99))
    with pytest.raises(PlatformApiError, match="does not read back after 3 s"):
        never.wait_until_readable("shop-prod-task", attempts=3, sleep=slept.append)
