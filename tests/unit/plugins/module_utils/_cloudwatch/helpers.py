"""Options and moto-backed API wrappers shared by the CloudWatch tests."""

from __future__ import annotations

import copy
from typing import Any, Dict, Sequence

import boto3

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.api import (
    CloudWatchApi,
    LogsApi,
    SnsApi,
    TaggingApi,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.runner import CloudWatchStack
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.state import Apis
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import StsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

REGION = "us-east-1"
NAME = "shop-prod"
SERVICES = ("client", "users", "swagger")


def apis() -> Apis:
    retry = RetryPolicy(max_attempts=1, sleep=lambda _s: None)

    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    return Apis(CloudWatchApi(client("cloudwatch"), retry), LogsApi(client("logs"), retry), SnsApi(client("sns"), retry),
                StsApi(client("sts"), retry), TaggingApi(client("resourcegroupstaggingapi"), retry),
                Elbv2Api(client("elbv2"), retry))


def cpu_alarm(service: str, **overrides: Any) -> Dict[str, Any]:
    alarm = {"name": "%s-cpu-high" % service, "description": "%s: CPU above 80 %%" % service,
             "namespace": "AWS/ECS", "metric_name": "CPUUtilization",
             "dimensions": {"ClusterName": NAME, "ServiceName": service}, "statistic": "Average",
             "comparison": "GreaterThanThreshold", "threshold": 80, "period": 300, "evaluation_periods": 2,
             "treat_missing_data": "notBreaching"}
    alarm.update(overrides)
    return alarm


def params(services: Sequence[str] = SERVICES, **overrides: Any) -> Dict[str, Any]:
    """The logging role's main run for ``services``: log groups, error filters, topic, CPU alarms, a dashboard."""
    out: Dict[str, Any] = {
        "name": NAME,
        "state": "present",
        "tags": {"Application": "shop"},
        "purge_tags": True,
        "log_groups": [{"name": "/ecs/%s/%s" % (NAME, s), "retention_days": 30,
                        "metric_filters": [{"name": "errors", "pattern": "?ERROR ?Traceback",
                                            "metric_name": "%s-errors" % s, "metric_value": "1", "default_value": 0}]}
                       for s in services],
        "alarm_topic": {"display_name": "shop alarms",
                        "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}]},
        "alarms": [cpu_alarm(s) for s in services],
        "dashboards": [{"name": "overview", "widgets": [
            {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
             "properties": {"title": "CPU", "region": REGION, "metrics": [
                 ["AWS/ECS", "CPUUtilization", "ClusterName", NAME, "ServiceName", s] for s in services]}}]}],
    }
    out.update(copy.deepcopy(overrides))
    return out


def run(module_params: Dict[str, Any], check_mode: bool = False):
    api = apis()
    result = CloudWatchStack(api, module_params, REGION, check_mode).run()
    return result, api


def writes(api: Apis) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for one in api.all():
        for op, n in one.write_calls.items():
            out[op] = out.get(op, 0) + n
    return out


def reads(api: Apis) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for one in api.all():
        for op, n in one.read_calls.items():
            out["%s.%s" % (one.service, op)] = n
    return out
