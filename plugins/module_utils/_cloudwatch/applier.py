# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Execute a :class:`CloudWatchPlan`: one method per action type, in the plan's order.

Alarm and dashboard deletions are gathered into DeleteAlarms / DeleteDashboards calls (a
hundred alarms per call).  When a call fails, the error carries the steps already done.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action

from .api import CloudWatchError
from .model import dashboard_body_text
from .planner import (
    CloudWatchPlan,
    CreateLogGroup,
    CreateTopic,
    DeleteAlarm,
    DeleteDashboard,
    DeleteLogGroup,
    DeleteMetricFilter,
    DeleteTopic,
    PutAlarm,
    PutDashboard,
    PutMetricFilter,
    Subscribe,
    TagDelta,
    Unsubscribe,
    UpdateLogGroup,
    UpdateTopic,
)
from .state import Apis


class Applier:
    """Runs the plan against AWS and records what it did."""

    def __init__(self, apis: Apis, plan: CloudWatchPlan, topic_arn: str) -> None:
        self.apis = apis
        self.plan = plan
        self.topic_arn = topic_arn
        self.done: List[str] = []

    def apply(self) -> None:
        """Execute every action; on failure re-raise with ``state`` listing the steps done."""
        try:
            alarms = [a.name for a in self.plan.actions if isinstance(a, DeleteAlarm)]
            boards = [a.name for a in self.plan.actions if isinstance(a, DeleteDashboard)]
            if boards:
                self.apis.cloudwatch.delete_dashboards(boards)
                self.done.append("deleted dashboards %s" % ", ".join(boards))
            if alarms:
                self.apis.cloudwatch.delete_alarms(alarms)
                self.done.append("deleted alarms %s" % ", ".join(alarms))
            for action in self.plan.actions:
                if not isinstance(action, (DeleteAlarm, DeleteDashboard)):
                    self.run(action)
                    self.done.append("%s %s %s" % (action.verb, action.kind, action.name))
        except CloudWatchError as exc:
            exc.state = {"done": self.done, "failed_on": exc.operation}
            raise

    @functools.singledispatchmethod
    def run(self, action: Action) -> None:
        raise NotImplementedError(type(action).__name__)  # pragma: no cover - every planned type is registered

    # topic --------------------------------------------------------------------------------
    @run.register
    def _create_topic(self, action: CreateTopic) -> None:
        attributes = {"DisplayName": action.display_name} if action.display_name else {}
        self.topic_arn = self.apis.sns.create_topic(action.name, attributes, action.tags)

    @run.register
    def _update_topic(self, action: UpdateTopic) -> None:
        if action.display_name is not None:
            self.apis.sns.set_topic_attributes(action.arn, "DisplayName", action.display_name)
        self._retag(self.apis.sns, action.arn, action.tag_delta)

    @run.register
    def _subscribe(self, action: Subscribe) -> None:
        self.apis.sns.subscribe(self.topic_arn, action.protocol, action.endpoint)

    @run.register
    def _unsubscribe(self, action: Unsubscribe) -> None:
        self.apis.sns.unsubscribe(action.subscription_arn)

    @run.register
    def _delete_topic(self, action: DeleteTopic) -> None:
        self.apis.sns.delete_topic(action.arn)

    # log groups and metric filters ----------------------------------------------------------
    @run.register
    def _create_log_group(self, action: CreateLogGroup) -> None:
        self.apis.logs.create_log_group(action.name, action.tags, action.kms_key_id)
        if action.retention_days is not None:
            self.apis.logs.put_retention_policy(action.name, action.retention_days)

    @run.register
    def _update_log_group(self, action: UpdateLogGroup) -> None:
        if action.retention_days is not None:
            self.apis.logs.put_retention_policy(action.name, action.retention_days)
        if action.kms_key_id is not None:
            self.apis.logs.associate_kms_key(action.name, action.kms_key_id)
        self._retag(self.apis.logs, action.arn, action.tag_delta)

    @run.register
    def _delete_log_group(self, action: DeleteLogGroup) -> None:
        self.apis.logs.delete_log_group(action.name)

    @run.register
    def _put_metric_filter(self, action: PutMetricFilter) -> None:
        doc = action.document
        transformation: Dict[str, Any] = {"metricName": doc["metric_name"], "metricNamespace": doc["metric_namespace"],
                                          "metricValue": doc["metric_value"]}
        if doc["default_value"] is not None:
            transformation["defaultValue"] = doc["default_value"]
        self.apis.logs.put_metric_filter(logGroupName=action.log_group, filterName=action.filter_name,
                                         filterPattern=doc["pattern"], metricTransformations=[transformation])

    @run.register
    def _delete_metric_filter(self, action: DeleteMetricFilter) -> None:
        self.apis.logs.delete_metric_filter(action.log_group, action.filter_name)

    # alarms and dashboards ------------------------------------------------------------------
    @run.register
    def _put_alarm(self, action: PutAlarm) -> None:
        if action.put:
            self.apis.cloudwatch.put_metric_alarm(**self.alarm_kwargs(action))
        if action.arn:
            self._retag(self.apis.cloudwatch, action.arn, action.tag_delta)

    def alarm_kwargs(self, action: PutAlarm) -> Dict[str, Any]:
        doc = action.document
        actions = [self.topic_arn] if doc["alarm_actions"] else []
        kwargs: Dict[str, Any] = {
            "AlarmName": action.name,
            "AlarmDescription": doc["description"],
            "ActionsEnabled": True,
            "AlarmActions": actions,
            "OKActions": actions,
            "InsufficientDataActions": [],
            "MetricName": doc["metric_name"],
            "Namespace": doc["namespace"],
            "Statistic": doc["statistic"],
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(doc["dimensions"].items())],
            "Period": doc["period"],
            "EvaluationPeriods": doc["evaluation_periods"],
            "DatapointsToAlarm": doc["datapoints_to_alarm"],
            "Threshold": doc["threshold"],
            "ComparisonOperator": doc["comparison"],
            "TreatMissingData": doc["treat_missing_data"],
        }
        if not action.arn and doc["tags"]:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(doc["tags"].items())]
        return kwargs

    @run.register
    def _put_dashboard(self, action: PutDashboard) -> None:
        answer = self.apis.cloudwatch.put_dashboard(action.name, dashboard_body_text(action.body))
        problems = answer.get("DashboardValidationMessages") or []
        if problems:
            raise CloudWatchError("dashboard %s was saved with warnings: %s" % (action.name, "; ".join(
                "%s: %s" % (p.get("DataPath"), p.get("Message")) for p in problems)), operation="put_dashboard")

    # tags ---------------------------------------------------------------------------------
    @staticmethod
    def _retag(api: Any, arn: str, delta: TagDelta) -> None:
        add, remove = delta
        if remove:
            api.untag_resource(arn, remove)
        if add:
            api.tag_resource(arn, add)
