# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""alb_routes end to end: validate, read, plan, (unless check mode) apply, report."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result

from .api import Elbv2Api
from .applier import Applier
from .model import UNKNOWN, action_target_groups
from .planner import AlbPlan, Desired, build_desired, compute_plan
from .state import Snapshot, read_state
from .validate import validate_against_state, validate_params


class AlbRoutes:
    """The alb_routes module's logic, without Ansible: give it an API wrapper and options."""

    def __init__(self, api: Elbv2Api, params: Dict[str, Any], check_mode: bool = False) -> None:
        self.api = api
        self.params = params
        self.check_mode = check_mode

    @classmethod
    def from_module(cls, module: Any) -> "AlbRoutes":
        """Build from an ``AnsibleAWSModule`` (its boto3 client and options)."""
        return cls(Elbv2Api(module.client("elbv2")), module.params, module.check_mode)

    def run(self) -> Result:
        """Validate everything, read, plan, apply unless in check mode; return the result."""
        params = self.params
        validate_params(params)
        desired = build_desired(params)
        names = set(desired.target_groups)
        for listener in desired.listeners.values():
            names.update(action_target_groups(listener["default_actions"]))
        for route in desired.routes:
            names.update(action_target_groups(route["actions"]))
        keys = {n: sorted(tg["attributes"]) for n, tg in desired.target_groups.items()} \
            if desired.state == "present" else {}
        snap = read_state(self.api, desired.name, sorted(names), keys)
        validate_against_state(params, snap, desired.application)
        plan = compute_plan(desired, snap)
        applier = Applier(self.api, desired, snap, plan)
        if plan.changed and not self.check_mode:
            applier.apply()
        data = report(desired, snap, plan, applier, predicted=self.check_mode)
        data["api_calls"] = combined_calls([self.api])
        return Result(changed=plan.changed, plan=plan.report, data=data, warnings=plan.warnings)


def report(desired: Desired, snap: Snapshot, plan: AlbPlan, applier: Applier, predicted: bool) -> Dict[str, Any]:
    """The module's return values; in check mode, ARNs of what does not exist yet are unknown."""
    if desired.state == "absent":
        return {"load_balancer": {}, "listeners": [], "target_groups": {}, "rules": [], "advanced_configuration": {}}
    lb = applier.lb or {}
    fields = ("arn", "name", "dns_name", "canonical_hosted_zone_id", "vpc_id", "scheme", "ip_address_type", "subnets",
              "security_groups")
    load_balancer = {k: lb.get(k, UNKNOWN) for k in fields}
    if not lb:
        load_balancer.update(name=desired.name, scheme=desired.lb["scheme"], subnets=desired.lb["subnets"],
                             security_groups=desired.lb["security_groups"], ip_address_type=desired.lb["ip_address_type"])
    ports = sorted(set(desired.listeners) | {r["listener"] for r in desired.routes})
    listeners: List[Dict[str, Any]] = []
    for port in ports:
        cur: Optional[Dict[str, Any]] = snap.listeners.get(port)
        want = desired.listeners.get(port)
        listeners.append({"port": port,
                          "protocol": (want or cur or {}).get("protocol"),
                          "arn": applier.listener_arns.get(port, UNKNOWN),
                          "default_rule_arn": applier.default_rule_arns.get(port, UNKNOWN),
                          "ecs_traffic": (want or {}).get("ecs_traffic"),
                          "owner": desired.application if want else (cur or {}).get("owner")})
    target_groups = {name: applier.tg_arns.get(name, UNKNOWN) for name in sorted(desired.target_groups)}
    rules = []
    for after in sorted(plan.rules_after, key=lambda a: (a["route"]["listener"], a["priority"])):
        route = after["route"]
        rules.append({"listener": route["listener"], "priority": after["priority"], "arn": after["arn"],
                      "name": route["name"], "conditions": route["conditions"],
                      "target_groups": action_target_groups(route["actions"]), "action": route["actions"][0]["type"],
                      "ecs_traffic": route["ecs_traffic"]})
    return {"load_balancer": load_balancer, "listeners": listeners, "target_groups": target_groups, "rules": rules,
            "advanced_configuration": advanced_configuration(desired, plan, applier),
            "check_mode_prediction": predicted}


def advanced_configuration(desired: Desired, plan: AlbPlan, applier: Applier) -> Dict[str, Dict[str, Any]]:
    """Per primary target group of an ECS-managed pair, what ECS's ``advancedConfiguration`` takes.

    The listener rule of a listener's default action is its default rule.  The pair is fixed:
    which of the two serves production after a deployment is read from the rules' weights,
    never from here.
    """
    primaries = {frozenset((p, a)): p for p, a in desired.pairs.items()}
    out: Dict[str, Dict[str, Any]] = {}
    for primary, alt in sorted(desired.pairs.items()):
        out[primary] = {"target_group": primary, "target_group_arn": applier.tg_arns.get(primary, UNKNOWN),
                        "alternate_target_group": alt, "alternate_target_group_arn": applier.tg_arns.get(alt, UNKNOWN),
                        "production_listener_rule": None, "test_listener_rule": None}
    managed = [(li["ecs_traffic"], li["default_actions"], applier.default_rule_arns.get(port, UNKNOWN))
               for port, li in sorted(desired.listeners.items()) if li["ecs_traffic"]]
    managed += [(a["route"]["ecs_traffic"], a["route"]["actions"], a["arn"]) for a in plan.rules_after
                if a["route"]["ecs_traffic"]]
    for role, actions, arn in managed:
        primary = primaries.get(frozenset(action_target_groups(actions)))
        if primary is not None:
            out[primary]["%s_listener_rule" % role] = arn
    return out
