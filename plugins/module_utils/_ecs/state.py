# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read what ecs_stack's plan depends on, batched, into one :class:`Current`.

One describe of the cluster, capacity providers in one call, services ten per call, task
definitions only for the revisions in use (and the latest of a family for services still to
create), target groups twenty per call, scalable targets fifty per call, scaling policies in
one paginated call.  Log groups are not ecs_stack's: cloudwatch_stack owns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AppAutoscalingApi, AutoScalingApi, EcsApi, EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.autoscaling import DIMENSION, resource_id
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import read_each
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cloudmap import PRIVATE_DNS, current_namespace, service_id_of
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import current_cluster
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import is_live
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import BUILTIN_CAPACITY_PROVIDERS, is_target_group_arn
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api


@dataclass
class Apis:
    """The API wrappers ecs_stack reads and writes through (``auto_scaling`` only for protected groups)."""

    ecs: EcsApi
    app_autoscaling: AppAutoscalingApi
    target_groups: Elbv2Api
    cloud_map: Optional[NamespaceReader] = None
    auto_scaling: Optional[AutoScalingApi] = None

    def all(self) -> List[Any]:
        return [a for a in (self.ecs, self.app_autoscaling, self.target_groups, self.cloud_map) if a is not None]


@dataclass
class Current:
    """Everything read from AWS, keyed for the planner."""

    cluster: Optional[Dict[str, Any]] = None
    cluster_doc: Optional[Dict[str, Any]] = None
    capacity_providers: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    services: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    task_definitions: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    latest_revisions: Dict[str, Optional[Dict[str, Any]]] = field(default_factory=dict)
    target_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    scalable_targets: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    policies: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    namespace_arn: Optional[str] = None
    other_services: List[str] = field(default_factory=list)
    # Auto Scaling groups behind providers with managed termination protection, by group name.
    auto_scaling_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # The private DNS namespace of cluster.service_discovery_namespace (cloudmap.current_namespace).
    namespace: Optional[Dict[str, Any]] = None
    # Its Cloud Map services by name, as ListServices answers them.
    discovery: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # state=absent: the Cloud Map services of the listed ECS services in the namespace (by id).
    registries: Dict[str, Dict[str, Any]] = field(default_factory=dict)


def asg_name_of(arn: str) -> str:
    """The group name at the end of an Auto Scaling group ARN (``...:autoScalingGroupName/NAME``)."""
    return arn.split("autoScalingGroupName/", 1)[-1]


def protects(opts: Mapping[str, Any], can_protect: bool) -> bool:
    """Whether a provider has managed termination protection (its group must protect new instances)."""
    return can_protect and opts.get("managed_termination_protection") == "ENABLED"


def referenced_capacity_providers(params: Mapping[str, Any]) -> List[str]:
    """Every capacity provider the cluster options and the services name."""
    cluster = params.get("cluster") or {}
    names = set(cluster.get("capacity_providers") or [])
    names |= {s["capacity_provider"] for s in cluster.get("default_capacity_provider_strategy") or []}
    for svc in params.get("services") or []:
        names |= {s["capacity_provider"] for s in svc.get("capacity_provider_strategy") or []}
    return sorted(names)


def read_state(apis: Apis, params: Mapping[str, Any], taskdefs: Mapping[str, Dict[str, Any]]) -> Current:
    """Describe everything the plan depends on, batched (``taskdefs``: validated definitions by service)."""
    current = Current()
    cluster_opts = params.get("cluster") or {}
    cluster_name = cluster_opts.get("name") or ""
    state = params.get("state") or "present"
    ecs = apis.ecs
    found = ecs.describe_clusters([cluster_name]).get("clusters") or []
    current.cluster = found[0] if found else None
    current.cluster_doc = current_cluster(current.cluster)
    providers = cluster_opts.get("autoscaling_group_providers") or []
    if state == "present":
        custom = [n for n in referenced_capacity_providers(params) if n not in BUILTIN_CAPACITY_PROVIDERS]
        custom += [p["name"] for p in providers]
        if custom:
            current.capacity_providers = {p["name"]: p for p in ecs.describe_capacity_providers(sorted(set(custom)))
                                          if p.get("status") == "ACTIVE"}
        groups = [asg_name_of(p["auto_scaling_group_arn"]) for p in providers
                  if protects(p, apis.auto_scaling is not None) and p.get("auto_scaling_group_arn")]
        if groups:
            current.auto_scaling_groups = {g["AutoScalingGroupName"]: g for g in
                                           apis.auto_scaling.describe_auto_scaling_groups(sorted(set(groups)))}  # type: ignore[union-attr]
    else:
        removing = [p["name"] for p in providers]
        if removing:
            current.capacity_providers = {p["name"]: p for p in ecs.describe_capacity_providers(sorted(set(removing)))
                                          if p.get("status") == "ACTIVE"}
    names = [s["name"] for s in params.get("services") or []]
    if current.cluster_doc is not None and names:
        described = ecs.describe_services(cluster_name, names).get("services") or []
        # Several entries may share a name (an INACTIVE one and its live successor).
        for svc in described:
            if is_live(svc) or svc["serviceName"] not in current.services:
                current.services[svc["serviceName"]] = svc
    live = [n for n in names if is_live(current.services.get(n))]
    if live:
        targets = apis.app_autoscaling.describe_scalable_targets([resource_id(cluster_name, n) for n in live])
        current.scalable_targets = {t["ResourceId"]: t for t in targets if t.get("ScalableDimension") == DIMENSION}
        _read_policies(apis.app_autoscaling, current)
    _read_namespace(apis.cloud_map, cluster_opts.get("service_discovery_namespace"), current)
    if state == "absent":
        if params.get("delete_cluster") and current.cluster_doc is not None:
            arns = ecs.list_services(cluster_name)
            current.other_services = [a for a in arns if a.rsplit("/", 1)[-1] not in names]
        _read_registries(params, current)
        return current
    _read_task_definitions(ecs, current, taskdefs)
    _read_target_groups(apis.target_groups, params, current)
    namespace = (cluster_opts.get("service_connect_defaults") or {}).get("namespace")
    if namespace and not namespace.startswith("arn:") and apis.cloud_map is not None:
        current.namespace_arn = apis.cloud_map.arn_of(namespace)
    return current


