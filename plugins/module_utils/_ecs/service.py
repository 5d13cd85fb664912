# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ECS services: desired and current state as comparable documents, and the service plan.

Both sides are camelCase documents shaped like ``describe_services`` output with AWS's
defaults filled in.  The desired document holds only what the user manages: an option left out
is not managed (its current value is kept), except at creation, where ecs_stack applies its
defaults (one task, spread across availability zones on EC2).

What ecs_stack never does to an existing service: change its task definition revision (that is
ecs_rolling_deploy's job; differences are reported as drift), nor set its desired count while
Application Auto Scaling manages it.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences, prune, sort_list, tags_to_dict
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError

SPREAD_ACROSS_AZS = [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
# What UpdateService can change in place; anything else needs a new service.
UPDATABLE = (
    "desiredCount", "capacityProviderStrategy", "deploymentConfiguration", "networkConfiguration",
    "placementConstraints", "placementStrategy", "platformVersion", "healthCheckGracePeriodSeconds",
    "enableExecuteCommand", "enableECSManagedTags", "loadBalancers", "propagateTags", "serviceRegistries",
)
NOT_UPDATABLE = {
    "launchType": "launch type",
    "schedulingStrategy": "scheduling strategy",
}
LIVE_STATUSES = ("ACTIVE", "DRAINING")


def normalise_strategy(items: Optional[List[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """A capacity provider strategy with AWS's defaults (weight 0, base 0), order-free."""
    return sort_list({"capacityProvider": s.get("capacityProvider") or s.get("capacity_provider"),
                      "weight": int(s.get("weight") or 0), "base": int(s.get("base") or 0)} for s in items or [])


def _network(conf: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    vpc = (conf or {}).get("awsvpcConfiguration")
    if not vpc:
        return None
    return {"awsvpcConfiguration": {
        "subnets": sorted(vpc.get("subnets") or []),
        "securityGroups": sorted(vpc.get("securityGroups") or []),
        "assignPublicIp": vpc.get("assignPublicIp") or "DISABLED",
    }}


STRATEGIES = ("ROLLING", "BLUE_GREEN", "CANARY", "LINEAR")
# ECS's lifecycle stages in the order a deployment passes them (DeploymentLifecycleHook.lifecycleStages).
LIFECYCLE_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
                    "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT")
# DeploymentLifecycleHookTimeoutConfiguration's documented defaults.
HOOK_TIMEOUT_MINUTES = 1440
HOOK_TIMEOUT_ACTION = "ROLLBACK"
# The configuration block that belongs to one strategy only ("Only valid when the deployment strategy is ...").
STRATEGY_BLOCKS = {"canaryConfiguration": "CANARY", "linearConfiguration": "LINEAR"}


def normalise_hook(hook: Mapping[str, Any]) -> Dict[str, Any]:
    """A lifecycle hook with the documented timeout defaults (1440 minutes, ROLLBACK), stages in lifecycle order."""
    timeout = dict(hook.get("timeoutConfiguration") or {})
    stages = list(hook.get("lifecycleStages") or [])
    return prune({
        "targetType": hook.get("targetType"),
        "hookTargetArn": hook.get("hookTargetArn"),
        "roleArn": hook.get("roleArn"),
        "lifecycleStages": sorted(stages, key=lambda s: LIFECYCLE_STAGES.index(s) if s in LIFECYCLE_STAGES else 99),
        "timeoutConfiguration": {"timeoutInMinutes": int(timeout.get("timeoutInMinutes") or HOOK_TIMEOUT_MINUTES),
                                 "action": timeout.get("action") or HOOK_TIMEOUT_ACTION},
    })


def strategy_blocks_only(conf: Mapping[str, Any]) -> Dict[str, Any]:
    """``conf`` without the canary or linear block of a strategy it does not use (ECS ignores them there)."""
    strategy = conf.get("strategy") or "ROLLING"
    return {k: v for k, v in conf.items() if STRATEGY_BLOCKS.get(k, strategy) == strategy}


def _deployment_configuration(conf: Optional[Mapping[str, Any]], scheduling: str) -> Dict[str, Any]:
    """AWS's defaults: 100/200 % for REPLICA services, 0/100 % for DAEMON; breaker off; strategy ROLLING;
    no lifecycle hooks (their timeout defaults filled in)."""
    conf = dict(conf or {})
    out: Dict[str, Any] = {
        "minimumHealthyPercent": conf.get("minimumHealthyPercent", 0 if scheduling == "DAEMON" else 100),
        "maximumPercent": conf.get("maximumPercent", 100 if scheduling == "DAEMON" else 200),
        "deploymentCircuitBreaker": {
            "enable": bool((conf.get("deploymentCircuitBreaker") or {}).get("enable", False)),
            "rollback": bool((conf.get("deploymentCircuitBreaker") or {}).get("rollback", False)),
        },
        "strategy": conf.get("strategy") or "ROLLING",
        "lifecycleHooks": [normalise_hook(h) for h in conf.get("lifecycleHooks") or []],
    }
    alarms = conf.get("alarms")
    if alarms and alarms.get("alarmNames"):
        out["alarms"] = {"alarmNames": sorted(alarms.get("alarmNames") or []),
                         "enable": bool(alarms.get("enable", False)), "rollback": bool(alarms.get("rollback", False))}
    for key, value in conf.items():
        if key not in out and key not in ("alarms", "deploymentCircuitBreaker") and value is not None:
            out[key] = value
    return strategy_blocks_only(out)


def _advanced(conf: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    if not conf:
        return None
    return prune({k: conf.get(k) for k in ("alternateTargetGroupArn", "productionListenerRule", "testListenerRule",
                                           "roleArn")}) or None


def _load_balancers(items: Optional[List[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    return sort_list(prune({"targetGroupArn": lb.get("targetGroupArn"), "loadBalancerName": lb.get("loadBalancerName"),
                            "containerName": lb.get("containerName"), "containerPort": lb.get("containerPort"),
                            "advancedConfiguration": _advanced(lb.get("advancedConfiguration"))})
                     for lb in items or [])


def _registries(items: Optional[List[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    return sort_list(prune(dict(r)) for r in items or [])


def current_service(described: Mapping[str, Any]) -> Dict[str, Any]:
    """A ``describe_services`` entry as a comparable document (AWS's defaults filled in)."""
    scheduling = described.get("schedulingStrategy") or "REPLICA"
    doc = {
        "launchType": described.get("launchType"),
        "capacityProviderStrategy": normalise_strategy(described.get("capacityProviderStrategy")),
        "platformVersion": described.get("platformVersion"),
        "desiredCount": described.get("desiredCount"),
        "networkConfiguration": _network(described.get("networkConfiguration")),
        "loadBalancers": _load_balancers(described.get("loadBalancers")),
        "healthCheckGracePeriodSeconds": described.get("healthCheckGracePeriodSeconds") or 0,
        "deploymentConfiguration": _deployment_configuration(described.get("deploymentConfiguration"), scheduling),
        "placementStrategy": list(described.get("placementStrategy") or []),
        "placementConstraints": sort_list(described.get("placementConstraints") or []),
        "serviceRegistries": _registries(described.get("serviceRegistries")),
        "enableExecuteCommand": bool(described.get("enableExecuteCommand", False)),
        "enableECSManagedTags": bool(described.get("enableECSManagedTags", False)),
        "propagateTags": described.get("propagateTags") or "NONE",
        "tags": tags_to_dict(described.get("tags")),
        "schedulingStrategy": scheduling,
    }
    return {k: v for k, v in doc.items() if v is not None}


def desired_service(opts: Mapping[str, Any], target_groups: Mapping[str, str]) -> Dict[str, Any]:
    """The managed part of a service from its options (``target_groups``: name or ARN -> ARN).

    Only options the user set appear; ``desiredCount`` is added by the planner, which knows
    whether the service exists and whether autoscaling manages it.
    """
    doc: Dict[str, Any] = {}
    if opts.get("scheduling_strategy"):
        doc["schedulingStrategy"] = opts["scheduling_strategy"]
    if opts.get("launch_type"):
        doc["launchType"] = opts["launch_type"]
    if opts.get("capacity_provider_strategy") is not None:
        doc["capacityProviderStrategy"] = normalise_strategy(opts["capacity_provider_strategy"])
    if opts.get("platform_version"):
        doc["platformVersion"] = opts["platform_version"]
    net = opts.get("network_configuration")
    if net:
        assign = net.get("assign_public_ip")
        doc["networkConfiguration"] = {"awsvpcConfiguration": {
            "subnets": sorted(net.get("subnets") or []),
            "securityGroups": sorted(net.get("security_groups") or []),
            "assignPublicIp": "ENABLED" if assign else "DISABLED",
        }}
    if opts.get("load_balancers") is not None:
        doc["loadBalancers"] = _load_balancers(
            [{"targetGroupArn": target_groups.get(lb["target_group"], lb["target_group"]),
              "containerName": lb.get("container_name"), "containerPort": lb.get("container_port"),
              "advancedConfiguration": _desired_advanced(lb.get("advanced_configuration"), target_groups)}
             for lb in opts["load_balancers"]])
    if opts.get("health_check_grace_period") is not None:
        doc["healthCheckGracePeriodSeconds"] = opts["health_check_grace_period"]
    dc = opts.get("deployment_configuration")
    if dc:
        conf: Dict[str, Any] = {}
        if dc.get("minimum_healthy_percent") is not None:
            conf["minimumHealthyPercent"] = dc["minimum_healthy_percent"]
        if dc.get("maximum_percent") is not None:
            conf["maximumPercent"] = dc["maximum_percent"]
        breaker = dc.get("circuit_breaker")
        if breaker:
            conf["deploymentCircuitBreaker"] = {"enable": bool(breaker.get("enable", True)),
                                                "rollback": bool(breaker.get("rollback", True))}
        alarms = dc.get("alarms")
        if alarms:
            conf["alarms"] = {"alarmNames": sorted(alarms.get("names") or []), "enable": bool(alarms.get("enable", True)),
                              "rollback": bool(alarms.get("rollback", True))}
        conf.update(_desired_strategy(dc))
        doc["deploymentConfiguration"] = conf
    if opts.get("placement_strategy") is not None:
        doc["placementStrategy"] = [prune({"type": p.get("type"), "field": p.get("field")}) for p in opts["placement_strategy"]]
    if opts.get("placement_constraints") is not None:
        doc["placementConstraints"] = sort_list(prune({"type": p.get("type"), "expression": p.get("expression")})
                                                for p in opts["placement_constraints"])
    if opts.get("service_registries") is not None:
        doc["serviceRegistries"] = _registries([{"registryArn": r.get("registry_arn"), "port": r.get("port"),
                                                 "containerName": r.get("container_name"),
                                                 "containerPort": r.get("container_port")}
                                                for r in opts["service_registries"]])
    for option, key in (("enable_execute_command", "enableExecuteCommand"), ("enable_ecs_managed_tags", "enableECSManagedTags")):
        if opts.get(option) is not None:
            doc[key] = bool(opts[option])
    if opts.get("propagate_tags"):
        doc["propagateTags"] = opts["propagate_tags"]
    if opts.get("tags") is not None:
        doc["tags"] = {str(k): str(v) for k, v in opts["tags"].items()}
    return doc


def _desired_advanced(conf: Optional[Mapping[str, Any]], target_groups: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    if not conf:
        return None
    alternate = conf.get("alternate_target_group")
    return _advanced({"alternateTargetGroupArn": target_groups.get(alternate, alternate) if alternate else None,
                      "productionListenerRule": conf.get("production_listener_rule"),
                      "testListenerRule": conf.get("test_listener_rule"), "roleArn": conf.get("role_arn")})


def _desired_strategy(dc: Mapping[str, Any]) -> Dict[str, Any]:
    """The release strategy part of deploymentConfiguration: strategy (omitted: ROLLING), bake time, the
    strategy's canary or linear block, lifecycle hooks (given: managed, an empty list removes them)."""
    conf: Dict[str, Any] = {"strategy": dc.get("strategy") or "ROLLING"}
    if dc.get("bake_time_in_minutes") is not None:
        conf["bakeTimeInMinutes"] = dc["bake_time_in_minutes"]
    canary = dc.get("canary_configuration")
    if canary:
        conf["canaryConfiguration"] = prune({"canaryPercent": _float(canary.get("canary_percent")),
                                             "canaryBakeTimeInMinutes": canary.get("canary_bake_time_in_minutes")})
    linear = dc.get("linear_configuration")
    if linear:
        conf["linearConfiguration"] = prune({"stepPercent": _float(linear.get("step_percent")),
                                             "stepBakeTimeInMinutes": linear.get("step_bake_time_in_minutes")})
    if dc.get("lifecycle_hooks") is not None:
        conf["lifecycleHooks"] = [normalise_hook({
            "targetType": h.get("target_type"), "hookTargetArn": h.get("hook_target_arn"), "roleArn": h.get("role_arn"),
            "lifecycleStages": h.get("lifecycle_stages"),
            "timeoutConfiguration": {"timeoutInMinutes": h.get("timeout_in_minutes"), "action": h.get("timeout_action")}})
            for h in dc["lifecycle_hooks"]]
    return strategy_blocks_only(conf)


def _float(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def merge(current: Mapping[str, Any], desired: Mapping[str, Any], atomic: tuple = ("tags",)) -> Dict[str, Any]:
    """``current`` with ``desired`` laid over it: dicts merge key by key, lists and ``atomic`` keys replace."""
    out = copy.deepcopy(dict(current))
    for key, value in desired.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key not in atomic:
            out[key] = merge(out[key], value, ())
        else:
            out[key] = copy.deepcopy(value)
    return out


def uses_ec2(doc: Mapping[str, Any], cluster_default_strategy: List[Mapping[str, Any]]) -> bool:
    """Whether the service's tasks land on EC2 instances (where placement strategies apply)."""
    if doc.get("launchType"):
        return doc["launchType"] == "EC2"
    strategy = doc.get("capacityProviderStrategy") or cluster_default_strategy
    if strategy:
        return any(s.get("capacityProvider") not in ("FARGATE", "FARGATE_SPOT") for s in strategy)
    return True


def creation_document(desired: Mapping[str, Any], desired_count: int, cluster_default_strategy: List[Mapping[str, Any]],
                      requires_compatibilities: List[str]) -> Dict[str, Any]:
    """The full document of a service to create: AWS's defaults under the desired values."""
    base = current_service({"schedulingStrategy": desired.get("schedulingStrategy") or "REPLICA"})
    base.pop("desiredCount", None)
    doc = merge(base, desired)
    if doc["schedulingStrategy"] == "REPLICA":
        doc["desiredCount"] = desired_count
    fargate_only = requires_compatibilities == ["FARGATE"]
    if "placementStrategy" not in desired and not fargate_only and uses_ec2(doc, cluster_default_strategy):
        doc["placementStrategy"] = copy.deepcopy(SPREAD_ACROSS_AZS)
    return doc


def plan_service_update(name: str, current: Mapping[str, Any], desired: Mapping[str, Any]) -> List[Action]:
    """Actions that bring an existing service from ``current`` to ``desired`` (both normalised).

    Raises ``EcsError`` when a difference cannot be applied in place.
    """
    desired = on_fargate_provider(current, desired)
    desired = pair_as_described(current, desired)
    after = merge(current, desired)
    if isinstance(after.get("deploymentConfiguration"), Mapping):
        # A new strategy drops the block of the one it leaves (canary or linear configuration).
        after["deploymentConfiguration"] = strategy_blocks_only(after["deploymentConfiguration"])
    actions: List[Action] = []
    for key, label in NOT_UPDATABLE.items():
        if key in desired and desired[key] != current.get(key):
            if key == "launchType" and not current.get(key):
                raise EcsError("service %s runs on the capacity provider strategy %s: ECS moves a service back to a "
                               "launch type only when it was created with that launch type; give a capacity provider "
                               "strategy instead (for Fargate: FARGATE), or delete the service (state=absent) and "
                               "create it again" % (name, _strategy_text(current.get("capacityProviderStrategy"))))
            raise EcsError("service %s: the %s cannot change in place (%s -> %s); delete the service (state=absent) "
                           "and create it again" % (name, label, current.get(key), desired[key]))
    # A service created with a launch type moves to a capacity provider strategy in place (UpdateService's
    # documented transitions: Fargate launch type to an Auto Scaling group provider, EC2 launch type to
    # Fargate's); the release that follows starts its tasks there.
    body_before = {k: current.get(k) for k in UPDATABLE if k in desired}
    body_after = {k: after.get(k) for k in UPDATABLE if k in desired}
    changes = differences(body_before, body_after)
    if changes:
        actions.append(Action("update", "service", name, reason="service settings differ",
                              before={k: v for k, v in body_before.items() if body_before[k] != body_after[k]},
                              after={k: v for k, v in body_after.items() if body_before[k] != body_after[k]},
                              changes=changes))
    if "tags" in desired and desired["tags"] != current.get("tags", {}):
        actions.append(Action("tag", "service", name, reason="tags differ", before=current.get("tags", {}),
                              after=desired["tags"], changes=differences(current.get("tags", {}), desired["tags"])))
    return actions


def pair_as_described(current: Mapping[str, Any], desired: Mapping[str, Any]) -> Mapping[str, Any]:
    """``desired`` with each blue/green target group pair in the order the service holds it.

    The pair is what the user manages; which of its two groups is ``targetGroupArn`` and which the
    alternate is ECS's once it has deployed (the one serving production is read from the listener
    rules' weights, never from here): a pair ECS holds the other way round is no change.
    """
    held = {(lb.get("containerName"), lb.get("containerPort")): lb for lb in current.get("loadBalancers") or []}
    out_lbs, swapped = [], False
    for lb in desired.get("loadBalancers") or []:
        adv = lb.get("advancedConfiguration") or {}
        now = held.get((lb.get("containerName"), lb.get("containerPort"))) or {}
        now_adv = now.get("advancedConfiguration") or {}
        if adv.get("alternateTargetGroupArn") and now_adv.get("alternateTargetGroupArn") == lb.get("targetGroupArn") \
                and now.get("targetGroupArn") == adv.get("alternateTargetGroupArn"):
            lb = dict(lb, targetGroupArn=now["targetGroupArn"],
                      advancedConfiguration=dict(adv, alternateTargetGroupArn=now_adv["alternateTargetGroupArn"]))
            swapped = True
        out_lbs.append(lb)
    if not swapped:
        return desired
    return dict(desired, loadBalancers=sort_list(out_lbs))


FARGATE_STRATEGY = [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]


def on_fargate_provider(current: Mapping[str, Any], desired: Mapping[str, Any]) -> Mapping[str, Any]:
    """``desired`` for a service that runs on a capacity provider strategy: the Fargate launch type is asked
    of it as the FARGATE capacity provider, which runs its tasks the same way.

    ECS moves such a service back to a launch type only when it was created with that launch type, but it
    moves it to Fargate's capacity provider in place (UpdateService: "Update the Amazon EC2 capacity provider
    to a Fargate capacity provider"). Once it is there, launch type FARGATE and that strategy compare equal.
    """
    if desired.get("launchType") != "FARGATE" or current.get("launchType") or not current.get("capacityProviderStrategy"):
        return desired
    out = {k: v for k, v in desired.items() if k != "launchType"}
    out["capacityProviderStrategy"] = copy.deepcopy(FARGATE_STRATEGY)
    return out


def _strategy_text(strategy: Optional[List[Mapping[str, Any]]]) -> str:
    return "[%s]" % ", ".join("%s weight %s base %s" % (s.get("capacityProvider"), s.get("weight"), s.get("base"))
                              for s in strategy or [])


def api_deployment_configuration(conf: Mapping[str, Any], creating: bool = False) -> Dict[str, Any]:
    """A deploymentConfiguration for CreateService/UpdateService: a ROLLING service without hooks is sent
    without an empty hook list, and a new one without the default strategy (as before strategies existed)."""
    out = copy.deepcopy(dict(conf))
    if out.get("strategy", "ROLLING") == "ROLLING" and not out.get("lifecycleHooks"):
        out.pop("lifecycleHooks", None)
        if creating:
            out.pop("strategy", None)
    return out


def update_kwargs(after: Mapping[str, Any]) -> Dict[str, Any]:
    """UpdateService arguments for the changed keys of an update action's ``after``."""
    out = {k: copy.deepcopy(v) for k, v in after.items() if k in UPDATABLE}
    if isinstance(out.get("deploymentConfiguration"), Mapping):
        out["deploymentConfiguration"] = api_deployment_configuration(out["deploymentConfiguration"])
    return out


def create_kwargs(cluster: str, name: str, doc: Mapping[str, Any], task_definition: str) -> Dict[str, Any]:
    """CreateService arguments from a creation document."""
    kwargs: Dict[str, Any] = {"cluster": cluster, "serviceName": name, "taskDefinition": task_definition}
    for key, value in doc.items():
        if key == "tags":
            if value:
                kwargs["tags"] = [{"key": k, "value": v} for k, v in sorted(value.items())]
        elif key == "capacityProviderStrategy":
            if value:
                kwargs[key] = value
        elif key == "deploymentConfiguration":
            kwargs[key] = api_deployment_configuration(value, creating=True)
        elif key in ("healthCheckGracePeriodSeconds",):
            if doc.get("loadBalancers") or value:
                kwargs[key] = value
        elif value is not None and value != []:
            kwargs[key] = copy.deepcopy(value)
    if kwargs.get("schedulingStrategy") == "DAEMON":
        kwargs.pop("desiredCount", None)
        kwargs.pop("placementStrategy", None)
    return kwargs


def is_live(described: Optional[Mapping[str, Any]]) -> bool:
    """A service that exists for ECS (ACTIVE or still DRAINING); INACTIVE ones are gone."""
    return bool(described) and described.get("status") in LIVE_STATUSES
