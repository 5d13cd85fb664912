# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""What the application's environment gets from CloudWatch: shipyard.ecs.cloudwatch_stack's options.

Two sets, one module run each: the services' side (log groups with an error filter, the alarm
topic, CPU and memory alarms per service), written before the services start (the awslogs
driver needs its log group), and the load balancer's side (unhealthy-hosts and target-5xx alarms
per target group, the environment's dashboard), written once the load balancer exists.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.model import UNKNOWN

# Lines of a container's log that count as errors (CloudWatch Logs filter pattern syntax).
ERROR_PATTERN = "?ERROR ?Error ?Traceback"
SERVICE_ALARMS = (("cpu", "CPUUtilization", "CPU", 80.0), ("memory", "MemoryUtilization", "memory", 80.0))
SERVICE_ALARM_PERIOD = 300
SERVICE_ALARM_EVALUATION_PERIODS = 2
# Load balancer metrics have one-minute resolution.
LOAD_BALANCER_ALARM_PERIOD = 60
UNHEALTHY_HOSTS_EVALUATION_PERIODS = 3
TARGET_5XX_THRESHOLD = 10.0
TARGET_5XX_EVALUATION_PERIODS = 2
DASHBOARD = "dashboard"
PENDING = ("", UNKNOWN)


def alarm_names(services: List[str], web_services: Optional[List[str]] = None) -> List[str]:
    """Every alarm's name below the environment's prefix (``<service>-<kind>``), for teardown: the load balancer's
    alarms of the web services only (all services when ``web_services`` is not given)."""
    web = services if web_services is None else web_services
    kinds = [kind + "-high" for kind, _metric, _label, _percent in SERVICE_ALARMS]
    return ["%s-%s" % (svc, kind) for svc in services
            for kind in kinds + (["unhealthy-hosts", "target-5xx"] if svc in web else [])]


def service_side(stack: str, services: List[str], log_groups: Dict[str, List[str]], retention_days: int, kms_key_id: str,
                 alarm_email: str, alarm_https_endpoint: str) -> Dict[str, Any]:
    """Log groups (every awslogs group of the services' containers, once) and their error filters, the alarm
    topic, CPU and memory alarms per service."""
    groups = []
    unique: List[str] = []
    for svc in services:
        unique.extend(group for group in log_groups[svc] if group not in unique)
    for group in unique:
        groups.append({
            "name": group, "retention_days": retention_days, "kms_key_id": kms_key_id or None,
            "metric_filters": [{"name": "errors", "pattern": ERROR_PATTERN,
                                "metric_name": group.lstrip("/").replace("/", "-") + "-errors",
                                "metric_namespace": stack, "metric_value": "1", "default_value": 0}],
        })
    subscriptions = ([{"protocol": "email", "endpoint": alarm_email}] if alarm_email else []) + \
        ([{"protocol": "https", "endpoint": alarm_https_endpoint}] if alarm_https_endpoint else [])
    alarms = []
    for svc in services:
        for kind, metric, label, percent in SERVICE_ALARMS:
            alarms.append({
                "name": "%s-%s-high" % (svc, kind), "description": "%s: average %s above %d %%" % (svc, label, percent),
                "namespace": "AWS/ECS", "metric_name": metric, "dimensions": {"ClusterName": stack, "ServiceName": svc},
                "statistic": "Average", "comparison": "GreaterThanThreshold", "threshold": percent,
                "period": SERVICE_ALARM_PERIOD, "evaluation_periods": SERVICE_ALARM_EVALUATION_PERIODS,
                "treat_missing_data": "notBreaching", "notify": True,
            })
    return {
        "log_groups": groups,
        "alarm_topic": {"name": stack + "-alarms", "display_name": stack + " alarms", "subscriptions": subscriptions,
                        "purge_subscriptions": True},
        "alarms": alarms,
    }


