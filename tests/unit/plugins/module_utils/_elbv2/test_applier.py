"""The apply order against a scripted listener that enforces AWS's priority rules.

moto checks ``set_rule_priorities`` against the priorities held before the call, so it refuses
a swap that AWS performs atomically; this stub does what AWS documents instead, and after every
write checks that each path that should stay routed still has a rule.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.applier import Applier
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.planner import build_desired, compute_plan

from .helpers import params, route, rule, snapshot


class PriorityInUse(Exception):
    response = {"Error": {"Code": "PriorityInUse", "Message": "The specified priority is in use."}}


class ScriptedListener:
    """Listener 80's rules as AWS keeps them: ARN -> (priority, path patterns)."""

    def __init__(self, rules: List[Dict[str, Any]], must_stay_routed: List[str]) -> None:
        self.rules = {r["arn"]: (r["priority"], tuple(r["conditions"].get("path_patterns", ()))) for r in rules}
        self.must_stay_routed = must_stay_routed
        self.log: List[str] = []
        self.counter = 0

    def _check(self, op: str) -> None:
        self.log.append(op)
        priorities = [p for p, _paths in self.rules.values()]
        assert len(priorities) == len(set(priorities)), "two rules on one priority after %s" % op
        routed = {path for _p, paths in self.rules.values() for path in paths}
        missing = [p for p in self.must_stay_routed if p not in routed]
        assert not missing, "%s left %s unrouted" % (op, missing)

    def create_rule(self, **kw):
        priority = kw["Priority"]
        if any(p == priority for p, _paths in self.rules.values()):
            raise PriorityInUse()
        self.counter += 1
        arn = "new-%d" % self.counter
        paths = tuple(v for c in kw["Conditions"] if c["Field"] == "path-pattern"
                      for v in c["PathPatternConfig"]["Values"])
        self.rules[arn] = (priority, paths)
        self._check("create_rule@%d" % priority)
        return {"Rules": [{"RuleArn": arn}]}

    def modify_rule(self, **kw):
        self._check("modify_rule")
        return {"Rules": [{"RuleArn": kw["RuleArn"]}]}

    def set_rule_priorities(self, **kw):
        moved = {m["RuleArn"]: m["Priority"] for m in kw["RulePriorities"]}
        final = {arn: (moved.get(arn, p), paths) for arn, (p, paths) in self.rules.items()}
        if len({p for p, _paths in final.values()}) != len(final):
            raise PriorityInUse()
        self.rules = final
        self._check("set_rule_priorities")
        return {"Rules": []}

    def delete_rule(self, **kw):
        del self.rules[kw["RuleArn"]]
        self._check("delete_rule")
        return {}

    def add_tags(self, **_kw):
        return {}

    remove_tags = add_tags


def apply(current, routes, must_stay_routed):
    snap = snapshot(current)
    desired = build_desired(params(routes=routes))
    plan = compute_plan(desired, snap)
    client = ScriptedListener(current, must_stay_routed)
    Applier(Elbv2Api(client), desired, snap, plan).apply()
    return client


def test_removing_a_condition_creates_the_new_rule_swaps_then_deletes():
    current = [rule(10, "/users", methods=["GET"]), rule(20, "/*", tg="client")]

    client = apply(current, [route("/users"), route("/*", tg="client")], ["/users", "/*"])

    assert [op.split("@")[0] for op in client.log] == ["create_rule", "set_rule_priorities", "delete_rule"]
    assert sorted(client.rules.values()) == [(10, ("/users",)), (20, ("/*",))]


def test_swapping_two_rules_is_one_call_and_never_in_use():
    current = [rule(10, "/a"), rule(20, "/b")]

    client = apply(current, [route("/a", priority=20), route("/b", priority=10)], ["/a", "/b"])

    assert client.log == ["set_rule_priorities"]
    assert sorted(client.rules.values()) == [(10, ("/b",)), (20, ("/a",))]


def test_insert_in_the_middle_of_a_full_range_renumbers_without_conflict():
    current = [rule(1, "/users/admin/*"), rule(2, "/users/*"), rule(3, "/*", tg="client")]
    routes = [route("/users/admin/*"), route("/users/*"), route("/*", tg="client"), route("/users/admin/x/*")]

    client = apply(current, routes, ["/users/admin/*", "/users/*", "/*"])

    by_path = {paths[0]: p for p, paths in client.rules.values()}
    assert by_path["/users/admin/x/*"] < by_path["/users/admin/*"] < by_path["/users/*"] < by_path["/*"]
    assert [op.split("@")[0] for op in client.log] == ["create_rule", "set_rule_priorities"]


@pytest.mark.parametrize("removed", [0, 1, 2])
def test_delete_in_the_middle_touches_only_that_rule(removed):
    paths = ["/a/b/*", "/a/*", "/*"]
    current = [rule(10 * (i + 1), p) for i, p in enumerate(paths)]
    kept = [p for i, p in enumerate(paths) if i != removed]

    client = apply(current, [route(p) for p in kept], kept)

    assert client.log == ["delete_rule"]


class InUseOnce:
    """A target group AWS still reports in use on the first delete after its load balancer went."""

    def __init__(self):
        self.deletes = 0

    def delete_load_balancer(self, **_kw):
        return {}

    def delete_target_group(self, **_kw):
        self.deletes += 1
        if self.deletes == 1:
            raise type("ResourceInUse", (Exception,), {"response": {"Error": {"Code": "ResourceInUse",
                                                                              "Message": "in use"}}})()
        return {}


def test_target_group_still_in_use_right_after_the_load_balancer_is_deleted_is_retried():
    from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy

    snap = snapshot([], target_groups=[])
    snap.target_groups = {"users": dict(snapshot([]).target_groups["users"])}
    desired = build_desired(params(state="absent", listeners=None, target_groups=None, routes=None))
    plan = compute_plan(desired, snap)
    client = InUseOnce()
    slept = []

    Applier(Elbv2Api(client, RetryPolicy(sleep=slept.append)), desired, snap, plan).apply()

    assert client.deletes == 2 and len(slept) == 1
