"""alb_routes against the local emulated AWS, run the way a user runs it (ansible-playbook)."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.model import conditions_from_aws, describe_conditions

APP = "flask-microservices"


@pytest.fixture
def network(boto3_client):
    """A VPC with subnets in two Availability Zones and the ALB's security group."""
    ec2 = boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.%d.0/24" % i, AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
        for i, az in enumerate("ab", start=1)
    ]
    group = ec2.create_security_group(GroupName="alb", Description="ALB", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "security_group": group}


def seed_args(network, **overrides):
    """The reference app's routing: client by default, users on its paths, swagger on its own."""
    args = {
        "name": "flask",
        "application": APP,
        "subnets": network["subnets"],
        "security_groups": [network["security_group"]],
        "listeners": [{"port": 80, "default_action": {"target_group": "client"}}],
        "target_groups": [
            {"name": "client", "port": 9000, "health_check": {"path": "/"}},
            {"name": "users", "port": 5000, "health_check": {"path": "/ping"}, "deregistration_delay": 30},
            {"name": "swagger", "port": 8080},
        ],
        "routes": [
            {"listener": 80, "path_patterns": ["/auth/*", "/users", "/users/*"], "target_group": "users"},
            {"listener": 80, "path_patterns": ["/ping"], "target_group": "users"},
            {"listener": 80, "path_patterns": ["/swagger", "/swagger/*"], "target_group": "swagger"},
        ],
    }
    args.update(overrides)
    return args


def rules_on_port_80(boto3_client, lb_name="flask"):
    elb = boto3_client("elbv2")
    lb = elb.describe_load_balancers(Names=[lb_name])["LoadBalancers"][0]
    listener = [li for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
                if li["Port"] == 80][0]
    rules = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
    return sorted((int(r["Priority"]), describe_conditions(conditions_from_aws(r["Conditions"]))) for r in rules)


def test_creates_load_balancer_listener_target_groups_and_rules_in_one_run(aws, network, run_module, boto3_client):
    res = run_module("alb_routes", seed_args(network))

    assert not res.get("failed"), res.get("msg")
    assert res["changed"] is True
    assert res["load_balancer"]["dns_name"]
    assert res["load_balancer"]["canonical_hosted_zone_id"]
    assert set(res["target_groups"]) == {"client", "users", "swagger"}
    assert [(r["priority"], r["name"]) for r in res["rules"]] == [
        (10, "80 path=/ping"), (20, "80 path=/swagger,/swagger/*"), (30, "80 path=/auth/*,/users,/users/*")]
    elb = boto3_client("elbv2")
    assert len(elb.describe_rules(ListenerArn=res["listeners"][0]["arn"])["Rules"]) == 4


def test_second_run_changes_nothing_and_only_describes(aws, network, run_module):
    args = seed_args(network)
    run_module("alb_routes", args)
    aws.clear_calls()

    res = run_module("alb_routes", args)

    assert res["changed"] is False
    assert res["plan"] == []
    assert aws.write_calls() == []
    assert res["api_calls"]["elbv2"]["write"] == 0


def test_changing_one_route_updates_only_that_rule(aws, network, run_module, boto3_client):
    args = seed_args(network)
    run_module("alb_routes", args)
    args["routes"][2] = {"listener": 80, "path_patterns": ["/swagger", "/swagger/*"], "target_group": "client"}
    aws.clear_calls()

    res = run_module("alb_routes", args, diff=True)

    assert res["changed"] is True
    assert [(a["action"], a["kind"], a["name"]) for a in res["plan"]] == [
        ("update", "rule", "80 path=/swagger,/swagger/*")]
    assert [c["operation"] for c in aws.write_calls()] == ["ModifyRule"]
    assert "rule/80 path=/swagger,/swagger/*" in res["diff"]["after"]


