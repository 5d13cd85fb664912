# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""app_plan end to end: load the model, (optionally) check it against the account and plan, report."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._app import cloudwatch
from ansible_collections.shipyard.ecs.plugins.module_utils._app.model import UNKNOWN, Context, Definition, load
from ansible_collections.shipyard.ecs.plugins.module_utils._app.plan import Apis, EnvironmentPlanner, plan_lines
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls, read_once
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result


def model_values(d: Definition, region: str, account_id: str) -> Dict[str, Any]:
    """What roles and playbooks look up: names, each role's variables, the smoke checks."""
    names = d.names
    return {
        "name": names.stack,
        "application": names.application,
        "environment": names.environment,
        "region": region,
        "tags": names.tags,
        "services": sorted(d.services),
        # Each service's kind (web, backend, worker); the load balancer exists when a service is a web service.
        "kinds": {svc: d.kind(svc) for svc in sorted(d.services)},
        "web_services": d.web_services(),
        "load_balancer": d.has_load_balancer,
        # Cloud Map: the namespace (when a service uses discovery) and each service's name in it.
        "service_discovery": {"namespace": d.namespace if d.uses_discovery() else "",
                              "names": {svc: d.discovery_name(svc) for svc in sorted(d.services) if d.discovery(svc)}},
        # ecs_stack's autoscaling option of each service that has autoscaling (scale.yml keeps its policy).
        "autoscaling": {svc: d.autoscaling(svc) for svc in sorted(d.services) if "autoscaling" in d.services[svc]},
        "names": {
            "cluster": names.stack,
            "load_balancer": names.stack,
            "target_groups": {svc: d.target_group_name(svc) for svc in d.web_services()},
            "log_groups": {svc: names.log_group(svc) for svc in sorted(d.services)},
            "capacity_provider": names.ec2_capacity_provider,
            "families": {svc: names.family(svc) for svc in sorted(d.services)},
            "repositories": d.repository_names(),
            "security_groups": names.security_groups,
            "execution_role": names.execution_role,
            "task_role": names.task_role,
            "secret_prefix": names.secret_prefix,
            "alarms": ["%s-%s" % (names.stack, alarm) for alarm in cloudwatch.alarm_names(sorted(d.services), d.web_services())],
            "dashboard": "%s-%s" % (names.stack, cloudwatch.DASHBOARD),
        },
        # cloudwatch_stack's options of the services' side (the logging role).
        "cloudwatch": d.cloudwatch(),
        "platform": d.platform(region, account_id),
        # platform_stack's options (the platform role's network, security groups and IAM roles), which of its groups and
        # roles the role's facts name, and ecs_stack's cluster option.
        "platform_stack": d.platform_stack(region, account_id),
        "platform_names": {"alb_security_group": names.security_groups["alb"] if d.has_load_balancer else "",
                           "task_security_group": names.security_groups["tasks"],
                           "instance_security_group": names.instance_security_group if d.environment["env_ec2_capacity"] else "",
                           "execution_role": names.execution_role, "task_role": names.task_role,
                           "infrastructure_role": names.ecs_infrastructure_role if d.progressive_services() else ""},
        "cluster": d.cluster_settings(),
        # What cloudwatch_stack state=absent deletes (teardown.yml).
        "cloudwatch_absent": {
            "log_groups": [{"name": group} for group in sorted({g for groups in d.log_groups().values() for g in groups})],
            "alarms": [{"name": alarm} for alarm in cloudwatch.alarm_names(sorted(d.services), d.web_services())],
            "dashboards": [{"name": cloudwatch.DASHBOARD}],
        },
        # ecr_image_push's options (the services role pushes with them).
        "ecr_push": d.ecr_push(),
        "release_timeout": d.environment["env_release_timeout"],
        "domain": d.environment["env_domain"],
        "hosted_zone": d.environment["env_hosted_zone"],
        "smoke_http": d.environment["env_smoke_http"],
        "smoke_retries": d.environment["env_smoke_retries"],
        "smoke_checks": d.smoke_checks(),
        # Without HTTP: per web service, its target groups of which one must have targets (all healthy).
        "smoke_target_groups": d.serving_target_groups(),
        # Where each release's summary goes: the alarm topic the logging role creates, and/or a webhook.
        "release_notifications": {
            "sns_topic_arn": ("arn:aws:sns:%s:%s:%s-alarms" % (region, account_id, names.stack)
                              if d.environment["env_release_sns"] and account_id else ""),
            "webhook_url": d.environment["env_release_webhook"],
        },
    }


def skipped_line(unchanged: Dict[str, bool], owners: Optional[Dict[str, bool]] = None) -> List[str]:
    """The plan's last line: the parts of deploy.yml a run skips, and in a services part that runs, the owners it skips,
    their planners having found nothing to do."""
    parts = [part for part, same in unchanged.items() if same]
    if not unchanged.get("services", True):
        skipped = [owner for owner, same in sorted((owners or {}).items()) if same]
        if skipped:
            parts.append("in services: %s" % ", ".join(skipped))
    return ["unchanged, not run: %s" % ", ".join(parts)] if parts else []


class AppPlan:
    """The app_plan module's logic, without Ansible."""

    def __init__(self, params: Dict[str, Any], client: Optional[Callable[[str], Any]], region: str) -> None:
        self.params = params
        self.client = client
        self.region = region

    @classmethod
    def from_module(cls, module: Any) -> "AppPlan":
        return cls(module.params, module.client, module.region)

    def run(self) -> Result:
        params = self.params
        definition = load(params["application"], params["environment"])
        context = params.get("context")
        account_id = (context or {}).get("account_id") or params.get("account_id") or UNKNOWN
        data: Dict[str, Any] = {}
        warnings = list(definition.warnings)
        if context is not None:
            ctx = Context(region=self.region, account_id=account_id,
                          **{k: v for k, v in context.items() if k != "account_id" and v not in (None, "")})
            data["options"] = definition.render(ctx)
        elif params["read_account"]:
            # One run reads the environment once: owners' planners asking the same read share its answer.
            apis = Apis(read_once(self.client))
            outcome = EnvironmentPlanner(definition, apis, self.region, params.get("account_id")).run()
            account_id = outcome["context"]["account_id"]
            warnings = outcome["warnings"]
            data.update(context=outcome["context"], plan=outcome["plan"],
                        plan_lines=plan_lines(outcome["plan"]) + skipped_line(outcome["unchanged"], outcome["unchanged_owners"]),
                        unchanged=outcome["unchanged"], unchanged_owners=outcome["unchanged_owners"], options=outcome["options"],
                        work=outcome["work"], api_calls=combined_calls(apis.all()))
        data["model"] = model_values(definition, self.region, account_id)
        return Result(changed=False, data=data, warnings=warnings)
