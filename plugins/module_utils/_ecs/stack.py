# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The runner behind ecs_stack: validate, read, plan, apply.

1. Validate every option that can be checked without AWS.
2. Read, batched: one describe of the cluster, capacity providers in one call, services ten
   per call, task definitions only for the revisions in use (and the latest of a family for
   services still to create), target groups twenty per call, scalable targets fifty per call,
   scaling policies in one paginated call.  Log groups are not ecs_stack's: cloudwatch_stack owns
   them (the awslogs driver needs them before tasks start: create them first).
3. Validate what needs the reads (unknown capacity providers, target groups, new services
   without a task definition, awsvpc without network configuration).
4. Plan: pure functions compare normalised desired and current documents (cluster.py,
   service.py, autoscaling.py).  The plan is what check mode reports and ``--diff`` shows.
5. Apply the plan in dependency order.  Nothing is written before step 5.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import NoopWaiter, Verdict, Waiter, raise_if_failed
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import (
    AppAutoscalingApi,
    AutoScalingApi,
    EcsApi,
    EcsError,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.autoscaling import (
    DIMENSION,
    current_autoscaling,
    desired_autoscaling,
    plan_autoscaling,
    resource_id,
    resource_label,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import (
    create_cluster_kwargs,
    current_capacity_provider,
    current_cluster,
    desired_capacity_provider,
    desired_cluster,
    plan_capacity_provider,
    plan_cluster,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.refs import check_secret_references
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import (
    creation_document,
    create_kwargs,
    current_service,
    desired_service,
    is_live,
    plan_service_update,
    update_kwargs,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import (
    normalise_task_definition,
    task_definition_differences,
    task_definition_from_options,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import (
    BUILTIN_CAPACITY_PROVIDERS,
    is_target_group_arn,
    validate_load_balancers,
    validate_task_definition,
)


@dataclass
class Step:
    """A planned action and how to carry it out."""

    action: Optional[Action]
    run: Callable[[], None]


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


def asg_name_of(arn: str) -> str:
    """The group name at the end of an Auto Scaling group ARN (``...:autoScalingGroupName/NAME``)."""
    return arn.split("autoScalingGroupName/", 1)[-1]


class EcsStack:
    """Shape an ECS cluster, its services and their autoscaling."""

    def __init__(
        self,
        params: Mapping[str, Any],
        ecs: EcsApi,
        autoscaling: AppAutoscalingApi,
        target_groups: Elbv2Api,
        namespaces: Optional[NamespaceReader] = None,
        region: Optional[str] = None,
        check_mode: bool = False,
        waiter: Optional[Waiter] = None,
        secrets: Optional[Tuple[SsmApi, SecretsManagerApi, StsApi]] = None,
        auto_scaling: Optional[AutoScalingApi] = None,
    ) -> None:
        self.params = params
        self.asg = auto_scaling
        self.secret_apis = secrets
        self.ecs = ecs
        self.aas = autoscaling
        self.tg_reader = target_groups
        self.namespaces = namespaces
        self.region = region
        self.check_mode = check_mode
        self.waiter = waiter or (NoopWaiter() if check_mode else Waiter(
            timeout=params.get("wait_timeout") or 600, interval=params.get("poll_interval") or 5.0))
        self.cluster_name: str = (params.get("cluster") or {}).get("name") or ""
        self.services_opts: List[Dict[str, Any]] = list(params.get("services") or [])
        self.state = params.get("state") or "present"
        self.taskdefs: Dict[str, Dict[str, Any]] = {}
        self.warnings: List[str] = []
        self.results: Dict[str, Dict[str, Any]] = {}
        self.registered: Dict[str, str] = {}

    @classmethod
    def from_module(cls, module: Any) -> "EcsStack":
        """Build the runner from an ``AnsibleAWSModule``."""
        return cls(
            module.params,
            EcsApi(module.client("ecs")),
            AppAutoscalingApi(module.client("application-autoscaling")),
            Elbv2Api(module.client("elbv2")),
            NamespaceReader(module.client("servicediscovery")),
            region=module.region,
            check_mode=module.check_mode,
            secrets=(SsmApi(module.client("ssm")), SecretsManagerApi(module.client("secretsmanager")),
                     StsApi(module.client("sts"))),
            auto_scaling=AutoScalingApi(module.client("autoscaling")),
        )

    # ------------------------------------------------------------------------------ run
    def run(self) -> Result:
        """Validate, read, plan and (unless in check mode) apply; the result reports the plan."""
        self.validate_options()
        current = self.read()
        self.validate_against(current)
        steps = self.plan(current)
        plan = Plan([s.action for s in steps if s.action is not None])
        if not self.check_mode:
            for step in steps:
                step.run()
        return Result(changed=plan.changed, plan=plan, data=self.report(current), warnings=self.warnings)

    # ------------------------------------------------------------------------------ validation
    def validate_options(self) -> None:
        """Every check that needs no AWS call; raises ``ValidationError`` naming the option."""
        if not self.cluster_name:
            raise ValidationError("cluster.name", self.cluster_name, "a cluster name is required")
        seen = set()
        for i, svc in enumerate(self.services_opts):
            where = "services[%d]" % i
            name = svc.get("name")
            if not name:
                raise ValidationError(where + ".name", name, "every service needs a name")
            if name in seen:
                raise ValidationError(where + ".name", name, "service listed twice")
            seen.add(name)
            if self.state == "absent":
                continue
            if svc.get("launch_type") and svc.get("capacity_provider_strategy"):
                raise ValidationError(where + ".capacity_provider_strategy", svc["capacity_provider_strategy"],
                                      "launch_type and capacity_provider_strategy are mutually exclusive")
            kwargs = None
            if svc.get("task_definition"):
                td = dict(svc["task_definition"])
                td.setdefault("family", None)
                td["family"] = td["family"] or name
                kwargs = task_definition_from_options(td, default_region=self.region)
                validate_task_definition(kwargs, where + ".task_definition")
                self._validate_launch_type(svc, kwargs, where)
                self.taskdefs[name] = kwargs
            validate_load_balancers(svc.get("load_balancers") or [], kwargs, where + ".load_balancers")
            self._validate_autoscaling(svc, where)
            if svc.get("desired_count") is not None and svc["desired_count"] < 0:
                raise ValidationError(where + ".desired_count", svc["desired_count"], "must be 0 or more")
            self._validate_deployment_configuration(svc.get("deployment_configuration") or {}, where)
            net = svc.get("network_configuration")
            if net is not None and not net.get("subnets"):
                raise ValidationError(where + ".network_configuration.subnets", net.get("subnets"), "at least one subnet")

    @staticmethod
    def _validate_launch_type(svc: Mapping[str, Any], kwargs: Mapping[str, Any], where: str) -> None:
        """A Fargate service needs a definition registered as Fargate-compatible (AWS checks it at CreateService)."""
        providers = [s["capacity_provider"] for s in svc.get("capacity_provider_strategy") or []]
        fargate = svc.get("launch_type") == "FARGATE" or (providers and all(p.startswith("FARGATE") for p in providers))
        if fargate and "FARGATE" not in (kwargs.get("requiresCompatibilities") or []):
            raise ValidationError(where + ".task_definition.requires_compatibilities", kwargs.get("requiresCompatibilities"),
                                  "the service runs on Fargate: the task definition must list FARGATE")

    @staticmethod
    def _validate_deployment_configuration(conf: Mapping[str, Any], where: str) -> None:
        """ECS's bounds: at most 100 % kept healthy, at least 100 % allowed running."""
        low, high = conf.get("minimum_healthy_percent"), conf.get("maximum_percent")
        if low is not None and not 0 <= low <= 100:
            raise ValidationError(where + ".deployment_configuration.minimum_healthy_percent", low, "must be in 0..100")
        if high is not None and high < 100:
            raise ValidationError(where + ".deployment_configuration.maximum_percent", high, "must be 100 or more")

    def _validate_autoscaling(self, svc: Mapping[str, Any], where: str) -> None:
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

    def _protects(self, opts: Mapping[str, Any]) -> bool:
        """Whether a provider has managed termination protection (its group must protect new instances)."""
        return self.asg is not None and opts.get("managed_termination_protection") == "ENABLED"

    def _referenced_capacity_providers(self) -> List[str]:
        cluster = self.params.get("cluster") or {}
        names = set(cluster.get("capacity_providers") or [])
        names |= {s["capacity_provider"] for s in cluster.get("default_capacity_provider_strategy") or []}
        for svc in self.services_opts:
            names |= {s["capacity_provider"] for s in svc.get("capacity_provider_strategy") or []}
        return sorted(names)

    def validate_against(self, current: Current) -> None:
        """Checks that need what was read; still before any write."""
        if self.state == "absent":
            return
        cluster = self.params.get("cluster") or {}
        for i, opts in enumerate(cluster.get("autoscaling_group_providers") or []):
            arn = opts.get("auto_scaling_group_arn")
            if not arn:
                raise ValidationError("cluster.autoscaling_group_providers[%d].auto_scaling_group_arn" % i, arn,
                                      "required with state=present")
            if self._protects(opts) and asg_name_of(arn) not in current.auto_scaling_groups:
                raise ValidationError("cluster.autoscaling_group_providers[%d].auto_scaling_group_arn" % i, arn,
                                      "no such Auto Scaling group in this region")
        asg_names = {p["name"] for p in cluster.get("autoscaling_group_providers") or []}
        known = set(BUILTIN_CAPACITY_PROVIDERS) | asg_names | set(current.capacity_providers)
        for name in self._referenced_capacity_providers():
            if name not in known:
                raise ValidationError("capacity provider", name, "no such capacity provider (FARGATE, FARGATE_SPOT, one "
                                      "listed in cluster.autoscaling_group_providers, or an existing one)")
        desired = desired_cluster(cluster)
        cluster_providers = set(desired.get("capacityProviders") or []) | set(
            (current.cluster_doc or {}).get("capacityProviders") or [])
        references: Dict[str, str] = {}
        for i, svc in enumerate(self.services_opts):
            where = "services[%d]" % i
            for j, strategy in enumerate(svc.get("capacity_provider_strategy") or []):
                if strategy["capacity_provider"] not in cluster_providers:
                    raise ValidationError("%s.capacity_provider_strategy[%d].capacity_provider" % (where, j),
                                          strategy["capacity_provider"], "not a capacity provider of cluster %s (%s)" % (
                                              self.cluster_name, ", ".join(sorted(cluster_providers)) or "none"))
            described = current.services.get(svc["name"])
            self._validate_target_groups(svc, where, current, described)
            if is_live(described):
                continue
            kwargs = self.taskdefs.get(svc["name"])
            if kwargs is None:
                raise ValidationError(where + ".task_definition", None, "service %s does not exist: its first task "
                                      "definition is needed to create it" % svc["name"])
            self._validate_target_types(svc, where, current, kwargs.get("networkMode") or "bridge")
            if kwargs.get("networkMode") == "awsvpc" and not svc.get("network_configuration"):
                raise ValidationError(where + ".network_configuration", None,
                                      "the task definition uses network_mode awsvpc: subnets (and security groups) are needed")
            for j, container in enumerate(kwargs.get("containerDefinitions") or []):
                for secret in container.get("secrets") or []:
                    references["%s.task_definition.containers[%d].secrets.%s" % (where, j, secret["name"])] = secret["valueFrom"]
        if self.secret_apis is not None:
            unchecked = check_secret_references(references, *self.secret_apis, region=self.region)
            if unchecked:
                self.warnings.append("secrets in another account or region were not checked: %s" % ", ".join(sorted(unchecked)))

    @staticmethod
    def _validate_target_groups(svc: Mapping[str, Any], where: str, current: Current,
                                described: Optional[Mapping[str, Any]]) -> None:
        """Target groups exist and, where ECS is about to bind them, belong to a load balancer.

        CreateService and UpdateService reject a target group no listener or rule forwards to.
        """
        bound = {lb.get("targetGroupArn") for lb in (described or {}).get("loadBalancers") or []} \
            if is_live(described) else set()
        for j, lb in enumerate(svc.get("load_balancers") or []):
            group = current.target_groups.get(lb["target_group"])
            if group is None:
                raise ValidationError("%s.load_balancers[%d].target_group" % (where, j), lb["target_group"],
                                      "no such target group in this region")
            if group["TargetGroupArn"] not in bound and not group.get("LoadBalancerArns"):
                raise ValidationError("%s.load_balancers[%d].target_group" % (where, j), lb["target_group"],
                                      "no load balancer forwards to this target group yet (add a listener or rule "
                                      "first, for example with shipyard.ecs.alb_routes)")

    @staticmethod
    def _validate_target_types(svc: Mapping[str, Any], where: str, current: Current, network_mode: str) -> None:
        """awsvpc tasks register by IP address, bridge and host tasks by instance (CreateService rejects a mismatch)."""
        wanted = "ip" if network_mode == "awsvpc" else "instance"
        for j, lb in enumerate(svc.get("load_balancers") or []):
            found = (current.target_groups.get(lb["target_group"]) or {}).get("TargetType") or "instance"
            if found != wanted:
                raise ValidationError("%s.load_balancers[%d].target_group" % (where, j), lb["target_group"],
                                      "target type %s does not fit network_mode %s (needs target type %s)" % (
                                          found, network_mode, wanted))

    # ------------------------------------------------------------------------------ reading
    def read(self) -> Current:
        """Describe everything the plan depends on, batched."""
        current = Current()
        found = self.ecs.describe_clusters([self.cluster_name]).get("clusters") or []
        current.cluster = found[0] if found else None
        current.cluster_doc = current_cluster(current.cluster)
        if self.state == "present":
            custom = [n for n in self._referenced_capacity_providers() if n not in BUILTIN_CAPACITY_PROVIDERS]
            custom += [p["name"] for p in (self.params.get("cluster") or {}).get("autoscaling_group_providers") or []]
            if custom:
                current.capacity_providers = {p["name"]: p for p in self.ecs.describe_capacity_providers(sorted(set(custom)))
                                              if p.get("status") == "ACTIVE"}
            groups = [asg_name_of(p["auto_scaling_group_arn"])
                      for p in (self.params.get("cluster") or {}).get("autoscaling_group_providers") or []
                      if self._protects(p) and p.get("auto_scaling_group_arn")]
            if groups:
                current.auto_scaling_groups = {g["AutoScalingGroupName"]: g for g in
                                               self.asg.describe_auto_scaling_groups(sorted(set(groups)))}  # type: ignore[union-attr]
        else:
            removing = [p["name"] for p in (self.params.get("cluster") or {}).get("autoscaling_group_providers") or []]
            if removing:
                current.capacity_providers = {p["name"]: p for p in self.ecs.describe_capacity_providers(sorted(set(removing)))
                                              if p.get("status") == "ACTIVE"}
        names = [s["name"] for s in self.services_opts]
        if current.cluster_doc is not None and names:
            described = self.ecs.describe_services(self.cluster_name, names).get("services") or []
            # Several entries may share a name (an INACTIVE one and its live successor).
            for svc in described:
                if is_live(svc) or svc["serviceName"] not in current.services:
                    current.services[svc["serviceName"]] = svc
        live = [n for n in names if is_live(current.services.get(n))]
        if live:
            ids = [resource_id(self.cluster_name, n) for n in live]
            targets = self.aas.describe_scalable_targets(ids)
            current.scalable_targets = {t["ResourceId"]: t for t in targets if t.get("ScalableDimension") == DIMENSION}
            self._read_policies(current)
        if self.state == "absent":
            if self.params.get("delete_cluster") and current.cluster_doc is not None:
                arns = self.ecs.list_services(self.cluster_name)
                current.other_services = [a for a in arns if a.rsplit("/", 1)[-1] not in names]
            return current
        self._read_task_definitions(current)
        self._read_target_groups(current)
        scd = (self.params.get("cluster") or {}).get("service_connect_defaults") or {}
        namespace = scd.get("namespace")
        if namespace and not namespace.startswith("arn:") and self.namespaces is not None:
            current.namespace_arn = self.namespaces.arn_of(namespace)
        return current

    def _read_policies(self, current: Current) -> None:
        with_target = list(current.scalable_targets)
        if not with_target:
            return
        if len(with_target) == 1:
            policies = self.aas.describe_scaling_policies(with_target[0])
        else:
            policies = self.aas.describe_all_scaling_policies()
        for policy in policies:
            if policy.get("ResourceId") in current.scalable_targets and policy.get("ScalableDimension") == DIMENSION:
                current.policies.setdefault(policy["ResourceId"], []).append(policy)

    def _read_task_definitions(self, current: Current) -> None:
        """Revisions in use by live services we have a definition for; latest of each new family."""
        for name, kwargs in sorted(self.taskdefs.items()):
            svc = current.services.get(name)
            if is_live(svc):
                arn = svc.get("taskDefinition")
                if arn and arn not in current.task_definitions:
                    current.task_definitions[arn] = self.ecs.describe_task_definition(arn)["taskDefinition"]
            else:
                family = kwargs["family"]
                if family not in current.latest_revisions:
                    current.latest_revisions[family] = self._latest_revision(family)

    def _latest_revision(self, family: str) -> Optional[Dict[str, Any]]:
        try:
            found = self.ecs.describe_task_definition(family)["taskDefinition"]
        except EcsError as exc:
            if exc.code in ("ClientException", "ResourceNotFoundException"):
                return None
            raise
        return found if found.get("status") == "ACTIVE" else None

    def _read_target_groups(self, current: Current) -> None:
        """Every referenced target group, by name or ARN: ARNs to resolve, load balancers to check."""
        names, arns = set(), set()
        for svc in self.services_opts:
            for lb in svc.get("load_balancers") or []:
                (arns if is_target_group_arn(lb["target_group"]) else names).add(lb["target_group"])
        if names:
            current.target_groups.update({g["TargetGroupName"]: g for g in self.tg_reader.describe_target_groups_by_name(sorted(names))})
        if arns:
            current.target_groups.update({g["TargetGroupArn"]: g for g in self.tg_reader.describe_target_groups_by_arn(sorted(arns))})

    # ------------------------------------------------------------------------------ planning
    def _target_group_arns(self, current: Current) -> Dict[str, str]:
        out = {}
        for key, group in current.target_groups.items():
            out[key] = group["TargetGroupArn"]
        return out

    def plan(self, current: Current) -> List[Step]:
        """Every action of this run, in the order it is applied."""
        if self.state == "absent":
            return self._plan_absent(current)
        steps: List[Step] = []
        cluster_opts = self.params.get("cluster") or {}
        for opts in cluster_opts.get("autoscaling_group_providers") or []:
            group = current.auto_scaling_groups.get(asg_name_of(opts.get("auto_scaling_group_arn") or ""))
            if self._protects(opts) and group is not None and not group.get("NewInstancesProtectedFromScaleIn"):
                # AWS refuses managed termination protection on a group whose new instances are not
                # protected from scale-in; ECS itself then manages the protection of each instance.
                name = group["AutoScalingGroupName"]
                action = Action("update", "auto_scaling_group", name, reason="managed termination protection of capacity "
                                "provider %s needs new instances protected from scale-in" % opts["name"],
                                before={"NewInstancesProtectedFromScaleIn": False},
                                after={"NewInstancesProtectedFromScaleIn": True},
                                changes=differences({"NewInstancesProtectedFromScaleIn": False},
                                                    {"NewInstancesProtectedFromScaleIn": True}))
                steps.append(Step(action, self._protect_runner(name)))
            described = current.capacity_providers.get(opts["name"])
            before = current_capacity_provider(described) if described else None
            for action in plan_capacity_provider(opts["name"], before, desired_capacity_provider(opts)):
                steps.append(Step(action, self._capacity_provider_runner(action, before)))
        desired = desired_cluster(cluster_opts, current.namespace_arn)
        for action in plan_cluster(self.cluster_name, current.cluster_doc, desired):
            steps.append(Step(action, self._cluster_runner(action, current)))
        cluster_default = (current.cluster_doc or {}).get("defaultCapacityProviderStrategy") or desired.get(
            "defaultCapacityProviderStrategy") or []
        tg_arns = self._target_group_arns(current)
        for svc in self.services_opts:
            steps.extend(self._plan_service(svc, current, tg_arns, cluster_default))
        return steps

    def _plan_service(self, svc: Mapping[str, Any], current: Current, tg_arns: Mapping[str, str],
                      cluster_default: List[Dict[str, Any]]) -> List[Step]:
        name = svc["name"]
        described = current.services.get(name)
        rid = resource_id(self.cluster_name, name)
        desired = desired_service(svc, tg_arns)
        steps: List[Step] = []
        auto = svc.get("autoscaling")
        autoscaled = bool(auto) or rid in current.scalable_targets
        if described and described.get("status") == "DRAINING":
            raise EcsError("service %s is DRAINING (being deleted); run again once it is INACTIVE" % name)
        if is_live(described):
            if not autoscaled and svc.get("desired_count") is not None:
                desired["desiredCount"] = svc["desired_count"]
            cur = current_service(described)
            for action in plan_service_update(name, cur, desired):
                steps.append(Step(action, self._service_runner(action, described)))
            self._record_drift(name, described, current)
        else:
            kwargs = self.taskdefs[name]
            latest = current.latest_revisions.get(kwargs["family"])
            if latest is not None and normalise_task_definition(latest) == normalise_task_definition(kwargs):
                self.registered[name] = latest["taskDefinitionArn"]
            else:
                action = Action("create", "task_definition", kwargs["family"], reason="no ACTIVE revision of family %s "
                                "matches the definition" % kwargs["family"], after=normalise_task_definition(kwargs))
                steps.append(Step(action, self._register_runner(name, kwargs)))
            count = svc.get("desired_count")
            if count is None:
                count = auto["min_capacity"] if auto else 1
            doc = creation_document(desired, count, cluster_default, kwargs.get("requiresCompatibilities") or [])
            action = Action("create", "service", name, reason="service does not exist", after=doc)
            steps.append(Step(action, self._create_service_runner(name, doc)))
        if auto:
            before = current_autoscaling(current.scalable_targets.get(rid), current.policies.get(rid) or [])
            labels = self._resource_labels(svc, current, tg_arns)
            for action in plan_autoscaling(name, before, desired_autoscaling(auto, labels)):
                steps.append(Step(action, self._autoscaling_runner(action, rid)))
        return steps

    def _resource_labels(self, svc: Mapping[str, Any], current: Current, tg_arns: Mapping[str, str]) -> Dict[str, str]:
        labels: Dict[str, str] = {}
        lbs = svc.get("load_balancers") or []
        if not lbs:
            return labels
        key = lbs[0]["target_group"]
        group = current.target_groups.get(key)
        if group and group.get("LoadBalancerArns"):
            label = resource_label(group["TargetGroupArn"], group["LoadBalancerArns"][0])
            for policy in (svc.get("autoscaling") or {}).get("policies") or []:
                if policy.get("metric") == "alb_request_count" and not policy.get("resource_label"):
                    labels[policy["name"]] = label
        return labels

    def _record_drift(self, name: str, described: Mapping[str, Any], current: Current) -> None:
        kwargs = self.taskdefs.get(name)
        arn = described.get("taskDefinition")
        entry = self.results.setdefault(name, {})
        if kwargs is None or arn not in current.task_definitions:
            entry["drift"] = None
            return
        diffs = task_definition_differences(current.task_definitions[arn], kwargs)
        entry["drift"] = {"task_definition": arn, "differences": diffs} if diffs else None

    def _plan_absent(self, current: Current) -> List[Step]:
        steps: List[Step] = []
        deleting = []
        for svc in self.services_opts:
            name = svc["name"]
            rid = resource_id(self.cluster_name, name)
            if rid in current.scalable_targets:
                before = current_autoscaling(current.scalable_targets[rid], current.policies.get(rid) or [])
                action = Action("delete", "scalable_target", name, reason="state=absent", before=before)
                steps.append(Step(action, self._deregister_runner(rid)))
            described = current.services.get(name)
            if described and described.get("status") == "ACTIVE":
                action = Action("delete", "service", name, reason="state=absent", before=current_service(described))
                steps.append(Step(action, self._delete_service_runner(name, described)))
                deleting.append(name)
            elif described and described.get("status") == "DRAINING":
                deleting.append(name)
        if deleting and self.params.get("wait", True):
            # Not an action of its own: waiting changes nothing, it only tells when deletion is over.
            steps.append(Step(None, lambda: self._wait_inactive(deleting)))
        if self.params.get("delete_cluster") and current.cluster_doc is not None:
            if current.other_services:
                raise EcsError("cluster %s still runs services not listed here (%s): it cannot be deleted" % (
                    self.cluster_name, ", ".join(a.rsplit("/", 1)[-1] for a in current.other_services)))
            action = Action("delete", "cluster", self.cluster_name, reason="state=absent and delete_cluster",
                            before=current.cluster_doc)
            steps.append(Step(action, lambda: self.ecs.delete_cluster(self.cluster_name)))
        steps.extend(self._plan_absent_providers(current))
        return steps

    def _plan_absent_providers(self, current: Current) -> List[Step]:
        """Listed Auto Scaling group providers: off the cluster (unless it is deleted), then deleted."""
        names = [p["name"] for p in (self.params.get("cluster") or {}).get("autoscaling_group_providers") or []
                 if p["name"] in current.capacity_providers]
        steps: List[Step] = []
        doc = current.cluster_doc
        attached = [n for n in names if doc is not None and n in (doc.get("capacityProviders") or [])]
        if attached and not self.params.get("delete_cluster"):
            before = {k: doc.get(k) for k in ("capacityProviders", "defaultCapacityProviderStrategy")}  # type: ignore[union-attr]
            after = {"capacityProviders": [n for n in before["capacityProviders"] if n not in attached],
                     "defaultCapacityProviderStrategy": [s for s in before["defaultCapacityProviderStrategy"] or []
                                                         if s["capacityProvider"] not in attached]}
            action = Action("update", "cluster_capacity_providers", self.cluster_name,
                            reason="state=absent: capacity providers %s leave the cluster" % ", ".join(attached),
                            before=before, after=after, changes=differences(before, after))
            steps.append(Step(action, self._cluster_runner(action, current)))
        for name in names:
            before = current_capacity_provider(current.capacity_providers[name])
            action = Action("delete", "capacity_provider", name, reason="state=absent", before=before)
            steps.append(Step(action, self._delete_provider_runner(name)))
        return steps

    def _delete_provider_runner(self, name: str) -> Callable[[], None]:
        def run() -> None:
            deleted = self.ecs.delete_capacity_provider(name)
            # Deletion is asynchronous; one that cannot happen says so in the answer.
            if deleted.get("updateStatus") == "DELETE_FAILED":
                raise EcsError("capacity provider %s was not deleted: %s" % (name, deleted.get("updateStatusReason")))
        return run

    def _protect_runner(self, name: str) -> Callable[[], None]:
        def run() -> None:
            self.asg.update_auto_scaling_group(  # type: ignore[union-attr]
                AutoScalingGroupName=name, NewInstancesProtectedFromScaleIn=True)
        return run

    # ------------------------------------------------------------------------------ appliers
    def _capacity_provider_runner(self, action: Action, before: Optional[Mapping[str, Any]]) -> Callable[[], None]:
        name = action.name
        after = copy.deepcopy(action.after) or {}

        def run() -> None:
            if action.verb == "create":
                provider: Dict[str, Any] = {"autoScalingGroupArn": after["autoScalingGroupArn"]}
                for key in ("managedScaling", "managedTerminationProtection", "managedDraining"):
                    if after.get(key):
                        provider[key] = after[key]
                kwargs: Dict[str, Any] = {"name": name, "autoScalingGroupProvider": provider}
                if after.get("tags"):
                    kwargs["tags"] = [{"key": k, "value": v} for k, v in sorted(after["tags"].items())]
                self.ecs.create_capacity_provider(**kwargs)
            elif action.verb == "update":
                self.ecs.update_capacity_provider(name=name, autoScalingGroupProvider=after)
            elif action.verb == "tag":
                arn = self.ecs.describe_capacity_providers([name])[0]["capacityProviderArn"]
                self._retag(arn, action.before or {}, after)
        return run

    def _cluster_runner(self, action: Action, current: Current) -> Callable[[], None]:
        after = copy.deepcopy(action.after) or {}

        def run() -> None:
            if action.verb == "create":
                created = self.ecs.create_cluster(**create_cluster_kwargs(self.cluster_name, after))
                current.cluster = created
            elif action.kind == "cluster_capacity_providers":
                self.ecs.put_cluster_capacity_providers(
                    cluster=self.cluster_name, capacityProviders=after["capacityProviders"],
                    defaultCapacityProviderStrategy=after["defaultCapacityProviderStrategy"])
            elif action.verb == "update" and "settings" in after:
                self.ecs.update_cluster(cluster=self.cluster_name,
                                        settings=[{"name": k, "value": v} for k, v in sorted(after["settings"].items())])
            elif action.verb == "update":
                self.ecs.update_cluster(cluster=self.cluster_name, serviceConnectDefaults=after["serviceConnectDefaults"])
            elif action.verb == "tag":
                self._retag((current.cluster or {})["clusterArn"], action.before or {}, after)
        return run

    def _retag(self, arn: str, before: Mapping[str, str], after: Mapping[str, str]) -> None:
        removed = sorted(set(before) - set(after))
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if removed:
            self.ecs.untag_resource(arn, removed)
        if changed:
            self.ecs.tag_resource(arn, changed)

    def _register_runner(self, name: str, kwargs: Mapping[str, Any]) -> Callable[[], None]:
        def run() -> None:
            registered = self.ecs.register_task_definition(**copy.deepcopy(dict(kwargs)))
            self.registered[name] = registered["taskDefinitionArn"]
        return run

    def _create_service_runner(self, name: str, doc: Mapping[str, Any]) -> Callable[[], None]:
        def run() -> None:
            kwargs = create_kwargs(self.cluster_name, name, doc, self.registered[name])
            created = self.ecs.create_service(**kwargs)
            self.results.setdefault(name, {})["described"] = created
        return run

    def _service_runner(self, action: Action, described: Mapping[str, Any]) -> Callable[[], None]:
        after = copy.deepcopy(action.after) or {}

        def run() -> None:
            if action.verb == "update":
                updated = self.ecs.update_service(cluster=self.cluster_name, service=action.name, **update_kwargs(after))
                self.results.setdefault(action.name, {})["described"] = updated
            elif action.verb == "tag":
                self._retag(described["serviceArn"], action.before or {}, after)
        return run

    def _autoscaling_runner(self, action: Action, rid: str) -> Callable[[], None]:
        after = copy.deepcopy(action.after) or {}

        def run() -> None:
            if action.kind == "scalable_target":
                self.aas.register_scalable_target(ResourceId=rid, ScalableDimension=DIMENSION,
                                                  MinCapacity=after["MinCapacity"], MaxCapacity=after["MaxCapacity"])
            elif action.verb == "delete":
                self.aas.delete_scaling_policy(action.name.split("/", 1)[1], rid)
            else:
                self.aas.put_scaling_policy(PolicyName=action.name.split("/", 1)[1], ResourceId=rid,
                                            ScalableDimension=DIMENSION, **after)
        return run

    def _deregister_runner(self, rid: str) -> Callable[[], None]:
        def run() -> None:
            self.aas.deregister_scalable_target(rid)
        return run

    def _delete_service_runner(self, name: str, described: Mapping[str, Any]) -> Callable[[], None]:
        def run() -> None:
            if described.get("schedulingStrategy", "REPLICA") == "REPLICA" and described.get("desiredCount"):
                self.ecs.update_service(cluster=self.cluster_name, service=name, desiredCount=0)
            deleted = self.ecs.delete_service(self.cluster_name, name)
            self.results.setdefault(name, {})["described"] = deleted
        return run

    def _wait_inactive(self, names: List[str]) -> None:
        def describe() -> Dict[str, Any]:
            return self.ecs.describe_services(self.cluster_name, names)

        def predicate(state: Mapping[str, Any]) -> Verdict:
            live = sorted({s["serviceName"] for s in state.get("services") or [] if is_live(s)})
            if live:
                return Verdict.waiting("still draining: %s" % ", ".join(live))
            return Verdict.done("services inactive")

        outcome = self.waiter.wait(describe, predicate, what="services to become INACTIVE")
        raise_if_failed(outcome, EcsError)
        for svc in outcome.state.get("services") or []:
            self.results.setdefault(svc["serviceName"], {})["described"] = svc

    # ------------------------------------------------------------------------------ report
    def report(self, current: Current) -> Dict[str, Any]:
        """What the module returns besides ``changed``/``plan``/``diff``."""
        cluster = current.cluster or {}
        services: Dict[str, Any] = {}
        drift: Dict[str, Any] = {}
        for svc in self.services_opts:
            name = svc["name"]
            entry = self.results.get(name, {})
            described = entry.get("described") or current.services.get(name) or {}
            services[name] = {
                "arn": described.get("serviceArn"),
                "status": described.get("status") or ("ABSENT" if self.state == "absent" else None),
                "task_definition": described.get("taskDefinition") or self.registered.get(name),
                "desired_count": described.get("desiredCount"),
                "running_count": described.get("runningCount"),
                "autoscaled": resource_id(self.cluster_name, name) in current.scalable_targets or bool(svc.get("autoscaling")),
                "drift": bool(entry.get("drift")),
            }
            if entry.get("drift"):
                drift[name] = entry["drift"]
        return {
            "cluster": {"name": self.cluster_name, "arn": cluster.get("clusterArn"), "status": cluster.get("status")},
            "services": services,
            "drift": drift,
            "calls": combined_calls([self.ecs, self.aas, self.tg_reader]
                                    + ([self.namespaces] if self.namespaces is not None else [])
                                    + list(self.secret_apis or [])),
        }
