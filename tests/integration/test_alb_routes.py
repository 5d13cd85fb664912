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


# ECS-native blue/green, canary and linear: alternates and rules whose weights ECS moves ----
TEST_HEADER = [{"name": "X-Shipyard-Test", "values": ["1"]}]


def blue_green_args(network, test_header=None):
    """client and users released by ECS: client through listener 80's default action (test
    traffic on listener 8080), users through a path rule (test traffic with a header)."""
    users_paths = ["/auth/*", "/users/*", "/ping"]
    return seed_args(
        network,
        listeners=[{"port": 80, "default_action": {"target_group": "client", "ecs_traffic": "production"}},
                   {"port": 8080, "default_action": {"target_group": "client", "ecs_traffic": "test"}}],
        target_groups=[
            {"name": "client", "port": 9000, "health_check": {"path": "/"}, "alternate": True},
            {"name": "users", "port": 5000, "health_check": {"path": "/ping"}, "deregistration_delay": 30,
             "alternate": True},
            {"name": "swagger", "port": 8080},
        ],
        routes=[
            {"listener": 80, "path_patterns": users_paths, "target_group": "users", "ecs_traffic": "production"},
            {"listener": 80, "path_patterns": users_paths, "http_headers": test_header or TEST_HEADER,
             "target_group": "users", "ecs_traffic": "test"},
            {"listener": 80, "path_patterns": ["/swagger", "/swagger/*"], "target_group": "swagger"},
        ])


def forward_weights(actions, names):
    """{target group name: weight} of a described forward action."""
    return {names[g["TargetGroupArn"]]: g["Weight"] for g in actions[0]["ForwardConfig"]["TargetGroups"]}


def ecs_moves(elb, arn, tgs, primary, weights):
    """What ECS does during a deployment: rewrite a forward's weights (ModifyListener for a default rule)."""
    action = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": tgs[primary], "Weight": weights[0]},
        {"TargetGroupArn": tgs[primary + "-alt"], "Weight": weights[1]}]}}]
    if ":listener-rule/" in arn:
        elb.modify_rule(RuleArn=arn, Actions=action)
    else:
        elb.modify_listener(ListenerArn=arn, DefaultActions=action)


def test_blue_green_creates_alternates_and_ecs_rules_and_reports_what_ecs_needs(aws, network, run_module, boto3_client):
    res = run_module("alb_routes", blue_green_args(network))

    assert not res.get("failed"), res.get("msg")
    elb = boto3_client("elbv2")
    tgs = {tg["TargetGroupName"]: tg for tg in elb.describe_target_groups()["TargetGroups"]}
    names = {tg["TargetGroupArn"]: name for name, tg in tgs.items()}
    assert set(res["target_groups"]) == {"client", "client-alt", "users", "users-alt", "swagger"}
    for key in ("Port", "Protocol", "TargetType", "VpcId", "HealthCheckPath", "HealthyThresholdCount"):
        assert tgs["users-alt"][key] == tgs["users"][key]
    listeners = {li["port"]: li for li in res["listeners"]}
    defaults = {port: [r for r in elb.describe_rules(ListenerArn=li["arn"])["Rules"] if r["IsDefault"]][0]
                for port, li in listeners.items()}
    rules = {r["ecs_traffic"]: r for r in res["rules"] if r["ecs_traffic"]}
    assert res["advanced_configuration"] == {
        "client": {"target_group": "client", "target_group_arn": tgs["client"]["TargetGroupArn"],
                   "alternate_target_group": "client-alt", "alternate_target_group_arn": tgs["client-alt"]["TargetGroupArn"],
                   "production_listener_rule": defaults[80]["RuleArn"], "test_listener_rule": defaults[8080]["RuleArn"]},
        "users": {"target_group": "users", "target_group_arn": tgs["users"]["TargetGroupArn"],
                  "alternate_target_group": "users-alt", "alternate_target_group_arn": tgs["users-alt"]["TargetGroupArn"],
                  "production_listener_rule": rules["production"]["arn"], "test_listener_rule": rules["test"]["arn"]},
    }
    production = elb.describe_rules(RuleArns=[rules["production"]["arn"]])["Rules"][0]
    assert forward_weights(production["Actions"], names) == {"users": 100, "users-alt": 0}
    assert forward_weights(defaults[80]["Actions"], names) == {"client": 100, "client-alt": 0}