def test_removed_route_is_purged_without_renumbering_the_others(aws, network, run_module, boto3_client):
    args = seed_args(network)
    run_module("alb_routes", args)
    del args["routes"][1]

    res = run_module("alb_routes", args)

    assert [(a["action"], a["name"]) for a in res["plan"]] == [("delete", "80 path=/ping")]
    assert [p for p, _name in rules_on_port_80(boto3_client)] == [20, 30]


def test_check_mode_predicts_creation_and_makes_no_write_call(aws, network, run_module, boto3_client):
    aws.clear_calls()

    res = run_module("alb_routes", seed_args(network), check=True)

    assert res["changed"] is True
    assert res["load_balancer"]["arn"] == "(known after apply)"
    assert {a["kind"] for a in res["plan"]} == {"load_balancer", "target_group", "listener", "rule"}
    assert aws.write_calls() == []


def test_shared_load_balancer_keeps_other_applications_rules(aws, network, run_module, boto3_client):
    run_module("alb_routes", seed_args(network))
    other = {"name": "flask", "application": "billing",
             "target_groups": [{"name": "billing", "port": 8000}],
             "routes": [{"listener": 80, "host_headers": ["billing.example.com"], "target_group": "billing"}]}
    first = run_module("alb_routes", other)
    assert not first.get("failed"), first.get("msg")

    res = run_module("alb_routes", seed_args(network, routes=[]))

    assert {a["name"] for a in res["plan"] if a["action"] == "delete"} == {
        "80 path=/ping", "80 path=/swagger,/swagger/*", "80 path=/auth/*,/users,/users/*"}
    assert [names for _p, names in rules_on_port_80(boto3_client)] == ["host=billing.example.com"]


def test_state_absent_removes_everything_of_the_application(aws, network, run_module, boto3_client):
    run_module("alb_routes", seed_args(network))

    res = run_module("alb_routes", {"name": "flask", "application": APP, "state": "absent"})

    assert res["changed"] is True
    elb = boto3_client("elbv2")
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    assert elb.describe_target_groups()["TargetGroups"] == []


def test_invalid_route_fails_naming_the_option_before_any_write(aws, network, run_module):
    args = seed_args(network)
    args["routes"].append({"listener": 80, "path_patterns": ["/v2/*"], "target_group": "orders"})
    aws.clear_calls()

    res = run_module("alb_routes", args)

    assert res["failed"] is True
    assert "routes[3].target_group='orders'" in res["msg"]
    assert aws.write_calls() == []


def test_removing_a_condition_replaces_the_rule_on_its_priority(aws, network, run_module, boto3_client):
    args = seed_args(network)
    args["routes"][1] = {"listener": 80, "path_patterns": ["/ping"], "methods": ["GET"], "target_group": "users"}
    run_module("alb_routes", args)
    before = rules_on_port_80(boto3_client)
    args["routes"][1] = {"listener": 80, "path_patterns": ["/ping"], "target_group": "users"}
    aws.clear_calls()

    res = run_module("alb_routes", args)

    assert not res.get("failed"), res.get("msg")
    assert [c["operation"] for c in aws.write_calls()] == ["CreateRule", "SetRulePriorities", "DeleteRule"]
    assert rules_on_port_80(boto3_client) == [(p, name.replace(" method=GET", "")) for p, name in before]


def test_swapping_two_explicit_priorities_is_one_set_rule_priorities_call(aws, network, run_module, boto3_client):
    args = seed_args(network)
    args["routes"][0]["priority"], args["routes"][1]["priority"] = 5, 6
    run_module("alb_routes", args)
    args["routes"][0]["priority"], args["routes"][1]["priority"] = 6, 5
    aws.clear_calls()

    res = run_module("alb_routes", args)

    assert not res.get("failed"), res.get("msg")
    assert [c["operation"] for c in aws.write_calls()] == ["SetRulePriorities"]
    assert rules_on_port_80(boto3_client)[:2] == [(5, "path=/ping"), (6, "path=/auth/*,/users,/users/*")]
