# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read what exists of the resources the options name; describe calls only, batched.

One GetCallerIdentity (the topic's ARN is built from the account, so it is known before the
topic exists), one GetTopicAttributes and ListSubscriptionsByTopic, DescribeLogGroups once per
name prefix, DescribeMetricFilters per existing group whose filters are listed, DescribeAlarms a
hundred names per call, GetDashboard per named dashboard, tags of everything in one
GetResources call per hundred ARNs (and, only where those differ from the options, the resource's
own ListTagsForResource), and load balancers / target groups named in dimensions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import read_each
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.tagging import ACCESS_DENIED, read_tags
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import StsApi

from .api import CloudWatchApi, LogsApi, SnsApi, TaggingApi
from .model import Desired, alarm_from_aws, log_group_arn, metric_filter_from_aws, subscription_key


@dataclass
class Apis:
    """The API wrappers a run uses (ELBv2 only to resolve load balancer and target group names)."""

    cloudwatch: CloudWatchApi
    logs: LogsApi
    sns: SnsApi
    sts: StsApi
    tagging: TaggingApi
    elbv2: Optional[Elbv2Api] = None

    def all(self) -> List[Any]:
        return [a for a in (self.cloudwatch, self.logs, self.sns, self.sts, self.tagging, self.elbv2) if a is not None]


@dataclass
class Snapshot:
    """The current state, normalised (see model.py)."""

    topic_arn: str = ""
    topic: Optional[Dict[str, Any]] = None
    # subscription key -> subscription ARN ("PendingConfirmation" until the endpoint confirms).
    subscriptions: Dict[str, str] = field(default_factory=dict)
    log_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    metric_filters: Dict[str, Dict[str, Dict[str, Any]]] = field(default_factory=dict)
    alarms: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    dashboards: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # alarm name -> {dimension: resolved value, or None when the load balancer / target group does not exist}
    resolved: Dict[str, Dict[str, Optional[str]]] = field(default_factory=dict)


def parent_prefix(name: str) -> str:
    """``/ecs/app/users`` -> ``/ecs/app/``: one DescribeLogGroups call covers a family of groups."""
    return name[:name.rindex("/") + 1] if "/" in name.strip("/") else name


def needs_topic(desired: Desired) -> bool:
    return desired.topic is not None or any(a["notify"] for a in desired.alarms.values())


