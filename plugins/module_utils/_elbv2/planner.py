# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The plan: a pure function of the desired state and the current :class:`Snapshot`.

Rules are matched by listener and normalised conditions, never by priority.  The plan says
which rules are created (and on which priority: the final one when it is free now, else a free
temporary one), which are modified in place, which move (all moves of a listener go into one
``set_rule_priorities`` call, which AWS applies atomically) and which are deleted (last, and
moved out of the way first when another rule needs their priority).  So no call can fail with
PriorityInUse and no path that stays routed is ever left without its rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences, tag_delta
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan

from . import priorities as prio
from .model import (
    ALTERNATE_OF_TAG,
    ECS_TRAFFIC_TAG,
    UNKNOWN,
    action_from_params,
    action_target_groups,
    alternate_name,
    carry_weights,
    conditions_from_route,
    conditions_key,
    declared_partners,
    ecs_action_from_params,
    forward_set,
    lb_attributes_from_params,
    ownership_tags,
    rule_name,
    target_group_from_params,
)
from .state import Snapshot
from .validate import invalid

ATTRIBUTE_DEFAULTS = {
    "deregistration_delay.timeout_seconds": "300",
    "slow_start.duration_seconds": "0",
    "stickiness.enabled": "false",
}


@dataclass
class Desired:
    """The module's options, normalised."""

    application: str
    name: str
    state: str
    purge: bool
    lb: Dict[str, Any]
    listeners: Dict[int, Dict[str, Any]]
    target_groups: Dict[str, Dict[str, Any]]
    routes: List[Dict[str, Any]]
    # Primary target group -> its alternate, for every pair whose traffic ECS moves.
    pairs: Dict[str, str] = field(default_factory=dict)


def _action(spec: Dict[str, Any], partners: Dict[str, str]) -> Dict[str, Any]:
    if spec.get("ecs_traffic"):
        return ecs_action_from_params(spec, partners)
    return action_from_params(spec)


def _pair_of(spec: Dict[str, Any], partners: Dict[str, str], declared_pairs: Dict[str, str]) -> Tuple[str, str]:
    """(primary, alternate) of an ECS-managed action: the declared pair, else the forward's order."""
    names = [spec["target_group"]] if spec.get("target_group") else \
        [g["name"] for g in (spec.get("forward") or {}).get("target_groups") or []]
    for name in names:
        if name in declared_pairs:
            return name, declared_pairs[name]
        if name in partners:
            return partners[name], name
    return names[0], names[1]


