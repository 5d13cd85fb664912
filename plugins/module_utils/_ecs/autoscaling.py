# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Service autoscaling (Application Auto Scaling): scalable targets and target-tracking policies.

Documents use Application Auto Scaling's own (PascalCase) names, with its defaults filled in:
cooldowns of 300 seconds for ECS services, scale-in enabled.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action

DIMENSION = "ecs:service:DesiredCount"
METRICS = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "alb_request_count": "ALBRequestCountPerTarget",
}
DEFAULT_COOLDOWN = 300


def resource_id(cluster: str, service: str) -> str:
    """Application Auto Scaling's id of an ECS service."""
    return "service/%s/%s" % (cluster, service)


def resource_label(target_group_arn: str, load_balancer_arn: str) -> str:
    """``app/<lb>/<id>/targetgroup/<tg>/<id>``: what ALBRequestCountPerTarget needs."""
    lb_part = load_balancer_arn.split(":loadbalancer/", 1)[1]
    tg_part = target_group_arn.split(":", 5)[5]
    return "%s/%s" % (lb_part, tg_part)


def _policy_config(conf: Mapping[str, Any]) -> Dict[str, Any]:
    spec = dict(conf.get("PredefinedMetricSpecification") or {})
    out: Dict[str, Any] = {
        "TargetValue": float(conf.get("TargetValue")) if conf.get("TargetValue") is not None else None,
        "ScaleInCooldown": int(conf.get("ScaleInCooldown", DEFAULT_COOLDOWN)),
        "ScaleOutCooldown": int(conf.get("ScaleOutCooldown", DEFAULT_COOLDOWN)),
        "DisableScaleIn": bool(conf.get("DisableScaleIn", False)),
    }
    if spec:
        out["PredefinedMetricSpecification"] = {k: v for k, v in spec.items() if v}
    elif conf.get("CustomizedMetricSpecification"):
        out["CustomizedMetricSpecification"] = conf["CustomizedMetricSpecification"]
    return out


def current_autoscaling(target: Optional[Mapping[str, Any]], policies: List[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """A described scalable target and its policies as one document; None without a target."""
    if not target:
        return None
    return {
        "MinCapacity": target.get("MinCapacity"),
        "MaxCapacity": target.get("MaxCapacity"),
        "Policies": {p["PolicyName"]: {"PolicyType": p.get("PolicyType"),
                                       "TargetTrackingScalingPolicyConfiguration": _policy_config(
                                           p.get("TargetTrackingScalingPolicyConfiguration") or {})}
                     for p in policies},
    }


def desired_autoscaling(opts: Mapping[str, Any], labels: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The scalable target and policies from the ``autoscaling`` options of a service.

    ``labels``: policy name -> resource label, for ALB request count policies whose label
    was derived from the service's target group.
    """
    policies: Dict[str, Any] = {}
    for p in opts.get("policies") or []:
        spec: Dict[str, Any] = {"PredefinedMetricType": METRICS[p.get("metric") or "cpu"]}
        label = p.get("resource_label") or (labels or {}).get(p["name"])
        if spec["PredefinedMetricType"] == "ALBRequestCountPerTarget" and label:
            spec["ResourceLabel"] = label
        conf = {"TargetValue": p.get("target"), "PredefinedMetricSpecification": spec,
                "DisableScaleIn": bool(p.get("disable_scale_in"))}
        if p.get("scale_in_cooldown") is not None:
            conf["ScaleInCooldown"] = p["scale_in_cooldown"]
        if p.get("scale_out_cooldown") is not None:
            conf["ScaleOutCooldown"] = p["scale_out_cooldown"]
        policies[p["name"]] = {"PolicyType": "TargetTrackingScaling",
                               "TargetTrackingScalingPolicyConfiguration": _policy_config(conf)}
    return {"MinCapacity": opts.get("min_capacity"), "MaxCapacity": opts.get("max_capacity"), "Policies": policies}


def plan_autoscaling(service: str, current: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> List[Action]:
    """Register the scalable target, put and delete policies (policies not listed are deleted)."""
    actions: List[Action] = []
    target_before = None if current is None else {"MinCapacity": current["MinCapacity"], "MaxCapacity": current["MaxCapacity"]}
    target_after = {"MinCapacity": desired["MinCapacity"], "MaxCapacity": desired["MaxCapacity"]}
    if target_before != target_after:
        actions.append(Action("create" if current is None else "update", "scalable_target", service,
                              reason="no scalable target" if current is None else "capacity range differs",
                              before=target_before, after=target_after,
                              changes=differences(target_before or {}, target_after)))
    current_policies = (current or {}).get("Policies") or {}
    for name, policy in sorted(desired["Policies"].items()):
        before = current_policies.get(name)
        if before != policy:
            actions.append(Action("create" if before is None else "update", "scaling_policy", "%s/%s" % (service, name),
                                  reason="no such policy" if before is None else "policy differs",
                                  before=before, after=policy, changes=differences(before or {}, policy)))
    for name in sorted(set(current_policies) - set(desired["Policies"])):
        actions.append(Action("delete", "scaling_policy", "%s/%s" % (service, name), reason="policy not listed",
                              before=current_policies[name]))
    return actions
