# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""cloudwatch_stack end to end: validate, read, plan, (unless check mode) apply, report."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import StsApi

from .api import CloudWatchApi, LogsApi, SnsApi, TaggingApi
from .applier import Applier
from .model import build_desired
from .planner import compute_plan
from .state import Apis, read_state


class CloudWatchStack:
    """The cloudwatch_stack module's logic, without Ansible: give it API wrappers and options."""

    def __init__(self, apis: Apis, params: Dict[str, Any], region: str, check_mode: bool = False) -> None:
        self.apis = apis
        self.params = params
        self.region = region
        self.check_mode = check_mode

    @classmethod
    def from_module(cls, module: Any) -> "CloudWatchStack":
        """Build from an ``AnsibleAWSModule`` (its boto3 clients and options)."""
        apis = Apis(CloudWatchApi(module.client("cloudwatch")), LogsApi(module.client("logs")),
                    SnsApi(module.client("sns")), StsApi(module.client("sts")),
                    TaggingApi(module.client("resourcegroupstaggingapi")), Elbv2Api(module.client("elbv2")))
        return cls(apis, module.params, module.region, module.check_mode)

    def run(self) -> Result:
        """Validate everything, read, plan, apply unless in check mode; return the result."""
        desired = build_desired(self.params, self.check_mode)
        snap = read_state(self.apis, desired, self.region)
        plan = compute_plan(desired, snap, self.check_mode)
        applier = Applier(self.apis, plan, snap.topic_arn)
        if plan.changed and not self.check_mode:
            applier.apply()
        data = {
            "topic_arn": (applier.topic_arn or None) if desired.state == "present" else None,
            "log_groups": sorted(desired.log_groups),
            "alarms": sorted(desired.alarms),
            "dashboards": sorted(desired.dashboards),
            "check_mode_prediction": self.check_mode,
            "api_calls": combined_calls(self.apis.all()),
        }
        return Result(changed=plan.changed, plan=plan, data=data, warnings=plan.warnings)
