# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One method per AWS call of cloudwatch_stack: CloudWatch, CloudWatch Logs, SNS, STS and the
Resource Groups Tagging API.

Reads are batched the way the APIs allow: alarms a hundred names per DescribeAlarms, log groups
by name prefix (paginated), tags of log groups, alarms and the topic a hundred ARNs per
GetResources; metric filters per log group, subscriptions per topic, dashboards by name.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, chunks
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError, ShipyardError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.tagging import TaggingApi as SharedTaggingApi

DESCRIBE_ALARMS_BATCH = 100
LOG_GROUPS_PAGE = 50


class CloudWatchError(ShipyardError):
    """Anything that went wrong on the CloudWatch / SNS side (validation or API)."""


class CloudWatchApiError(CloudWatchError, AwsApiError):
    """A CloudWatch, CloudWatch Logs, SNS or tagging call failed after retries."""


class CloudWatchApi(AwsApi):
    """Alarms and dashboards."""

    error = CloudWatchApiError
    service = "cloudwatch"

    def describe_alarms(self, names: List[str]) -> List[Dict[str, Any]]:
        """The metric alarms among ``names`` (missing names are simply absent), 100 names per call."""
        found: List[Dict[str, Any]] = []
        for batch in chunks(sorted(set(names)), DESCRIBE_ALARMS_BATCH):
            found.extend(self.paginate("describe_alarms", "MetricAlarms", AlarmNames=batch, AlarmTypes=["MetricAlarm"],
                                       MaxRecords=DESCRIBE_ALARMS_BATCH))
        return found

    def put_metric_alarm(self, **kwargs: Any) -> None:
        self.call("put_metric_alarm", **kwargs)

    def delete_alarms(self, names: List[str]) -> None:
        for batch in chunks(sorted(names), DESCRIBE_ALARMS_BATCH):
            self.call("delete_alarms", AlarmNames=batch)

    def tag_resource(self, arn: str, tags: Dict[str, str]) -> None:
        self.call("tag_resource", ResourceARN=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag_resource(self, arn: str, keys: List[str]) -> None:
        self.call("untag_resource", ResourceARN=arn, TagKeys=sorted(keys))

    def list_tags_for_resource(self, arn: str) -> Dict[str, str]:
        tags = self.call("list_tags_for_resource", ResourceARN=arn).get("Tags") or []
        return {t["Key"]: t.get("Value", "") for t in tags}

    def get_dashboard(self, name: str) -> Optional[Dict[str, Any]]:
        """``{'DashboardArn', 'DashboardBody', 'DashboardName'}``, or None when there is none."""
        try:
            return self.call("get_dashboard", DashboardName=name)
        except CloudWatchApiError as exc:
            if exc.code in ("ResourceNotFound", "ResourceNotFoundException"):
                return None
            raise

    def put_dashboard(self, name: str, body: str) -> Dict[str, Any]:
        return self.call("put_dashboard", DashboardName=name, DashboardBody=body)

    def delete_dashboards(self, names: List[str]) -> None:
        self.call("delete_dashboards", DashboardNames=sorted(names))


class LogsApi(AwsApi):
    """Log groups and their metric filters."""

    error = CloudWatchApiError
    service = "logs"

    @staticmethod
    def _token_names(operation: str):
        return ("nextToken", "nextToken")

    def describe_log_groups(self, prefix: str) -> List[Dict[str, Any]]:
        return self.paginate("describe_log_groups", "logGroups", logGroupNamePrefix=prefix, limit=LOG_GROUPS_PAGE)

    def describe_metric_filters(self, group: str) -> List[Dict[str, Any]]:
        return self.paginate("describe_metric_filters", "metricFilters", logGroupName=group, limit=50)

    def region_metric_filter_pages(self) -> Iterator[Tuple[List[Dict[str, Any]], bool]]:
        """The region's metric filters (every group's: no ``logGroupName``) a page of 50 at a time, each with
        whether more pages follow; a caller stops when it has what it needs."""
        params: Dict[str, Any] = {"limit": 50}
        while True:
            page = self.call("describe_metric_filters", **params)
            token = page.get("nextToken")
            yield list(page.get("metricFilters") or []), bool(token)
            if not token:
                return
            params["nextToken"] = token

    def create_log_group(self, name: str, tags: Dict[str, str], kms_key_id: Optional[str]) -> None:
        kwargs: Dict[str, Any] = {"logGroupName": name}
        if tags:
            kwargs["tags"] = tags
        if kms_key_id:
            kwargs["kmsKeyId"] = kms_key_id
        self.call("create_log_group", **kwargs)

    def delete_log_group(self, name: str) -> None:
        self.call("delete_log_group", logGroupName=name)

    def put_retention_policy(self, name: str, days: int) -> None:
        self.call("put_retention_policy", logGroupName=name, retentionInDays=days)

    def associate_kms_key(self, name: str, kms_key_id: str) -> None:
        self.call("associate_kms_key", logGroupName=name, kmsKeyId=kms_key_id)

    def put_metric_filter(self, **kwargs: Any) -> None:
        self.call("put_metric_filter", **kwargs)

    def delete_metric_filter(self, group: str, name: str) -> None:
        self.call("delete_metric_filter", logGroupName=group, filterName=name)

    def tag_resource(self, arn: str, tags: Dict[str, str]) -> None:
        self.call("tag_resource", resourceArn=arn, tags=tags)

    def untag_resource(self, arn: str, keys: List[str]) -> None:
        self.call("untag_resource", resourceArn=arn, tagKeys=sorted(keys))

    def list_tags_for_resource(self, arn: str) -> Dict[str, str]:
        return dict(self.call("list_tags_for_resource", resourceArn=arn).get("tags") or {})


class SnsApi(AwsApi):
    """The alarm topic and its subscriptions."""

    error = CloudWatchApiError
    service = "sns"

    def get_topic_attributes(self, arn: str) -> Optional[Dict[str, str]]:
        """The topic's attributes, or None when there is no such topic."""
        try:
            return self.call("get_topic_attributes", TopicArn=arn).get("Attributes", {})
        except CloudWatchApiError as exc:
            if exc.code in ("NotFound", "NotFoundException"):
                return None
            raise

    def list_subscriptions_by_topic(self, arn: str) -> List[Dict[str, Any]]:
        return self.paginate("list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)

    def create_topic(self, name: str, attributes: Dict[str, str], tags: Dict[str, str]) -> str:
        kwargs: Dict[str, Any] = {"Name": name, "Attributes": attributes}
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        return self.call("create_topic", **kwargs)["TopicArn"]

    def set_topic_attributes(self, arn: str, name: str, value: str) -> None:
        self.call("set_topic_attributes", TopicArn=arn, AttributeName=name, AttributeValue=value)

    def delete_topic(self, arn: str) -> None:
        self.call("delete_topic", TopicArn=arn)

    def subscribe(self, arn: str, protocol: str, endpoint: str) -> str:
        return self.call("subscribe", TopicArn=arn, Protocol=protocol, Endpoint=endpoint,
                         ReturnSubscriptionArn=False).get("SubscriptionArn", "")

    def unsubscribe(self, subscription_arn: str) -> None:
        self.call("unsubscribe", SubscriptionArn=subscription_arn)

    def tag_resource(self, arn: str, tags: Dict[str, str]) -> None:
        self.call("tag_resource", ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag_resource(self, arn: str, keys: List[str]) -> None:
        self.call("untag_resource", ResourceArn=arn, TagKeys=sorted(keys))

    def list_tags_for_resource(self, arn: str) -> Dict[str, str]:
        tags = self.call("list_tags_for_resource", ResourceArn=arn).get("Tags") or []
        return {t["Key"]: t.get("Value", "") for t in tags}


class TaggingApi(SharedTaggingApi):
    """Tags of resources of several services in one call (Resource Groups Tagging API)."""

    error = CloudWatchApiError
