# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Execute an :class:`AlbPlan`, in the order that keeps every path routed.

Load balancer, then target groups, then listeners (their default actions need the target
groups), then rules: creations, in-place modifications, one ``set_rule_priorities`` per
listener, deletions; then listeners, the load balancer and target groups that go away.
Targets are never registered nor deregistered here: ECS owns them.  When a call fails, the
error carries the steps already done.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .api import Elbv2Api, Elbv2Error
from .model import UNKNOWN, actions_to_aws, conditions_to_aws, health_check_to_aws
from .planner import ATTRIBUTE_DEFAULTS, AlbPlan, Desired
from .state import Snapshot


IN_USE_ATTEMPTS = 6


def _tags(tags: Dict[str, str]) -> List[Dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class Applier:
    """Runs the plan against AWS and records what it did."""

    def __init__(self, api: Elbv2Api, desired: Desired, snap: Snapshot, plan: AlbPlan) -> None:
        self.api = api
        self.desired = desired
        self.snap = snap
        self.plan = plan
        self.done: List[str] = []
        self.lb: Dict[str, Any] = dict(snap.lb or {})
        self.tg_arns: Dict[str, str] = {n: tg["arn"] for n, tg in snap.target_groups.items()}
        self.listener_arns: Dict[int, str] = {p: li["arn"] for p, li in snap.listeners.items()}
        self.default_rule_arns: Dict[int, str] = {p: li["default_rule_arn"] for p, li in snap.listeners.items()
                                                  if li.get("default_rule_arn")}
        self.new_rules: Dict[Any, str] = {}

    def apply(self) -> None:
        """Execute every step; on failure re-raise with ``state`` listing the steps done."""
        try:
            self._load_balancer()
            self._target_groups()
            self._listeners()
            self._rules()
            self._deletions()
        except Elbv2Error as exc:
            exc.state = {"done": self.done, "failed_on": exc.operation}
            raise

    def _step(self, text: str) -> None:
        self.done.append(text)

    # load balancer ----------------------------------------------------------------------
    def _load_balancer(self) -> None:
        plan, api = self.plan, self.api
        if plan.lb_create is not None:
            want = plan.lb_create
            kwargs: Dict[str, Any] = {"Name": want["name"], "Subnets": want["subnets"], "Scheme": want["scheme"],
                                      "Type": "application", "IpAddressType": want["ip_address_type"],
                                      "Tags": _tags(want["tags"])}
            if want["security_groups"] is not None:
                kwargs["SecurityGroups"] = want["security_groups"]
            raw = api.create_load_balancer(**kwargs)
            self.lb = {"arn": raw["LoadBalancerArn"], "name": raw["LoadBalancerName"], "dns_name": raw.get("DNSName"),
                       "canonical_hosted_zone_id": raw.get("CanonicalHostedZoneId"), "vpc_id": raw.get("VpcId"),
                       "scheme": raw.get("Scheme"), "ip_address_type": raw.get("IpAddressType"),
                       "subnets": sorted(az["SubnetId"] for az in raw.get("AvailabilityZones") or []),
                       "security_groups": sorted(raw.get("SecurityGroups") or [])}
            self._step("created load balancer %s" % want["name"])
            if want["attributes"]:
                api.modify_load_balancer_attributes(self.lb["arn"], want["attributes"])
                self._step("set load balancer attributes")
            return
        update = plan.lb_update
        if not update:
            return
        arn = self.lb["arn"]
        if "subnets" in update:
            api.set_subnets(arn, update["subnets"])
            self.lb["subnets"] = update["subnets"]
        if "security_groups" in update:
            api.set_security_groups(arn, update["security_groups"])
            self.lb["security_groups"] = update["security_groups"]
        if "ip_address_type" in update:
            api.set_ip_address_type(arn, update["ip_address_type"])
            self.lb["ip_address_type"] = update["ip_address_type"]
        if "attributes" in update:
            api.modify_load_balancer_attributes(arn, update["attributes"])
        if "tags" in update:
            self._retag(arn, update["tags"])
        self._step("updated load balancer %s: %s" % (self.desired.name, ", ".join(sorted(update))))

    def _retag(self, arn: str, delta: Any) -> None:
        add, remove = delta
        if add:
            self.api.add_tags(arn, add)
        if remove:
            self.api.remove_tags(arn, remove)

    # target groups ----------------------------------------------------------------------
    def _target_groups(self) -> None:
        for want in self.plan.tg_creates:
            vpc = want["vpc_id"] if want["vpc_id"] not in (None, UNKNOWN) else self.lb.get("vpc_id")
            kwargs = {"Name": want["name"], "Protocol": want["protocol"], "Port": want["port"], "VpcId": vpc,
                      "TargetType": want["target_type"], "Tags": _tags(want["tags"])}
            kwargs.update(health_check_to_aws(want["health_check"]))
            raw = self.api.create_target_group(**kwargs)
            self.tg_arns[want["name"]] = raw["TargetGroupArn"]
            attrs = {k: v for k, v in want["attributes"].items() if ATTRIBUTE_DEFAULTS.get(k) != v}
            if attrs:
                self.api.modify_target_group_attributes(raw["TargetGroupArn"], attrs)
            self._step("created target group %s" % want["name"])
        for update in self.plan.tg_updates:
            if "health_check" in update:
                self.api.modify_target_group(TargetGroupArn=update["arn"], **health_check_to_aws(update["health_check"]))
            if "attributes" in update:
                self.api.modify_target_group_attributes(update["arn"], update["attributes"])
            if "tags" in update:
                self._retag(update["arn"], update["tags"])
            self._step("updated target group %s" % update["name"])

    # listeners --------------------------------------------------------------------------
    def _listeners(self) -> None:
        for want in self.plan.listener_creates:
            kwargs: Dict[str, Any] = {"LoadBalancerArn": self.lb["arn"], "Protocol": want["protocol"],
                                      "Port": want["port"], "Tags": _tags(want["tags"]),
                                      "DefaultActions": actions_to_aws(want["default_actions"], self.tg_arns)}
            if want["protocol"] == "HTTPS":
                kwargs["Certificates"] = [{"CertificateArn": want["certificates"][0]}]
                if want["ssl_policy"]:
                    kwargs["SslPolicy"] = want["ssl_policy"]
            raw = self.api.create_listener(**kwargs)
            self.listener_arns[want["port"]] = raw["ListenerArn"]
            # CreateListener does not return its default rule, whose ARN ECS takes as a listener rule.
            self.default_rule_arns[want["port"]] = next(
                (r["RuleArn"] for r in self.api.describe_rules(raw["ListenerArn"]) if r.get("IsDefault")), UNKNOWN)
            if want["protocol"] == "HTTPS" and want["certificates"][1:]:
                self.api.add_listener_certificates(raw["ListenerArn"], want["certificates"][1:])
            self._step("created listener %s" % want["port"])
        for update in self.plan.listener_updates:
            modify = update["modify"]
            if modify:
                kwargs = {"ListenerArn": update["arn"]}
                if "protocol" in modify:
                    kwargs["Protocol"] = modify["protocol"]
                if "certificates" in modify:
                    kwargs["Certificates"] = [{"CertificateArn": c} for c in modify["certificates"]]
                if "ssl_policy" in modify:
                    kwargs["SslPolicy"] = modify["ssl_policy"]
                if "default_actions" in modify:
                    kwargs["DefaultActions"] = actions_to_aws(modify["default_actions"], self.tg_arns)
                self.api.modify_listener(**kwargs)
            add_certs, remove_certs = update["certificates"]
            if add_certs:
                self.api.add_listener_certificates(update["arn"], add_certs)
            if remove_certs:
                self.api.remove_listener_certificates(update["arn"], remove_certs)
            self._retag(update["arn"], update["tags"])
            self._step("updated listener %s" % update["port"])

    # rules ------------------------------------------------------------------------------
    def _rules(self) -> None:
        for rule in self.plan.rule_creates:
            raw = self.api.create_rule(
                ListenerArn=self.listener_arns[rule["listener"]],
                Conditions=conditions_to_aws(rule["conditions"]),
                Priority=rule["create_priority"],
                Actions=actions_to_aws(rule["actions"], self.tg_arns),
                Tags=_tags(rule["tags"]))
            self.new_rules[(rule["listener"], rule["key"])] = raw["RuleArn"]
            for after in self.plan.rules_after:
                if (after["route"]["listener"], after["route"]["key"]) == (rule["listener"], rule["key"]):
                    after["arn"] = raw["RuleArn"]
            self._step("created rule %s on priority %d" % (rule["name"], rule["create_priority"]))
        for rule in self.plan.rule_updates:
            if rule["actions"] is not None:
                self.api.modify_rule(RuleArn=rule["arn"], Actions=actions_to_aws(rule["actions"], self.tg_arns))
            self._retag(rule["arn"], rule["tags"])
            self._step("updated rule %s" % rule["name"])
        for port, moves in sorted(self.plan.moves.items()):
            priorities = {}
            for ref, priority in moves:
                priorities[ref if isinstance(ref, str) else self.new_rules[ref]] = priority
            self.api.set_rule_priorities(priorities)
            self._step("set %d rule priorities on listener %s" % (len(priorities), port))
        for rule in self.plan.rule_deletes:
            self.api.delete_rule(rule["arn"])
            self._step("deleted rule %s" % rule["name"])

    # deletions --------------------------------------------------------------------------
    def _deletions(self) -> None:
        for listener in self.plan.listener_deletes:
            self.api.delete_listener(listener["arn"])
            self._step("deleted listener %s" % listener["port"])
        if self.plan.lb_delete:
            self.api.delete_load_balancer(self.lb["arn"])
            self._step("deleted load balancer %s" % self.desired.name)
        for tg in self.plan.tg_deletes:
            self._delete_target_group(tg["arn"])
            self._step("deleted target group %s" % tg["name"])

    def _delete_target_group(self, arn: str) -> None:
        # Right after its listener, rule or load balancer is deleted, AWS may still report the
        # target group in use for a short while.
        attempt = 0
        while True:
            attempt += 1
            try:
                self.api.delete_target_group(arn)
                return
            except Elbv2Error as exc:
                if exc.code != "ResourceInUse" or attempt >= IN_USE_ATTEMPTS:
                    raise
                self.api.retry.sleep(self.api.retry.delay(attempt))
