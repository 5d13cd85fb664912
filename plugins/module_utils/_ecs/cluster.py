# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The ECS cluster and its Auto Scaling group capacity providers: documents and plan.

As for services, the desired documents hold only what the user manages; an option left out
keeps its current value.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences, prune, tags_to_dict
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import merge, normalise_strategy

CLUSTER_LIVE = ("ACTIVE", "PROVISIONING")


def current_cluster(described: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """A ``describe_clusters`` entry as a comparable document; None when there is no cluster."""
    if not described or described.get("status") not in CLUSTER_LIVE:
        return None
    settings = {s["name"]: s.get("value") for s in described.get("settings") or []}
    doc: Dict[str, Any] = {
        "settings": settings,
        "capacityProviders": sorted(described.get("capacityProviders") or []),
        "defaultCapacityProviderStrategy": normalise_strategy(described.get("defaultCapacityProviderStrategy")),
        "tags": tags_to_dict(described.get("tags")),
    }
    namespace = (described.get("serviceConnectDefaults") or {}).get("namespace")
    if namespace:
        doc["serviceConnectDefaults"] = {"namespace": namespace}
    return doc


def desired_cluster(opts: Mapping[str, Any], namespace_arn: Optional[str] = None) -> Dict[str, Any]:
    """The managed part of the cluster (``namespace_arn``: the Service Connect namespace resolved)."""
    doc: Dict[str, Any] = {}
    if opts.get("container_insights"):
        doc["settings"] = {"containerInsights": opts["container_insights"]}
    providers = opts.get("capacity_providers")
    asg_names = [p["name"] for p in opts.get("autoscaling_group_providers") or []]
    if providers is not None:
        doc["capacityProviders"] = sorted(set(providers) | set(asg_names))
    elif asg_names:
        doc["capacityProviders"] = sorted(set(asg_names))
        doc["_capacity_providers_add_only"] = True
    if opts.get("default_capacity_provider_strategy") is not None:
        doc["defaultCapacityProviderStrategy"] = normalise_strategy(opts["default_capacity_provider_strategy"])
    scd = opts.get("service_connect_defaults")
    if scd and scd.get("namespace"):
        doc["serviceConnectDefaults"] = {"namespace": namespace_arn or scd["namespace"]}
    if opts.get("tags") is not None:
        doc["tags"] = {str(k): str(v) for k, v in opts["tags"].items()}
    return doc


def plan_cluster(name: str, current: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> List[Action]:
    """Create the cluster, or the updates that bring it to ``desired``."""
    desired = dict(desired)
    add_only = desired.pop("_capacity_providers_add_only", False)
    if current is None:
        after = merge({"settings": {}, "capacityProviders": [], "defaultCapacityProviderStrategy": [], "tags": {}}, desired)
        return [Action("create", "cluster", name, reason="cluster does not exist", after=after)]
    if add_only:
        desired["capacityProviders"] = sorted(set(current.get("capacityProviders") or []) | set(desired["capacityProviders"]))
    actions: List[Action] = []
    before_settings = {k: current["settings"].get(k) for k in (desired.get("settings") or {})}
    if desired.get("settings") and before_settings != desired["settings"]:
        actions.append(Action("update", "cluster", name, reason="settings differ", before={"settings": before_settings},
                              after={"settings": desired["settings"]},
                              changes=differences({"settings": before_settings}, {"settings": desired["settings"]})))
    if "serviceConnectDefaults" in desired and desired["serviceConnectDefaults"] != current.get("serviceConnectDefaults"):
        before = {"serviceConnectDefaults": current.get("serviceConnectDefaults")}
        after = {"serviceConnectDefaults": desired["serviceConnectDefaults"]}
        actions.append(Action("update", "cluster", name, reason="Service Connect defaults differ", before=before,
                              after=after, changes=differences(before, after)))
    cap_keys = ("capacityProviders", "defaultCapacityProviderStrategy")
    if any(k in desired for k in cap_keys):
        before = {k: current.get(k) for k in cap_keys}
        after = {k: desired.get(k, current.get(k)) for k in cap_keys}
        if before != after:
            actions.append(Action("update", "cluster_capacity_providers", name, reason="capacity providers differ",
                                  before=before, after=after, changes=differences(before, after)))
    if "tags" in desired and desired["tags"] != current.get("tags"):
        actions.append(Action("tag", "cluster", name, reason="tags differ", before=current.get("tags"),
                              after=desired["tags"], changes=differences(current.get("tags"), desired["tags"])))
    return actions


def create_cluster_kwargs(name: str, after: Mapping[str, Any]) -> Dict[str, Any]:
    """CreateCluster arguments from a creation document."""
    kwargs: Dict[str, Any] = {"clusterName": name}
    if after.get("settings"):
        kwargs["settings"] = [{"name": k, "value": v} for k, v in sorted(after["settings"].items())]
    if after.get("capacityProviders"):
        kwargs["capacityProviders"] = list(after["capacityProviders"])
    if after.get("defaultCapacityProviderStrategy"):
        kwargs["defaultCapacityProviderStrategy"] = copy.deepcopy(after["defaultCapacityProviderStrategy"])
    if after.get("serviceConnectDefaults"):
        kwargs["serviceConnectDefaults"] = dict(after["serviceConnectDefaults"])
    if after.get("tags"):
        kwargs["tags"] = [{"key": k, "value": v} for k, v in sorted(after["tags"].items())]
    return kwargs


# Auto Scaling group capacity providers ---------------------------------------------------------

def current_capacity_provider(described: Mapping[str, Any]) -> Dict[str, Any]:
    """A ``describe_capacity_providers`` entry as a comparable document."""
    asg = described.get("autoScalingGroupProvider") or {}
    return prune({
        "autoScalingGroupArn": asg.get("autoScalingGroupArn"),
        "managedScaling": dict(asg.get("managedScaling") or {}),
        "managedTerminationProtection": asg.get("managedTerminationProtection"),
        "managedDraining": asg.get("managedDraining"),
        "tags": tags_to_dict(described.get("tags")),
    })


def desired_capacity_provider(opts: Mapping[str, Any]) -> Dict[str, Any]:
    """The managed part of an Auto Scaling group capacity provider from its options."""
    scaling = opts.get("managed_scaling") or {}
    doc: Dict[str, Any] = {"autoScalingGroupArn": opts.get("auto_scaling_group_arn")}
    managed = prune({
        "status": scaling.get("status"),
        "targetCapacity": scaling.get("target_capacity"),
        "minimumScalingStepSize": scaling.get("minimum_scaling_step_size"),
        "maximumScalingStepSize": scaling.get("maximum_scaling_step_size"),
        "instanceWarmupPeriod": scaling.get("instance_warmup_period"),
    })
    if managed:
        doc["managedScaling"] = managed
    if opts.get("managed_termination_protection"):
        doc["managedTerminationProtection"] = opts["managed_termination_protection"]
    if opts.get("managed_draining"):
        doc["managedDraining"] = opts["managed_draining"]
    if opts.get("tags") is not None:
        doc["tags"] = {str(k): str(v) for k, v in opts["tags"].items()}
    return doc


def plan_capacity_provider(name: str, current: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> List[Action]:
    """Create an Auto Scaling group capacity provider, or update what UpdateCapacityProvider can."""
    if current is None:
        return [Action("create", "capacity_provider", name, reason="capacity provider does not exist", after=dict(desired))]
    if desired.get("autoScalingGroupArn") and desired["autoScalingGroupArn"] != current.get("autoScalingGroupArn"):
        raise EcsError("capacity provider %s is bound to %s; its Auto Scaling group cannot change (%s)" % (
            name, current.get("autoScalingGroupArn"), desired["autoScalingGroupArn"]))
    after = merge(current, {k: v for k, v in desired.items() if k != "autoScalingGroupArn"})
    actions: List[Action] = []
    keys = ("managedScaling", "managedTerminationProtection", "managedDraining")
    before_body = {k: current.get(k) for k in keys if k in desired}
    after_body = {k: after.get(k) for k in keys if k in desired}
    if before_body != after_body:
        actions.append(Action("update", "capacity_provider", name, reason="capacity provider settings differ",
                              before=before_body, after=after_body, changes=differences(before_body, after_body)))
    if "tags" in desired and desired["tags"] != current.get("tags", {}):
        actions.append(Action("tag", "capacity_provider", name, reason="tags differ", before=current.get("tags", {}),
                              after=desired["tags"], changes=differences(current.get("tags", {}), desired["tags"])))
    return actions
