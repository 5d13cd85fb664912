# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read what exists: the load balancer, its listeners and rules, the target groups in play.

Describe calls only, batched: one for the load balancer (plus its attributes), one per
listener list and per listener's rules, target groups by a list of names, tags twenty ARNs at a
time, attributes per target group (ELBv2 has no batch call for those).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import read_each

from .api import Elbv2Api
from .model import actions_from_aws, conditions_from_aws, owner_of, target_group_from_aws


@dataclass
class Snapshot:
    """The current state, normalised (see model.py)."""

    lb: Optional[Dict[str, Any]] = None
    lb_attributes: Dict[str, str] = field(default_factory=dict)
    lb_tags: Dict[str, str] = field(default_factory=dict)
    listeners: Dict[int, Dict[str, Any]] = field(default_factory=dict)
    rules: Dict[int, List[Dict[str, Any]]] = field(default_factory=dict)
    target_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    @property
    def lb_owner(self) -> Optional[str]:
        return owner_of(self.lb_tags) if self.lb else None


def read_state(api: Elbv2Api, name: str, tg_names: List[str], tg_attribute_keys: Dict[str, List[str]]) -> Snapshot:
    """Describe the load balancer ``name`` and the target groups named or referenced.

    ``tg_attribute_keys`` lists, per declared target group, the attributes the module manages.
    """
    snap = Snapshot()
    raw_lb = api.describe_load_balancer(name)
    raw_listeners: List[Dict[str, Any]] = []
    raw_rules: Dict[int, List[Dict[str, Any]]] = {}
    default_rules: Dict[int, str] = {}
    if raw_lb:
        snap.lb = {
            "arn": raw_lb["LoadBalancerArn"],
            "name": raw_lb["LoadBalancerName"],
            "dns_name": raw_lb.get("DNSName"),
            "canonical_hosted_zone_id": raw_lb.get("CanonicalHostedZoneId"),
            "vpc_id": raw_lb.get("VpcId"),
            "scheme": raw_lb.get("Scheme"),
            "type": raw_lb.get("Type"),
            "state": (raw_lb.get("State") or {}).get("Code"),
            "ip_address_type": raw_lb.get("IpAddressType"),
            "subnets": sorted(az["SubnetId"] for az in raw_lb.get("AvailabilityZones") or []),
            "security_groups": sorted(raw_lb.get("SecurityGroups") or []),
        }
        snap.lb_attributes = api.describe_load_balancer_attributes(snap.lb["arn"])
        raw_listeners = api.describe_listeners(snap.lb["arn"])
        for listener in raw_listeners:
            raw_rules[listener["Port"]] = []
            for rule in api.describe_rules(listener["ListenerArn"]):
                if rule.get("IsDefault"):
                    # ECS takes the default rule's ARN as productionListenerRule / testListenerRule.
                    default_rules[listener["Port"]] = rule["RuleArn"]
                else:
                    raw_rules[listener["Port"]].append(rule)

    referenced = set()
    for listener in raw_listeners:
        referenced.update(_forward_arns(listener.get("DefaultActions")))
    for rules in raw_rules.values():
        for rule in rules:
            referenced.update(_forward_arns(rule.get("Actions")))

    raw_tgs = {tg["TargetGroupArn"]: tg for tg in api.describe_target_groups_by_name(tg_names)} if tg_names else {}
    missing = sorted(a for a in referenced if a not in raw_tgs)
    if missing:
        for tg in api.describe_target_groups_by_arn(missing):
            raw_tgs[tg["TargetGroupArn"]] = tg

    arns = ([snap.lb["arn"]] if snap.lb else []) + [li["ListenerArn"] for li in raw_listeners]
    arns += [r["RuleArn"] for rules in raw_rules.values() for r in rules] + list(raw_tgs)
    tags = api.describe_tags(arns) if arns else {}
    if snap.lb:
        snap.lb_tags = tags.get(snap.lb["arn"], {})

    tg_names_by_arn = {arn: tg["TargetGroupName"] for arn, tg in raw_tgs.items()}
    # Attributes are only compared for target groups the user declares; one call per group, several at once.
    declared = [arn for arn, raw in raw_tgs.items() if tg_attribute_keys.get(raw["TargetGroupName"]) is not None]
    attributes_of = dict(zip(declared, read_each(api.describe_target_group_attributes, declared)))
    for arn, raw in raw_tgs.items():
        name_ = raw["TargetGroupName"]
        tg_tags = tags.get(arn, {})
        keys = tg_attribute_keys.get(name_)
        attributes = attributes_of.get(arn, {})
        doc = target_group_from_aws(raw, attributes, tg_tags, keys or [])
        doc["owner"] = owner_of(tg_tags)
        snap.target_groups[name_] = doc

    for listener in raw_listeners:
        port = listener["Port"]
        l_tags = tags.get(listener["ListenerArn"], {})
        snap.listeners[port] = {
            "arn": listener["ListenerArn"],
            "port": port,
            "protocol": listener.get("Protocol"),
            "certificates": [c["CertificateArn"] for c in listener.get("Certificates") or []],
            "ssl_policy": listener.get("SslPolicy"),
            "default_actions": actions_from_aws(listener.get("DefaultActions"), tg_names_by_arn),
            "default_rule_arn": default_rules.get(port),
            "tags": l_tags,
            "owner": owner_of(l_tags),
        }
        if listener.get("Protocol") == "HTTPS":
            extra = [c["CertificateArn"] for c in api.describe_listener_certificates(listener["ListenerArn"])
                     if not c.get("IsDefault")]
            snap.listeners[port]["certificates"] += sorted(set(extra) - set(snap.listeners[port]["certificates"]))
        snap.rules[port] = []
        for rule in raw_rules.get(port, []):
            r_tags = tags.get(rule["RuleArn"], {})
            snap.rules[port].append({
                "arn": rule["RuleArn"],
                "listener": port,
                "priority": int(rule["Priority"]),
                "conditions": conditions_from_aws(rule.get("Conditions")),
                "actions": actions_from_aws(rule.get("Actions"), tg_names_by_arn),
                "tags": r_tags,
                "owner": owner_of(r_tags),
            })
    return snap


def _forward_arns(actions: Optional[List[Dict[str, Any]]]) -> List[str]:
    out = []
    for action in actions or []:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            out.append(action["TargetGroupArn"])
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
            out.append(group["TargetGroupArn"])
    return out
