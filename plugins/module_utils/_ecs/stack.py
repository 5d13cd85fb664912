# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The runner behind ecs_stack: validate, read, plan, apply, report.

1. Validate every option that can be checked without AWS (checks.py).
2. Read, batched, into one ``Current`` (state.py).
3. Validate what needs the reads, secrets included (checks.py).
4. Plan: a pure function returning typed actions (planner.py, actions.py).  The plan is what
   check mode reports and ``--diff`` shows.
5. Apply the actions in order, one applier method per action type (applier.py).  Nothing is
   written before step 5.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.progress import ProgressLog
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Plan, Result
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import NoopWaiter, Waiter
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AppAutoscalingApi, AutoScalingApi, EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.actions import DeleteNamespace
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.applier import Applier
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.autoscaling import resource_id
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cloudmap import UNKNOWN
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.checks import validate_against, validate_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.planner import StackPlan, plan_stack
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.state import Apis, Current, read_state
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.refs import check_secret_references


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
        self.apis = Apis(ecs, autoscaling, target_groups, namespaces, auto_scaling)
        self.secret_apis = secrets
        self.region = region
        self.check_mode = check_mode
        self.waiter = waiter or (NoopWaiter() if check_mode else Waiter(
            timeout=params.get("wait_timeout") or 600, interval=params.get("poll_interval") or 5.0))
        self.cluster_name: str = (params.get("cluster") or {}).get("name") or ""
        self.warnings: List[str] = []

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

    def run(self) -> Result:
        """Validate, read, plan and (unless in check mode) apply; the result reports the plan."""
        taskdefs = validate_options(self.params, self.region)
        current = read_state(self.apis, self.params, taskdefs)
        references = validate_against(self.params, current, taskdefs, self.apis.auto_scaling is not None,
                                      self.check_mode)
        if references and self.secret_apis is not None:
            unchecked = check_secret_references(references, *self.secret_apis, region=self.region)
            if unchecked:
                self.warnings.append("secrets in another account or region were not checked: %s" % ", ".join(sorted(unchecked)))
        plan = plan_stack(self.params, current, taskdefs, can_protect=self.apis.auto_scaling is not None)
        applier = Applier(self.apis, self.cluster_name, current, self.waiter, reused=plan.reused,
                          registries=plan.registries, progress=ProgressLog(self.params.get("progress_file")))
        if not self.check_mode:
            applier.apply(plan.actions)
        report = Plan(plan.reports)
        return Result(changed=report.changed, plan=report, data=self.report(current, plan, applier), warnings=self.warnings)

    def report(self, current: Current, plan: StackPlan, applier: Applier) -> Dict[str, Any]:
        """What the module returns besides ``changed``/``plan``/``diff``."""
        cluster = applier.cluster or {}
        absent = (self.params.get("state") or "present") == "absent"
        services: Dict[str, Any] = {}
        drift: Dict[str, Any] = {}
        for svc in self.params.get("services") or []:
            name = svc["name"]
            described = applier.described.get(name) or current.services.get(name) or {}
            services[name] = {
                "arn": described.get("serviceArn"),
                "status": described.get("status") or ("ABSENT" if absent else None),
                "task_definition": described.get("taskDefinition") or applier.registered.get(name),
                "desired_count": described.get("desiredCount"),
                "running_count": described.get("runningCount"),
                "autoscaled": resource_id(self.cluster_name, name) in current.scalable_targets or bool(svc.get("autoscaling")),
                "drift": bool(plan.drift.get(name)),
            }
            if plan.drift.get(name):
                drift[name] = plan.drift[name]
            if name in plan.discovery and not absent:
                namespace_name = (self.params.get("cluster") or {})["service_discovery_namespace"]["name"]
                services[name]["discovery_name"] = "%s.%s" % (plan.discovery[name]["name"], namespace_name)
                services[name]["registry_arn"] = applier.registry_arns.get(name, UNKNOWN)
        out = {
            "cluster": {"name": self.cluster_name, "arn": cluster.get("clusterArn"), "status": cluster.get("status")},
            "services": services,
            "drift": drift,
            "calls": combined_calls(self.apis.all() + list(self.secret_apis or [])),
        }
        namespace_opts = (self.params.get("cluster") or {}).get("service_discovery_namespace")
        if namespace_opts:
            namespace = applier.namespace or {}
            deleted = absent and any(isinstance(a, DeleteNamespace) for a in plan.actions) and not self.check_mode
            out["service_discovery_namespace"] = {
                "name": namespace_opts["name"],
                "id": None if deleted else namespace.get("id", None if absent else UNKNOWN),
                "arn": None if deleted else namespace.get("arn", None if absent else UNKNOWN),
            }
        return out
