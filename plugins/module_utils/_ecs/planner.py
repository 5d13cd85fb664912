# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecs_stack's plan: a pure function of the options and the :class:`Current` read.

The documents compared are normalised by cluster.py, service.py and autoscaling.py; this file
turns their differences into typed actions (actions.py) in the order they are applied:
Auto Scaling groups and capacity providers, the cluster, then per service its task definition,
the service and its autoscaling.  With ``state=absent``: scalable targets and services, a wait
until they are INACTIVE, the cluster (``delete_cluster``), then the listed capacity providers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs import actions as act
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.autoscaling import (
    current_autoscaling,
    desired_autoscaling,
    plan_autoscaling,
    resource_id,
    resource_label,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cloudmap import (
    UNKNOWN,
    create_service_kwargs,
    current_discovery,
    desired_discovery,
    desired_namespace,
    plan_discovery,
    plan_namespace,
    registry_entry,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import (
    current_capacity_provider,
    desired_capacity_provider,
    desired_cluster,
    plan_capacity_provider,
    plan_cluster,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import (
    creation_document,
    current_service,
    desired_service,
    is_live,
    plan_service_update,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.state import Current, asg_name_of, protects
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import (
    normalise_task_definition,
    task_definition_differences,
)


@dataclass
class StackPlan:
    """The actions in order, and what planning found out besides them."""

    actions: List[act.StackAction] = field(default_factory=list)
    # Service -> the ACTIVE revision of its family that already matches its definition (not registered again).
    reused: Dict[str, str] = field(default_factory=dict)
    # Service -> {"task_definition": arn, "differences": [...]} when its definition differs from what it runs.
    drift: Dict[str, Optional[Dict[str, Any]]] = field(default_factory=dict)
    # Service -> its Cloud Map service (cloudmap.desired_discovery) and, when it exists, its ARN.
    discovery: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    registries: Dict[str, str] = field(default_factory=dict)

    @property
    def reports(self) -> List[Action]:
        return act.reports(self.actions)


def plan_stack(params: Mapping[str, Any], current: Current, taskdefs: Mapping[str, Dict[str, Any]],
               can_protect: bool = False) -> StackPlan:
    """Every action of this run, in the order it is applied.

    ``taskdefs``: validated RegisterTaskDefinition arguments by service; ``can_protect``: whether
    Auto Scaling groups may be updated (managed termination protection).  Raises ``EcsError``
    when the options cannot be reached in place (a DRAINING service, a launch type change...).
    """
    if (params.get("state") or "present") == "absent":
        return _plan_absent(params, current)
    plan = StackPlan()
    cluster_opts = params.get("cluster") or {}
    cluster_name = cluster_opts["name"]
    for opts in cluster_opts.get("autoscaling_group_providers") or []:
        group = current.auto_scaling_groups.get(asg_name_of(opts.get("auto_scaling_group_arn") or ""))
        if protects(opts, can_protect) and group is not None and not group.get("NewInstancesProtectedFromScaleIn"):
            # AWS refuses managed termination protection on a group whose new instances are not
            # protected from scale-in; ECS itself then manages the protection of each instance.
            name = group["AutoScalingGroupName"]
            before, after = {"NewInstancesProtectedFromScaleIn": False}, {"NewInstancesProtectedFromScaleIn": True}
            report = Action("update", "auto_scaling_group", name, reason="managed termination protection of capacity "
                            "provider %s needs new instances protected from scale-in" % opts["name"],
                            before=before, after=after, changes=differences(before, after))
            plan.actions.append(act.ProtectGroupInstances(report, group=name))
        described = current.capacity_providers.get(opts["name"])
        before_cp = current_capacity_provider(described) if described else None
        for report in plan_capacity_provider(opts["name"], before_cp, desired_capacity_provider(opts)):
            plan.actions.append(_capacity_provider_action(report))
    desired = desired_cluster(cluster_opts, current.namespace_arn)
    for report in plan_cluster(cluster_name, current.cluster_doc, desired):
        plan.actions.append(_cluster_action(report, current))
    namespace_opts = cluster_opts.get("service_discovery_namespace")
    if namespace_opts:
        for report in plan_namespace(current.namespace, desired_namespace(namespace_opts)):
            plan.actions.append(_namespace_action(report, namespace_opts, current))
    cluster_default = (current.cluster_doc or {}).get("defaultCapacityProviderStrategy") or desired.get(
        "defaultCapacityProviderStrategy") or []
    tg_arns = {key: group["TargetGroupArn"] for key, group in current.target_groups.items()}
    for svc in params.get("services") or []:
        _plan_service(plan, cluster_name, svc, current, taskdefs, tg_arns, cluster_default, bool(namespace_opts))
    return plan


def _capacity_provider_action(report: Action) -> act.StackAction:
    after = dict(report.after or {})
    if report.verb == "create":
        return act.CreateCapacityProvider(report, name=report.name, provider=after)
    if report.verb == "update":
        return act.UpdateCapacityProvider(report, name=report.name, provider=after)
    return act.TagCapacityProvider(report, name=report.name, before=dict(report.before or {}), after=after)


def _cluster_action(report: Action, current: Current) -> act.StackAction:
    after = dict(report.after or {})
    if report.verb == "create":
        return act.CreateCluster(report, document=after)
    if report.kind == "cluster_capacity_providers":
        return act.PutClusterCapacityProviders(report, providers=tuple(after["capacityProviders"]),
                                               strategy=tuple(after["defaultCapacityProviderStrategy"] or []))
    if report.verb == "update" and "settings" in after:
        return act.UpdateClusterSettings(report, settings=dict(after["settings"]))
    if report.verb == "update":
        return act.UpdateServiceConnectDefaults(report, defaults=dict(after["serviceConnectDefaults"]))
    return act.TagCluster(report, arn=(current.cluster or {})["clusterArn"], before=dict(report.before or {}), after=after)


def _namespace_action(report: Action, opts: Mapping[str, Any], current: Current) -> act.StackAction:
    if report.verb == "create":
        return act.CreateNamespace(report, name=opts["name"], vpc=opts["vpc"], description=opts.get("description"),
                                   tags=dict(report.after["tags"]))
    namespace = current.namespace or {}
    if report.verb == "update":
        return act.UpdateNamespace(report, namespace_id=namespace["id"], description=report.after["description"])
    return act.TagNamespace(report, arn=namespace["arn"], before=dict(report.before or {}), after=dict(report.after or {}))


def _plan_discovery(plan: StackPlan, svc: Mapping[str, Any], current: Current) -> Dict[str, Any]:
    """The Cloud Map service of ``svc`` (created or updated before the ECS service); its registry entry."""
    name = svc["name"]
    desired = desired_discovery(svc)
    found = current.discovery.get(desired["name"]) if current.namespace else None
    existing = current_discovery(found) if found else None
    for report in plan_discovery(name, existing, desired):
        if report.verb == "create":
            kwargs = create_service_kwargs(desired, UNKNOWN)
            del kwargs["NamespaceId"]
            plan.actions.append(act.CreateDiscoveryService(report, service=name, name=desired["name"],
                                                           namespace_id=(current.namespace or {}).get("id"),
                                                           document=kwargs))
        else:
            change = {"DnsConfig": {"DnsRecords": [{"Type": desired["dns_record_type"], "TTL": desired["ttl"]}]}}
            plan.actions.append(act.UpdateDiscoveryService(report, service=name, service_id=existing["id"],  # type: ignore[index]
                                                           document=change))
    plan.discovery[name] = desired
    if existing:
        plan.registries[name] = existing["arn"]
    return registry_entry(desired, existing["arn"] if existing else UNKNOWN)


def _autoscaling_action(report: Action, rid: str) -> act.StackAction:
    after = dict(report.after or {})
    if report.kind == "scalable_target":
        return act.RegisterScalableTarget(report, resource_id=rid, min_capacity=after["MinCapacity"],
                                          max_capacity=after["MaxCapacity"])
    policy_name = report.name.split("/", 1)[1]
    if report.verb == "delete":
        return act.DeleteScalingPolicy(report, resource_id=rid, policy_name=policy_name)
    return act.PutScalingPolicy(report, resource_id=rid, policy_name=policy_name, policy=after)


def _plan_service(plan: StackPlan, cluster_name: str, svc: Mapping[str, Any], current: Current,
                  taskdefs: Mapping[str, Dict[str, Any]], tg_arns: Mapping[str, str],
                  cluster_default: List[Dict[str, Any]], with_namespace: bool) -> None:
    name = svc["name"]
    described = current.services.get(name)
    rid = resource_id(cluster_name, name)
    desired = desired_service(svc, tg_arns)
    auto = svc.get("autoscaling")
    autoscaled = bool(auto) or rid in current.scalable_targets
    if described and described.get("status") == "DRAINING":
        raise EcsError("service %s is DRAINING (being deleted); run again once it is INACTIVE" % name)
    discovery = None
    if svc.get("service_discovery") and with_namespace:
        desired["serviceRegistries"] = [_plan_discovery(plan, svc, current)]
        discovery = plan.discovery[name]
    if is_live(described):
        if not autoscaled and svc.get("desired_count") is not None:
            desired["desiredCount"] = svc["desired_count"]
        for report in plan_service_update(name, current_service(described), desired):  # type: ignore[arg-type]
            if report.verb == "update":
                changes = dict(report.after or {})
                moving = _moves(taskdefs.get(name), described, current, changes)  # type: ignore[arg-type]
                if moving:
                    _plan_revision(plan, name, taskdefs[name], current)
                    report.changes.append({"path": "taskDefinition", "before": described.get("taskDefinition"),  # type: ignore[union-attr]
                                           "after": "a revision of %s with %s" % (taskdefs[name]["family"], moving)})
                plan.actions.append(act.UpdateService(report, name=name, changes=changes,
                                                      discovery=discovery if "serviceRegistries" in changes else None,
                                                      with_revision=bool(moving)))
            else:
                plan.actions.append(act.TagService(report, name=name, arn=described["serviceArn"],  # type: ignore[index]
                                                   before=dict(report.before or {}), after=dict(report.after or {})))
        plan.drift[name] = _drift(taskdefs.get(name), described, current)  # type: ignore[arg-type]
    else:
        kwargs = taskdefs[name]
        _plan_revision(plan, name, kwargs, current)
        count = svc.get("desired_count")
        if count is None:
            count = auto["min_capacity"] if auto else 1
        doc = creation_document(desired, count, cluster_default, kwargs.get("requiresCompatibilities") or [])
        report = Action("create", "service", name, reason="service does not exist", after=doc)
        plan.actions.append(act.CreateService(report, name=name, document=doc, discovery=discovery))
    if auto:
        before = current_autoscaling(current.scalable_targets.get(rid), current.policies.get(rid) or [])
        labels = _resource_labels(svc, current)
        for report in plan_autoscaling(name, before, desired_autoscaling(auto, labels)):
            plan.actions.append(_autoscaling_action(report, rid))


def _plan_revision(plan: StackPlan, name: str, kwargs: Mapping[str, Any], current: Current) -> None:
    """The service's revision: the family's latest when it matches the definition, otherwise a new one."""
    latest = current.latest_revisions.get(kwargs["family"])
    if latest is not None and normalise_task_definition(latest) == normalise_task_definition(kwargs):
        plan.reused[name] = latest["taskDefinitionArn"]
    else:
        report = Action("create", "task_definition", kwargs["family"], reason="no ACTIVE revision of family %s "
                        "matches the definition" % kwargs["family"], after=normalise_task_definition(kwargs))
        plan.actions.append(act.RegisterTaskDefinition(report, service=name, definition=dict(kwargs)))


# What UpdateService checks against the service's revision: its load balancers' target types and its
# network configuration against the network mode, its capacity against the compatibilities.
MOVING_KEYS = ("capacityProviderStrategy", "networkConfiguration", "loadBalancers")


def _moves(kwargs: Optional[Mapping[str, Any]], described: Mapping[str, Any], current: Current,
           changes: Mapping[str, Any]) -> str:
    """What moves when a service changes placement or network mode ('' when nothing does).

    ECS validates an UpdateService's load balancers, network configuration and capacity against the
    revision the service runs after the update: a move between network modes or launch types gives the
    new revision in the same call (a deployment of it starts; the release then follows it)."""
    running = current.task_definitions.get(described.get("taskDefinition") or "")
    if kwargs is None or running is None or not any(key in changes for key in MOVING_KEYS):
        return ""
    moved = []
    before, after = running.get("networkMode") or "bridge", kwargs.get("networkMode") or "bridge"
    if before != after:
        moved.append("network mode %s (was %s)" % (after, before))
    compat_before = sorted(running.get("requiresCompatibilities") or [])
    compat_after = sorted(kwargs.get("requiresCompatibilities") or [])
    if compat_before != compat_after:
        moved.append("compatibilities %s (was %s)" % ("/".join(compat_after) or "-", "/".join(compat_before) or "-"))
    return ", ".join(moved)


def _resource_labels(svc: Mapping[str, Any], current: Current) -> Dict[str, str]:
    """ALB request count policies without a label: the label of the service's first target group."""
    labels: Dict[str, str] = {}
    lbs = svc.get("load_balancers") or []
    if not lbs:
        return labels
    group = current.target_groups.get(lbs[0]["target_group"])
    if group and group.get("LoadBalancerArns"):
        label = resource_label(group["TargetGroupArn"], group["LoadBalancerArns"][0])
        for policy in (svc.get("autoscaling") or {}).get("policies") or []:
            if policy.get("metric") == "alb_request_count" and not policy.get("resource_label"):
                labels[policy["name"]] = label
    return labels


def _drift(kwargs: Optional[Mapping[str, Any]], described: Mapping[str, Any], current: Current) -> Optional[Dict[str, Any]]:
    """How the service's definition differs from the revision it runs (ecs_rolling_deploy's to release)."""
    arn = described.get("taskDefinition")
    if kwargs is None or arn not in current.task_definitions:
        return None
    diffs = task_definition_differences(current.task_definitions[arn], kwargs)
    return {"task_definition": arn, "differences": diffs} if diffs else None


def _plan_absent(params: Mapping[str, Any], current: Current) -> StackPlan:
    plan = StackPlan()
    cluster_name = (params.get("cluster") or {})["name"]
    deleting = []
    for svc in params.get("services") or []:
        name = svc["name"]
        rid = resource_id(cluster_name, name)
        if rid in current.scalable_targets:
            before = current_autoscaling(current.scalable_targets[rid], current.policies.get(rid) or [])
            report = Action("delete", "scalable_target", name, reason="state=absent", before=before)
            plan.actions.append(act.DeregisterScalableTarget(report, resource_id=rid))
        described = current.services.get(name)
        if described and described.get("status") == "ACTIVE":
            report = Action("delete", "service", name, reason="state=absent", before=current_service(described))
            scale_down = described.get("schedulingStrategy", "REPLICA") == "REPLICA" and bool(described.get("desiredCount"))
            plan.actions.append(act.DeleteService(report, name=name, scale_down=scale_down))
            deleting.append(name)
        elif described and described.get("status") == "DRAINING":
            deleting.append(name)
    # Cloud Map refuses to delete a service while ECS still has tasks registered in it: those
    # deletions wait for the ECS services whatever ``wait`` says.
    if deleting and (params.get("wait", True) or current.registries):
        plan.actions.append(act.WaitServicesInactive(None, names=tuple(deleting)))
    for sid, found in sorted(current.registries.items()):
        report = Action("delete", "service_discovery_service", found["Name"], reason="state=absent",
                        before=current_discovery(found))
        plan.actions.append(act.DeleteDiscoveryService(report, service=found["Name"], service_id=sid))
    if params.get("delete_cluster") and current.cluster_doc is not None:
        if current.other_services:
            raise EcsError("cluster %s still runs services not listed here (%s): it cannot be deleted" % (
                cluster_name, ", ".join(a.rsplit("/", 1)[-1] for a in current.other_services)))
        report = Action("delete", "cluster", cluster_name, reason="state=absent and delete_cluster",
                        before=current.cluster_doc)
        plan.actions.append(act.DeleteCluster(report))
    if params.get("delete_cluster") and current.namespace is not None:
        others = sorted(n for n, svc in current.discovery.items() if svc["Id"] not in current.registries)
        if others:
            raise EcsError("namespace %s still has Cloud Map services not listed here (%s): it cannot be deleted" % (
                current.namespace["name"], ", ".join(others)))
        report = Action("delete", "service_discovery_namespace", current.namespace["name"],
                        reason="state=absent and delete_cluster", before=current.namespace)
        plan.actions.append(act.DeleteNamespace(report, namespace_id=current.namespace["id"]))
    plan.actions.extend(_plan_absent_providers(params, current))
    return plan


def _plan_absent_providers(params: Mapping[str, Any], current: Current) -> List[act.StackAction]:
    """Listed Auto Scaling group providers: off the cluster (unless it is deleted), then deleted."""
    cluster_opts = params.get("cluster") or {}
    names = [p["name"] for p in cluster_opts.get("autoscaling_group_providers") or []
             if p["name"] in current.capacity_providers]
    out: List[act.StackAction] = []
    doc = current.cluster_doc
    attached = [n for n in names if doc is not None and n in (doc.get("capacityProviders") or [])]
    if attached and not params.get("delete_cluster"):
        before = {k: doc.get(k) for k in ("capacityProviders", "defaultCapacityProviderStrategy")}  # type: ignore[union-attr]
        after = {"capacityProviders": [n for n in before["capacityProviders"] if n not in attached],
                 "defaultCapacityProviderStrategy": [s for s in before["defaultCapacityProviderStrategy"] or []
                                                     if s["capacityProvider"] not in attached]}
        report = Action("update", "cluster_capacity_providers", cluster_opts["name"],
                        reason="state=absent: capacity providers %s leave the cluster" % ", ".join(attached),
                        before=before, after=after, changes=differences(before, after))
        out.append(act.PutClusterCapacityProviders(report, providers=tuple(after["capacityProviders"]),
                                                   strategy=tuple(after["defaultCapacityProviderStrategy"])))
    for name in names:
        before_cp = current_capacity_provider(current.capacity_providers[name])
        out.append(act.DeleteCapacityProvider(Action("delete", "capacity_provider", name, reason="state=absent",
                                                     before=before_cp), name=name))
    return out
