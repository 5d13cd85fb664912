"""Alternate target groups and rules whose forward weights ECS moves (ECS-native blue/green, canary, linear).

ECS shifts traffic by rewriting the weights of the production and test listener rules' forward
between a primary and an alternate target group.  alb_routes creates the pair and the rules and
from then on takes whatever weights AWS holds as the desired ones: only the set of target
groups, the conditions or the other parts of the action are differences.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api, Elbv2Error
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.model import (
    ALTERNATE_OF_TAG,
    ECS_TRAFFIC_TAG,
    action_from_params,
    alternate_name,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.planner import build_desired, compute_plan
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.runner import AlbRoutes
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.validate import (
    validate_against_state,
    validate_params,
)

from .helpers import APP, params, route, rule, snapshot, target_group

PAIRED = [{"name": "client", "port": 9000}, {"name": "users", "port": 5000, "alternate": True}]
PRODUCTION_DEFAULT = {"port": 80, "default_action": {"target_group": "users", "ecs_traffic": "production"}}


def weighted(users, users_alt):
    return {"forward": {"target_groups": [{"name": "users", "weight": users},
                                          {"name": "users-alt", "weight": users_alt}]}}


def managed_rule(priority, *paths, weights=(100, 0), role="production", **extra):
    out = rule(priority, *paths, action=weighted(*weights), **extra)
    out["tags"][ECS_TRAFFIC_TAG] = role
    return out


def current(rules, default_weights=None):
    """Listener 80 (default: client), ``rules``, and the pair users / users-alt in place."""
    snap = snapshot(rules, target_groups=[target_group("client", 9000), target_group("users", 5000),
                                          dict(target_group("users-alt", 5000),
                                               tags=dict(target_group("users-alt", 5000)["tags"],
                                                         **{ALTERNATE_OF_TAG: "users"}))])
    if default_weights is not None:
        snap.listeners[80]["default_actions"] = [action_from_params(weighted(*default_weights))]
    return snap


def plan_for(routes, snap, listeners=None):
    kw = {"target_groups": PAIRED, "routes": routes}
    if listeners is not None:
        kw["listeners"] = listeners
    return compute_plan(build_desired(params(**kw)), snap)


def verbs(plan):
    return [(a.verb, a.kind, a.name) for a in plan.report.actions]


# names ------------------------------------------------------------------------------------
def test_alternate_is_named_after_the_primary_with_alt():
    assert alternate_name({"name": "users", "alternate": True}) == "users-alt"


@pytest.mark.parametrize("name,alt", [("a" * 32, "a" * 28 + "-alt"), ("a" * 27 + "-bcde", "a" * 27 + "-alt")])
def test_alternate_of_a_32_character_name_stays_within_32_characters(name, alt):
    assert alternate_name({"name": name, "alternate": True}) == alt


def test_alternate_name_given_is_used_as_is():
    assert alternate_name({"name": "users", "alternate": False, "alternate_name": "users-green"}) == "users-green"


# the plan ---------------------------------------------------------------------------------
def test_new_pair_creates_the_alternate_with_the_primarys_settings_and_the_rule_at_100_0():
    desired = build_desired(params(target_groups=[{"name": "client", "port": 9000},
                                                  {"name": "users", "port": 5000, "alternate": True,
                                                   "health_check": {"path": "/ping"}, "deregistration_delay": 30}],
                                   routes=[route("/users/*", ecs_traffic="production")]))

    plan = compute_plan(desired, snapshot([], target_groups=[target_group("client", 9000)]))

    created = {tg["name"]: tg for tg in plan.tg_creates}
    assert set(created) == {"users", "users-alt"}
    for key in ("port", "protocol", "target_type", "health_check", "attributes"):
        assert created["users-alt"][key] == created["users"][key]
    assert created["users-alt"]["tags"][ALTERNATE_OF_TAG] == "users"
    assert plan.rule_creates[0]["actions"][0]["target_groups"] == [{"name": "users", "weight": 100},
                                                                   {"name": "users-alt", "weight": 0}]
    assert plan.rule_creates[0]["tags"][ECS_TRAFFIC_TAG] == "production"


@pytest.mark.parametrize("weights", [(100, 0), (0, 100), (90, 10), (10, 90), (0, 0)],
                         ids=["before", "after a blue/green deployment", "canary step", "linear step", "all zero"])
def test_weights_ecs_moved_on_a_managed_rule_are_no_change(weights):
    snap = current([managed_rule(10, "/users/*", weights=weights)])

    plan = plan_for([route("/users/*", ecs_traffic="production")], snap)

    assert not plan.changed
    assert plan.rule_updates == []


@pytest.mark.parametrize("weights", [(0, 100), (10, 90)])
def test_weights_ecs_moved_on_a_managed_default_action_are_no_change(weights):
    snap = current([], default_weights=weights)

    plan = plan_for([], snap, listeners=[PRODUCTION_DEFAULT])

    assert not plan.changed


def test_weights_on_a_rule_not_managed_by_ecs_are_still_a_change():
    snap = snapshot([rule(10, "/a", action={"forward": {"target_groups": [{"name": "users", "weight": 50},
                                                                          {"name": "client", "weight": 50}]}})])

    plan = compute_plan(build_desired(params(routes=[route("/a", tg=None, forward={"target_groups": [
        {"name": "users", "weight": 90}, {"name": "client", "weight": 10}]})])), snap)

    assert verbs(plan) == [("update", "rule", "80 path=/a")]


def test_a_rule_forwarding_to_the_primary_only_gains_the_alternate_keeping_its_traffic():
    snap = current([rule(10, "/users/*")])

    plan = plan_for([route("/users/*", ecs_traffic="production")], snap)

    assert verbs(plan) == [("update", "rule", "80 path=/users/*")]
    assert plan.rule_updates[0]["actions"][0]["target_groups"] == [{"name": "users", "weight": 1},
                                                                   {"name": "users-alt", "weight": 0}]
    assert plan.rule_updates[0]["tags"] == ({ECS_TRAFFIC_TAG: "production"}, [])


def test_a_managed_default_action_missing_the_alternate_is_a_change():
    snap = current([])  # the default action forwards to client only

    plan = plan_for([], snap, listeners=[PRODUCTION_DEFAULT])

    assert verbs(plan) == [("update", "listener", "80")]
    assert plan.listener_updates[0]["modify"]["default_actions"][0]["target_groups"] == [
        {"name": "users", "weight": 100}, {"name": "users-alt", "weight": 0}]


def test_the_diff_of_a_managed_rule_never_shows_weights():
    snap = current([managed_rule(10, "/users/*", weights=(0, 100))])

    plan = plan_for([route("/users/*", tg=None, ecs_traffic="production", forward={
        "target_groups": [{"name": "users", "weight": 100}, {"name": "users-alt", "weight": 0}],
        "stickiness": {"enabled": True, "duration": 60}})], snap)

    action = plan.report.actions[0]
    assert [c["path"] for c in action.changes] == ["actions[0].stickiness.duration",
                                                   "actions[0].stickiness.enabled"]
    assert action.after["actions"][0]["target_groups"] == [{"name": "users", "weight": 0},
                                                           {"name": "users-alt", "weight": 100}]


def test_a_managed_rule_whose_conditions_change_starts_from_the_weights_ecs_left():
    snap = current([managed_rule(10, "/users/*", weights=(0, 100))])

    plan = plan_for([route("/users/*", "/auth/*", ecs_traffic="production")], snap)

    assert [v for v, _k, _n in verbs(plan)] == ["create", "delete"]
    assert plan.rule_creates[0]["actions"][0]["target_groups"] == [{"name": "users", "weight": 0},
                                                                   {"name": "users-alt", "weight": 100}]


def test_a_test_rule_starts_on_the_target_group_it_names():
    snap = current([managed_rule(20, "/users/*")])

    plan = plan_for([route("/users/*", ecs_traffic="production"),
                     route("/users/*", tg="users-alt", ecs_traffic="test",
                           http_headers=[{"name": "X-Shipyard-Test", "values": ["1"]}])], snap)

    assert verbs(plan) == [("create", "rule", "80 path=/users/* header:x-shipyard-test=1")]
    assert plan.rule_creates[0]["actions"][0]["target_groups"] == [{"name": "users", "weight": 0},
                                                                   {"name": "users-alt", "weight": 100}]
    assert plan.rule_creates[0]["final_priority"] < 20


# validation -------------------------------------------------------------------------------
BAD = {
    "ecs_traffic on a target group without alternate": (
        {"routes": [route("/a", tg="client", ecs_traffic="production")]}, "routes[0].target_group='client'"),
    "ecs_traffic on a fixed response": (
        {"routes": [route("/a", tg=None, fixed_response={"status_code": "404"}, ecs_traffic="production")]},
        "routes[0].ecs_traffic='production'"),
    "forward to a primary and a target group that is not its alternate": (
        {"routes": [route("/a", tg=None, ecs_traffic="production", forward={"target_groups": [
            {"name": "users", "weight": 1}, {"name": "client", "weight": 0}]})]},
        "routes[0].forward.target_groups=['users', 'client']"),
    "forward to three target groups": (
        {"routes": [route("/a", tg=None, ecs_traffic="production", forward={"target_groups": [
            {"name": "users"}, {"name": "users-alt"}, {"name": "client"}]})]}, "routes[0].forward.target_groups=["),
    "two production rules for one pair": (
        {"routes": [route("/a", ecs_traffic="production"), route("/b", ecs_traffic="production")]},
        "routes[1].ecs_traffic='production'"),
    "a route to a paired target group without ecs_traffic": (
        {"routes": [route("/a", ecs_traffic="production"), route("/ping")]}, "routes[1].target_group='users'"),
    "a default action to the alternate without ecs_traffic": (
        {"listeners": [{"port": 80, "default_action": {"target_group": "users-alt"}}]},
        "listeners[0].default_action.target_group='users-alt'"),
    "alternate name too long": (
        {"target_groups": [{"name": "users", "port": 5000, "alternate_name": "u" * 33}]},
        "target_groups[0].alternate_name='uuu"),
    "alternate name with an underscore": (
        {"target_groups": [{"name": "users", "port": 5000, "alternate_name": "users_green"}]},
        "target_groups[0].alternate_name='users_green'"),
    "alternate named like a declared target group": (
        {"target_groups": [{"name": "users", "port": 5000, "alternate_name": "client"},
                           {"name": "client", "port": 9000}]}, "target_groups[0].alternate_name='client'"),
    "derived alternate name taken by a declared target group": (
        {"target_groups": [{"name": "users", "port": 5000, "alternate": True}, {"name": "users-alt", "port": 1}]},
        "target_groups[0].alternate=True"),
}


@pytest.mark.parametrize("overrides,option", list(BAD.values()), ids=list(BAD))
def test_invalid_ecs_traffic_is_refused_naming_option_and_value(overrides, option):
    overrides = dict({"target_groups": PAIRED}, **overrides)

    with pytest.raises(Elbv2Error) as exc:
        validate_params(params(**overrides))

    assert option in exc.value.msg


@pytest.mark.parametrize("field,value,shown", [
    ("health_check", {"path": "/health"}, "health_check.path / / /health"),
    ("port", 5001, "port 5000 / 5001"),
    ("protocol", "HTTPS", "protocol HTTP / HTTPS"),
    ("target_type", "instance", "target_type ip / instance"),
])
def test_two_declared_target_groups_as_a_pair_need_the_same_settings(field, value, shown):
    groups = [{"name": "blue", "port": 5000}, dict({"name": "green", "port": 5000}, **{field: value})]
    forward = {"target_groups": [{"name": "blue", "weight": 100}, {"name": "green", "weight": 0}]}

    with pytest.raises(Elbv2Error) as exc:
        validate_params(params(target_groups=groups, routes=[route("/a", tg=None, forward=forward,
                                                                   ecs_traffic="production")]))

    assert "routes[0].forward.target_groups=['blue', 'green']" in exc.value.msg
    assert shown in exc.value.msg


def test_two_declared_target_groups_with_the_same_settings_are_a_pair():
    groups = [{"name": "blue", "port": 5000}, {"name": "green", "port": 5000}]
    forward = {"target_groups": [{"name": "blue", "weight": 100}, {"name": "green", "weight": 0}]}
    module_params = params(target_groups=groups, listeners=[{"port": 80, "default_action": {"target_group": "blue2"}}],
                           routes=[route("/a", tg=None, forward=forward, ecs_traffic="production")])

    validate_params(module_params)

    assert build_desired(module_params).pairs == {"blue": "green"}


def test_a_production_and_a_test_rule_for_one_pair_pass():
    validate_params(params(target_groups=PAIRED, routes=[
        route("/a", ecs_traffic="production"),
        route("/a", tg="users-alt", ecs_traffic="test", http_headers=[{"name": "x-test", "values": ["1"]}])]))


def test_an_existing_alternate_with_another_port_is_refused_before_any_write():
    snap = snapshot([], target_groups=[target_group("client", 9000), target_group("users", 5000),
                                       target_group("users-alt", 5001)])

    with pytest.raises(Elbv2Error) as exc:
        validate_against_state(params(target_groups=PAIRED, routes=[route("/a", ecs_traffic="production")]),
                               snap, APP)

    assert "target_groups[1].port=5000" in exc.value.msg
    assert "users-alt has port 5001" in exc.value.msg


def test_an_existing_alternate_of_another_application_is_refused():
    snap = snapshot([], target_groups=[target_group("client", 9000), target_group("users", 5000),
                                       target_group("users-alt", 5000, owner="billing")])

    with pytest.raises(Elbv2Error) as exc:
        validate_against_state(params(target_groups=PAIRED, routes=[route("/a", ecs_traffic="production")]),
                               snap, APP)

    assert "target_groups[1].alternate_name='users-alt'" in exc.value.msg


# end to end against moto in-process -------------------------------------------------------
@pytest.fixture
def aws():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i,
                                     AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
                   for i, az in enumerate("ab", start=1)]
        yield {"elbv2": boto3.client("elbv2", region_name="us-east-1"), "subnets": subnets}


def blue_green(aws):
    return params(subnets=aws["subnets"], target_groups=PAIRED, listeners=[
        {"port": 80, "default_action": {"target_group": "users", "ecs_traffic": "production"}},
        {"port": 8080, "default_action": {"target_group": "users-alt", "ecs_traffic": "test"}}],
        routes=[route("/static/*", tg="client")])


def test_result_gives_ecs_the_alternate_and_both_listener_rules(aws):
    result = AlbRoutes(Elbv2Api(aws["elbv2"]), blue_green(aws)).run()

    elb = aws["elbv2"]
    listeners = {li["port"]: li for li in result.data["listeners"]}
    defaults = {port: [r["RuleArn"] for r in elb.describe_rules(ListenerArn=li["arn"])["Rules"] if r["IsDefault"]][0]
                for port, li in listeners.items()}
    assert result.data["advanced_configuration"] == {"users": {
        "target_group": "users", "target_group_arn": result.data["target_groups"]["users"],
        "alternate_target_group": "users-alt", "alternate_target_group_arn": result.data["target_groups"]["users-alt"],
        "production_listener_rule": defaults[80], "test_listener_rule": defaults[8080]}}
    assert listeners[80]["default_rule_arn"] == defaults[80]


def test_no_op_after_ecs_swapped_the_weights_makes_no_write_call(aws):
    AlbRoutes(Elbv2Api(aws["elbv2"]), blue_green(aws)).run()
    elb = aws["elbv2"]
    tgs = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]}
    for li in elb.describe_listeners(LoadBalancerArn=elb.describe_load_balancers()["LoadBalancers"][0][
            "LoadBalancerArn"])["Listeners"]:
        elb.modify_listener(ListenerArn=li["ListenerArn"], DefaultActions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": tgs["users"], "Weight": 0},
                             {"TargetGroupArn": tgs["users-alt"], "Weight": 100}]}}])
    api = Elbv2Api(elb)

    result = AlbRoutes(api, blue_green(aws)).run()

    assert not result.changed
    assert api.write_calls == {}