def _read_policies(aas: AppAutoscalingApi, current: Current) -> None:
    with_target = list(current.scalable_targets)
    if not with_target:
        return
    if len(with_target) == 1:
        policies = aas.describe_scaling_policies(with_target[0])
    else:
        policies = aas.describe_all_scaling_policies()
    for policy in policies:
        if policy.get("ResourceId") in current.scalable_targets and policy.get("ScalableDimension") == DIMENSION:
            current.policies.setdefault(policy["ResourceId"], []).append(policy)


def _read_task_definitions(ecs: EcsApi, current: Current, taskdefs: Mapping[str, Dict[str, Any]]) -> None:
    """Revisions in use by live services we have a definition for; latest of each new family (one call each,
    several at once)."""
    in_use: List[str] = []
    families: List[str] = []
    for name, kwargs in sorted(taskdefs.items()):
        svc = current.services.get(name)
        if is_live(svc):
            arn = svc.get("taskDefinition")  # type: ignore[union-attr]
            if arn and arn not in current.task_definitions and arn not in in_use:
                in_use.append(arn)
        elif kwargs["family"] not in current.latest_revisions and kwargs["family"] not in families:
            families.append(kwargs["family"])
    for arn, found in zip(in_use, read_each(lambda arn: ecs.describe_task_definition(arn)["taskDefinition"], in_use)):
        current.task_definitions[arn] = found
    for family, latest in zip(families, read_each(lambda family: _latest_revision(ecs, family), families)):
        current.latest_revisions[family] = latest


def _latest_revision(ecs: EcsApi, family: str) -> Optional[Dict[str, Any]]:
    try:
        found = ecs.describe_task_definition(family)["taskDefinition"]
    except EcsError as exc:
        if exc.code in ("ClientException", "ResourceNotFoundException"):
            return None
        raise
    return found if found.get("status") == "ACTIVE" else None


def _read_target_groups(reader: Elbv2Api, params: Mapping[str, Any], current: Current) -> None:
    """Every referenced target group, by name or ARN: ARNs to resolve, load balancers to check."""
    names, arns = set(), set()
    for svc in params.get("services") or []:
        for lb in svc.get("load_balancers") or []:
            (arns if is_target_group_arn(lb["target_group"]) else names).add(lb["target_group"])
            alternate = (lb.get("advanced_configuration") or {}).get("alternate_target_group")
            if alternate:
                (arns if is_target_group_arn(alternate) else names).add(alternate)
    if names:
        current.target_groups.update({g["TargetGroupName"]: g for g in reader.describe_target_groups_by_name(sorted(names))})
    if arns:
        current.target_groups.update({g["TargetGroupArn"]: g for g in reader.describe_target_groups_by_arn(sorted(arns))})


def _read_namespace(cloud_map: Optional[NamespaceReader], opts: Optional[Mapping[str, Any]], current: Current) -> None:
    """The namespace by name (one paginated, filtered list), its tags when managed, its services."""
    if not opts or cloud_map is None:
        return
    found = cloud_map.list_namespaces(opts["name"])
    private = [ns for ns in found if ns.get("Type") == PRIVATE_DNS]
    if len(private) > 1:
        raise ValidationError("cluster.service_discovery_namespace.name", opts["name"],
                              "%d private DNS namespaces have this name (%s): remove all but one" % (
                                  len(private), ", ".join(sorted(ns["Id"] for ns in private))))
    if not private:
        if found:
            raise ValidationError("cluster.service_discovery_namespace.name", opts["name"],
                                  "a %s namespace has this name: ecs_stack manages a private DNS namespace" % found[0].get("Type"))
        return
    summary = private[0]
    tags = cloud_map.list_tags_for_resource(summary["Arn"]) if opts.get("tags") is not None else None
    current.namespace = current_namespace(summary, tags)
    for svc in cloud_map.list_services(summary["Id"]):
        # The filter keeps the namespace's services; the check is for answers carrying the namespace id.
        if svc.get("NamespaceId") in (None, summary["Id"]):
            current.discovery[svc["Name"]] = svc


def _read_registries(params: Mapping[str, Any], current: Current) -> None:
    """state=absent: the Cloud Map services of the listed ECS services in the namespace ecs_stack owns,
    found by the ECS services' registries and by name (a registry elsewhere is not ecs_stack's)."""
    by_id = {svc["Id"]: svc for svc in current.discovery.values()}
    for opts in params.get("services") or []:
        described = current.services.get(opts["name"]) or {}
        for registry in described.get("serviceRegistries") or []:
            sid = service_id_of(registry.get("registryArn") or "")
            if sid in by_id:
                current.registries[sid] = by_id[sid]
        name = (opts.get("service_discovery") or {}).get("name") or opts["name"]
        if name in current.discovery:
            current.registries[current.discovery[name]["Id"]] = current.discovery[name]