def build_desired(params: Dict[str, Any]) -> Desired:
    """Normalise validated module options."""
    app = params["application"]
    lb_tags = dict(params.get("tags") or {})
    lb_tags.update(ownership_tags(app))
    lb = {
        "name": params["name"],
        "scheme": params["scheme"],
        "subnets": sorted(set(params["subnets"])) if params.get("subnets") is not None else None,
        "security_groups": (sorted(set(params["security_groups"]))
                            if params.get("security_groups") is not None else None),
        "ip_address_type": params.get("ip_address_type") or "ipv4",
        "attributes": lb_attributes_from_params(params.get("attributes")),
        "tags": lb_tags,
    }
    partners = declared_partners(params.get("target_groups") or [])
    declared_pairs: Dict[str, str] = {}
    tgs = {}
    for tg in params.get("target_groups") or []:
        tgs[tg["name"]] = target_group_from_params(tg, app)
        alt = alternate_name(tg)
        if alt:
            # The alternate takes the primary's settings: ECS moves the same traffic between them.
            doc = target_group_from_params(dict(tg, name=alt), app)
            doc["tags"][ALTERNATE_OF_TAG] = tg["name"]
            tgs[alt] = doc
            declared_pairs[tg["name"]] = alt
    pairs = dict(declared_pairs)
    managed_specs = [li.get("default_action") or {} for li in params.get("listeners") or []]
    managed_specs += list(params.get("routes") or [])
    for spec in managed_specs:
        if spec.get("ecs_traffic"):
            primary, alt = _pair_of(spec, partners, declared_pairs)
            pairs.setdefault(primary, alt)
    listeners = {}
    for li in params.get("listeners") or []:
        tags = dict(li.get("tags") or {})
        tags.update(ownership_tags(app))
        protocol = li.get("protocol") or "HTTP"
        spec = li.get("default_action") or {}
        listeners[li["port"]] = {
            "port": li["port"],
            "protocol": protocol,
            "certificates": list(li.get("certificates") or []),
            "ssl_policy": li.get("ssl_policy"),
            "default_actions": [_action(spec, partners)],
            "ecs_traffic": spec.get("ecs_traffic"),
            "tags": tags,
        }
    routes = []
    for i, route in enumerate(params.get("routes") or []):
        conditions = conditions_from_route(route)
        tags = ownership_tags(app)
        if route.get("ecs_traffic"):
            # Marks the rule's role, so that a rule replacing it starts from the weights ECS left.
            tags[ECS_TRAFFIC_TAG] = route["ecs_traffic"]
        routes.append({
            "index": i,
            "listener": route["listener"],
            "conditions": conditions,
            "key": conditions_key(conditions),
            "actions": [_action(route, partners)],
            "ecs_traffic": route.get("ecs_traffic"),
            "priority": route.get("priority"),
            "tags": tags,
            "name": rule_name(route["listener"], conditions),
        })
    return Desired(app, params["name"], params["state"], params["purge"], lb, listeners, tgs, routes, pairs)