def read_metric_filters(logs: Any, counts: Dict[str, Optional[int]]) -> Dict[str, List[Dict[str, Any]]]:
    """The metric filters of each group of ``counts`` (group -> its ``metricFilterCount`` as DescribeLogGroups
    told it; None where it did not).

    DescribeMetricFilters lists one group's filters, or (without ``logGroupName``) the region's, 50 a call; there is
    no call for a set of groups. A group counted 0 has none: it is not read. Two groups or more are first looked
    for in the region's listing, for at most half as many pages as there are groups: a group is complete once as
    many of its filters were seen as it counts, or the listing ended. The groups not complete by then are read one
    call each (several at once). An account that holds one application's environment lists its filters in a page
    or two (30 groups: 1 call rather than 30); where a busy shared account's listing does not reach them, it costs
    at most half again the one-call-per-group reads. A role whose policy allows DescribeMetricFilters on its own
    groups only (AccessDenied on the region's listing) reads each group.
    """
    found: Dict[str, List[Dict[str, Any]]] = {group: [] for group in counts}
    pending = [group for group in sorted(counts) if counts[group] != 0]
    if len(pending) >= 2:
        seen: Dict[str, List[Dict[str, Any]]] = {group: [] for group in pending}
        complete: List[str] = []
        budget = max(1, len(pending) // 2)
        try:
            for pages, (filters, more) in enumerate(logs.region_metric_filter_pages(), start=1):
                for item in filters:
                    if item.get("logGroupName") in seen:
                        seen[item["logGroupName"]].append(item)
                if not more:
                    complete = pending
                    break
                complete = [group for group in pending if counts[group] is not None and len(seen[group]) >= (counts[group] or 0)]
                if len(complete) == len(pending) or pages >= budget:
                    break
        except AwsApiError as exc:
            if exc.code not in ACCESS_DENIED:
                raise
            complete = []
        for group in complete:
            found[group] = seen[group]
        pending = [group for group in pending if group not in complete]
    found.update(zip(pending, read_each(logs.describe_metric_filters, pending)))
    return found


def read_state(apis: Apis, desired: Desired, region: str) -> Snapshot:
    """Describe every resource the options name."""
    snap = Snapshot()
    if needs_topic(desired):
        identity = apis.sts.caller_identity()
        partition = identity["Arn"].split(":")[1]
        snap.topic_arn = "arn:%s:sns:%s:%s:%s" % (partition, region, identity["Account"], desired.topic_name)
        attributes = apis.sns.get_topic_attributes(snap.topic_arn)
        if attributes is not None:
            snap.topic = {"arn": snap.topic_arn, "name": desired.topic_name,
                          "display_name": attributes.get("DisplayName") or "", "tags": {}}
            if desired.topic is not None:
                for sub in apis.sns.list_subscriptions_by_topic(snap.topic_arn):
                    snap.subscriptions[subscription_key(sub["Protocol"], sub["Endpoint"])] = sub["SubscriptionArn"]
                snap.topic["subscriptions"] = sorted(snap.subscriptions)

    wanted_groups = set(desired.log_groups)
    filter_counts: Dict[str, Optional[int]] = {}
    for prefix in sorted({parent_prefix(g) for g in wanted_groups}):
        for raw in apis.logs.describe_log_groups(prefix):
            if raw["logGroupName"] in wanted_groups:
                snap.log_groups[raw["logGroupName"]] = {
                    "arn": log_group_arn(raw), "name": raw["logGroupName"],
                    "retention_days": raw.get("retentionInDays"), "kms_key_id": raw.get("kmsKeyId"), "tags": {}}
                filter_counts[raw["logGroupName"]] = raw.get("metricFilterCount")
    if desired.state == "present":
        groups = [g for g in sorted(desired.metric_filters) if g in snap.log_groups]
        found = read_metric_filters(apis.logs, {g: filter_counts.get(g) for g in groups})
        for group in sorted(desired.metric_filters):
            snap.metric_filters[group] = {f["filterName"]: metric_filter_from_aws(f) for f in found.get(group, [])}

    raw_alarms = apis.cloudwatch.describe_alarms(list(desired.alarms)) if desired.alarms else []
    for raw in raw_alarms:
        snap.alarms[raw["AlarmName"]] = alarm_from_aws(raw, {})

    for board in sorted(desired.dashboards):
        found = apis.cloudwatch.get_dashboard(board)
        if found is not None:
            body = json.loads(found.get("DashboardBody") or "{}")
            snap.dashboards[board] = {"arn": found.get("DashboardArn"), "body": body}

    if desired.state == "present":
        _read_tags(apis, desired, snap)
        _resolve_elb(apis, desired, snap)
    return snap


def _read_tags(apis: Apis, desired: Desired, snap: Snapshot) -> None:
    """Tags of every existing log group, alarm and the topic, a hundred ARNs per call."""
    if not desired.tags and not desired.purge_tags:
        return
    resources = [(apis.logs, doc) for doc in snap.log_groups.values()]
    resources += [(apis.cloudwatch, doc) for doc in snap.alarms.values() if doc.get("arn")]
    if snap.topic is not None and desired.topic is not None:
        resources.append((apis.sns, snap.topic))
    own = {doc["arn"]: api for api, doc in resources}
    # The tagging API lags behind tag writes: a resource whose tags there differ is asked itself (read_tags).
    tags = read_tags(apis.tagging, {arn: (desired.tags, desired.purge_tags) for arn in own},
                     lambda arn: own[arn].list_tags_for_resource(arn))
    for _api, doc in resources:
        doc["tags"] = tags[doc["arn"]]


def _resolve_elb(apis: Apis, desired: Desired, snap: Snapshot) -> None:
    """Dimension values of load balancers and target groups given by name: their ARNs' suffixes."""
    tg_names = sorted({ref["name"] for refs in desired.elb_references.values() for key, ref in refs.items()
                       if key == "TargetGroup"})
    lb_names = sorted({ref["name"] for refs in desired.elb_references.values() for key, ref in refs.items()
                       if key == "LoadBalancer"})
    if not tg_names and not lb_names:
        return
    if apis.elbv2 is None:
        raise AssertionError("load balancer or target group names to resolve need an ELBv2 client")
    groups = {g["TargetGroupName"]: "targetgroup/" + g["TargetGroupArn"].split(":targetgroup/", 1)[1]
              for g in apis.elbv2.describe_target_groups_by_name(tg_names)} if tg_names else {}
    balancers: Dict[str, Optional[str]] = {}
    for name in lb_names:
        found = apis.elbv2.describe_load_balancer(name)
        balancers[name] = found["LoadBalancerArn"].split(":loadbalancer/", 1)[1] if found else None
    for alarm, refs in desired.elb_references.items():
        snap.resolved[alarm] = {key: (groups if key == "TargetGroup" else balancers).get(ref["name"])
                                for key, ref in refs.items()}
