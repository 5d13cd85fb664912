# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One method per Elastic Load Balancing v2 call, used by alb_routes.

ELBv2 is a query API: lists page with ``Marker`` / ``NextMarker``.  Describe calls are batched
the way the API allows: target groups by a list of names or ARNs, tags twenty resources per
call, rules and listeners per listener / load balancer.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, chunks
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError, ShipyardError

DESCRIBE_TAGS_BATCH = 20
DESCRIBE_TARGET_GROUPS_BATCH = 20
PAGE_SIZE = 400


class Elbv2Error(ShipyardError):
    """Anything that went wrong on the load balancer side (validation or API)."""


class Elbv2ApiError(Elbv2Error, AwsApiError):
    """An ELBv2 API call failed after retries."""


class Elbv2Api(AwsApi):
    """ELBv2 calls with retries, error translation and call accounting."""

    error = Elbv2ApiError
    service = "elbv2"

    @staticmethod
    def _token_names(operation: str):
        return ("Marker", "NextMarker")

    # load balancers -----------------------------------------------------------------------
    def describe_load_balancer(self, name: str) -> Optional[Dict[str, Any]]:
        """The load balancer called ``name``, or None when there is none."""
        try:
            found = self.call("describe_load_balancers", Names=[name]).get("LoadBalancers", [])
        except Elbv2ApiError as exc:
            if exc.code == "LoadBalancerNotFound":
                return None
            raise
        return found[0] if found else None

    def describe_load_balancer_attributes(self, arn: str) -> Dict[str, str]:
        """Attributes as ``{key: value}`` (AWS returns every value as a string)."""
        attrs = self.call("describe_load_balancer_attributes", LoadBalancerArn=arn).get("Attributes", [])
        return {a["Key"]: a["Value"] for a in attrs}

    def create_load_balancer(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_load_balancer", **kwargs)["LoadBalancers"][0]

    def delete_load_balancer(self, arn: str) -> None:
        self.call("delete_load_balancer", LoadBalancerArn=arn)

    def modify_load_balancer_attributes(self, arn: str, attributes: Dict[str, str]) -> None:
        self.call("modify_load_balancer_attributes", LoadBalancerArn=arn,
                  Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())])

    def set_subnets(self, arn: str, subnets: List[str]) -> None:
        self.call("set_subnets", LoadBalancerArn=arn, Subnets=subnets)

    def set_security_groups(self, arn: str, groups: List[str]) -> None:
        self.call("set_security_groups", LoadBalancerArn=arn, SecurityGroups=groups)

    def set_ip_address_type(self, arn: str, ip_address_type: str) -> None:
        self.call("set_ip_address_type", LoadBalancerArn=arn, IpAddressType=ip_address_type)

    # listeners ----------------------------------------------------------------------------
    def describe_listeners(self, load_balancer_arn: str) -> List[Dict[str, Any]]:
        return self.paginate("describe_listeners", "Listeners", LoadBalancerArn=load_balancer_arn,
                             PageSize=PAGE_SIZE)

    def describe_listener_certificates(self, listener_arn: str) -> List[Dict[str, Any]]:
        return self.paginate("describe_listener_certificates", "Certificates", ListenerArn=listener_arn,
                             PageSize=PAGE_SIZE)

    def create_listener(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_listener", **kwargs)["Listeners"][0]

    def modify_listener(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("modify_listener", **kwargs)["Listeners"][0]

    def add_listener_certificates(self, listener_arn: str, certificates: List[str]) -> None:
        self.call("add_listener_certificates", ListenerArn=listener_arn,
                  Certificates=[{"CertificateArn": c} for c in certificates])

    def remove_listener_certificates(self, listener_arn: str, certificates: List[str]) -> None:
        self.call("remove_listener_certificates", ListenerArn=listener_arn,
                  Certificates=[{"CertificateArn": c} for c in certificates])

    def delete_listener(self, arn: str) -> None:
        self.call("delete_listener", ListenerArn=arn)

    # rules --------------------------------------------------------------------------------
    def describe_rules(self, listener_arn: str) -> List[Dict[str, Any]]:
        """Every rule of a listener (default rule included), in priority order.

        AWS documents no order for this call's result, so the order is ours.
        """
        rules = self.paginate("describe_rules", "Rules", ListenerArn=listener_arn, PageSize=PAGE_SIZE)
        return sorted(rules, key=lambda r: (r.get("IsDefault", False), _priority_int(r.get("Priority"))))

    def create_rule(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_rule", **kwargs)["Rules"][0]

    def modify_rule(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("modify_rule", **kwargs)["Rules"][0]

    def set_rule_priorities(self, priorities: Dict[str, int]) -> None:
        """Move several rules in one call; AWS applies it atomically, so swaps are fine."""
        self.call("set_rule_priorities",
                  RulePriorities=[{"RuleArn": arn, "Priority": p} for arn, p in sorted(priorities.items())])

    def delete_rule(self, arn: str) -> None:
        self.call("delete_rule", RuleArn=arn)

    # target groups ------------------------------------------------------------------------
    def describe_target_groups_by_name(self, names: List[str]) -> List[Dict[str, Any]]:
        """The target groups among ``names`` that exist (missing names are not an error)."""
        found: List[Dict[str, Any]] = []
        for batch in chunks(sorted(set(names)), DESCRIBE_TARGET_GROUPS_BATCH):
            try:
                found.extend(self.call("describe_target_groups", Names=batch).get("TargetGroups", []))
            except Elbv2ApiError as exc:
                if exc.code != "TargetGroupNotFound":
                    raise
                # One missing name fails the whole batch: ask one by one to learn which exist.
                for name in batch:
                    try:
                        found.extend(self.call("describe_target_groups", Names=[name]).get("TargetGroups", []))
                    except Elbv2ApiError as inner:
                        if inner.code != "TargetGroupNotFound":
                            raise
        return found

    def describe_target_groups_by_arn(self, arns: List[str]) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        for batch in chunks(sorted(set(arns)), DESCRIBE_TARGET_GROUPS_BATCH):
            try:
                found.extend(self.call("describe_target_groups", TargetGroupArns=batch).get("TargetGroups", []))
            except Elbv2ApiError as exc:
                if exc.code != "TargetGroupNotFound":
                    raise
        return found

    def describe_target_health(self, target_group_arn: str) -> List[Dict[str, Any]]:
        """Every registered target of a target group with its health (read only: targets are ECS's)."""
        return self.call("describe_target_health", TargetGroupArn=target_group_arn).get("TargetHealthDescriptions", [])

    def describe_target_group_attributes(self, arn: str) -> Dict[str, str]:
        attrs = self.call("describe_target_group_attributes", TargetGroupArn=arn).get("Attributes", [])
        return {a["Key"]: a["Value"] for a in attrs}

    def create_target_group(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_target_group", **kwargs)["TargetGroups"][0]

    def modify_target_group(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("modify_target_group", **kwargs)["TargetGroups"][0]

    def modify_target_group_attributes(self, arn: str, attributes: Dict[str, str]) -> None:
        self.call("modify_target_group_attributes", TargetGroupArn=arn,
                  Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())])

    def delete_target_group(self, arn: str) -> None:
        self.call("delete_target_group", TargetGroupArn=arn)

    # tags ---------------------------------------------------------------------------------
    def describe_tags(self, arns: List[str]) -> Dict[str, Dict[str, str]]:
        """``{arn: {key: value}}`` for every ARN, twenty per call."""
        out: Dict[str, Dict[str, str]] = {}
        for batch in chunks(list(dict.fromkeys(arns)), DESCRIBE_TAGS_BATCH):
            for desc in self.call("describe_tags", ResourceArns=batch).get("TagDescriptions", []):
                out[desc["ResourceArn"]] = {t["Key"]: t.get("Value", "") for t in desc.get("Tags", [])}
        return out

    def add_tags(self, arn: str, tags: Dict[str, str]) -> None:
        self.call("add_tags", ResourceArns=[arn], Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def remove_tags(self, arn: str, keys: List[str]) -> None:
        self.call("remove_tags", ResourceArns=[arn], TagKeys=sorted(keys))


def health_states(descriptions: List[Dict[str, Any]]) -> List[str]:
    """The state of each target in ``DescribeTargetHealth``'s descriptions (``healthy``, ``initial``, ``draining``...)."""
    return [str((d.get("TargetHealth") or {}).get("State")) for d in descriptions]


def target_group_name(arn: str) -> str:
    """``arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>`` -> ``<name>``."""
    return arn.split(":targetgroup/", 1)[-1].split("/", 1)[0]


def _priority_int(priority: Any) -> int:
    try:
        return int(priority)
    except (TypeError, ValueError):
        return 10 ** 6