@dataclass
class AlbPlan:
    """What to do, in the order the applier does it."""

    lb_create: Optional[Dict[str, Any]] = None
    lb_update: Dict[str, Any] = field(default_factory=dict)
    lb_delete: bool = False
    tg_creates: List[Dict[str, Any]] = field(default_factory=list)
    tg_updates: List[Dict[str, Any]] = field(default_factory=list)
    tg_deletes: List[Dict[str, Any]] = field(default_factory=list)
    listener_creates: List[Dict[str, Any]] = field(default_factory=list)
    listener_updates: List[Dict[str, Any]] = field(default_factory=list)
    listener_deletes: List[Dict[str, Any]] = field(default_factory=list)
    rule_creates: List[Dict[str, Any]] = field(default_factory=list)
    rule_updates: List[Dict[str, Any]] = field(default_factory=list)
    moves: Dict[int, List[Tuple[Any, int]]] = field(default_factory=dict)
    rule_deletes: List[Dict[str, Any]] = field(default_factory=list)
    rules_after: List[Dict[str, Any]] = field(default_factory=list)
    report: Plan = field(default_factory=Plan)
    warnings: List[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.report.changed


def _rule_doc(rule: Dict[str, Any], priority: Any) -> Dict[str, Any]:
    doc = {"listener": rule["listener"], "priority": priority, "conditions": rule["conditions"],
           "actions": rule["actions"]}
    role = (rule.get("tags") or {}).get(ECS_TRAFFIC_TAG)
    if role:
        doc["ecs_traffic"] = role
    return doc


def _ecs_weights_source(route: Dict[str, Any], desired: Desired, snap: Snapshot) -> List[Dict[str, Any]]:
    """For a new rule whose weights ECS moves: the actions of a live forward to the same pair.

    A rule that replaces another (its conditions changed) must start from the weights ECS left
    (after a blue/green deployment, 0/100), not send production traffic back to a target group
    ECS has drained: a rule or default action of the same role (production or test) to the pair.
    """
    wanted = forward_set(route["actions"])
    for rules in snap.rules.values():
        for rule in rules:
            if (rule["owner"] == desired.application and forward_set(rule["actions"]) == wanted
                    and rule["tags"].get(ECS_TRAFFIC_TAG) == route["ecs_traffic"]):
                return rule["actions"]
    for port, listener in sorted(snap.listeners.items()):
        if (forward_set(listener["default_actions"]) == wanted
                and (desired.listeners.get(port) or {}).get("ecs_traffic") == route["ecs_traffic"]):
            return listener["default_actions"]
    return []


def compute_plan(desired: Desired, snap: Snapshot) -> AlbPlan:
    """The plan that takes ``snap`` to ``desired``; pure, no AWS call."""
    plan = AlbPlan()
    if desired.state == "absent":
        _plan_absent(desired, snap, plan)
        return plan
    _plan_lb(desired, snap, plan)
    _plan_target_groups(desired, snap, plan)
    _plan_listeners(desired, snap, plan)
    _plan_rules(desired, snap, plan)
    _plan_purge_target_groups(desired, snap, plan)
    return plan


# load balancer ----------------------------------------------------------------------------
def _plan_lb(desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    want = desired.lb
    if snap.lb is None:
        plan.lb_create = want
        plan.report.add(Action("create", "load_balancer", desired.name, "does not exist",
                               after=dict(want, arn=UNKNOWN, dns_name=UNKNOWN)))
        return
    if snap.lb_owner != desired.application:
        plan.warnings.append("load balancer %s belongs to %s: only this application's listeners, target groups and "
                             "rules are managed; its own settings are left alone" % (
                                 desired.name, "application %s" % snap.lb_owner if snap.lb_owner else "no application"))
        return
    before: Dict[str, Any] = {}
    after: Dict[str, Any] = {}
    for key in ("subnets", "security_groups", "ip_address_type"):
        if want[key] is not None and want[key] != snap.lb[key]:
            before[key], after[key] = snap.lb[key], want[key]
            plan.lb_update[key] = want[key]
    attrs = {k: v for k, v in want["attributes"].items() if snap.lb_attributes.get(k) != v}
    if attrs:
        before["attributes"] = {k: snap.lb_attributes.get(k) for k in attrs}
        after["attributes"] = attrs
        plan.lb_update["attributes"] = attrs
    add, remove = tag_delta(snap.lb_tags, want["tags"])
    if add or remove:
        before["tags"], after["tags"] = snap.lb_tags, want["tags"]
        plan.lb_update["tags"] = (add, remove)
    if after:
        plan.report.add(Action("update", "load_balancer", desired.name, "differs: " + ", ".join(sorted(after)),
                               before=before, after=after, changes=differences(before, after)))


# target groups ----------------------------------------------------------------------------
def _plan_target_groups(desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    for name, want in sorted(desired.target_groups.items()):
        cur = snap.target_groups.get(name)
        if cur is None:
            doc = dict(want, vpc_id=want["vpc_id"] or (snap.lb or {}).get("vpc_id") or UNKNOWN)
            plan.tg_creates.append(doc)
            plan.report.add(Action("create", "target_group", name, "does not exist", after=doc))
            continue
        update: Dict[str, Any] = {"name": name, "arn": cur["arn"]}
        before: Dict[str, Any] = {}
        after: Dict[str, Any] = {}
        if cur["health_check"] != want["health_check"]:
            update["health_check"] = want["health_check"]
            before["health_check"], after["health_check"] = cur["health_check"], want["health_check"]
        attrs = {k: v for k, v in want["attributes"].items() if cur["attributes"].get(k) != v}
        if attrs:
            update["attributes"] = attrs
            before["attributes"] = {k: cur["attributes"].get(k) for k in attrs}
            after["attributes"] = attrs
        add, remove = tag_delta(cur["tags"], want["tags"])
        if add or remove:
            update["tags"] = (add, remove)
            before["tags"], after["tags"] = cur["tags"], want["tags"]
        if after:
            plan.tg_updates.append(update)
            plan.report.add(Action("update", "target_group", name, "differs: " + ", ".join(sorted(after)),
                                   before=before, after=after, changes=differences(before, after)))


def _plan_purge_target_groups(desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    if not desired.purge:
        return
    still_used = _target_groups_in_use(desired, snap, plan)
    for name, cur in sorted(snap.target_groups.items()):
        if name in desired.target_groups or cur["owner"] != desired.application:
            continue
        if name in still_used:
            plan.warnings.append("target group %s is no longer declared but other rules still forward to it; "
                                 "kept" % name)
            continue
        plan.tg_deletes.append({"name": name, "arn": cur["arn"]})
        plan.report.add(Action("delete", "target_group", name, "no longer declared (purge)",
                               before={k: cur[k] for k in ("name", "port", "protocol", "target_type")}))


def _target_groups_in_use(desired: Desired, snap: Snapshot, plan: AlbPlan) -> Set[str]:
    """Names still forwarded to after the plan: by rules and listeners it keeps or writes."""
    used: Set[str] = set()
    deleted_rules = {r["arn"] for r in plan.rule_deletes}
    deleted_listeners = {li["arn"] for li in plan.listener_deletes}
    for port, listener in snap.listeners.items():
        if listener["arn"] in deleted_listeners:
            continue
        if port not in desired.listeners:
            used.update(action_target_groups(listener["default_actions"]))
        for rule in snap.rules.get(port, []):
            if rule["arn"] not in deleted_rules and rule["owner"] != desired.application:
                used.update(action_target_groups(rule["actions"]))
    for listener in desired.listeners.values():
        used.update(action_target_groups(listener["default_actions"]))
    for route in desired.routes:
        used.update(action_target_groups(route["actions"]))
    if not desired.purge:
        for rules in snap.rules.values():
            for rule in rules:
                used.update(action_target_groups(rule["actions"]))
    return used


# listeners --------------------------------------------------------------------------------
def _plan_listeners(desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    for port, want in sorted(desired.listeners.items()):
        cur = snap.listeners.get(port)
        if cur is None:
            plan.listener_creates.append(want)
            after = {k: want[k] for k in ("port", "protocol", "certificates", "ssl_policy", "default_actions")}
            if want["ecs_traffic"]:
                after["ecs_traffic"] = want["ecs_traffic"]
            plan.report.add(Action("create", "listener", str(port), "does not exist", after=after))
            continue
        if want["ecs_traffic"]:
            # ECS owns the weights: only the target groups, stickiness or the action can differ.
            want = dict(want, default_actions=carry_weights(want["default_actions"], cur["default_actions"]))
        before: Dict[str, Any] = {}
        after: Dict[str, Any] = {}
        modify: Dict[str, Any] = {}
        if cur["protocol"] != want["protocol"]:
            modify["protocol"] = want["protocol"]
        if want["protocol"] == "HTTPS":
            if cur["certificates"][:1] != want["certificates"][:1]:
                modify["certificates"] = want["certificates"][:1]
            if want["ssl_policy"] and cur["ssl_policy"] != want["ssl_policy"]:
                modify["ssl_policy"] = want["ssl_policy"]
        if cur["default_actions"] != want["default_actions"]:
            modify["default_actions"] = want["default_actions"]
        for key in modify:
            before[key], after[key] = cur[key], want[key]
        extra_want = set(want["certificates"][1:])
        extra_cur = set(cur["certificates"][1:]) if want["protocol"] == "HTTPS" else set()
        certs = (sorted(extra_want - extra_cur), sorted(extra_cur - extra_want))
        if certs[0] or certs[1]:
            before["certificates"], after["certificates"] = cur["certificates"], want["certificates"]
        add, remove = tag_delta(cur["tags"], want["tags"])
        if add or remove:
            before["tags"], after["tags"] = cur["tags"], want["tags"]
        if after:
            plan.listener_updates.append({"port": port, "arn": cur["arn"], "modify": modify, "want": want,
                                          "certificates": certs, "tags": (add, remove)})
            plan.report.add(Action("update", "listener", str(port), "differs: " + ", ".join(sorted(after)),
                                   before=before, after=after, changes=differences(before, after)))
    if not desired.purge:
        return
    routed = {r["listener"] for r in desired.routes}
    for port, cur in sorted(snap.listeners.items()):
        if port in desired.listeners or port in routed or cur["owner"] != desired.application:
            continue
        others = [r for r in snap.rules.get(port, []) if r["owner"] != desired.application]
        if others:
            plan.warnings.append("listener %s is no longer declared but carries %d rules of other owners; kept" % (
                port, len(others)))
            continue
        plan.listener_deletes.append({"port": port, "arn": cur["arn"]})
        plan.report.add(Action("delete", "listener", str(port), "no longer declared (purge)",
                               before={k: cur[k] for k in ("port", "protocol", "default_actions")}))


# rules ------------------------------------------------------------------------------------
def _plan_rules(desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    ports = sorted({r["listener"] for r in desired.routes} | set(snap.rules))
    deleted_listeners = {li["port"] for li in plan.listener_deletes}
    for port in ports:
        if port in deleted_listeners:
            continue
        _plan_listener_rules(port, desired, snap, plan)


def _plan_listener_rules(port: int, desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    app = desired.application
    routes = [r for r in desired.routes if r["listener"] == port]
    current = snap.rules.get(port, [])
    ours: Dict[Any, Dict[str, Any]] = {}
    stale: List[Dict[str, Any]] = []
    for rule in current:
        if rule["owner"] != app:
            continue
        key = conditions_key(rule["conditions"])
        if key in ours:
            stale.append(rule)  # a second rule with the same conditions can never match anything
        else:
            ours[key] = rule
    wanted_keys = {r["key"] for r in routes}
    leftovers = [rule for key, rule in ours.items() if key not in wanted_keys] + stale
    taken = {r["priority"] for r in current if r["owner"] != app}
    if not desired.purge:
        taken |= {r["priority"] for r in leftovers}
    try:
        final = prio.assign([(r["key"], r["priority"], prio.specificity(r["conditions"])) for r in routes],
                            {k: r["priority"] for k, r in ours.items()}, taken)
    except ValueError as exc:
        raise invalid("routes", len(routes), "listener %s: %s" % (port, exc))

    occupied = {r["priority"] for r in current}
    finals = set(final.values())
    temps: List[int] = []

    def temporary() -> int:
        p = prio.MAX_PRIORITY
        while p in occupied or p in finals or p in temps:
            p -= 1
        temps.append(p)
        return p

    moves: List[Tuple[Any, int]] = []
    for route in routes:
        cur = ours.get(route["key"])
        target = final[route["key"]]
        if route["ecs_traffic"]:
            # ECS owns the weights: AWS's are the desired ones, whatever ECS left them at.
            source = cur["actions"] if cur is not None else _ecs_weights_source(route, desired, snap)
            route = dict(route, actions=carry_weights(route["actions"], source))
        plan.rules_after.append({"route": route, "priority": target, "arn": cur["arn"] if cur else UNKNOWN})
        if cur is None:
            start = target if target not in occupied else temporary()
            if start != target:
                moves.append(((port, route["key"]), target))
            plan.rule_creates.append(dict(route, create_priority=start, final_priority=target))
            reason = "no rule with these conditions"
            if start != target:
                reason += " (created on free priority %d, then moved)" % start
            plan.report.add(Action("create", "rule", route["name"], reason, after=_rule_doc(route, target)))
            continue
        before: Dict[str, Any] = {}
        after: Dict[str, Any] = {}
        if cur["actions"] != route["actions"]:
            before["actions"], after["actions"] = cur["actions"], route["actions"]
        add, remove = tag_delta(cur["tags"], route["tags"])
        if add or remove:
            before["tags"], after["tags"] = cur["tags"], route["tags"]
        if "actions" in after or add or remove:
            plan.rule_updates.append({"arn": cur["arn"], "listener": port, "name": route["name"],
                                      "actions": route["actions"] if "actions" in after else None,
                                      "tags": (add, remove)})
        if cur["priority"] != target:
            before["priority"], after["priority"] = cur["priority"], target
            moves.append((cur["arn"], target))
        if after:
            plan.report.add(Action("update", "rule", route["name"], "differs: " + ", ".join(sorted(after)),
                                   before=dict(_rule_doc(cur, cur["priority"]), **before),
                                   after=dict(_rule_doc(route, target), **after),
                                   changes=differences(before, after)))
    if desired.purge:
        needed = {p for _ref, p in moves}
        for rule in sorted(leftovers, key=lambda r: r["priority"]):
            if rule["priority"] in needed:
                # Move it out of the way in the same atomic call rather than delete first, which
                # would leave its path unrouted while the replacement is not yet in place.
                moves.append((rule["arn"], temporary()))
            plan.rule_deletes.append({"arn": rule["arn"], "listener": port, "name": rule_name(port, rule["conditions"])})
            plan.report.add(Action("delete", "rule", rule_name(port, rule["conditions"]),
                                   "no route with these conditions (purge)",
                                   before=_rule_doc(rule, rule["priority"])))
    if moves:
        plan.moves[port] = moves


# absent -----------------------------------------------------------------------------------
def _plan_absent(desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
    app = desired.application
    foreign_rules = [r for rules in snap.rules.values() for r in rules if r["owner"] != app]
    foreign_listeners = [p for p, li in snap.listeners.items() if li["owner"] != app]
    delete_lb = snap.lb is not None and snap.lb_owner == app and not foreign_rules and not foreign_listeners
    if snap.lb is not None and snap.lb_owner == app and not delete_lb:
        plan.warnings.append("load balancer %s still carries listeners or rules of other owners; kept" % desired.name)
    if delete_lb:
        if snap.lb_attributes.get("deletion_protection.enabled") == "true":
            raise invalid("state", "absent", "load balancer %s has deletion protection on; turn it off first "
                                             "(attributes.deletion_protection: false)" % desired.name)
        plan.lb_delete = True
        plan.report.add(Action("delete", "load_balancer", desired.name, "state=absent",
                               before={k: snap.lb[k] for k in ("arn", "dns_name", "scheme")}))
    else:
        for port, rules in sorted(snap.rules.items()):
            for rule in rules:
                if rule["owner"] == app:
                    name = rule_name(port, rule["conditions"])
                    plan.rule_deletes.append({"arn": rule["arn"], "listener": port, "name": name})
                    plan.report.add(Action("delete", "rule", name, "state=absent",
                                           before=_rule_doc(rule, rule["priority"])))
        for port, listener in sorted(snap.listeners.items()):
            if listener["owner"] == app and not [r for r in snap.rules.get(port, []) if r["owner"] != app]:
                plan.listener_deletes.append({"port": port, "arn": listener["arn"]})
                plan.report.add(Action("delete", "listener", str(port), "state=absent",
                                       before={k: listener[k] for k in ("port", "protocol")}))
    used: Set[str] = set()
    if not delete_lb:
        deleted = {li["arn"] for li in plan.listener_deletes}
        for port, listener in snap.listeners.items():
            if listener["arn"] not in deleted:
                used.update(action_target_groups(listener["default_actions"]))
            for rule in snap.rules.get(port, []):
                if rule["owner"] != app:
                    used.update(action_target_groups(rule["actions"]))
    for name, cur in sorted(snap.target_groups.items()):
        if cur["owner"] != app:
            continue
        if name in used:
            plan.warnings.append("target group %s is still used by other owners' listeners or rules; kept" % name)
            continue
        plan.tg_deletes.append({"name": name, "arn": cur["arn"]})
        plan.report.add(Action("delete", "target_group", name, "state=absent",
                               before={k: cur[k] for k in ("name", "port", "protocol", "target_type")}))