def _suffix(arn: str, kind: str) -> str:
    """CloudWatch's dimension value of a load balancer or target group: its ARN after ``:loadbalancer/``."""
    if arn in PENDING:
        return UNKNOWN
    return arn.split(":loadbalancer/", 1)[1] if kind == "loadbalancer" else "targetgroup/" + arn.split(":targetgroup/", 1)[1]


def load_balancer_side(stack: str, region: str, services: List[str], load_balancer_arn: str,
                       target_group_arns: Dict[str, str], web_services: Optional[List[str]] = None) -> Dict[str, Any]:
    """Unhealthy-hosts and target-5xx alarms per target group (web services only), and the environment's
    dashboard: every service's CPU and memory, the web services' targets and 5xx.

    ARNs not known yet (check mode on a new account) are passed as ``(known after apply)``: the
    module plans them as such.
    """
    balancer = UNKNOWN if load_balancer_arn in PENDING else load_balancer_arn
    alarms: List[Dict[str, Any]] = []
    widgets: List[Dict[str, Any]] = []
    for index, (kind, metric, label, _percent) in enumerate(SERVICE_ALARMS):
        widgets.append({"type": "metric", "x": 12 * index, "y": 0, "width": 12, "height": 6,
                        "properties": {"title": "%s utilization (%%)" % (label[0].upper() + label[1:]), "region": region,
                                       "stat": "Average",
                                       "period": SERVICE_ALARM_PERIOD, "view": "timeSeries",
                                       "metrics": [["AWS/ECS", metric, "ClusterName", stack, "ServiceName", svc]
                                                   for svc in services]}})
    for index, svc in enumerate(services if web_services is None else web_services):
        group = target_group_arns.get(svc, "")
        group = UNKNOWN if group in PENDING else group
        dimensions = {"TargetGroup": group, "LoadBalancer": balancer}
        alarms.append({
            "name": svc + "-unhealthy-hosts",
            "description": "%s: unhealthy targets for %d x %d s" % (svc, UNHEALTHY_HOSTS_EVALUATION_PERIODS, LOAD_BALANCER_ALARM_PERIOD),
            "namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount", "dimensions": dimensions,
            "statistic": "Maximum", "comparison": "GreaterThanThreshold", "threshold": 0.0, "period": LOAD_BALANCER_ALARM_PERIOD,
            "evaluation_periods": UNHEALTHY_HOSTS_EVALUATION_PERIODS, "notify": True,
        })
        alarms.append({
            "name": svc + "-target-5xx",
            "description": "%s: more than %d 5xx answers from its targets per %d s for %d periods" % (
                svc, TARGET_5XX_THRESHOLD, LOAD_BALANCER_ALARM_PERIOD, TARGET_5XX_EVALUATION_PERIODS),
            "namespace": "AWS/ApplicationELB", "metric_name": "HTTPCode_Target_5XX_Count", "dimensions": dimensions,
            "statistic": "Sum", "comparison": "GreaterThanThreshold", "threshold": TARGET_5XX_THRESHOLD,
            "period": LOAD_BALANCER_ALARM_PERIOD, "evaluation_periods": TARGET_5XX_EVALUATION_PERIODS,
            "treat_missing_data": "notBreaching", "notify": True,
        })
        tg_dim, lb_dim = _suffix(group, "targetgroup"), _suffix(balancer, "loadbalancer")
        widgets.append({"type": "metric", "x": 0, "y": 6 * (index + 1), "width": 24, "height": 6,
                        "properties": {"title": svc + ": targets and 5xx", "region": region, "period": LOAD_BALANCER_ALARM_PERIOD,
                                       "view": "timeSeries", "metrics": [
                                           ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", tg_dim, "LoadBalancer", lb_dim,
                                            {"stat": "Minimum"}],
                                           ["AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", tg_dim, "LoadBalancer", lb_dim,
                                            {"stat": "Maximum"}],
                                           ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "TargetGroup", tg_dim, "LoadBalancer",
                                            lb_dim, {"stat": "Sum"}]]}})
    return {"alarms": alarms, "dashboards": [{"name": DASHBOARD, "widgets": widgets}]}
