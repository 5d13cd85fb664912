"""The plan: rule identity by conditions, stable priorities, safe order, no phantom changes."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.planner import build_desired, compute_plan

from .helpers import APP, params, route, rule, snapshot, target_group


def plan_for(routes, current_rules, **kw):
    snap_kw = {k: kw.pop(k) for k in ("target_groups", "listener_owner", "lb_owner") if k in kw}
    return compute_plan(build_desired(params(routes=routes, **kw)), snapshot(current_rules, **snap_kw))


def verbs(plan):
    return [(a.verb, a.kind, a.name) for a in plan.report.actions]


def test_same_routes_in_another_order_plan_nothing():
    current = [rule(10, "/ping"), rule(20, "/auth/*"), rule(30, "/docs/*"), rule(40, "/users", "/users/*")]

    plan = plan_for([route("/docs/*"), route("/auth/*"), route("/users/*", "/users"), route("/ping")], current)

    assert not plan.changed
    assert plan.moves == {}


def test_new_routes_on_a_new_listener_get_priorities_by_specificity():
    desired = build_desired(params(routes=[
        route("/*", tg="client"),
        route("/users/*"),
        route("/users", host_headers=["api.example.com"]),
        route("/ping"),
    ]))

    plan = compute_plan(desired, snapshot([]))

    assert [(r["route"]["name"], r["priority"]) for r in sorted(plan.rules_after, key=lambda r: r["priority"])] == [
        ("80 host=api.example.com path=/users", 10),
        ("80 path=/ping", 20),
        ("80 path=/users/*", 30),
        ("80 path=/*", 40),
    ]


def test_insert_in_the_middle_takes_a_free_priority_and_moves_nothing():
    current = [rule(10, "/ping"), rule(20, "/users/*"), rule(30, "/*", tg="client")]

    plan = plan_for([route("/ping"), route("/users/*"), route("/*", tg="client"), route("/users/admin/*")], current)

    assert verbs(plan) == [("create", "rule", "80 path=/users/admin/*")]
    assert plan.rule_creates[0]["create_priority"] == plan.rule_creates[0]["final_priority"] == 15
    assert plan.moves == {}


def test_insert_without_a_gap_renumbers_in_one_set_rule_priorities_call():
    current = [rule(1, "/ping"), rule(2, "/*", tg="client")]

    plan = plan_for([route("/ping"), route("/*", tg="client"), route("/users/*")], current)

    assert plan.rule_creates[0]["final_priority"] == 20
    assert sorted(plan.moves[80], key=lambda m: m[1])[0] == ("rule-flask-1", 10)
    assert ("rule-flask-2", 30) in plan.moves[80]


def test_delete_in_the_middle_deletes_only_that_rule():
    current = [rule(10, "/ping"), rule(20, "/users/*"), rule(30, "/*", tg="client")]

    plan = plan_for([route("/ping"), route("/*", tg="client")], current)

    assert verbs(plan) == [("delete", "rule", "80 path=/users/*")]
    assert plan.moves == {}


def test_swapping_two_explicit_priorities_is_one_atomic_move():
    current = [rule(10, "/a"), rule(20, "/b")]

    plan = plan_for([route("/a", priority=20), route("/b", priority=10)], current)

    assert plan.moves == {80: [("rule-flask-10", 20), ("rule-flask-20", 10)]}
    assert plan.rule_creates == [] and plan.rule_deletes == []


def test_new_rule_on_a_priority_still_held_by_a_purged_rule_is_created_elsewhere_first():
    current = [rule(10, "/old")]

    plan = plan_for([route("/new", priority=10)], current)

    create = plan.rule_creates[0]
    assert create["final_priority"] == 10 and create["create_priority"] != 10
    moves = dict(plan.moves[80])
    assert moves[(80, create["key"])] == 10
    assert moves["rule-flask-10"] not in (10, create["create_priority"])
    assert [d["arn"] for d in plan.rule_deletes] == ["rule-flask-10"]


def test_removing_a_condition_is_a_new_rule_and_the_old_one_goes():
    current = [rule(10, "/users", methods=["GET"])]

    plan = plan_for([route("/users")], current)

    assert verbs(plan) == [("create", "rule", "80 path=/users"), ("delete", "rule", "80 path=/users method=GET")]


def test_changing_weights_of_a_forward_updates_the_rule_in_place():
    weighted = {"forward": {"target_groups": [{"name": "users", "weight": 90}, {"name": "client", "weight": 10}]}}
    current = [rule(10, "/users/*", action=weighted)]
    shifted = {"forward": {"target_groups": [{"name": "client", "weight": 50}, {"name": "users", "weight": 50}]}}

    plan = plan_for([dict(route("/users/*", tg=None), **shifted)], current)

    assert verbs(plan) == [("update", "rule", "80 path=/users/*")]
    assert plan.rule_updates[0]["actions"][0]["target_groups"] == [
        {"name": "client", "weight": 50}, {"name": "users", "weight": 50}]
    assert {c["path"] for c in plan.report.actions[0].changes} == {
        "actions[0].target_groups[0].weight", "actions[0].target_groups[1].weight"}


def test_same_weighted_forward_in_another_order_is_no_change():
    weighted = {"forward": {"target_groups": [{"name": "users", "weight": 90}, {"name": "client", "weight": 10}]}}
    current = [rule(10, "/users/*", action=weighted)]
    reordered = {"forward": {"target_groups": [{"name": "client", "weight": 10}, {"name": "users", "weight": 90}]}}

    assert not plan_for([dict(route("/users/*", tg=None), **reordered)], current).changed


def test_conditions_match_whatever_the_case_of_host_and_method():
    current = [rule(10, "/a", host_headers=["api.example.com"], methods=["GET"])]

    plan = plan_for([route("/a", host_headers=["API.Example.com"], methods=["get"])], current)

    assert not plan.changed


def test_shared_load_balancer_other_owners_rules_are_kept_and_their_priorities_avoided():
    current = [rule(10, host_headers=["billing.example.com"], owner="billing", tg="billing"),
               rule(20, "/ping")]

    plan = plan_for([route("/users/*", host_headers=["api.example.com"])], current,
                    target_groups=[target_group("client", 9000), target_group("users", 5000),
                                   target_group("billing", 8000, owner="billing")])

    assert ("delete", "rule", "80 path=/ping") in verbs(plan)
    assert "rule-billing-10" not in [d["arn"] for d in plan.rule_deletes]
    assert plan.rule_creates[0]["final_priority"] not in (10,)
    assert ("delete", "target_group", "billing") not in verbs(plan)


def test_purge_false_keeps_undeclared_rules_and_their_priorities():
    current = [rule(10, "/ping")]

    plan = plan_for([route("/users/*")], current, purge=False)

    assert plan.rule_deletes == []
    assert plan.rule_creates[0]["final_priority"] != 10


def test_undeclared_target_group_of_this_application_is_purged_after_its_rules():
    current = [rule(10, "/legacy/*", tg="legacy")]
    tgs = [target_group("client", 9000), target_group("users", 5000), target_group("legacy", 7000)]

    plan = plan_for([], current, target_groups=tgs)

    assert verbs(plan) == [("delete", "rule", "80 path=/legacy/*"), ("delete", "target_group", "legacy")]


def test_absent_on_a_shared_load_balancer_deletes_only_this_applications_things():
    current = [rule(10, host_headers=["billing.example.com"], owner="billing", tg="billing"), rule(20, "/ping")]
    tgs = [target_group("users", 5000), target_group("billing", 8000, owner="billing"), target_group("client", 9000)]

    plan = plan_for([], current, target_groups=tgs, state="absent")

    assert verbs(plan) == [("delete", "rule", "80 path=/ping"), ("delete", "target_group", "users")]
    assert plan.warnings  # the listener and the client target group stay: billing's rule and the listener use them


def test_absent_when_everything_is_ours_deletes_the_load_balancer_then_target_groups():
    plan = plan_for([], [rule(10, "/ping")], state="absent")

    assert verbs(plan) == [("delete", "load_balancer", "flask"), ("delete", "target_group", "client"),
                           ("delete", "target_group", "users")]


def test_load_balancer_of_another_application_is_left_alone():
    plan = plan_for([], [], lb_owner="platform", listener_owner="platform", listeners=[],
                    security_groups=["sg-other"])

    assert ("update", "load_balancer", "flask") not in verbs(plan)
    assert plan.warnings


def test_missing_load_balancer_is_planned_with_unknown_arns():
    from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.state import Snapshot

    plan = compute_plan(build_desired(params(routes=[route("/ping")])), Snapshot())

    assert [v for v, k, _n in verbs(plan)] == ["create"] * 5
    assert plan.report.actions[0].after["arn"] == "(known after apply)"
    assert plan.tg_creates[0]["vpc_id"] == "(known after apply)"


def test_health_check_change_updates_the_target_group():
    tg = {"name": "users", "port": 5000, "health_check": {"path": "/ping"}}

    plan = compute_plan(build_desired(params(target_groups=[{"name": "client", "port": 9000}, tg])), snapshot([]))

    assert verbs(plan) == [("update", "target_group", "users")]
    assert plan.tg_updates[0]["health_check"]["path"] == "/ping"


def test_app_owner_tag_is_the_only_way_rules_are_claimed():
    untagged = rule(10, "/ping", owner=None, arn="manual")

    plan = plan_for([route("/ping")], [untagged])

    assert plan.rule_creates and plan.rule_creates[0]["final_priority"] != 10
    assert plan.rule_deletes == []
    assert APP not in untagged["tags"].values()
