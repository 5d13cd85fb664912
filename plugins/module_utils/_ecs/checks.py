# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecs_stack's validation, before any write: the options alone, then the options against what was read.

Each failure is a ``ValidationError`` naming the option path and its value.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cloudmap import validate_discovery, validate_namespace_name
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import desired_cluster
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import LIFECYCLE_STAGES, is_live
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.state import (
    Current,
    asg_name_of,
    protects,
    referenced_capacity_providers,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_definition_from_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import (
    BUILTIN_CAPACITY_PROVIDERS,
    validate_load_balancers,
    validate_task_definition,
)


def validate_options(params: Mapping[str, Any], region: Optional[str]) -> Dict[str, Dict[str, Any]]:
    """Every check that needs no AWS call; returns the RegisterTaskDefinition arguments by service."""
    cluster_name = (params.get("cluster") or {}).get("name") or ""
    state = params.get("state") or "present"
    if not cluster_name:
        raise ValidationError("cluster.name", cluster_name, "a cluster name is required")
    taskdefs: Dict[str, Dict[str, Any]] = {}
    namespace = (params.get("cluster") or {}).get("service_discovery_namespace")
    if namespace:
        validate_namespace_name(namespace.get("name"), "cluster.service_discovery_namespace.name")
        if state == "present" and not namespace.get("vpc"):
            raise ValidationError("cluster.service_discovery_namespace.vpc", namespace.get("vpc"),
                                  "a private DNS namespace needs the VPC it answers in (required with state=present)")
    seen = set()
    discovery_names: Dict[str, str] = {}
    for i, svc in enumerate(params.get("services") or []):
        where = "services[%d]" % i
        name = svc.get("name")
        if not name:
            raise ValidationError(where + ".name", name, "every service needs a name")
        if name in seen:
            raise ValidationError(where + ".name", name, "service listed twice")
        seen.add(name)
        if state == "absent":
            continue
        if svc.get("launch_type") and svc.get("capacity_provider_strategy"):
            raise ValidationError(where + ".capacity_provider_strategy", svc["capacity_provider_strategy"],
                                  "launch_type and capacity_provider_strategy are mutually exclusive")
        kwargs = None
        if svc.get("task_definition"):
            td = dict(svc["task_definition"])
            td.setdefault("family", None)
            td["family"] = td["family"] or name
            kwargs = task_definition_from_options(td, default_region=region)
            validate_task_definition(kwargs, where + ".task_definition")
            _validate_launch_type(svc, kwargs, where)
            taskdefs[name] = kwargs
        validate_load_balancers(svc.get("load_balancers") or [], kwargs, where + ".load_balancers")
        _validate_autoscaling(svc, where)
        if svc.get("desired_count") is not None and svc["desired_count"] < 0:
            raise ValidationError(where + ".desired_count", svc["desired_count"], "must be 0 or more")
        _validate_deployment_configuration(svc.get("deployment_configuration") or {}, where)
        _validate_release_strategy(svc, where)
        net = svc.get("network_configuration")
        if net is not None and not net.get("subnets"):
            raise ValidationError(where + ".network_configuration.subnets", net.get("subnets"), "at least one subnet")
        containers = None
        if kwargs is not None:
            containers = {c["name"]: [pm.get("containerPort") for pm in c.get("portMappings") or []]
                          for c in kwargs.get("containerDefinitions") or []}
        # The Linux default network mode is bridge (ECS's, for a definition that names none).
        network_mode = (kwargs.get("networkMode") or "bridge") if kwargs is not None else None
        validate_discovery(svc, where, network_mode, bool(namespace), containers)
        if svc.get("service_discovery"):
            sd_name = svc["service_discovery"].get("name") or name
            if sd_name in discovery_names:
                raise ValidationError(where + ".service_discovery.name", sd_name,
                                      "also the Cloud Map service of %s" % discovery_names[sd_name])
            discovery_names[sd_name] = name
    return taskdefs


def _validate_launch_type(svc: Mapping[str, Any], kwargs: Mapping[str, Any], where: str) -> None:
    """A Fargate service needs a definition registered as Fargate-compatible (AWS checks it at CreateService)."""
    providers = [s["capacity_provider"] for s in svc.get("capacity_provider_strategy") or []]
    fargate = svc.get("launch_type") == "FARGATE" or (providers and all(p.startswith("FARGATE") for p in providers))
    if fargate and "FARGATE" not in (kwargs.get("requiresCompatibilities") or []):
        raise ValidationError(where + ".task_definition.requires_compatibilities", kwargs.get("requiresCompatibilities"),
                              "the service runs on Fargate: the task definition must list FARGATE")


def _validate_deployment_configuration(conf: Mapping[str, Any], where: str) -> None:
    """ECS's bounds: at most 100 % kept healthy, at least 100 % allowed running."""
    low, high = conf.get("minimum_healthy_percent"), conf.get("maximum_percent")
    if low is not None and not 0 <= low <= 100:
        raise ValidationError(where + ".deployment_configuration.minimum_healthy_percent", low, "must be in 0..100")
    if high is not None and high < 100:
        raise ValidationError(where + ".deployment_configuration.maximum_percent", high, "must be 100 or more")


def _in_range(value: Any, low: float, high: float, path: str, what: str = "") -> None:
    if value is not None and not low <= value <= high:
        raise ValidationError(path, value, "must be in %s..%s%s" % (low, high, what))


def _validate_release_strategy(svc: Mapping[str, Any], where: str) -> None:
    """ECS's rules for BLUE_GREEN, CANARY and LINEAR (DeploymentConfiguration, LoadBalancer.advancedConfiguration)."""
    conf = svc.get("deployment_configuration") or {}
    path = where + ".deployment_configuration"
    strategy = conf.get("strategy") or "ROLLING"
    _in_range(conf.get("bake_time_in_minutes"), 0, 1440, path + ".bake_time_in_minutes")
    canary_fields = (("canary_percent", 0.1, 100.0), ("canary_bake_time_in_minutes", 0, 1440))
    linear_fields = (("step_percent", 3.0, 100.0), ("step_bake_time_in_minutes", 0, 1440))
    for block, owner, fields in (("canary_configuration", "CANARY", canary_fields),
                                 ("linear_configuration", "LINEAR", linear_fields)):
        given = conf.get(block)
        if not given:
            continue
        if strategy != owner:
            raise ValidationError("%s.%s" % (path, block), given, "only with strategy %s (strategy is %s)" % (owner, strategy))
        for field, low, high in fields:
            value = given.get(field)
            _in_range(value, low, high, "%s.%s.%s" % (path, block, field))
            if field.endswith("_percent") and value is not None and abs(round(value * 10) - value * 10) > 1e-6:
                raise ValidationError("%s.%s.%s" % (path, block, field), value, "must be a multiple of 0.1")
    for j, hook in enumerate(conf.get("lifecycle_hooks") or []):
        hpath = "%s.lifecycle_hooks[%d]" % (path, j)
        if strategy == "ROLLING":
            raise ValidationError(hpath, hook, "lifecycle hooks need strategy BLUE_GREEN, CANARY or LINEAR")
        stages = hook.get("lifecycle_stages") or []
        if not stages:
            raise ValidationError(hpath + ".lifecycle_stages", stages, "at least one lifecycle stage")
        for stage in stages:
            if stage not in LIFECYCLE_STAGES:
                raise ValidationError(hpath + ".lifecycle_stages", stage, "not a lifecycle stage (%s)" % ", ".join(LIFECYCLE_STAGES))
        if hook.get("target_type") == "AWS_LAMBDA" and not (hook.get("hook_target_arn") and hook.get("role_arn")):
            raise ValidationError(hpath, hook, "an AWS_LAMBDA hook needs hook_target_arn (the function) and role_arn")
        if hook.get("target_type") == "PAUSE" and hook.get("hook_target_arn"):
            raise ValidationError(hpath + ".hook_target_arn", hook["hook_target_arn"], "a PAUSE hook has no target")
        _in_range(hook.get("timeout_in_minutes"), 1, 20160, hpath + ".timeout_in_minutes")
    advanced = [(j, lb["advanced_configuration"]) for j, lb in enumerate(svc.get("load_balancers") or [])
                if lb.get("advanced_configuration")]
    if strategy == "ROLLING":
        for j, adv in advanced:
            raise ValidationError("%s.load_balancers[%d].advanced_configuration" % (where, j), adv,
                                  "only with strategy BLUE_GREEN, CANARY or LINEAR")
        return
    if svc.get("load_balancers") and not advanced:
        raise ValidationError(where + ".load_balancers", svc["load_balancers"], "strategy %s shifts traffic between "
                              "two target groups: give each binding advanced_configuration" % strategy)
    if strategy == "BLUE_GREEN" and conf.get("bake_time_in_minutes") is None:
        raise ValidationError(path + ".bake_time_in_minutes", None, "required with strategy BLUE_GREEN")
    for j, adv in advanced:
        if adv.get("alternate_target_group") == svc["load_balancers"][j].get("target_group"):
            raise ValidationError("%s.load_balancers[%d].advanced_configuration.alternate_target_group" % (where, j),
                                  adv["alternate_target_group"], "must differ from target_group")


def _validate_autoscaling(svc: Mapping[str, Any], where: str) -> None:
    auto = svc.get("autoscaling")
    if not auto:
        return
    low, high = auto.get("min_capacity"), auto.get("max_capacity")
    if low is None or high is None or low < 0 or high < low:
        raise ValidationError(where + ".autoscaling", {"min_capacity": low, "max_capacity": high},
                              "needs 0 <= min_capacity <= max_capacity")
    if svc.get("scheduling_strategy") == "DAEMON":
        raise ValidationError(where + ".autoscaling", auto, "DAEMON services run one task per instance; they do not scale")
    names = set()
    for j, policy in enumerate(auto.get("policies") or []):
        if policy.get("name") in names:
            raise ValidationError("%s.autoscaling.policies[%d].name" % (where, j), policy.get("name"), "listed twice")
        names.add(policy.get("name"))
        if policy.get("target") is None or policy["target"] <= 0:
            raise ValidationError("%s.autoscaling.policies[%d].target" % (where, j), policy.get("target"),
                                  "must be a positive number")
        if policy.get("metric") == "alb_request_count" and not policy.get("resource_label") and not svc.get("load_balancers"):
            raise ValidationError("%s.autoscaling.policies[%d].resource_label" % (where, j), None,
                                  "alb_request_count needs resource_label or a load balancer binding to derive it from")
    count = svc.get("desired_count")
    if count is not None and not low <= count <= high:
        raise ValidationError(where + ".desired_count", count, "outside autoscaling min_capacity..max_capacity (%s..%s)"
                              % (low, high))


def validate_against(params: Mapping[str, Any], current: Current, taskdefs: Mapping[str, Mapping[str, Any]],
                     can_protect: bool, check_mode: bool = False) -> Dict[str, str]:
    """Checks that need what was read; still before any write.

    In check mode a target group that does not exist yet is taken as one that an earlier task of
    the same run creates (alb_routes owns target groups): the real run checks it before writing.

    Returns the secret references of the services to create (option path -> reference), which
    the runner checks against SSM and Secrets Manager.
    """
    references: Dict[str, str] = {}
    if (params.get("state") or "present") == "absent":
        return references
    cluster = params.get("cluster") or {}
    cluster_name = cluster.get("name")
    for i, opts in enumerate(cluster.get("autoscaling_group_providers") or []):
        arn = opts.get("auto_scaling_group_arn")
        if not arn:
            raise ValidationError("cluster.autoscaling_group_providers[%d].auto_scaling_group_arn" % i, arn,
                                  "required with state=present")
        if protects(opts, can_protect) and asg_name_of(arn) not in current.auto_scaling_groups:
            raise ValidationError("cluster.autoscaling_group_providers[%d].auto_scaling_group_arn" % i, arn,
                                  "no such Auto Scaling group in this region")
    asg_names = {p["name"] for p in cluster.get("autoscaling_group_providers") or []}
    known = set(BUILTIN_CAPACITY_PROVIDERS) | asg_names | set(current.capacity_providers)
    for name in referenced_capacity_providers(params):
        if name not in known:
            raise ValidationError("capacity provider", name, "no such capacity provider (FARGATE, FARGATE_SPOT, one "
                                  "listed in cluster.autoscaling_group_providers, or an existing one)")
    desired = desired_cluster(cluster)
    cluster_providers = set(desired.get("capacityProviders") or []) | set(
        (current.cluster_doc or {}).get("capacityProviders") or [])
    for i, svc in enumerate(params.get("services") or []):
        where = "services[%d]" % i
        for j, strategy in enumerate(svc.get("capacity_provider_strategy") or []):
            if strategy["capacity_provider"] not in cluster_providers:
                raise ValidationError("%s.capacity_provider_strategy[%d].capacity_provider" % (where, j),
                                      strategy["capacity_provider"], "not a capacity provider of cluster %s (%s)" % (
                                          cluster_name, ", ".join(sorted(cluster_providers)) or "none"))
        described = current.services.get(svc["name"])
        _validate_target_groups(svc, where, current, described, check_mode)
        if is_live(described):
            continue
        kwargs = taskdefs.get(svc["name"])
        if kwargs is None:
            raise ValidationError(where + ".task_definition", None, "service %s does not exist: its first task "
                                  "definition is needed to create it" % svc["name"])
        _validate_target_types(svc, where, current, kwargs.get("networkMode") or "bridge")
        if kwargs.get("networkMode") == "awsvpc" and not svc.get("network_configuration"):
            raise ValidationError(where + ".network_configuration", None,
                                  "the task definition uses network_mode awsvpc: subnets (and security groups) are needed")
        for j, container in enumerate(kwargs.get("containerDefinitions") or []):
            for secret in container.get("secrets") or []:
                references["%s.task_definition.containers[%d].secrets.%s" % (where, j, secret["name"])] = secret["valueFrom"]
    return references


def _validate_target_groups(svc: Mapping[str, Any], where: str, current: Current,
                            described: Optional[Mapping[str, Any]], check_mode: bool = False) -> None:
    """Target groups exist and, where ECS is about to bind them, belong to a load balancer.

    CreateService and UpdateService reject a target group no listener or rule forwards to.
    """
    bound = {lb.get("targetGroupArn") for lb in (described or {}).get("loadBalancers") or []} \
        if is_live(described) else set()
    for j, lb in enumerate(svc.get("load_balancers") or []):
        alternate = (lb.get("advanced_configuration") or {}).get("alternate_target_group")
        if alternate and alternate not in current.target_groups and not check_mode:
            raise ValidationError("%s.load_balancers[%d].advanced_configuration.alternate_target_group" % (where, j),
                                  alternate, "no such target group in this region")
        group = current.target_groups.get(lb["target_group"])
        if group is None and check_mode:
            continue
        if group is None:
            raise ValidationError("%s.load_balancers[%d].target_group" % (where, j), lb["target_group"],
                                  "no such target group in this region")
        if group["TargetGroupArn"] not in bound and not group.get("LoadBalancerArns"):
            raise ValidationError("%s.load_balancers[%d].target_group" % (where, j), lb["target_group"],
                                  "no load balancer forwards to this target group yet (add a listener or rule "
                                  "first, for example with shipyard.ecs.alb_routes)")


def _validate_target_types(svc: Mapping[str, Any], where: str, current: Current, network_mode: str) -> None:
    """awsvpc tasks register by IP address, bridge and host tasks by instance (CreateService rejects a mismatch)."""
    wanted = "ip" if network_mode == "awsvpc" else "instance"
    for j, lb in enumerate(svc.get("load_balancers") or []):
        if lb["target_group"] not in current.target_groups:
            continue  # check mode: created earlier in the run (_validate_target_groups)
        found = current.target_groups[lb["target_group"]].get("TargetType") or "instance"
        if found != wanted:
            raise ValidationError("%s.load_balancers[%d].target_group" % (where, j), lb["target_group"],
                                  "target type %s does not fit network_mode %s (needs target type %s)" % (
                                      found, network_mode, wanted))