def test_weights_ecs_moves_are_never_a_change_nor_a_write(aws, network, run_module, boto3_client):
    args = blue_green_args(network)
    first = run_module("alb_routes", args)
    aws.clear_calls()
    second = run_module("alb_routes", args)
    assert (second["changed"], aws.write_calls()) == (False, [])

    elb = boto3_client("elbv2")
    tgs = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]}
    config = first["advanced_configuration"]
    listeners = {li["port"]: li["arn"] for li in first["listeners"]}
    # Mid-deployment: users' canary at 10/90 on test, blue/green done for client (0/100).
    ecs_moves(elb, config["users"]["production_listener_rule"], tgs, "users", (10, 90))
    ecs_moves(elb, config["users"]["test_listener_rule"], tgs, "users", (0, 100))
    ecs_moves(elb, listeners[80], tgs, "client", (0, 100))
    ecs_moves(elb, listeners[8080], tgs, "client", (10, 90))
    aws.clear_calls()

    third = run_module("alb_routes", args)
    checked = run_module("alb_routes", args, check=True, diff=True)

    assert not third.get("failed"), third.get("msg")
    assert (third["changed"], third["plan"], aws.write_calls()) == (False, [], [])
    assert (checked["changed"], checked["plan"]) == (False, [])
    assert checked["diff"] == {"before": {}, "after": {}}
    names = {arn: name for name, arn in tgs.items()}
    rule = elb.describe_rules(RuleArns=[config["users"]["production_listener_rule"]])["Rules"][0]
    assert forward_weights(rule["Actions"], names) == {"users": 10, "users-alt": 90}


def test_check_diff_of_a_replaced_test_rule_starts_from_the_weights_ecs_left(aws, network, run_module, boto3_client):
    args = blue_green_args(network)
    first = run_module("alb_routes", args)
    elb = boto3_client("elbv2")
    tgs = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]}
    ecs_moves(elb, first["advanced_configuration"]["users"]["test_listener_rule"], tgs, "users", (0, 100))
    ecs_moves(elb, first["advanced_configuration"]["users"]["production_listener_rule"], tgs, "users", (0, 100))
    changed = blue_green_args(network, test_header=[{"name": "X-Shipyard-Test", "values": ["green"]}])
    aws.clear_calls()

    checked = run_module("alb_routes", changed, check=True, diff=True)

    assert aws.write_calls() == []
    assert [(a["action"], a["kind"]) for a in checked["plan"]] == [("create", "rule"), ("delete", "rule")]
    created = [v for k, v in checked["diff"]["after"].items() if "green" in k][0]
    assert created["ecs_traffic"] == "test"
    assert created["actions"][0]["target_groups"] == [{"name": "users", "weight": 0},
                                                      {"name": "users-alt", "weight": 100}]

    applied = run_module("alb_routes", changed)

    test_rule = applied["advanced_configuration"]["users"]["test_listener_rule"]
    assert test_rule != first["advanced_configuration"]["users"]["test_listener_rule"]
    names = {arn: name for name, arn in tgs.items()}
    described = elb.describe_rules(RuleArns=[test_rule])["Rules"][0]
    assert forward_weights(described["Actions"], names) == {"users": 0, "users-alt": 100}


def test_ecs_traffic_on_a_target_group_without_alternate_fails_before_any_write(aws, network, run_module):
    args = blue_green_args(network)
    args["routes"][2]["ecs_traffic"] = "production"
    aws.clear_calls()

    res = run_module("alb_routes", args)

    assert res["failed"] is True
    assert "routes[2].target_group='swagger'" in res["msg"]
    assert aws.write_calls() == []
